//! Bounds-checked integer reads from byte slices, shared by every decoder.
//!
//! `be_u32` and friends return `None` when the bytes are not there; `be32` and friends read
//! short input as zero, for callers that checked the length of the structure first.

fn arr<const N: usize>(b: &[u8], off: usize) -> Option<[u8; N]> {
    b.get(off..off.checked_add(N)?)
        .and_then(|s| <[u8; N]>::try_from(s).ok())
}

pub fn be_u16(b: &[u8], off: usize) -> Option<u16> {
    arr(b, off).map(u16::from_be_bytes)
}

pub fn be_u32(b: &[u8], off: usize) -> Option<u32> {
    arr(b, off).map(u32::from_be_bytes)
}

pub fn be_u64(b: &[u8], off: usize) -> Option<u64> {
    arr(b, off).map(u64::from_be_bytes)
}

pub fn le_u32(b: &[u8], off: usize) -> Option<u32> {
    arr(b, off).map(u32::from_le_bytes)
}

pub fn le_u64(b: &[u8], off: usize) -> Option<u64> {
    arr(b, off).map(u64::from_le_bytes)
}

pub fn be16(b: &[u8], off: usize) -> u16 {
    be_u16(b, off).unwrap_or(0)
}

pub fn be32(b: &[u8], off: usize) -> u32 {
    be_u32(b, off).unwrap_or(0)
}

pub fn be64(b: &[u8], off: usize) -> u64 {
    be_u64(b, off).unwrap_or(0)
}

pub fn le_u16(b: &[u8], off: usize) -> Option<u16> {
    arr(b, off).map(u16::from_le_bytes)
}

pub fn le16(b: &[u8], off: usize) -> u16 {
    le_u16(b, off).unwrap_or(0)
}

pub fn le32(b: &[u8], off: usize) -> u32 {
    le_u32(b, off).unwrap_or(0)
}

pub fn le64(b: &[u8], off: usize) -> u64 {
    le_u64(b, off).unwrap_or(0)
}

/// 16 bytes (a uuid) at `off`, zeros when short.
pub fn uuid(b: &[u8], off: usize) -> [u8; 16] {
    arr(b, off).unwrap_or([0; 16])
}
