//! The geometry of a filesystem (block, sector, inode and AG sizes and the feature flags a
//! decoder needs), derived once from a validated superblock by
//! [`Geometry::from_sb`] (which lives with the superblock it validates, in `sb`), and the address conversions between AG-relative
//! and absolute block numbers and byte offsets.
//!
//! This module depends on no other structure's module, so every decoder (superblock, AG
//! headers, btrees, inodes, the log) can take a `&Geometry` without an import circle.

use crate::addr::{AgBno, AgIno, AgNo, Daddr, Fsb, Ino, BBSHIFT, INODES_PER_CHUNK};
use serde::Serialize;

/// Size of the v5 AGFL header (`struct xfs_agfl`) before the block array.
pub const XFS_AGFL_HDR_SIZE: u32 = 36;

/// `XFS_AG_MIN_BYTES`: the smallest AG mkfs makes (16 MiB).
pub const XFS_AG_MIN_BYTES: u64 = 1 << 24;
/// `XFS_AG_MAX_BYTES`: the largest AG the format allows (1 TiB).
pub const XFS_AG_MAX_BYTES: u64 = 1 << 40;

/// The AG size (in blocks) and count mkfs.xfs chooses by default for a device of `dblocks`
/// blocks of `1 << blocklog` bytes (`calc_default_ag_geometry`): the largest AG from 32 TiB
/// up (or from 4 TiB on one disk), four AGs on one disk from 128 MiB up, otherwise more AGs
/// the larger the device (`multidisk`: the device reports a stripe unit or width). `None`
/// for an empty device or an unusable block log.
///
/// ```
/// use xfs_format::geometry::default_ag_geometry;
/// // 64 MiB of 4 KiB blocks: 4 AGs of 4096 blocks; 10 MiB: one AG.
/// assert_eq!(default_ag_geometry(12, 16384, false), Some((4096, 4)));
/// assert_eq!(default_ag_geometry(12, 2560, false), Some((2560, 1)));
/// // 1 GiB: 4 AGs.
/// assert_eq!(default_ag_geometry(12, 262144, false), Some((65536, 4)));
/// ```
pub fn default_ag_geometry(blocklog: u32, dblocks: u64, multidisk: bool) -> Option<(u64, u64)> {
    let bytes = |b: u64| b.checked_shr(blocklog);
    let max_blocks = (XFS_AG_MAX_BYTES - 1).checked_shr(blocklog)?;
    let (tib, gib, mib) = (bytes(1 << 40)?, bytes(1 << 30)?, bytes(1 << 20)?);
    let blocks =
        if dblocks >= tib.saturating_mul(32) || (!multidisk && dblocks >= tib.saturating_mul(4)) {
            max_blocks
        } else {
            let shift: u32 = if !multidisk && dblocks >= mib.saturating_mul(128) {
                2
            } else {
                // XFS_MULTIDISK_AGLOG, one less at each size step down.
                let steps = [
                    dblocks <= gib.saturating_mul(512),
                    dblocks <= gib.saturating_mul(8),
                    dblocks < mib.saturating_mul(128),
                    dblocks < mib.saturating_mul(64),
                    dblocks < mib.saturating_mul(32),
                ];
                5u32.saturating_sub(steps.iter().filter(|s| **s).count() as u32)
            };
            let b = dblocks.checked_shr(shift)?;
            let rem = dblocks & 1u64.checked_shl(shift)?.saturating_sub(1);
            if rem != 0 && b < max_blocks {
                b.saturating_add(1)
            } else {
                b
            }
        };
    if blocks == 0 {
        return None;
    }
    let count = dblocks.div_ceil(blocks);
    Some((blocks, count))
}

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
    /// `sb_rextsize`: the realtime extent size in blocks (set, at least 1, on every
    /// filesystem; extent size hints of realtime files are multiples of it).
    pub rext_size: u32,
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

// Typed address conversions (`XFS_INO_TO_AGNO`, `XFS_AGB_TO_FSB`, ...).
impl Geometry {
    fn ino_bits(&self) -> u32 {
        u32::from(self.ag_blk_log).saturating_add(self.inopb_log.into())
    }

