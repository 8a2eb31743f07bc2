//! CRC32c as XFS uses it on v5 metadata.
//!
//! XFS seeds crc32c with all ones, computes it over the whole buffer with the 4-byte checksum
//! field taken as zero, inverts the result and stores it little-endian. That equals the standard
//! CRC-32C of the buffer with the field zeroed, which is what [`xfs_cksum`] returns.

use crate::fields::CrcState;

/// The checksum XFS would store for `buf`, whose checksum field is at `crc_off`.
/// Returns `None` when the field does not fit in `buf`.
pub fn xfs_cksum(buf: &[u8], crc_off: usize) -> Option<u32> {
    let head = buf.get(..crc_off)?;
    let tail = buf.get(crc_off.checked_add(4)?..)?;
    let c = crc32c::crc32c(head);
    let c = crc32c::crc32c_append(c, &[0u8; 4]);
    Some(crc32c::crc32c_append(c, tail))
}

/// Verifies the checksum of a v5 structure; `Unchecked` when the filesystem has no CRCs.
pub fn verify(buf: &[u8], crc_off: usize, has_crc: bool) -> CrcState {
    if !has_crc {
        return CrcState::Unchecked;
    }
    let stored = buf
        .get(crc_off..crc_off.saturating_add(4))
        .and_then(|b| <[u8; 4]>::try_from(b).ok())
        .map(u32::from_le_bytes);
    match (stored, xfs_cksum(buf, crc_off)) {
        (Some(s), Some(c)) if s == c => CrcState::Correct,
        _ => CrcState::Bad,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip() {
        let mut buf = vec![0xabu8; 64];
        let c = xfs_cksum(&buf, 8).unwrap();
        buf[8..12].copy_from_slice(&c.to_le_bytes());
        assert_eq!(verify(&buf, 8, true), CrcState::Correct);
        buf[20] ^= 1;
        assert_eq!(verify(&buf, 8, true), CrcState::Bad);
        assert_eq!(verify(&buf, 8, false), CrcState::Unchecked);
        assert_eq!(verify(&buf, 62, true), CrcState::Bad);
    }
}
