//! Superblock verification as xfs_repair's sb.c does it: `verify_sb` (internal consistency
//! of one superblock) and `compare_sb` (a secondary against the primary).

use xfs_format::crc;
use xfs_format::features::*;
use xfs_format::fields::CrcState;
use xfs_format::sb::{RawSb, XFS_SB_CRC_OFF, XFS_SB_MAGIC};

pub use xfs_format::addr::NULLFSINO;

/// Why a superblock is rejected (xfs_repair's `XR_*` codes that verify_sb returns).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SbError {
    BadMagic,
    BadBlocksize,
    BadBlocklog,
    BadVersion,
    BadInprogress,
    BadFsSizeData,
    BadInoSizeData,
    BadSectSizeData,
    SbGeoMismatch,
    BadRtGeoData,
    BadInoMaxPct,
    BadInoAlign,
    BadSbUnit,
    BadSbWidth,
    BadCrc,
    BadDirSizeData,
    BadLogGeometry,
}

impl SbError {
    /// xfs_repair's err_string() text.
    pub fn text(self) -> &'static str {
        match self {
            SbError::BadMagic => "bad magic number",
            SbError::BadBlocksize => "bad blocksize field",
            SbError::BadBlocklog => "bad blocksize log field",
            SbError::BadVersion => "bad or unsupported version",
            SbError::BadInprogress => "filesystem mkfs-in-progress bit set",
            SbError::BadFsSizeData => "inconsistent filesystem geometry information",
            SbError::BadInoSizeData => "bad inode size or inconsistent with number of inodes/block",
            SbError::BadSectSizeData => "bad sector size",
            SbError::SbGeoMismatch => {
                "AG superblock geometry info conflicts with filesystem geometry"
            }
            SbError::BadRtGeoData => {
                "inconsistent filesystem geometry in realtime filesystem component"
            }
            SbError::BadInoMaxPct => "maximum indicated percentage of inodes > 100%",
            SbError::BadInoAlign => "inconsistent inode alignment value",
            SbError::BadSbUnit => "bad stripe unit in superblock",
            SbError::BadSbWidth => "bad stripe width in superblock",
            SbError::BadCrc => "bad CRC in superblock",
            SbError::BadDirSizeData => "inconsistent directory geometry information",
            SbError::BadLogGeometry => "inconsistent log geometry information",
        }
    }
}

fn good_version(sb: &RawSb) -> bool {
    match sb.sb_versionnum & 0xf {
        5 => true,
        4 => {
            sb.has_version_bit(XFS_SB_VERSION_DIRV2BIT)
                && sb.has_version_bit(XFS_SB_VERSION_EXTFLGBIT)
        }
        _ => false,
    }
}

/// Smallest power-of-two exponent `i` with `1 << i >= v` (v up to 16 bits).
fn log_roundup16(v: u16) -> u32 {
    let mut i = 0u32;
    let mut b: u32 = 1;
    while b < u32::from(v) && i < 16 {
        b = b.saturating_mul(2);
        i = i.saturating_add(1);
    }
    i
}

fn log2_roundup32(v: u32) -> u32 {
    let mut i = 0u32;
    while i < 32 && (1u64 << i) < u64::from(v) {
        i = i.saturating_add(1);
    }
    i
}

fn ino_align_ok(sb: &RawSb) -> bool {
    if !sb.has_align() {
        return true;
    }
    let big_cluster: u64 = 8192;
    let blog = u32::from(sb.sb_blocklog).min(63);
    let align = big_cluster >> blog;
    if align == u64::from(sb.sb_inoalignmt) {
        return true;
    }
    if !sb.is_v5() {
        return false;
    }
    let scaled = big_cluster
        .saturating_mul(u64::from(sb.sb_inodesize))
        .checked_div(256)
        .unwrap_or(0)
        >> blog;
    if scaled == u64::from(sb.sb_inoalignmt) {
        return true;
    }
    if sb.sb_features_incompat & 0x2 != 0 {
        if scaled != u64::from(sb.sb_spino_align) {
            return false;
        }
        let chunk = u64::from(sb.sb_inodesize).saturating_mul(64) >> blog;
        if chunk == u64::from(sb.sb_inoalignmt) {
            return true;
        }
    }
    false
}