    /// `XFS_INO_TO_AGNO` / `XFS_INO_TO_AGINO`; `None` when the AG does not exist.
    pub fn ino_split(&self, ino: Ino) -> Option<(AgNo, AgIno)> {
        let bits = self.ino_bits();
        let agno = u32::try_from(ino.0.checked_shr(bits)?).ok()?;
        let mask = 1u64.checked_shl(bits)?.checked_sub(1)?;
        let agino = u32::try_from(ino.0 & mask).ok()?;
        (agno < self.ag_count).then_some((AgNo(agno), AgIno(agino)))
    }

    /// `XFS_AGINO_TO_INO`; `None` when the AG inode does not fit its bits or the AG does
    /// not exist.
    pub fn ino_make(&self, agno: AgNo, agino: AgIno) -> Option<Ino> {
        let bits = self.ino_bits();
        if agno.0 >= self.ag_count || u64::from(agino.0).checked_shr(bits).unwrap_or(0) != 0 {
            return None;
        }
        Some(Ino(
            u64::from(agno.0).checked_shl(bits)? | u64::from(agino.0)
        ))
    }

    /// `XFS_AGINO_TO_AGBNO`: the AG block holding an AG inode.
    pub fn agino_to_agbno(&self, agino: AgIno) -> AgBno {
        AgBno(agino.0.checked_shr(self.inopb_log.into()).unwrap_or(0))
    }

    /// `XFS_AGINO_TO_OFFSET`: the inode's index inside its block.
    pub fn agino_offset(&self, agino: AgIno) -> u32 {
        let mask = 1u32
            .checked_shl(self.inopb_log.into())
            .unwrap_or(0)
            .wrapping_sub(1);
        agino.0 & mask
    }

    /// `XFS_AGB_TO_AGINO`: the first AG inode of an AG block.
    pub fn agbno_to_agino(&self, agbno: AgBno) -> Option<AgIno> {
        let agino = agbno.0.checked_shl(self.inopb_log.into())?;
        (agino.checked_shr(self.inopb_log.into()) == Some(agbno.0)).then_some(AgIno(agino))
    }

    /// `XFS_AGB_TO_FSB`; `None` when the AG does not exist or the block does not fit.
    pub fn fsb_make(&self, agno: AgNo, agbno: AgBno) -> Option<Fsb> {
        let log = u32::from(self.ag_blk_log);
        if agno.0 >= self.ag_count || u64::from(agbno.0).checked_shr(log).unwrap_or(0) != 0 {
            return None;
        }
        Some(Fsb(u64::from(agno.0).checked_shl(log)? | u64::from(agbno.0)))
    }

    /// `XFS_FSB_TO_AGNO` / `XFS_FSB_TO_AGBNO`; `None` when the AG does not exist.
    pub fn fsb_split(&self, fsb: Fsb) -> Option<(AgNo, AgBno)> {
        let log = u32::from(self.ag_blk_log);
        let agno = u32::try_from(fsb.0.checked_shr(log)?).ok()?;
        let mask = 1u64.checked_shl(log)?.checked_sub(1)?;
        let agbno = u32::try_from(fsb.0 & mask).ok()?;
        (agno < self.ag_count).then_some((AgNo(agno), AgBno(agbno)))
    }

    /// `XFS_AGB_TO_DADDR`.
    pub fn agbno_to_daddr(&self, agno: AgNo, agbno: AgBno) -> Option<Daddr> {
        let blocks = u64::from(agno.0)
            .checked_mul(self.ag_blocks.into())?
            .checked_add(agbno.0.into())?;
        let shift = u32::from(self.block_log).checked_sub(BBSHIFT)?;
        Some(Daddr(blocks.checked_shl(shift)?))
    }

