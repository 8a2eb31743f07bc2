//! Superblock version and feature bits (`XFS_SB_VERSION_*`, `XFS_SB_VERSION2_*`,
//! `XFS_SB_FEAT_*`), and the table of each feature word that names its bits from these
//! constants. The predicates on a raw
//! superblock (`xfs_sb_version_has*` in libxfs) are methods of [`crate::sb::RawSb`].

/// `XFS_SB_VERSION_NUMBITS`: the version number in the low nibble of `sb_versionnum`.
pub const XFS_SB_VERSION_NUMBITS: u16 = 0x000f;
/// `XFS_SB_VERSION_4`.
pub const XFS_SB_VERSION_4: u16 = 4;
/// `XFS_SB_VERSION_5`.
pub const XFS_SB_VERSION_5: u16 = 5;

/// `sb_versionnum`: extended attributes were used.
pub const XFS_SB_VERSION_ATTRBIT: u16 = 0x0010;
/// `sb_versionnum`: 32-bit link counts (v2 inodes).
pub const XFS_SB_VERSION_NLINKBIT: u16 = 0x0020;
/// `sb_versionnum`: quotas were used.
pub const XFS_SB_VERSION_QUOTABIT: u16 = 0x0040;
/// `sb_versionnum`: inode chunks are aligned (`sb_inoalignmt`).
pub const XFS_SB_VERSION_ALIGNBIT: u16 = 0x0080;
/// `sb_versionnum`: stripe unit and width are set (`sb_unit`, `sb_width`).
pub const XFS_SB_VERSION_DALIGNBIT: u16 = 0x0100;
/// `sb_versionnum`: shared filesystem (never supported).
pub const XFS_SB_VERSION_SHAREDBIT: u16 = 0x0200;
/// `sb_versionnum`: version 2 log.
pub const XFS_SB_VERSION_LOGV2BIT: u16 = 0x0400;
/// `sb_versionnum`: sector size other than 512 bytes recorded.
pub const XFS_SB_VERSION_SECTORBIT: u16 = 0x0800;
/// `sb_versionnum`: unwritten extents flagged.
pub const XFS_SB_VERSION_EXTFLGBIT: u16 = 0x1000;
/// `sb_versionnum`: version 2 directories.
pub const XFS_SB_VERSION_DIRV2BIT: u16 = 0x2000;
/// `sb_versionnum`: ASCII-only case-insensitive names (`borg`).
pub const XFS_SB_VERSION_BORGBIT: u16 = 0x4000;
/// `sb_versionnum`: `sb_features2` is valid.
pub const XFS_SB_VERSION_MOREBITSBIT: u16 = 0x8000;

/// `sb_features2`: reserved (`XFS_SB_VERSION2_RESERVED1BIT`).
pub const XFS_SB_VERSION2_RESERVED1BIT: u32 = 0x0001;
/// `sb_features2`: lazy superblock counters.
pub const XFS_SB_VERSION2_LAZYSBCOUNTBIT: u32 = 0x0002;
/// `sb_features2`: reserved (`XFS_SB_VERSION2_RESERVED4BIT`).
pub const XFS_SB_VERSION2_RESERVED4BIT: u32 = 0x0004;
/// `sb_features2`: version 2 attribute forks.
pub const XFS_SB_VERSION2_ATTR2BIT: u32 = 0x0008;
/// `sb_features2`: parent pointers (never used on v4).
pub const XFS_SB_VERSION2_PARENTBIT: u32 = 0x0010;
/// `sb_features2`: 32-bit project ids.
pub const XFS_SB_VERSION2_PROJID32BIT: u32 = 0x0080;
/// `sb_features2`: metadata CRCs (v5).
pub const XFS_SB_VERSION2_CRCBIT: u32 = 0x0100;
/// `sb_features2`: file type in directory entries (v4).
pub const XFS_SB_VERSION2_FTYPE: u32 = 0x0200;

