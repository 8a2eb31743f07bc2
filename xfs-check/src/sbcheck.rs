//! Superblock verification as xfs_repair does it (`verify_sb`, `compare_sb`, the secondary
//! superblock field checks) and phase 1 (primary superblock, secondary search).

use xfs_format::crc;
use xfs_format::fields::CrcState;
use xfs_format::sb::{RawSb, Superblock, XFS_SB_CRC_OFF, XFS_SB_MAGIC};
use xfs_format::ByteSource;

use crate::finding::{Finding, Kind, Val};

pub const VERSION_ALIGNBIT: u16 = 0x0080;
pub const VERSION_DALIGNBIT: u16 = 0x0100;
pub const VERSION_LOGV2BIT: u16 = 0x0400;
pub const VERSION_SECTORBIT: u16 = 0x0800;
pub const VERSION_EXTFLGBIT: u16 = 0x1000;
pub const VERSION_DIRV2BIT: u16 = 0x2000;
pub const VERSION_MOREBITSBIT: u16 = 0x8000;
const INCOMPAT_META_UUID: u32 = 0x4;
const INCOMPAT_NEEDSREPAIR: u32 = 0x10;
pub const NULLFSINO: u64 = u64::MAX;

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

pub fn is_v5(sb: &RawSb) -> bool {
    sb.sb_versionnum & 0xf == 5
}

fn has_bit(sb: &RawSb, bit: u16) -> bool {
    sb.sb_versionnum & bit != 0
}

pub fn has_align(sb: &RawSb) -> bool {
    is_v5(sb) || has_bit(sb, VERSION_ALIGNBIT)
}

pub fn has_dalign(sb: &RawSb) -> bool {
    has_bit(sb, VERSION_DALIGNBIT)
}

pub fn has_sector(sb: &RawSb) -> bool {
    has_bit(sb, VERSION_SECTORBIT)
}