/// `verify_sb`: internal consistency of one superblock. `buf` starts at the superblock and
/// should hold at least its sector (the CRC covers `sb_sectsize` bytes).
pub fn verify_sb(buf: &[u8], sb: &RawSb, is_primary: bool) -> Result<(), SbError> {
    if sb.sb_magicnum != XFS_SB_MAGIC {
        return Err(SbError::BadMagic);
    }
    if !good_version(sb) {
        return Err(SbError::BadVersion);
    }
    if is_primary && sb.sb_inprogress != 0 {
        return Err(SbError::BadInprogress);
    }
    if sb.sb_sectsize == 0 {
        return Err(SbError::BadSectSizeData);
    }
    let i = log_roundup16(sb.sb_sectsize);
    if !(9..=15).contains(&i) || i != u32::from(sb.sb_sectlog) {
        return Err(SbError::BadSectSizeData);
    }
    if sb.is_v5() {
        let len = usize::from(sb.sb_sectsize);
        let ok = buf
            .get(..len)
            .is_some_and(|s| crc::verify(s, XFS_SB_CRC_OFF, true) != CrcState::Bad);
        if !ok {
            return Err(SbError::BadCrc);
        }
    }
    verify_blocksize(sb)?;
    let agcount = u64::from(sb.sb_agcount);
    let agblocks = u64::from(sb.sb_agblocks);
    let max_dblocks = agcount.saturating_mul(agblocks);
    let min_dblocks = agcount
        .saturating_sub(1)
        .saturating_mul(agblocks)
        .saturating_add(64);
    if sb.sb_dblocks == 0 || sb.sb_dblocks > max_dblocks || sb.sb_dblocks < min_dblocks {
        return Err(SbError::BadFsSizeData);
    }
    if u32::from(sb.sb_agblklog) != log2_roundup32(sb.sb_agblocks) & 0xff {
        return Err(SbError::BadFsSizeData);
    }
    let isz = u32::from(sb.sb_inodesize);
    let inopb = sb
        .sb_blocksize
        .checked_add(isz.saturating_sub(1))
        .and_then(|v| v.checked_div(isz));
    if !(256..=2048).contains(&isz)
        || !(8..=11).contains(&sb.sb_inodelog)
        || isz != 1u32 << sb.sb_inodelog.min(31)
        || sb.sb_logsunit > 256 * 1024
        || inopb != Some(u32::from(sb.sb_inopblock))
        || i32::from(sb.sb_blocklog).saturating_sub(i32::from(sb.sb_inodelog))
            != i32::from(sb.sb_inopblog)
    {
        return Err(SbError::BadInoSizeData);
    }
    if !log_ok(sb) {
        return Err(SbError::BadLogGeometry);
    }
    if sb.has_sector() {
        if sb.sb_logsectsize == 0 {
            return Err(SbError::BadSectSizeData);
        }
        let i = log_roundup16(sb.sb_logsectsize);
        if !(9..=15).contains(&i) || i != u32::from(sb.sb_logsectlog) {
            return Err(SbError::BadSectSizeData);
        }
    }
    let rtx = u64::from(sb.sb_rextsize).saturating_mul(sb.sb_blocksize.into());
    if !(4096..=(1 << 30)).contains(&rtx) {
        return Err(SbError::BadRtGeoData);
    }
    if sb.sb_rblocks == 0 {
        if sb.sb_rextents != 0
            || sb.sb_rbmblocks != 0
            || sb.sb_rextslog != 0
            || sb.sb_frextents != 0
        {
            return Err(SbError::BadRtGeoData);
        }
    } else {
        let ext = sb
            .sb_rblocks
            .checked_div(sb.sb_rextsize.into())
            .unwrap_or(0);
        let highbit = u32::try_from(sb.sb_rextents & 0xffff_ffff)
            .ok()
            .and_then(|v| v.checked_ilog2())
            .map_or(-1, i64::from);
        let bits_per_block = u64::from(sb.sb_blocksize).saturating_mul(8);
        let bm = sb
            .sb_rextents
            .checked_add(bits_per_block.saturating_sub(1))
            .and_then(|v| v.checked_div(bits_per_block))
            .unwrap_or(0);
        if ext != sb.sb_rextents
            || i64::from(sb.sb_rextslog) != highbit
            || u64::from(sb.sb_rbmblocks) != bm
        {
            return Err(SbError::BadRtGeoData);
        }
    }
    if !ino_align_ok(sb) {
        return Err(SbError::BadInoAlign);
    }
    if sb.sb_imax_pct > 100 {
        return Err(SbError::BadInoMaxPct);
    }
    if sb.has_dalign() {
        let (u, w) = (sb.sb_unit, sb.sb_width);
        if (u == 0 && w != 0) || (u != 0 && sb.sb_agblocks.checked_rem(u).unwrap_or(0) != 0) {
            return Err(SbError::BadSbUnit);
        }
        if u != 0 && (w == 0 || w.checked_rem(u).unwrap_or(0) != 0) {
            return Err(SbError::BadSbWidth);
        }
    } else if sb.sb_unit != 0 || sb.sb_width != 0 {
        return Err(SbError::BadSbWidth);
    }
    if u32::from(sb.sb_blocklog).saturating_add(sb.sb_dirblklog.into()) > 16 {
        return Err(SbError::BadDirSizeData);
    }
    Ok(())
}

pub(crate) fn verify_blocksize(sb: &RawSb) -> Result<(), SbError> {
    if sb.sb_blocksize == 0 {
        return Err(SbError::BadBlocksize);
    }
    if !(9..=16).contains(&sb.sb_blocklog) || sb.sb_blocksize != 1u32 << sb.sb_blocklog {
        return Err(SbError::BadBlocklog);
    }
    Ok(())
}

fn log_ok(sb: &RawSb) -> bool {
    let max_log_bytes: u64 = (2u64 << 30).saturating_sub(10 << 20);
    if sb.is_v5()
        && (sb.sb_logblocks == 0
            || sb.sb_logblocks > 1024 * 1024
            || u64::from(sb.sb_logblocks) << sb.sb_blocklog.min(16) > max_log_bytes)
    {
        return false;
    }
    !(sb.sb_logsunit > 1 && sb.sb_logsunit.checked_rem(sb.sb_blocksize).unwrap_or(1) != 0)
}

/// `compare_sb`: the geometry a secondary must share with the primary.
pub fn compare_sb(p: &RawSb, s: &RawSb) -> Result<(), SbError> {
    let g = |x: &RawSb| {
        (
            x.sb_blocksize,
            x.sb_dblocks,
            x.sb_rblocks,
            x.sb_rextents,
            x.sb_logstart,
            x.sb_rextsize,
            x.sb_agblocks,
            x.sb_agcount,
            x.sb_rbmblocks,
            x.sb_logblocks,
            x.sb_sectsize,
            x.sb_inodesize,
        )
    };
    if g(p) == g(s) {
        Ok(())
    } else {
        Err(SbError::SbGeoMismatch)
    }
}
