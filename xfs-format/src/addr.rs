//! Typed disk addresses and every conversion between them, in one place.
//!
//! XFS names a place on disk in six ways: an AG number ([`AgNo`]), a block inside an AG
//! ([`AgBno`]), an inode inside an AG ([`AgIno`]), an inode number ([`Ino`]: AG number and
//! AG inode packed by `sb_agblklog + sb_inopblog` bits), a filesystem block number ([`Fsb`]:
//! AG number and AG block packed by `sb_agblklog` bits) and a 512-byte sector address
//! ([`Daddr`]). Mixing them up gives plausible wrong answers, so they are distinct types and
//! the conversions (the kernel's `XFS_INO_TO_AGNO`, `XFS_AGB_TO_FSB`, `XFS_FSB_TO_DADDR`, ...)
//! are methods of [`Geometry`] that return `None` for an address the geometry does not have,
//! never a saturated value.
//!
//! ```
//! use xfs_format::addr::{AgBno, AgNo, Fsb, Ino};
//! # fn demo(geo: &xfs_format::sb::Geometry) {
//! let root = Ino(geo.ag_blocks.into()); // some inode number
//! if let Some((agno, agino)) = geo.ino_split(root) {
//!     assert_eq!(geo.ino_make(agno, agino), Some(root));
//! }
//! let fsb = geo.fsb_make(AgNo(1), AgBno(10));
//! assert_eq!(fsb.and_then(|f| geo.fsb_split(f)), Some((AgNo(1), AgBno(10))).filter(|_| geo.ag_count > 1));
//! # let _ = Fsb(0);
//! # }
//! ```

use crate::sb::Geometry;
use serde::Serialize;

/// Size of a `Daddr` unit (`BBSIZE`).
pub const BBSIZE: u64 = 512;
/// `BBSHIFT`.
pub const BBSHIFT: u32 = 9;
/// `NULLAGINO`: no AG inode (end of an unlinked list, an empty AGI bucket).
pub const NULLAGINO: u32 = u32::MAX;
/// `NULLAGBLOCK`: no AG block.
pub const NULLAGBLOCK: u32 = u32::MAX;
/// `NULLFSINO`: no inode.
pub const NULLFSINO: u64 = u64::MAX;
/// `NULLFSBLOCK`: no filesystem block.
pub const NULLFSBLOCK: u64 = u64::MAX;
/// `XFS_INODES_PER_CHUNK`.
pub const INODES_PER_CHUNK: u32 = 64;

macro_rules! addr_type {
    ($(#[$m:meta])* $name:ident($t:ty)) => {
        $(#[$m])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
        #[serde(transparent)]
        pub struct $name(pub $t);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl From<$name> for $t {
            fn from(v: $name) -> $t {
                v.0
            }
        }
    };
}

addr_type!(
    /// An allocation group number (`xfs_agnumber_t`).
    AgNo(u32)
);
addr_type!(
    /// A block number inside an AG (`xfs_agblock_t`).
    AgBno(u32)
);
addr_type!(
    /// An inode number inside an AG (`xfs_agino_t`).
    AgIno(u32)
);
addr_type!(
    /// An inode number (`xfs_ino_t`).
    Ino(u64)
);
addr_type!(
    /// A filesystem block number (`xfs_fsblock_t`): AG number and AG block packed.
    Fsb(u64)
);
addr_type!(
    /// A disk address in 512-byte units (`xfs_daddr_t`).
    Daddr(u64)
);

impl Daddr {
    /// The byte offset of this address.
    pub fn byte_offset(self) -> Option<u64> {
        self.0.checked_mul(BBSIZE)
    }

    /// The address of a byte offset (rounded down).
    pub fn from_byte_offset(off: u64) -> Daddr {
        Daddr(off >> BBSHIFT)
    }
}

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
