//! Symbolic link targets: inline in the data fork (local format) or in remote blocks.
//!
//! Pure decoders over byte slices plus [`Geometry`]; mapping the data fork to disk is the
//! caller's job: [`decode_remote`] takes the buffers of the fork's extents. On v5 each
//! extent's buffer starts with an `xfs_dsymlink_hdr` (`XSLM`), checked field by field; on
//! v4 the blocks hold the bare target. Problems are [`Finding`]s, never panics.

use serde::Serialize;

use crate::attr::chars;
pub use crate::attr::remote::RmtHdr;
use crate::attr::remote::{ATTR3_RMT_CRC_OFF, ATTR3_RMT_HDR_SIZE};
use crate::crc;
use crate::fields::{render_xfs_db, CrcState, Field, Value};
use crate::sb::Geometry;
use crate::verify::{self, Expected, Layout};

/// `XFS_SYMLINK_MAGIC` (`XSLM`).
pub const XFS_SYMLINK_MAGIC: u32 = 0x5853_4c4d;
/// `sizeof(struct xfs_dsymlink_hdr)` (that of the remote attribute header).
pub const SYMLINK_HDR_SIZE: usize = ATTR3_RMT_HDR_SIZE;
/// Offset of `sl_crc`.
pub const SYMLINK_CRC_OFF: usize = ATTR3_RMT_CRC_OFF;
/// `XFS_SYMLINK_MAXLEN`: the longest target.
pub const XFS_SYMLINK_MAXLEN: u64 = 1024;
/// `XFS_SYMLINK_MAPS`: a target spans at most this many extents.
pub const XFS_SYMLINK_MAPS: usize = 3;

/// A problem with a symlink. `ext` is the index of the extent buffer concerned.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Finding {
    /// Symlink size is 0.
    #[error("symlink size is 0")]
    Empty,
    /// Symlink size `size` exceeds the `max` byte maximum.
    #[error("symlink size {size} exceeds the {max} byte maximum")]
    TooLong {
        /// The inode's `di_size` in bytes.
        size: u64,
        /// The maximum.
        max: u64,
    },
    /// Inline symlink size `size` exceeds the fork's `fork_len` bytes.
    #[error("inline symlink size {size} exceeds the fork's {fork_len} bytes")]
    ExceedsFork {
        /// The inode's `di_size` in bytes.
        size: u64,
        /// Size of the data fork in bytes.
        fork_len: usize,
    },
    /// The target contains a NUL byte at `at`.
    #[error("the target contains a NUL byte at {at}")]
    NulInTarget {
        /// Byte offset in the target.
        at: usize,
    },
    /// `found` extents hold the target, at most `max` may.
    #[error("{found} extents hold the target, at most {max} may")]
    TooManyExtents {
        /// The value found.
        found: usize,
        /// The maximum.
        max: usize,
    },
    /// Only `have` of `size` target bytes are present.
    #[error("only {have} of {size} target bytes are present")]
    Missing {
        /// Bytes present.
        have: usize,
        /// The inode's `di_size` in bytes.
        size: u64,
    },
    /// Extent `ext`: `have` bytes, less than the `need` byte header.
    #[error("extent {ext}: {have} bytes, less than the {need} byte header")]
    ShortBuffer {
        /// Index of the extent buffer.
        ext: usize,
        /// Bytes needed.
        need: usize,
        /// Bytes present.
        have: usize,
    },
    /// Extent `ext`: magic `found`, expected 0x58534c4d (XSLM).
    #[error("extent {ext}: magic {found:#010x}, expected 0x58534c4d (XSLM)")]
    BadMagic {
        /// Index of the extent buffer.
        ext: usize,
        /// The value found.
        found: u32,
    },
    /// Extent `ext`: bad CRC.
    #[error("extent {ext}: bad CRC")]
    BadCrc {
        /// Index of the extent buffer.
        ext: usize,
    },
    /// Extent `ext`: blkno `found`, expected daddr `expected`.
    #[error("extent {ext}: blkno {found}, expected daddr {expected}")]
    BadBlkno {
        /// Index of the extent buffer.
        ext: usize,
        /// The value found.
        found: u64,
        /// The value expected.
        expected: u64,
    },
    /// Extent `ext`: uuid does not match the filesystem.
    #[error("extent {ext}: uuid does not match the filesystem")]
    BadUuid {
        /// Index of the extent buffer.
        ext: usize,
    },
    /// Extent `ext`: owner `found`, expected `expected`.
    #[error("extent {ext}: owner {found}, expected {expected}")]
    BadOwner {
        /// Index of the extent buffer.
        ext: usize,
        /// The value found.
        found: u64,
        /// The value expected.
        expected: u64,
    },
    /// Extent `ext`: offset `found`, expected `expected`.
    #[error("extent {ext}: offset {found}, expected {expected}")]
    BadOffset {
        /// Index of the extent buffer.
        ext: usize,
        /// The value found.
        found: u32,
        /// The value expected.
        expected: u32,
    },
    /// Extent `ext`: `found` bytes, expected `expected`.
    #[error("extent {ext}: {found} bytes, expected {expected}")]
    BadBytes {
        /// Index of the extent buffer.
        ext: usize,
        /// The value found.
        found: u32,
        /// The value expected.
        expected: u32,
    },
    /// Extent `ext`: offset + bytes = `end` reaches the `max` byte maximum.
    #[error("extent {ext}: offset + bytes = {end} reaches the {max} byte maximum")]
    HeaderRange {
        /// Index of the extent buffer.
        ext: usize,
        /// `sl_offset + sl_bytes`.
        end: u64,
        /// The maximum.
        max: u64,
    },
}