    /// Byte offset of filesystem block `fsb`, `None` unless it is a block of an AG.
    pub fn fsb_byte_offset(&self, fsb: Fsb) -> Option<u64> {
        let (agno, agbno) = self.fsb_split(fsb)?;
        if agbno.0 >= self.ag_size(agno.0)? {
            return None;
        }
        self.agbno_to_offset(agno.0, agbno.0.into())
    }

    /// `XFS_FSB_TO_DADDR`.
    pub fn fsb_to_daddr(&self, fsb: Fsb) -> Option<Daddr> {
        let (agno, agbno) = self.fsb_split(fsb)?;
        self.agbno_to_daddr(agno, agbno)
    }

    /// `xfs_verify_agbno`: a block of the AG past its header sectors.
    pub fn verify_agbno(&self, agno: AgNo, agbno: AgBno) -> bool {
        self.ag_size(agno.0)
            .is_some_and(|size| agbno.0 < size && agbno.0 >= self.ag_header_blocks())
    }

    /// `XFS_FSB_TO_AGNO` / `XFS_FSB_TO_AGBNO` exactly as libxfs computes them: the AG number
    /// is truncated to its 32-bit type, so a block number with bits set far above the AG
    /// number's width still names a block of a low AG. This is how xfs_repair reads and
    /// checks a corrupted pointer; [`Geometry::fsb_split`] refuses such numbers instead.
    pub fn fsb_split_lossy(&self, fsb: Fsb) -> (AgNo, AgBno) {
        let log = u32::from(self.ag_blk_log);
        let agno = fsb.0.checked_shr(log).unwrap_or(0) as u32;
        let mask = 1u64
            .checked_shl(log)
            .map_or(u64::MAX, |m| m.wrapping_sub(1));
        (AgNo(agno), AgBno((fsb.0 & mask) as u32))
    }

    /// `xfs_verify_fsbno`: a filesystem block number that names a block of an AG past its
    /// header sectors, its AG number taken as libxfs takes it ([`Geometry::fsb_split_lossy`]).
    pub fn verify_fsbno(&self, fsb: Fsb) -> bool {
        let (agno, agbno) = self.fsb_split_lossy(fsb);
        agno.0 < self.ag_count && self.verify_agbno(agno, agbno)
    }

    /// `xfs_verify_agino`: an inode whose block lies inside the AG, past its headers.
    pub fn verify_agino(&self, agno: AgNo, agino: AgIno) -> bool {
        self.verify_agbno(agno, self.agino_to_agbno(agino))
    }

    /// `xfs_verify_ino`: the number decomposes and recomposes, and its AG inode is valid.
    pub fn verify_ino(&self, ino: Ino) -> bool {
        self.ino_split(ino)
            .is_some_and(|(a, i)| self.ino_make(a, i) == Some(ino) && self.verify_agino(a, i))
    }

    /// Blocks taken by the four AG header sectors (superblock, AGF, AGI, AGFL), rounded up
    /// (`XFS_AGFL_BLOCK + 1`).
    pub fn ag_header_blocks(&self) -> u32 {
        let bs = self.block_size.max(1);
        self.sect_size
            .saturating_mul(4)
            .saturating_add(bs.saturating_sub(1))
            .checked_div(bs)
            .unwrap_or(1)
    }

    /// Inodes per block, at least 1.
    pub fn inodes_per_block(&self) -> u32 {
        self.block_size
            .checked_div(self.inode_size)
            .unwrap_or(1)
            .max(1)
    }

    /// Blocks per 64-inode chunk, at least 1.
    pub fn blocks_per_chunk(&self) -> u32 {
        INODES_PER_CHUNK
            .checked_div(self.inodes_per_block())
            .unwrap_or(1)
            .max(1)
    }

    /// Bytes per inode cluster (`M_IGEO(mp)->inode_cluster_size`): 8 KiB, scaled with the
    /// inode size on v5, never less than a block.
    pub fn inode_cluster_bytes(&self) -> u64 {
        let mut c: u64 = 8192;
        if self.has_crc {
            c = c.saturating_mul(u64::from(self.inode_size) / 256);
        }
        c.max(self.block_size.into())
    }
}
