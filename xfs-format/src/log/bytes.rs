//! Integer reads for the log decoders (the crate's bounds-checked readers) and log units.

pub(crate) use crate::bytes::{be32, be64, le16, le32, le64, uuid};

/// `BTOBB`: bytes to 512-byte basic blocks, rounded up.
pub(crate) fn btobb(bytes: u64) -> u64 {
    bytes.div_ceil(512)
}