/// `struct xfs_dsymlink_hdr`: the same on-disk shape as the remote attribute header, so
/// one decoder serves both (fields `sl_magic`.. are [`RmtHdr::magic`]..).
pub type SymlinkHdr = RmtHdr;

/// A decoded symlink.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Symlink {
    /// The target bytes found (complete when no [`Finding::Missing`] is reported).
    pub target: Vec<u8>,
    /// v5 remote: each extent's header (`None` where the buffer is too short) and its CRC
    /// state. Empty for inline and v4 symlinks.
    pub headers: Vec<(Option<SymlinkHdr>, CrcState)>,
    /// What is wrong with the symlink.
    pub findings: Vec<Finding>,
}

impl Symlink {
    /// No finding was reported.
    pub fn is_clean(&self) -> bool {
        self.findings.is_empty()
    }

    /// The line `xfs_db -c 'inode N' -c print` prints for an inline symlink
    /// (`u3.symlink = "..."` on v5, `u.symlink` on v4).
    pub fn render_inline_xfs_db(&self, v5: bool) -> String {
        let f = Field {
            name: if v5 { "u3.symlink" } else { "u.symlink" },
            value: Value::Chars(self.target.clone()),
        };
        let mut s = f.render_xfs_db();
        s.push('\n');
        s
    }
}

fn check_size(size: u64, findings: &mut Vec<Finding>) {
    if size == 0 {
        findings.push(Finding::Empty);
    }
    if size > XFS_SYMLINK_MAXLEN {
        findings.push(Finding::TooLong {
            size,
            max: XFS_SYMLINK_MAXLEN,
        });
    }
}

fn check_nul(target: &[u8], findings: &mut Vec<Finding>) {
    if let Some(at) = target.iter().position(|&b| b == 0) {
        findings.push(Finding::NulInTarget { at });
    }
}

/// Decodes an inline (local format) symlink: the first `di_size` bytes of the data fork.
pub fn decode_inline(fork: &[u8], di_size: u64) -> Symlink {
    let mut findings = Vec::new();
    check_size(di_size, &mut findings);
    let n = usize::try_from(di_size).unwrap_or(usize::MAX);
    if n > fork.len() {
        findings.push(Finding::ExceedsFork {
            size: di_size,
            fork_len: fork.len(),
        });
    }
    let target = fork.get(..n.min(fork.len())).unwrap_or_default().to_vec();
    check_nul(&target, &mut findings);
    Symlink {
        target,
        headers: Vec::new(),
        findings,
    }
}

/// The buffer of one data-fork extent of a remote symlink.
#[derive(Debug, Clone, Copy)]
pub struct SymlinkExtent<'a> {
    /// The extent's blocks, contiguous (`blockcount` filesystem blocks).
    pub bytes: &'a [u8],
    /// The extent's disk address in 512-byte sectors, when known (checked against
    /// `sl_blkno`).
    pub daddr: Option<u64>,
}