/// `sb_features_ro_compat`: free inode btree.
pub const XFS_SB_FEAT_RO_COMPAT_FINOBT: u32 = 0x1;
/// `sb_features_ro_compat`: reverse-mapping btree.
pub const XFS_SB_FEAT_RO_COMPAT_RMAPBT: u32 = 0x2;
/// `sb_features_ro_compat`: reflink (refcount btree).
pub const XFS_SB_FEAT_RO_COMPAT_REFLINK: u32 = 0x4;
/// `sb_features_ro_compat`: inode btree block counters in the AGI.
pub const XFS_SB_FEAT_RO_COMPAT_INOBTCNT: u32 = 0x8;

/// `sb_features_incompat`: file type in directory entries.
pub const XFS_SB_FEAT_INCOMPAT_FTYPE: u32 = 0x01;
/// `sb_features_incompat`: sparse inode chunks.
pub const XFS_SB_FEAT_INCOMPAT_SPINODES: u32 = 0x02;
/// `sb_features_incompat`: metadata uuid (`sb_meta_uuid`) differs from `sb_uuid`.
pub const XFS_SB_FEAT_INCOMPAT_META_UUID: u32 = 0x04;
/// `sb_features_incompat`: timestamps beyond 2038.
pub const XFS_SB_FEAT_INCOMPAT_BIGTIME: u32 = 0x08;
/// `sb_features_incompat`: needs xfs_repair before mounting.
pub const XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR: u32 = 0x10;
/// `sb_features_incompat`: 64-bit data fork extent counts.
pub const XFS_SB_FEAT_INCOMPAT_NREXT64: u32 = 0x20;

/// `sb_features_incompat` (later kernels, not supported): file range exchange.
pub const XFS_SB_FEAT_INCOMPAT_EXCHRANGE: u32 = 0x040;
/// `sb_features_incompat` (later kernels, not supported): parent pointers.
pub const XFS_SB_FEAT_INCOMPAT_PARENT: u32 = 0x080;
/// `sb_features_incompat` (later kernels, not supported): metadata directory tree.
pub const XFS_SB_FEAT_INCOMPAT_METADIR: u32 = 0x100;
/// `sb_features_incompat` (later kernels, not supported): zoned realtime devices.
pub const XFS_SB_FEAT_INCOMPAT_ZONED: u32 = 0x200;

/// `sb_features_log_incompat`: logged extended attribute items.
pub const XFS_SB_FEAT_INCOMPAT_LOG_XATTRS: u32 = 0x1;

/// One named feature bit of one feature word.
#[derive(Debug, Clone, Copy)]
pub struct FeatureBit {
    /// The bit (widened to 32 bits for `sb_versionnum`).
    pub mask: u32,
    /// Its short name, as `xfs_db version` prints it.
    pub name: &'static str,
}

const fn fb(mask: u32, name: &'static str) -> FeatureBit {
    FeatureBit { mask, name }
}

/// [`fb`] for the 16-bit `sb_versionnum`.
const fn vb(mask: u16, name: &'static str) -> FeatureBit {
    fb(mask as u32, name)
}