fn good_version(sb: &RawSb) -> bool {
    match sb.sb_versionnum & 0xf {
        5 => true,
        4 => has_bit(sb, VERSION_DIRV2BIT) && has_bit(sb, VERSION_EXTFLGBIT),
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
    if !has_align(sb) {
        return true;
    }
    let big_cluster: u64 = 8192;
    let blog = u32::from(sb.sb_blocklog).min(63);
    let align = big_cluster >> blog;
    if align == u64::from(sb.sb_inoalignmt) {
        return true;
    }
    if !is_v5(sb) {
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
    if is_v5(sb) {
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
    if has_sector(sb) {
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
    if has_dalign(sb) {
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

fn verify_blocksize(sb: &RawSb) -> Result<(), SbError> {
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
    if is_v5(sb)
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

/// Quota inode as libxfs reads it: 0 means "none" like NULLFSINO.
fn quota_ino(v: u64) -> u64 {
    if v == 0 {
        NULLFSINO
    } else {
        v
    }
}

/// Size of the defined part of a superblock (what lies after must be zero).
pub fn sb_used_size(sb: &RawSb) -> usize {
    if is_v5(sb) && sb.sb_features_incompat & INCOMPAT_META_UUID != 0 {
        264
    } else if is_v5(sb) {
        248
    } else if has_bit(sb, VERSION_MOREBITSBIT) {
        208
    } else if has_bit(sb, VERSION_LOGV2BIT) {
        200
    } else if has_sector(sb) {
        196
    } else {
        193
    }
}

/// Result flags of the per-AG superblock checks.
#[derive(Debug, Default, Clone, Copy)]
pub struct SbStatus {
    /// The AG's superblock needs a reset (skips the AG under -n).
    pub reset: bool,
}

/// `secondary_sb_whack`: fields that must be zero/null in an AG superblock.
pub fn secondary_sb_whack(
    primary: &RawSb,
    sector: &[u8],
    sb: &RawSb,
    agno: u32,
    out: &mut Vec<Finding>,
) -> SbStatus {
    let mut st = SbStatus::default();
    let ag = || ("ag", Val::from(agno));
    let size = sb_used_size(sb);
    let sect = usize::from(primary.sb_sectsize);
    let zero = sector
        .get(size..sect.max(size))
        .is_none_or(|b| b.iter().all(|&x| x == 0));
    let bzero = !zero;
    if bzero {
        let which = if agno == 0 { "primary" } else { "secondary" };
        out.push(Finding::new(
            2,
            Kind::SbUnusedNonzero,
            vec![("which", which.into()), ag()],
        ));
    }
    let flag = |cond: bool, f: Finding, st: &mut SbStatus, out: &mut Vec<Finding>| {
        if cond && !bzero {
            st.reset = true;
            out.push(f);
        }
    };
    flag(
        sb.sb_flags != 0,
        Finding::new(2, Kind::SbAgBadFlags, vec![ag()]),
        &mut st,
        out,
    );
    let inprog = sb.sb_inprogress == 1;
    flag(
        inprog && quota_ino(sb.sb_uquotino) != NULLFSINO,
        Finding::new(2, Kind::SbAgQuotaIno, vec![("which", "user".into()), ag()]),
        &mut st,
        out,
    );
    flag(
        inprog && quota_ino(sb.sb_gquotino) != NULLFSINO,
        Finding::new(2, Kind::SbAgQuotaIno, vec![("which", "group".into()), ag()]),
        &mut st,
        out,
    );
    flag(
        is_v5(primary) && inprog && quota_ino(sb.sb_pquotino) != NULLFSINO,
        Finding::new(
            2,
            Kind::SbAgQuotaIno,
            vec![("which", "project".into()), ag()],
        ),
        &mut st,
        out,
    );
    flag(
        inprog && sb.sb_qflags != 0,
        Finding::new(2, Kind::SbAgQuotaFlags, vec![ag()]),
        &mut st,
        out,
    );
    flag(
        !has_align(sb) && sb.sb_inoalignmt != 0,
        Finding::new(2, Kind::SbAgInoalign, vec![ag()]),
        &mut st,
        out,
    );
    flag(
        !has_dalign(sb) && (sb.sb_unit != 0 || sb.sb_width != 0),
        Finding::new(2, Kind::SbAgStripe, vec![ag()]),
        &mut st,
        out,
    );
    flag(
        !has_sector(sb)
            && (sb.sb_sectsize != 512
                || sb.sb_sectlog != 9
                || sb.sb_logsectsize != 0
                || sb.sb_logsectlog != 0),
        Finding::new(2, Kind::SbAgSectsize, vec![ag()]),
        &mut st,
        out,
    );
    if is_v5(primary) && agno != 0 {
        let feat = |which: &str, p: u32, s: u32| {
            Finding::new(
                2,
                Kind::SbFeatureMismatch,
                vec![
                    ("which", which.into()),
                    ag(),
                    ("found", p.into()),
                    ("expected", s.into()),
                ],
            )
        };
        if primary.sb_features_compat != sb.sb_features_compat {
            out.push(feat(
                "compat",
                primary.sb_features_compat,
                sb.sb_features_compat,
            ));
        }
        if (primary.sb_features_incompat ^ sb.sb_features_incompat) & !INCOMPAT_NEEDSREPAIR != 0 {
            out.push(feat(
                "incompat",
                primary.sb_features_incompat,
                sb.sb_features_incompat,
            ));
        }
        if primary.sb_features_ro_compat != sb.sb_features_ro_compat {
            out.push(feat(
                "ro compat",
                primary.sb_features_ro_compat,
                sb.sb_features_ro_compat,
            ));
        }
    }
    st
}

/// What phase 1 concluded.
pub enum Phase1 {
    /// The primary superblock is usable; go on with phase 2.
    Good(Box<Superblock>),
    /// -n stops after phase 1 (the findings say why).
    Stop,
}

const BSIZE: u64 = 1 << 20;
const AG_MIN_BYTES: u64 = 1 << 24;
const AG_MAX_BYTES: u64 = 1 << 40;

fn parse_raw(buf: &[u8]) -> Option<RawSb> {
    Superblock::parse_copy(buf, 0, false).ok().map(|s| s.raw)
}

struct Search<'a, S> {
    src: &'a S,
    dots: usize,
    out: &'a mut Vec<Finding>,
}

impl<S: ByteSource> Search<'_, S> {
    /// One coarse or brute-force pass; returns the superblock found.
    fn pass(&mut self, start: u64, skip: u64) -> Option<RawSb> {
        let size = self.src.size();
        let mut off = start;
        loop {
            self.dots = self.dots.saturating_add(1);
            if off >= size || skip == 0 {
                return None;
            }
            let len = usize::try_from(BSIZE.min(size.saturating_sub(off))).unwrap_or(0);
            let buf = self.src.read_at(off, len).ok()?;
            let mut i = 0usize;
            while i < buf.len() {
                if let Some(sb) = buf.get(i..).and_then(parse_raw) {
                    if verify_sb(buf.get(i..).unwrap_or(&[]), &sb, false).is_ok() {
                        self.out.push(Finding::new(
                            1,
                            Kind::SbSecondaryCandidate,
                            vec![("dots", ".".repeat(self.dots).into())],
                        ));
                        self.dots = 0;
                        // The candidate is checked against the other secondaries by
                        // xfs_repair; a candidate that verify_sb accepts is taken here.
                        self.out
                            .push(Finding::new(1, Kind::SbSecondaryVerified, vec![]));
                        return Some(sb);
                    }
                }
                i = i.saturating_add(512);
            }
            drop(buf);
            off = off.checked_add(skip)?;
        }
    }
}

/// `find_secondary_sb`: the three passes of xfs_repair's search.
fn find_secondary<S: ByteSource>(src: &S, bad: &RawSb, out: &mut Vec<Finding>) -> Option<RawSb> {
    out.push(Finding::new(1, Kind::SbSecondarySearch, vec![]));
    let mut s = Search { src, dots: 0, out };
    if verify_blocksize(bad).is_ok() {
        let skip = u64::from(bad.sb_agblocks).saturating_mul(bad.sb_blocksize.into());
        if (AG_MIN_BYTES..=AG_MAX_BYTES).contains(&skip) {
            if let Some(sb) = s.pass(skip, skip) {
                return Some(sb);
            }
        }
    }
    // Default geometry of mkfs for a device of this size (4 KiB blocks, not striped).
    let dblocks = src.size() >> 12;
    let agsize = (dblocks >> 2).max(64);
    if let Some(sb) = s.pass(agsize << 12, agsize << 12) {
        return Some(sb);
    }
    if let Some(sb) = s.pass(AG_MIN_BYTES, BSIZE) {
        return Some(sb);
    }
    let dots = ".".repeat(s.dots);
    s.out.push(Finding::new(
        1,
        Kind::SbSecondaryNone,
        vec![("dots", dots.into())],
    ));
    None
}

/// Phase 1: verify the primary superblock.
pub fn phase1<S: ByteSource>(src: &S, out: &mut Vec<Finding>) -> xfs_format::Result<Phase1> {
    let len = usize::try_from(src.size().min(32768)).unwrap_or(512);
    let buf = src.read_at(0, len)?;
    let Some(raw) = parse_raw(&buf) else {
        return Err(xfs_format::Error::Truncated {
            offset: 0,
            len: 512,
            size: src.size(),
        });
    };
    let mut modified = false;
    let mut sb = raw.clone();
    if let Err(e) = verify_sb(&buf, &raw, true) {
        out.push(Finding::new(
            1,
            Kind::SbPrimaryBad,
            vec![("reason", e.text().into())],
        ));
        match find_secondary(src, &raw, out) {
            Some(found) => sb = found,
            None => return Ok(Phase1::Stop),
        }
        modified = true;
    }
    if sb.sb_bad_features2 != 0 && sb.sb_bad_features2 != sb.sb_features2 {
        out.push(Finding::new(1, Kind::SbFeatures2Mismatch, vec![]));
        modified = true;
    }
    if sb.sb_shared_vn != 0 {
        out.push(Finding::new(1, Kind::SbSharedVn, vec![]));
        modified = true;
    }
    if modified {
        out.push(Finding::new(1, Kind::SbPrimaryWouldWrite, vec![]));
        out.push(Finding::new(1, Kind::NomodifyAbortPrimarySb, vec![]));
        return Ok(Phase1::Stop);
    }
    let sect = usize::from(raw.sb_sectsize).min(buf.len());
    let parsed = Superblock::parse(buf.get(..sect).unwrap_or(&buf), 0)?;
    Ok(Phase1::Good(Box::new(parsed)))
}
