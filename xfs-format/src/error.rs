//! Errors of the format library.
//!
//! Split as in ext4-view: [`Error::Io`] (the medium failed), [`Error::Incompatible`] (a valid
//! filesystem this version cannot read) and [`Error::Corrupt`] (bytes that break the format),
//! each carrying the byte position it concerns.

use std::fmt;

/// Everything that can stop a decoder. Findings about a structure that *was* decoded (a bad
/// CRC, a wrong magic in an AG header) are data on the decoded value, not errors.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// Reading `len` bytes at byte `offset` of the image failed. Unlike every other position
    /// a decoder reports (relative to the filesystem), `offset` is where the medium failed:
    /// absolute in the image or device, after any `--offset` or partition start.
    #[error("read error at bytes {offset}..{end} of the image: {source}", end = offset.saturating_add(*len as u64))]
    Io {
        /// First byte of the failed read, absolute in the image or device.
        offset: u64,
        /// Bytes requested.
        len: usize,
        /// What the medium said.
        #[source]
        source: std::io::Error,
    },
    /// A structure lies (partly) beyond the end of the image.
    #[error("image truncated: bytes {offset}..{end} requested, image has {size} bytes", end = offset.saturating_add(*len as u64))]
    Truncated {
        /// First byte requested.
        offset: u64,
        /// Bytes requested.
        len: usize,
        /// Size of the image.
        size: u64,
    },
    /// The filesystem uses a feature this version does not understand.
    #[error("incompatible feature: {0}")]
    Incompatible(String),
    /// Writing extracted data to the caller's writer failed (not a problem of the image).
    #[error("write error: {0}")]
    Write(#[source] std::io::Error),
    /// The bytes at `offset` violate the on-disk format.
    #[error("corrupt {kind} at byte {offset}")]
    Corrupt {
        /// Byte offset of the structure in the image.
        offset: u64,
        /// What is wrong with it.
        kind: CorruptKind,
    },
}

/// What exactly is corrupt, with the offending values.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum CorruptKind {
    /// A magic number did not match.
    BadMagic {
        /// The structure.
        what: &'static str,
        /// Its magic number.
        expected: u32,
        /// What the bytes hold.
        found: u32,
    },
    /// A superblock field is out of range or inconsistent with another.
    Geometry {
        /// The superblock field (`sb_` prefix dropped, as xfs_db names it).
        field: &'static str,
        /// Its value.
        value: u64,
        /// Why it cannot be used.
        reason: String,
    },
    /// A structure is shorter than its fixed header.
    Short {
        /// The structure.
        what: &'static str,
        /// Bytes its header needs.
        need: usize,
        /// Bytes there are.
        have: usize,
    },
    /// An address lies outside the filesystem.
    OutOfRange {
        /// What kind of address.
        what: &'static str,
        /// The address.
        value: u64,
    },
}

impl fmt::Display for CorruptKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CorruptKind::BadMagic {
                what,
                expected,
                found,
            } => write!(f, "{what}: magic {found:#010x}, expected {expected:#010x}"),
            CorruptKind::Geometry {
                field,
                value,
                reason,
            } => write!(f, "superblock: {field} = {value}: {reason}"),
            CorruptKind::Short { what, need, have } => {
                write!(f, "{what}: needs {need} bytes, only {have} available")
            }
            CorruptKind::OutOfRange { what, value } => {
                write!(f, "{what} {value} is outside the filesystem")
            }
        }
    }
}

/// The result of a decoder.
pub type Result<T, E = Error> = std::result::Result<T, E>;
