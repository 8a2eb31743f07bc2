//! Single-block directories (libxfs `xfs_dir2_block.c`): one directory block holding the
//! data area ([`super::data`]), then the hash index (leaf entries), then a tail
//! (`struct xfs_dir2_block_tail`) at the very end of the block.

use serde::Serialize;

use super::leaf::leaf_entries;
use super::{DirFinding, LeafEntry};
use crate::bytes::be32;

/// `sizeof(struct xfs_dir2_block_tail)`.
pub const XFS_DIR2_BLOCK_TAIL_SIZE: usize = 8;

/// `struct xfs_dir2_block_tail`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BlockTail {
    /// `count`: number of leaf entries.
    pub count: u32,
    /// `stale`: number of stale leaf entries.
    pub stale: u32,
}

impl BlockTail {
    /// Offset of the tail in a block of `blksize` bytes.
    pub fn offset(blksize: usize) -> usize {
        blksize.saturating_sub(XFS_DIR2_BLOCK_TAIL_SIZE)
    }

    /// The tail at the end of the block `b` of `blksize` bytes (fields beyond the buffer
    /// read as zero).
    pub fn parse(b: &[u8], blksize: usize) -> BlockTail {
        let at = BlockTail::offset(blksize);
        BlockTail {
            count: be32(b, at),
            stale: be32(b, at.saturating_add(4)),
        }
    }

    /// Where the leaf entries start in a block of `blksize` bytes (`xfs_dir2_block_leaf_p`),
    /// as xfs_repair computes it: a count too large to fit saturates at the start of the
    /// block.
    pub fn leaf_offset(&self, blksize: usize) -> usize {
        let n = usize::try_from(self.count).unwrap_or(usize::MAX);
        BlockTail::offset(blksize).saturating_sub(n.saturating_mul(8))
    }
}

/// Decodes the tail and hash index of a block-format block whose data area starts at
/// `hdr_len`: the tail, the leaf entries and where they start (the end of the data area).
pub(crate) fn parse_block_leaf(
    buf: &[u8],
    hdr_len: usize,
    findings: &mut Vec<DirFinding>,
) -> (BlockTail, Vec<LeafEntry>, usize) {
    let tail_at = BlockTail::offset(buf.len());
    let tail = BlockTail::parse(buf, buf.len());
    let room = tail_at.saturating_sub(hdr_len) / 8;
    let n = usize::try_from(tail.count).unwrap_or(usize::MAX);
    let n = if n > room {
        findings.push(DirFinding::CountTooLarge {
            what: "block leaf",
            count: tail.count.into(),
            max: room as u64,
        });
        0
    } else {
        n
    };
    if tail.stale > tail.count {
        findings.push(DirFinding::StaleTooLarge {
            what: "block tail",
            stale: tail.stale.into(),
            count: tail.count.into(),
        });
    }
    // n <= room, so n * 8 <= tail_at - hdr_len.
    let leaf_at = tail_at.saturating_sub(n.saturating_mul(8));
    let leaf = leaf_entries(buf, leaf_at, n, findings);
    (tail, leaf, leaf_at)
}
