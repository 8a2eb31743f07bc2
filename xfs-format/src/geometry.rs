//! The geometry of a filesystem (block, sector, inode and AG sizes and the feature flags a
//! decoder needs), derived once from a validated superblock by
//! [`Geometry::from_sb`] (which lives with the superblock it validates, in `sb`), and the address conversions between AG-relative
//! and absolute block numbers and byte offsets.
//!
//! This module depends on no other structure's module, so every decoder (superblock, AG
//! headers, btrees, inodes, the log) can take a `&Geometry` without an import circle.

use serde::Serialize;

/// Size of the v5 AGFL header (`struct xfs_agfl`) before the block array.
pub const XFS_AGFL_HDR_SIZE: u32 = 36;

/// Geometry derived from a validated superblock. Everything a decoder needs to locate
/// structures is here and passed explicitly (no global superblock).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Geometry {
    /// Superblock version (4 or 5).
    pub version: u16,
    /// v5: metadata carries CRCs and self-describing headers.
    pub has_crc: bool,
    /// `sb_blocksize`: filesystem block size in bytes.
    pub block_size: u32,
    /// `sb_blocklog`: log2 of the block size.
    pub block_log: u8,
    /// `sb_sectsize`: sector size in bytes.
    pub sect_size: u32,
    /// `sb_sectlog`: log2 of the sector size.
    pub sect_log: u8,
    /// `sb_inodesize`: inode size in bytes.
    pub inode_size: u32,
    /// `sb_inodelog`: log2 of the inode size.
    pub inode_log: u8,
    /// `sb_inopblock`: inodes per block.
    pub inodes_per_block: u32,
    /// `sb_inopblog`: log2 of the inodes per block.
    pub inopb_log: u8,
    /// `sb_agblocks`: blocks per AG (the last AG may be shorter).
    pub ag_blocks: u32,
    /// `sb_agblklog`: log2 of `sb_agblocks`, rounded up (bits of an AG block number).
    pub ag_blk_log: u8,
    /// `sb_agcount`: number of AGs.
    pub ag_count: u32,
    /// `sb_dblocks`: blocks of the data device.
    pub data_blocks: u64,
    /// Directory block size in bytes (`blocksize << sb_dirblklog`).
    pub dir_block_size: u32,
    /// `sb_logstart`: first block of the internal log (0: external log).
    pub log_start: u64,
    /// `sb_logblocks`: log size in blocks.
    pub log_blocks: u32,
    /// Log sector size in bytes (`sb_logsectsize`, or the sector size when 0).
    pub log_sect_size: u32,
    /// File type in directory entries (`ftype`).
    pub has_ftype: bool,
    /// Free inode btree (`finobt`).
    pub has_finobt: bool,
    /// Reverse-mapping btree (`rmapbt`).
    pub has_rmapbt: bool,
    /// Reflink and the refcount btree (`reflink`).
    pub has_reflink: bool,
    /// Inode btree block counts in the AGI (`inobtcount`).
    pub has_inobtcount: bool,
    /// Sparse inode chunks (`sparse`).
    pub has_sparse_inodes: bool,
    /// Timestamps beyond 2038 (`bigtime`).
    pub has_bigtime: bool,
    /// 64-bit extent counters (`nrext64`).
    pub has_nrext64: bool,
    /// `sb_meta_uuid` is the metadata uuid (`meta_uuid`).
    pub has_meta_uuid: bool,
    /// 32-bit project ids (`projid32bit`).
    pub has_projid32: bool,
    /// Version 2 attribute forks (`attr2`).
    pub has_attr2: bool,
    /// Lazy superblock counters (`lazysbcount`, always on v5).
    pub has_lazysbcount: bool,
    /// Version 2 log (`logv2`, always on v5).
    pub has_logv2: bool,
    /// The uuid stamped into v5 metadata (`sb_meta_uuid` when meta_uuid is set).
    pub meta_uuid: [u8; 16],
}

impl Geometry {
    /// Byte offset of the start of AG `agno`.
    pub fn ag_offset(&self, agno: u32) -> Option<u64> {
        u64::from(agno)
            .checked_mul(self.ag_blocks.into())?
            .checked_mul(self.block_size.into())
    }

    /// Number of blocks in AG `agno` (the last AG may be short).
    pub fn ag_size(&self, agno: u32) -> Option<u32> {
        if agno >= self.ag_count {
            return None;
        }
        let start = u64::from(agno).checked_mul(self.ag_blocks.into())?;
        let left = self.data_blocks.checked_sub(start)?;
        Some(u32::try_from(left.min(self.ag_blocks.into())).unwrap_or(self.ag_blocks))
    }

    /// Splits an absolute filesystem block number (`agno << agblklog | agbno`).
    pub fn fsb_to_agbno(&self, fsb: u64) -> (u64, u64) {
        let shift = u32::from(self.ag_blk_log);
        let mask = (1u64 << shift).wrapping_sub(1);
        (fsb.checked_shr(shift).unwrap_or(0), fsb & mask)
    }

    /// Byte offset of AG block `agbno` of AG `agno`.
    pub fn agbno_to_offset(&self, agno: u32, agbno: u64) -> Option<u64> {
        self.ag_offset(agno)?
            .checked_add(agbno.checked_mul(self.block_size.into())?)
    }

    /// Number of AGFL slots in one sector.
    pub fn agfl_size(&self) -> u32 {
        let hdr = if self.has_crc { XFS_AGFL_HDR_SIZE } else { 0 };
        self.sect_size.saturating_sub(hdr) / 4
    }
}
