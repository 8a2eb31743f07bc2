//! The superblock (`struct xfs_dsb`), its feature bits and the geometry derived from it.

use std::io::Cursor;
use std::ops::RangeInclusive;

use binrw::BinRead;
use serde::Serialize;

use crate::crc;
use crate::error::{CorruptKind, Error, Result};
use crate::features::*;
pub use crate::features::{
    feature_names, FeatureBit, COMPAT_BITS, FEATURES2_BITS, INCOMPAT_BITS, INCOMPAT_BITS_NEWER,
    LOG_INCOMPAT_BITS, RO_COMPAT_BITS, VERSIONNUM_BITS,
};
use crate::fields::{CrcState, Field, Null, Radix};
pub use crate::geometry::Geometry;
use crate::verify::Layout;

/// `XFSB`.
pub const XFS_SB_MAGIC: u32 = 0x5846_5342;
/// Size of `struct xfs_dsb` through xfsprogs 6.1.
pub const XFS_DSB_SIZE: usize = 264;
/// Byte offset of `sb_crc` (from [`Layout::superblock`]).
pub const XFS_SB_CRC_OFF: usize = Layout::superblock(false).crc;
/// Byte offset of `sb_icount` (64-bit), one of the counters a mount with lazy superblock
/// counters recomputes from the AG headers.
pub const XFS_SB_ICOUNT_OFF: usize = 128;
/// Byte offset of `sb_ifree` (64-bit).
pub const XFS_SB_IFREE_OFF: usize = 136;
/// Byte offset of `sb_fdblocks` (64-bit).
pub const XFS_SB_FDBLOCKS_OFF: usize = 144;

