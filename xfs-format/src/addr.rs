//! Typed disk addresses and every conversion between them, in one place.
//!
//! XFS names a place on disk in six ways: an AG number ([`AgNo`]), a block inside an AG
//! ([`AgBno`]), an inode inside an AG ([`AgIno`]), an inode number ([`Ino`]: AG number and
//! AG inode packed by `sb_agblklog + sb_inopblog` bits), a filesystem block number ([`Fsb`]:
//! AG number and AG block packed by `sb_agblklog` bits) and a 512-byte sector address
//! ([`Daddr`]). Mixing them up gives plausible wrong answers, so they are distinct types and
//! the conversions (the kernel's `XFS_INO_TO_AGNO`, `XFS_AGB_TO_FSB`, `XFS_FSB_TO_DADDR`, ...)
//! are methods of [`Geometry`](crate::geometry::Geometry) (in [`crate::geometry`], the one home of every conversion)
//! that return `None` for an address the geometry does not have, never a saturated value.
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
