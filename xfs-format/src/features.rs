//! Superblock version and feature bits (`XFS_SB_VERSION_*`, `XFS_SB_VERSION2_*`,
//! `XFS_SB_FEAT_*`), and the predicates on a raw superblock that xfs_repair's checks need
//! before a geometry can be trusted (`xfs_sb_version_has*` in libxfs).

use crate::sb::RawSb;

/// `XFS_SB_VERSION_NUMBITS`: the version number in the low nibble of `sb_versionnum`.
pub const XFS_SB_VERSION_NUMBITS: u16 = 0x000f;
/// `XFS_SB_VERSION_4`.
pub const XFS_SB_VERSION_4: u16 = 4;
/// `XFS_SB_VERSION_5`.
pub const XFS_SB_VERSION_5: u16 = 5;

/// `sb_versionnum` feature bits.
pub const XFS_SB_VERSION_ATTRBIT: u16 = 0x0010;
pub const XFS_SB_VERSION_NLINKBIT: u16 = 0x0020;
pub const XFS_SB_VERSION_QUOTABIT: u16 = 0x0040;
pub const XFS_SB_VERSION_ALIGNBIT: u16 = 0x0080;
pub const XFS_SB_VERSION_DALIGNBIT: u16 = 0x0100;
pub const XFS_SB_VERSION_SHAREDBIT: u16 = 0x0200;
pub const XFS_SB_VERSION_LOGV2BIT: u16 = 0x0400;
pub const XFS_SB_VERSION_SECTORBIT: u16 = 0x0800;
pub const XFS_SB_VERSION_EXTFLGBIT: u16 = 0x1000;
pub const XFS_SB_VERSION_DIRV2BIT: u16 = 0x2000;
pub const XFS_SB_VERSION_BORGBIT: u16 = 0x4000;
pub const XFS_SB_VERSION_MOREBITSBIT: u16 = 0x8000;

/// `sb_features2` bits.
pub const XFS_SB_VERSION2_LAZYSBCOUNTBIT: u32 = 0x0002;
pub const XFS_SB_VERSION2_ATTR2BIT: u32 = 0x0008;
pub const XFS_SB_VERSION2_PARENTBIT: u32 = 0x0010;
pub const XFS_SB_VERSION2_PROJID32BIT: u32 = 0x0080;
pub const XFS_SB_VERSION2_CRCBIT: u32 = 0x0100;
pub const XFS_SB_VERSION2_FTYPE: u32 = 0x0200;

/// `sb_features_ro_compat` bits.
pub const XFS_SB_FEAT_RO_COMPAT_FINOBT: u32 = 0x1;
pub const XFS_SB_FEAT_RO_COMPAT_RMAPBT: u32 = 0x2;
pub const XFS_SB_FEAT_RO_COMPAT_REFLINK: u32 = 0x4;
pub const XFS_SB_FEAT_RO_COMPAT_INOBTCNT: u32 = 0x8;

/// `sb_features_incompat` bits.
pub const XFS_SB_FEAT_INCOMPAT_FTYPE: u32 = 0x01;
pub const XFS_SB_FEAT_INCOMPAT_SPINODES: u32 = 0x02;
pub const XFS_SB_FEAT_INCOMPAT_META_UUID: u32 = 0x04;
pub const XFS_SB_FEAT_INCOMPAT_BIGTIME: u32 = 0x08;
pub const XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR: u32 = 0x10;
pub const XFS_SB_FEAT_INCOMPAT_NREXT64: u32 = 0x20;

/// `sb_features_log_incompat` bits.
pub const XFS_SB_FEAT_INCOMPAT_LOG_XATTRS: u32 = 0x1;

impl RawSb {
    /// The version number (`XFS_SB_VERSION_NUM`).
    pub fn version_num(&self) -> u16 {
        self.sb_versionnum & XFS_SB_VERSION_NUMBITS
    }

    /// A version 5 (CRC) superblock.
    pub fn is_v5(&self) -> bool {
        self.version_num() == XFS_SB_VERSION_5
    }

    /// A `sb_versionnum` feature bit is set.
    pub fn has_version_bit(&self, bit: u16) -> bool {
        self.sb_versionnum & bit != 0
    }

    /// `xfs_sb_version_hasalign`: inode chunks are aligned (always on v5).
    pub fn has_align(&self) -> bool {
        self.is_v5() || self.has_version_bit(XFS_SB_VERSION_ALIGNBIT)
    }

    /// `xfs_sb_version_hasdalign`: stripe unit and width are set.
    pub fn has_dalign(&self) -> bool {
        self.has_version_bit(XFS_SB_VERSION_DALIGNBIT)
    }

    /// `xfs_sb_version_hassector`: sector sizes other than 512 are recorded.
    pub fn has_sector(&self) -> bool {
        self.has_version_bit(XFS_SB_VERSION_SECTORBIT)
    }

    /// An incompat feature bit is set (v5 only).
    pub fn has_incompat(&self, bit: u32) -> bool {
        self.is_v5() && self.sb_features_incompat & bit != 0
    }
}