/// Decodes a remote symlink of `di_size` bytes owned by inode `owner` from its extents'
/// buffers, in file order. On v5 each buffer's header must carry the magic, the running
/// offset, the byte count the buffer should hold, the owner, the filesystem uuid, its own
/// daddr, offset + bytes below 1024 and a good CRC; a buffer with a wrong magic contributes
/// no bytes (the kernel refuses it).
pub fn decode_remote(
    geo: &Geometry,
    owner: u64,
    di_size: u64,
    extents: &[SymlinkExtent<'_>],
) -> Symlink {
    let mut findings = Vec::new();
    check_size(di_size, &mut findings);
    if extents.len() > XFS_SYMLINK_MAPS {
        findings.push(Finding::TooManyExtents {
            found: extents.len(),
            max: XFS_SYMLINK_MAPS,
        });
    }
    // Never read more than the format allows, whatever di_size says.
    let want = usize::try_from(di_size.min(XFS_SYMLINK_MAXLEN)).unwrap_or(0);
    let mut target: Vec<u8> = Vec::new();
    let mut headers = Vec::new();
    for (ext, e) in extents.iter().enumerate() {
        let remaining = want.saturating_sub(target.len());
        if remaining == 0 {
            break;
        }
        if !geo.has_crc {
            target.extend(e.bytes.iter().take(remaining));
            continue;
        }
        let Some(h) = SymlinkHdr::parse(e.bytes) else {
            findings.push(Finding::ShortBuffer {
                ext,
                need: SYMLINK_HDR_SIZE,
                have: e.bytes.len(),
            });
            headers.push((None, CrcState::Bad));
            break;
        };
        let checks = verify::verify(
            e.bytes,
            &Layout::DSYMLINK_HDR,
            &Expected {
                magic: Some(XFS_SYMLINK_MAGIC),
                blkno: e.daddr,
                uuid: Some(geo.meta_uuid),
                owner: Some(owner),
            },
        );
        let state = checks.crc;
        if !checks.magic_ok {
            findings.push(Finding::BadMagic {
                ext,
                found: h.magic,
            });
        }
        if state == CrcState::Bad {
            findings.push(Finding::BadCrc { ext });
        }
        if !checks.magic_ok {
            // Not a symlink block: its header fields are meaningless.
            headers.push((Some(h), state));
            break;
        }
        let space = e.bytes.len().saturating_sub(SYMLINK_HDR_SIZE);
        let expected_bytes = u32::try_from(remaining.min(space)).unwrap_or(u32::MAX);
        let expected_off = u32::try_from(target.len()).unwrap_or(u32::MAX);
        if h.offset != expected_off {
            findings.push(Finding::BadOffset {
                ext,
                found: h.offset,
                expected: expected_off,
            });
        }
        if h.bytes != expected_bytes {
            findings.push(Finding::BadBytes {
                ext,
                found: h.bytes,
                expected: expected_bytes,
            });
        }
        let end = u64::from(h.offset).saturating_add(u64::from(h.bytes));
        if end >= XFS_SYMLINK_MAXLEN {
            findings.push(Finding::HeaderRange {
                ext,
                end,
                max: XFS_SYMLINK_MAXLEN,
            });
        }
        if !checks.owner_ok {
            findings.push(Finding::BadOwner {
                ext,
                found: h.ident.owner,
                expected: owner,
            });
        }
        if !checks.uuid_ok {
            findings.push(Finding::BadUuid { ext });
        }
        if let Some(d) = e.daddr {
            if !checks.blkno_ok {
                findings.push(Finding::BadBlkno {
                    ext,
                    found: h.ident.blkno,
                    expected: d,
                });
            }
        }
        let data = e.bytes.get(SYMLINK_HDR_SIZE..).unwrap_or_default();
        target.extend(data.iter().take(remaining));
        headers.push((Some(h), state));
    }
    if target.len() < want {
        findings.push(Finding::Missing {
            have: target.len(),
            size: di_size,
        });
    }
    check_nul(&target, &mut findings);
    Symlink {
        target,
        headers,
        findings,
    }
}

/// Renders one remote symlink block as `xfs_db -c 'inode N' -c 'dblock B' -c print` does.
/// v5: the header, then `data` (`sl_bytes` bytes, capped at the block) when the magic is
/// right. v4: xfs_db prints the target bytes held by the block (`held` of them) as a bare
/// quoted string.
pub fn render_block_xfs_db(geo: &Geometry, block: &[u8], held: usize) -> String {
    if !geo.has_crc {
        let n = held.min(block.len());
        return format!("{}\n", chars(block.get(..n).unwrap_or_default()));
    }
    let Some(h) = SymlinkHdr::parse(block) else {
        return String::new();
    };
    let state = crc::verify(block, SYMLINK_CRC_OFF, true);
    let mut out = render_xfs_db(&h.fields(state));
    if h.magic == XFS_SYMLINK_MAGIC {
        out.push_str(&format!("data = {}\n", chars(h.data(block))));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline() {
        let s = decode_inline(b"abc\0\0", 3);
        assert!(s.is_clean());
        assert_eq!(s.target, b"abc");
        assert_eq!(s.render_inline_xfs_db(true), "u3.symlink = \"abc\"\n");
        let s = decode_inline(b"a\0c", 3);
        assert_eq!(s.findings, vec![Finding::NulInTarget { at: 1 }]);
        let s = decode_inline(b"ab", 5000);
        assert_eq!(s.target, b"ab");
        assert_eq!(s.findings.len(), 2);
        assert_eq!(decode_inline(b"", 0).findings, vec![Finding::Empty]);
    }
}