/// The on-disk superblock, field for field, big-endian decoded. Names are the C names.
#[derive(BinRead, Debug, Clone, PartialEq, Eq, Serialize)]
#[br(big)]
pub struct RawSb {
    /// `sb_magicnum`: [`XFS_SB_MAGIC`].
    pub sb_magicnum: u32,
    /// `sb_blocksize`: filesystem block size in bytes.
    pub sb_blocksize: u32,
    /// `sb_dblocks`: blocks of the data device.
    pub sb_dblocks: u64,
    /// `sb_rblocks`: blocks of the realtime device.
    pub sb_rblocks: u64,
    /// `sb_rextents`: realtime extents.
    pub sb_rextents: u64,
    /// `sb_uuid`: the filesystem's uuid.
    pub sb_uuid: [u8; 16],
    /// `sb_logstart`: first block of the internal log (0: external log).
    pub sb_logstart: u64,
    /// `sb_rootino`: inode number of the root directory.
    pub sb_rootino: u64,
    /// `sb_rbmino`: inode number of the realtime bitmap.
    pub sb_rbmino: u64,
    /// `sb_rsumino`: inode number of the realtime summary.
    pub sb_rsumino: u64,
    /// `sb_rextsize`: realtime extent size in blocks.
    pub sb_rextsize: u32,
    /// `sb_agblocks`: blocks per AG.
    pub sb_agblocks: u32,
    /// `sb_agcount`: number of AGs.
    pub sb_agcount: u32,
    /// `sb_rbmblocks`: blocks of the realtime bitmap.
    pub sb_rbmblocks: u32,
    /// `sb_logblocks`: log size in blocks.
    pub sb_logblocks: u32,
    /// `sb_versionnum`: version (low nibble) and `XFS_SB_VERSION_*` feature bits.
    pub sb_versionnum: u16,
    /// `sb_sectsize`: sector size in bytes.
    pub sb_sectsize: u16,
    /// `sb_inodesize`: inode size in bytes.
    pub sb_inodesize: u16,
    /// `sb_inopblock`: inodes per block.
    pub sb_inopblock: u16,
    /// `sb_fname`: filesystem label.
    pub sb_fname: [u8; 12],
    /// `sb_blocklog`: log2 of `sb_blocksize`.
    pub sb_blocklog: u8,
    /// `sb_sectlog`: log2 of `sb_sectsize`.
    pub sb_sectlog: u8,
    /// `sb_inodelog`: log2 of `sb_inodesize`.
    pub sb_inodelog: u8,
    /// `sb_inopblog`: log2 of `sb_inopblock`.
    pub sb_inopblog: u8,
    /// `sb_agblklog`: log2 of `sb_agblocks`, rounded up.
    pub sb_agblklog: u8,
    /// `sb_rextslog`: log2 of `sb_rextents`.
    pub sb_rextslog: u8,
    /// `sb_inprogress`: mkfs has not finished.
    pub sb_inprogress: u8,
    /// `sb_imax_pct`: most space inodes may take, in percent.
    pub sb_imax_pct: u8,
    /// `sb_icount`: allocated inodes.
    pub sb_icount: u64,
    /// `sb_ifree`: free inodes.
    pub sb_ifree: u64,
    /// `sb_fdblocks`: free data blocks.
    pub sb_fdblocks: u64,
    /// `sb_frextents`: free realtime extents.
    pub sb_frextents: u64,
    /// `sb_uquotino`: user quota inode.
    pub sb_uquotino: u64,
    /// `sb_gquotino`: group quota inode (project quota too on v4).
    pub sb_gquotino: u64,
    /// `sb_qflags`: quota flags.
    pub sb_qflags: u16,
    /// `sb_flags`: miscellaneous flags.
    pub sb_flags: u8,
    /// `sb_shared_vn`: shared version number (unused).
    pub sb_shared_vn: u8,
    /// `sb_inoalignmt`: inode chunk alignment in blocks.
    pub sb_inoalignmt: u32,
    /// `sb_unit`: stripe unit in blocks.
    pub sb_unit: u32,
    /// `sb_width`: stripe width in blocks.
    pub sb_width: u32,
    /// `sb_dirblklog`: log2 of directory blocks per filesystem block.
    pub sb_dirblklog: u8,
    /// `sb_logsectlog`: log2 of the log sector size.
    pub sb_logsectlog: u8,
    /// `sb_logsectsize`: log sector size in bytes (0: `sb_sectsize`).
    pub sb_logsectsize: u16,
    /// `sb_logsunit`: log stripe unit in bytes.
    pub sb_logsunit: u32,
    /// `sb_features2`: `XFS_SB_VERSION2_*` bits.
    pub sb_features2: u32,
    /// `sb_bad_features2`: copy of `sb_features2` written at a wrong offset by old kernels.
    pub sb_bad_features2: u32,
    /// `sb_features_compat`: compatible feature bits (v5).
    pub sb_features_compat: u32,
    /// `sb_features_ro_compat`: read-only compatible feature bits (v5).
    pub sb_features_ro_compat: u32,
    /// `sb_features_incompat`: incompatible feature bits (v5).
    pub sb_features_incompat: u32,
    /// `sb_features_log_incompat`: log incompatible feature bits (v5).
    pub sb_features_log_incompat: u32,
    /// Stored little-endian on disk; kept here as the big-endian reading xfs_db prints.
    pub sb_crc: u32,
    /// `sb_spino_align`: sparse inode chunk alignment in blocks.
    pub sb_spino_align: u32,
    /// `sb_pquotino`: project quota inode (v5).
    pub sb_pquotino: u64,
    /// `sb_lsn`: LSN of the last superblock write (v5).
    pub sb_lsn: u64,
    /// `sb_meta_uuid`: the metadata uuid (with `meta_uuid`).
    pub sb_meta_uuid: [u8; 16],
}

/// The predicates xfs_repair's checks need before a geometry can be trusted
/// (`xfs_sb_version_has*` in libxfs).
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

    /// `sb_features2` as libxfs reads it: zero unless `XFS_SB_VERSION_MOREBITSBIT` is set.
    pub fn features2(&self) -> u32 {
        if self.has_version_bit(XFS_SB_VERSION_MOREBITSBIT) {
            self.sb_features2
        } else {
            0
        }
    }
}

/// A superblock as read from one sector: raw fields plus what was verified.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Superblock {
    /// The superblock, field for field.
    pub raw: RawSb,
    /// Checksum over the sector (v5), `Unchecked` on v4 or when the magic is wrong.
    pub crc: CrcState,
}

impl Superblock {
    /// Decodes a superblock from the bytes of its sector (at least 264 bytes; the CRC covers
    /// the whole slice, which should be one sector). Wrong magic is *not* an error here: the
    /// raw fields are still returned so they can be shown; see [`Superblock::magic_ok`].
    /// Whether a checksum is expected is taken from this superblock's own version.
    pub fn parse(sector: &[u8], offset: u64) -> Result<Superblock> {
        Self::decode(sector, offset, None)
    }