/// `sb_versionnum` bits above the version number (low nibble).
pub const VERSIONNUM_BITS: &[FeatureBit] = &[
    vb(XFS_SB_VERSION_ATTRBIT, "attr"),
    vb(XFS_SB_VERSION_NLINKBIT, "nlink"),
    vb(XFS_SB_VERSION_QUOTABIT, "quota"),
    vb(XFS_SB_VERSION_ALIGNBIT, "align"),
    vb(XFS_SB_VERSION_DALIGNBIT, "dalign"),
    vb(XFS_SB_VERSION_SHAREDBIT, "shared"),
    vb(XFS_SB_VERSION_LOGV2BIT, "logv2"),
    vb(XFS_SB_VERSION_SECTORBIT, "sector"),
    vb(XFS_SB_VERSION_EXTFLGBIT, "extflg"),
    vb(XFS_SB_VERSION_DIRV2BIT, "dirv2"),
    vb(XFS_SB_VERSION_BORGBIT, "borg"),
    vb(XFS_SB_VERSION_MOREBITSBIT, "morebits"),
];
/// `sb_features2`.
pub const FEATURES2_BITS: &[FeatureBit] = &[
    fb(XFS_SB_VERSION2_RESERVED1BIT, "reserved1"),
    fb(XFS_SB_VERSION2_LAZYSBCOUNTBIT, "lazysbcount"),
    fb(XFS_SB_VERSION2_RESERVED4BIT, "reserved4"),
    fb(XFS_SB_VERSION2_ATTR2BIT, "attr2"),
    fb(XFS_SB_VERSION2_PARENTBIT, "parent"),
    fb(XFS_SB_VERSION2_PROJID32BIT, "projid32bit"),
    fb(XFS_SB_VERSION2_CRCBIT, "crc"),
    fb(XFS_SB_VERSION2_FTYPE, "ftype"),
];
/// `sb_features_compat`: none defined through 6.1.
pub const COMPAT_BITS: &[FeatureBit] = &[];
/// `sb_features_ro_compat`.
pub const RO_COMPAT_BITS: &[FeatureBit] = &[
    fb(XFS_SB_FEAT_RO_COMPAT_FINOBT, "finobt"),
    fb(XFS_SB_FEAT_RO_COMPAT_RMAPBT, "rmapbt"),
    fb(XFS_SB_FEAT_RO_COMPAT_REFLINK, "reflink"),
    fb(XFS_SB_FEAT_RO_COMPAT_INOBTCNT, "inobtcount"),
];
/// `sb_features_incompat` bits known to xfsprogs 6.1 (all of them are read here).
pub const INCOMPAT_BITS: &[FeatureBit] = &[
    fb(XFS_SB_FEAT_INCOMPAT_FTYPE, "ftype"),
    fb(XFS_SB_FEAT_INCOMPAT_SPINODES, "sparse"),
    fb(XFS_SB_FEAT_INCOMPAT_META_UUID, "meta_uuid"),
    fb(XFS_SB_FEAT_INCOMPAT_BIGTIME, "bigtime"),
    fb(XFS_SB_FEAT_INCOMPAT_NEEDSREPAIR, "needsrepair"),
    fb(XFS_SB_FEAT_INCOMPAT_NREXT64, "nrext64"),
];
/// `sb_features_incompat` bits of later kernels: named in errors, not supported.
pub const INCOMPAT_BITS_NEWER: &[FeatureBit] = &[
    fb(XFS_SB_FEAT_INCOMPAT_EXCHRANGE, "exchange"),
    fb(XFS_SB_FEAT_INCOMPAT_PARENT, "parent"),
    fb(XFS_SB_FEAT_INCOMPAT_METADIR, "metadir"),
    fb(XFS_SB_FEAT_INCOMPAT_ZONED, "zoned"),
];
/// `sb_features_log_incompat`.
pub const LOG_INCOMPAT_BITS: &[FeatureBit] = &[fb(XFS_SB_FEAT_INCOMPAT_LOG_XATTRS, "xattrs")];

/// Names of the bits set in `word`, from the tables `known`; unknown bits come out as hex
/// (`unknown(0x4000)`).
pub fn feature_names(word: u32, known: &[&[FeatureBit]]) -> Vec<String> {
    let mut out = Vec::new();
    let mut rest = word;
    for table in known {
        for b in table.iter() {
            if word & b.mask != 0 && rest & b.mask != 0 {
                out.push(b.name.to_string());
                rest &= !b.mask;
            }
        }
    }
    if rest != 0 {
        out.push(format!("unknown({rest:#x})"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn feature_names_report_unknown_bits() {
        let n = feature_names(0x1 | 0x100 | 0x4000, &[INCOMPAT_BITS, INCOMPAT_BITS_NEWER]);
        assert_eq!(n, vec!["ftype", "metadir", "unknown(0x4000)"]);
        let v = feature_names(0x8000 | 0x0400, &[VERSIONNUM_BITS]);
        assert_eq!(v, vec!["logv2", "morebits"]);
    }
}
