//! Bounds-checked integer reads. Short input reads as zero; callers check lengths first
//! when a short structure matters.

fn arr<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
}

pub(crate) fn be32(b: &[u8], off: usize) -> u32 {
    arr(b, off).map_or(0, u32::from_be_bytes)
}

pub(crate) fn be64(b: &[u8], off: usize) -> u64 {
    arr(b, off).map_or(0, u64::from_be_bytes)
}

pub(crate) fn le16(b: &[u8], off: usize) -> u16 {
    arr(b, off).map_or(0, u16::from_le_bytes)
}

pub(crate) fn le32(b: &[u8], off: usize) -> u32 {
    arr(b, off).map_or(0, u32::from_le_bytes)
}

pub(crate) fn le64(b: &[u8], off: usize) -> u64 {
    arr(b, off).map_or(0, u64::from_le_bytes)
}

pub(crate) fn uuid(b: &[u8], off: usize) -> [u8; 16] {
    arr(b, off).unwrap_or([0; 16])
}

/// `BTOBB`: bytes to 512-byte basic blocks, rounded up.
pub(crate) fn btobb(bytes: u64) -> u64 {
    bytes.div_ceil(512)
}