    /// Decodes a superblock copy of a filesystem that has (`fs_has_crc`) or has not checksums.
    /// As the kernel's verifier does, the checksum is checked when the copy has the right magic
    /// and either claims version 5 or carries a nonzero checksum; a copy with a wrong magic
    /// is not checksum-checked (it is reported by its magic instead).
    pub fn parse_copy(sector: &[u8], offset: u64, fs_has_crc: bool) -> Result<Superblock> {
        Self::decode(sector, offset, Some(fs_has_crc))
    }

    /// Both of the above: `fs_has_crc` `None` takes it from this superblock's own version.
    fn decode(sector: &[u8], offset: u64, fs_has_crc: Option<bool>) -> Result<Superblock> {
        let raw = RawSb::read(&mut Cursor::new(sector)).map_err(|_| Error::Corrupt {
            offset,
            kind: CorruptKind::Short {
                what: "superblock",
                need: XFS_DSB_SIZE,
                have: sector.len(),
            },
        })?;
        let crc = if !fs_has_crc.unwrap_or(raw.is_v5()) {
            CrcState::Unchecked
        } else if raw.sb_magicnum == XFS_SB_MAGIC && (raw.is_v5() || raw.sb_crc != 0) {
            crc::verify(sector, XFS_SB_CRC_OFF, true)
        } else {
            CrcState::Correct
        };
        Ok(Superblock { raw, crc })
    }

    /// `sb_magicnum` is [`XFS_SB_MAGIC`].
    pub fn magic_ok(&self) -> bool {
        self.raw.sb_magicnum == XFS_SB_MAGIC
    }

    /// Every field in `xfs_db print` order.
    pub fn fields(&self) -> Vec<Field> {
        let r = &self.raw;
        vec![
            Field::hex("magicnum", r.sb_magicnum, 32),
            Field::dec("blocksize", r.sb_blocksize, 32),
            Field::nullable("dblocks", r.sb_dblocks, 64),
            Field::nullable("rblocks", r.sb_rblocks, 64),
            Field::nullable("rextents", r.sb_rextents, 64),
            Field::uuid("uuid", r.sb_uuid),
            Field::nullable("logstart", r.sb_logstart, 64),
            Field::nullable("rootino", r.sb_rootino, 64),
            Field::nullable("rbmino", r.sb_rbmino, 64),
            Field::nullable("rsumino", r.sb_rsumino, 64),
            Field::nullable("rextsize", r.sb_rextsize, 32),
            Field::nullable("agblocks", r.sb_agblocks, 32),
            Field::nullable("agcount", r.sb_agcount, 32),
            Field::dec("rbmblocks", r.sb_rbmblocks, 32),
            Field::dec("logblocks", r.sb_logblocks, 32),
            Field::hex("versionnum", r.sb_versionnum, 16),
            Field::dec("sectsize", r.sb_sectsize, 16),
            Field::dec("inodesize", r.sb_inodesize, 16),
            Field::dec("inopblock", r.sb_inopblock, 16),
            Field::chars("fname", r.sb_fname.to_vec()),
            Field::dec("blocklog", r.sb_blocklog, 8),
            Field::dec("sectlog", r.sb_sectlog, 8),
            Field::dec("inodelog", r.sb_inodelog, 8),
            Field::dec("inopblog", r.sb_inopblog, 8),
            Field::dec("agblklog", r.sb_agblklog, 8),
            Field::dec("rextslog", r.sb_rextslog, 8),
            Field::dec("inprogress", r.sb_inprogress, 8),
            Field::dec("imax_pct", r.sb_imax_pct, 8),
            Field::dec("icount", r.sb_icount, 64),
            Field::dec("ifree", r.sb_ifree, 64),
            Field::dec("fdblocks", r.sb_fdblocks, 64),
            Field::dec("frextents", r.sb_frextents, 64),
            Field::nullable("uquotino", r.sb_uquotino, 64),
            Field::nullable("gquotino", r.sb_gquotino, 64),
            Field::hex("qflags", r.sb_qflags, 16),
            Field::hex("flags", r.sb_flags, 8),
            Field::dec("shared_vn", r.sb_shared_vn, 8),
            Field::dec("inoalignmt", r.sb_inoalignmt, 32),
            Field::dec("unit", r.sb_unit, 32),
            Field::dec("width", r.sb_width, 32),
            Field::dec("dirblklog", r.sb_dirblklog, 8),
            Field::dec("logsectlog", r.sb_logsectlog, 8),
            Field::dec("logsectsize", r.sb_logsectsize, 16),
            Field::dec("logsunit", r.sb_logsunit, 32),
            Field::hex("features2", r.sb_features2, 32),
            Field::hex("bad_features2", r.sb_bad_features2, 32),
            Field::hex("features_compat", r.sb_features_compat, 32),
            Field::hex("features_ro_compat", r.sb_features_ro_compat, 32),
            Field::hex("features_incompat", r.sb_features_incompat, 32),
            Field::hex("features_log_incompat", r.sb_features_log_incompat, 32),
            Field::crc("crc", r.sb_crc, self.crc),
            Field::dec("spino_align", r.sb_spino_align, 32),
            Field::nullable("pquotino", r.sb_pquotino, 64),
            Field::num("lsn", r.sb_lsn, 64, Radix::Hex, Null::Plain),
            Field::uuid("meta_uuid", r.sb_meta_uuid),
        ]
    }
}

/// All feature words decoded to names.
#[derive(Debug, Clone, Serialize)]
pub struct Features {
    /// The version number (4 or 5).
    pub version: u16,
    /// `sb_versionnum` feature bits.
    pub versionnum: Vec<String>,
    /// `sb_features2` bits.
    pub features2: Vec<String>,
    /// `sb_features_compat` bits (v5).
    pub compat: Vec<String>,
    /// `sb_features_ro_compat` bits (v5).
    pub ro_compat: Vec<String>,
    /// `sb_features_incompat` bits (v5).
    pub incompat: Vec<String>,
    /// `sb_features_log_incompat` bits (v5).
    pub log_incompat: Vec<String>,
}

impl Features {
    /// The names of the bits set in each feature word of `r` (the v5 words only on v5).
    pub fn of(r: &RawSb) -> Features {
        let v5 = r.is_v5();
        let v5_word =
            |w: u32, t: &[&[FeatureBit]]| if v5 { feature_names(w, t) } else { Vec::new() };
        let numbits = u32::from(XFS_SB_VERSION_NUMBITS);
        Features {
            version: r.version_num(),
            versionnum: feature_names(u32::from(r.sb_versionnum) & !numbits, &[VERSIONNUM_BITS]),
            features2: feature_names(r.sb_features2, &[FEATURES2_BITS]),
            compat: v5_word(r.sb_features_compat, &[COMPAT_BITS]),
            ro_compat: v5_word(r.sb_features_ro_compat, &[RO_COMPAT_BITS]),
            incompat: v5_word(
                r.sb_features_incompat,
                &[INCOMPAT_BITS, INCOMPAT_BITS_NEWER],
            ),
            log_incompat: v5_word(r.sb_features_log_incompat, &[LOG_INCOMPAT_BITS]),
        }
    }
}

fn geo_err(field: &'static str, value: u64, reason: impl Into<String>) -> Error {
    Error::Corrupt {
        offset: 0,
        kind: CorruptKind::Geometry {
            field,
            value,
            reason: reason.into(),
        },
    }
}

/// The first of `checks` that fails, as an error naming its superblock field: each check is
/// (passes, field, value, why not).
fn first_failed(checks: &[(bool, &'static str, u64, &'static str)]) -> Result<()> {
    match checks.iter().find(|c| !c.0) {
        Some(&(_, field, value, why)) => Err(geo_err(field, value, why)),
        None => Ok(()),
    }
}

fn log2_exact(v: u64) -> Option<u8> {
    if v.is_power_of_two() {
        u8::try_from(v.trailing_zeros()).ok()
    } else {
        None
    }
}

/// The log2 of a size the superblock records twice, in bytes and as a log (`sb_sectsize`
/// and `sb_sectlog`, ...): the size must be a power of two with its log in `logs`, and the
/// recorded log must be that log.
fn size_log(
    (size_name, size, log_name, log, logs): (
        &'static str,
        u64,
        &'static str,
        u8,
        RangeInclusive<u8>,
    ),
) -> Result<u8> {
    let (lo, hi) = (1u64 << logs.start(), 1u64 << logs.end());
    let l = log2_exact(size)
        .filter(|l| logs.contains(l))
        .ok_or_else(|| geo_err(size_name, size, format!("not a power of two in {lo}..{hi}")))?;
    if log != l {
        return Err(geo_err(
            log_name,
            log.into(),
            format!("does not match {size_name}"),
        ));
    }
    Ok(l)
}

/// `ceil(log2(v))` for v >= 1.
fn log2_roundup(v: u64) -> u8 {
    if v <= 1 {
        0
    } else {
        // v - 1 >= 1 here.
        let bits = 64u32.saturating_sub((v.saturating_sub(1)).leading_zeros());
        u8::try_from(bits).unwrap_or(64)
    }
}

/// Deriving the geometry is the superblock's validation, so it lives here; the type and its
/// address conversions are in [`crate::geometry`].
impl Geometry {
    /// Validates the geometry fields of `r` and derives the geometry. Unknown incompatible
    /// features give [`Error::Incompatible`] naming them.
    pub fn from_sb(r: &RawSb) -> Result<Geometry> {
        if r.sb_magicnum != XFS_SB_MAGIC {
            return Err(Error::Corrupt {
                offset: 0,
                kind: CorruptKind::BadMagic {
                    what: "superblock",
                    expected: XFS_SB_MAGIC,
                    found: r.sb_magicnum,
                },
            });
        }
        let version = r.version_num();
        if version != XFS_SB_VERSION_4 && version != XFS_SB_VERSION_5 {
            return Err(Error::Incompatible(format!(
                "superblock version {version} (versionnum {:#x}); only versions 4 and 5 are supported",
                r.sb_versionnum
            )));
        }
        let v5 = version == XFS_SB_VERSION_5;
        if v5 {
            let known: u32 = INCOMPAT_BITS.iter().fold(0, |a, b| a | b.mask);
            let unknown = r.sb_features_incompat & !known;
            if unknown != 0 {
                return Err(Error::Incompatible(format!(
                    "incompatible feature {unknown:#x} ({})",
                    feature_names(unknown, &[INCOMPAT_BITS_NEWER]).join(", ")
                )));
            }
        }
        // Each size the superblock records in bytes and as a log2: names, values, logs allowed.
        #[rustfmt::skip]
        let [sect, block, inode] = [
            ("sectsize", u64::from(r.sb_sectsize), "sectlog", r.sb_sectlog, 9..=15),
            ("blocksize", u64::from(r.sb_blocksize), "blocklog", r.sb_blocklog, 9..=16),
            ("inodesize", u64::from(r.sb_inodesize), "inodelog", r.sb_inodelog, 8..=11),
        ]
        .map(size_log);
        let (sect_log, block_log) = (sect?, block?);
        let blocksize = u64::from(r.sb_blocksize);
        first_failed(&[(
            block_log >= sect_log,
            "blocksize",
            blocksize,
            "smaller than sectsize",
        )])?;
        let inode_log = inode?;
        let inopb_log = block_log.saturating_sub(inode_log);
        let agblocks = u64::from(r.sb_agblocks);
        let max_blocks = u64::from(r.sb_agcount).saturating_mul(agblocks);
        let min_blocks = u64::from(r.sb_agcount.saturating_sub(1))
            .saturating_mul(agblocks)
            .saturating_add(64);
        let dblocks_ok = (min_blocks.min(max_blocks)..=max_blocks).contains(&r.sb_dblocks);
        let dir_log = block_log.saturating_add(r.sb_dirblklog);
        let (inodesize, inopblock) = (u64::from(r.sb_inodesize), u32::from(r.sb_inopblock));
        let (inopblog, agblklog) = (r.sb_inopblog, r.sb_agblklog);
        // The other rules, in the order they are checked: holds, field, value, why not.
        #[rustfmt::skip]
        first_failed(&[
            (!v5 || inode_log >= 9, "inodesize", inodesize, "v5 inodes are at least 512 bytes"),
            (inode_log <= block_log, "inodesize", inodesize, "larger than blocksize"),
            (inopblog == inopb_log, "inopblog", inopblog.into(), "does not match blocklog - inodelog"),
            (inopblock == 1 << inopb_log, "inopblock", inopblock.into(), "does not match blocksize / inodesize"),
            ((64..=0x7fff_ffff).contains(&agblocks), "agblocks", agblocks, "outside 64..2^31"),
            (agblklog == log2_roundup(agblocks), "agblklog", agblklog.into(), "does not match agblocks"),
            (r.sb_agcount != 0, "agcount", 0, "must be at least 1"),
            (dblocks_ok, "dblocks", r.sb_dblocks, "inconsistent with agcount * agblocks"),
            (r.sb_imax_pct <= 100, "imax_pct", r.sb_imax_pct.into(), "more than 100"),
            (dir_log <= 16, "dirblklog", r.sb_dirblklog.into(), "directory blocks over 64 KiB"),
        ])?;
        let f2 = r.features2();
        let ro = if v5 { r.sb_features_ro_compat } else { 0 };
        let inc = if v5 { r.sb_features_incompat } else { 0 };
        let log_sect_size = if r.sb_logsectsize == 0 {
            u32::from(r.sb_sectsize)
        } else {
            u32::from(r.sb_logsectsize)
        };
        Ok(Geometry {
            version,
            has_crc: v5,
            block_size: r.sb_blocksize,
            block_log,
            sect_size: r.sb_sectsize.into(),
            sect_log,
            inode_size: r.sb_inodesize.into(),
            inode_log,
            inodes_per_block: r.sb_inopblock.into(),
            inopb_log,
            ag_blocks: r.sb_agblocks,
            ag_blk_log: r.sb_agblklog,
            ag_count: r.sb_agcount,
            data_blocks: r.sb_dblocks,
            dir_block_size: 1u32 << dir_log,
            log_start: r.sb_logstart,
            log_blocks: r.sb_logblocks,
            log_sect_size,
            has_ftype: if v5 {
                inc & XFS_SB_FEAT_INCOMPAT_FTYPE != 0
            } else {
                f2 & XFS_SB_VERSION2_FTYPE != 0
            },
            has_finobt: ro & XFS_SB_FEAT_RO_COMPAT_FINOBT != 0,
            has_rmapbt: ro & XFS_SB_FEAT_RO_COMPAT_RMAPBT != 0,
            has_reflink: ro & XFS_SB_FEAT_RO_COMPAT_REFLINK != 0,
            has_inobtcount: ro & XFS_SB_FEAT_RO_COMPAT_INOBTCNT != 0,
            has_sparse_inodes: inc & XFS_SB_FEAT_INCOMPAT_SPINODES != 0,
            has_bigtime: inc & XFS_SB_FEAT_INCOMPAT_BIGTIME != 0,
            has_nrext64: inc & XFS_SB_FEAT_INCOMPAT_NREXT64 != 0,
            has_meta_uuid: inc & XFS_SB_FEAT_INCOMPAT_META_UUID != 0,
            has_projid32: f2 & XFS_SB_VERSION2_PROJID32BIT != 0,
            has_attr2: f2 & XFS_SB_VERSION2_ATTR2BIT != 0,
            has_lazysbcount: v5 || f2 & XFS_SB_VERSION2_LAZYSBCOUNTBIT != 0,
            has_logv2: v5 || r.has_version_bit(XFS_SB_VERSION_LOGV2BIT),
            meta_uuid: if inc & XFS_SB_FEAT_INCOMPAT_META_UUID != 0 {
                r.sb_meta_uuid
            } else {
                r.sb_uuid
            },
            rext_size: r.sb_rextsize.max(1),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log2_roundup_matches_definition() {
        assert_eq!(log2_roundup(1), 0);
        assert_eq!(log2_roundup(2), 1);
        assert_eq!(log2_roundup(3), 2);
        assert_eq!(log2_roundup(4096), 12);
        assert_eq!(log2_roundup(4097), 13);
    }

    #[test]
    fn counter_offsets_are_the_decoded_fields() {
        let mut b = vec![0u8; 512];
        crate::bytes::put_be64(&mut b, XFS_SB_ICOUNT_OFF, 11);
        crate::bytes::put_be64(&mut b, XFS_SB_IFREE_OFF, 22);
        crate::bytes::put_be64(&mut b, XFS_SB_FDBLOCKS_OFF, 33);
        let r = Superblock::parse(&b, 0).unwrap().raw;
        assert_eq!((r.sb_icount, r.sb_ifree, r.sb_fdblocks), (11, 22, 33));
    }

    #[test]
    fn short_buffer_is_an_error_not_a_panic() {
        assert!(Superblock::parse(&[0u8; 100], 0).is_err());
    }
}
