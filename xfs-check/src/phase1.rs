//! Phase 1 of `xfs_repair -n`: find and verify the primary superblock, searching for a
//! secondary one (as sb.c's find_secondary_sb) when the primary is bad.

use xfs_format::features::{
    XFS_SB_FEAT_RO_COMPAT_REFLINK, XFS_SB_FEAT_RO_COMPAT_RMAPBT, XFS_SB_VERSION_DIRV2BIT,
    XFS_SB_VERSION_NLINKBIT,
};
use xfs_format::geometry::{default_ag_geometry, XFS_AG_MAX_BYTES, XFS_AG_MIN_BYTES};
use xfs_format::sb::{RawSb, Superblock};
use xfs_format::ByteSource;

use crate::finding::{Finding, Kind};
use crate::sb::*;

/// What phase 1 concluded.
pub enum Phase1 {
    /// The primary superblock is usable; go on with phase 2.
    Good,
    /// -n stops after phase 1 (the findings say why).
    Stop,
}

const BSIZE: u64 = 1 << 20;

fn parse_raw(buf: &[u8]) -> Option<RawSb> {
    Superblock::parse_copy(buf, 0, false).ok().map(|s| s.raw)
}

/// The geometry fields whose agreement across the copies sb.c's `get_sb_geometry` votes on.
#[derive(PartialEq, Eq)]
struct SbGeometry {
    fields: [u64; 12],
    ialign: bool,
    salign: bool,
}

impl SbGeometry {
    fn of(sb: &RawSb) -> SbGeometry {
        SbGeometry {
            fields: [
                sb.sb_blocksize.into(),
                sb.sb_dblocks,
                sb.sb_rblocks,
                sb.sb_rextents,
                sb.sb_logstart,
                sb.sb_rextsize.into(),
                sb.sb_agblocks.into(),
                sb.sb_agcount.into(),
                sb.sb_rbmblocks.into(),
                sb.sb_logblocks.into(),
                sb.sb_sectsize.into(),
                sb.sb_inodesize.into(),
            ],
            ialign: sb.has_align(),
            salign: sb.has_dalign(),
        }
    }
}

/// The outcome of `verify_set_primary_sb` for a candidate primary.
enum Verified {
    /// Enough copies agree; `modified` when the agreeing geometry is not the candidate's own.
    Ok { modified: bool },
    /// Fewer than half of the secondaries are valid superblocks (`XR_INSUFF_SEC_SB`).
    Insufficient,
    /// xfs_repair exits here (the finding is pushed).
    Stop,
}

/// `verify_set_primary_sb`: the candidate's geometry against every secondary's. A copy that
/// cannot be read (where xfs_repair dies) is left out of the vote.
fn verify_set_primary<S: ByteSource>(
    src: &S,
    rsb: &RawSb,
    force_geometry: bool,
    out: &mut Vec<Finding>,
) -> Verified {
    // Distinct geometries with their vote count and the first AG that showed each, newest
    // first as sb.c's list (ties go to the most recently added).
    let mut list: Vec<(SbGeometry, usize, u32)> = vec![(SbGeometry::of(rsb), 1, 0)];
    // Only the superblock sector of each copy is read: an unreadable AGF beside it does not
    // make the copy unreadable.
    let sect = u64::from(rsb.sb_sectsize.max(512));
    let (mut unreadable, mut num_ok) = (0usize, 0usize);
    for agno in 1..rsb.sb_agcount {
        let buf = 1u64
            .checked_shl(rsb.sb_blocklog.into())
            .and_then(|bs| bs.checked_mul(rsb.sb_agblocks.into()))
            .and_then(|ag| ag.checked_mul(agno.into()))
            .filter(|off| off.saturating_add(sect) <= src.size())
            .and_then(|off| src.read_at(off, usize::try_from(sect).unwrap_or(512)).ok());
        let Some(buf) = buf else {
            unreadable = unreadable.saturating_add(1);
            continue;
        };
        let Some(sb) = parse_raw(&buf) else { continue };
        if verify_sb(&buf, &sb, false).is_err() {
            continue;
        }
        num_ok = num_ok.saturating_add(1);
        let geo = SbGeometry::of(&sb);
        match list.iter_mut().find(|(g, _, _)| *g == geo) {
            Some(e) => e.1 = e.1.saturating_add(1),
            None => list.insert(0, (geo, 1, agno)),
        }
    }
    // The vote counts the copies that could be read (xfs_repair dies on the first that
    // cannot); how many AGs there are decides the one- and two-AG refusals.
    let agcount = rsb.sb_agcount as usize;
    let num_sbs = agcount.saturating_sub(unreadable).max(1);
    if num_ok < num_sbs / 2 {
        return Verified::Insufficient;
    }
    let mut best: Option<&(SbGeometry, usize, u32)> = None;
    for e in &list {
        if best.is_none_or(|b| e.1 > b.1) {
            best = Some(e);
        }
    }
    let Some((_, refs, index)) = best else {
        return Verified::Insufficient;
    };
    let stop = match agcount {
        0 | 1 => (!force_geometry).then_some(Kind::SbOnlyOneAg),
        2 => (*refs != 2 && unreadable == 0 && !force_geometry).then_some(Kind::SbTwoAgsMismatch),
        _ => (*refs < num_sbs / 2).then_some(Kind::SbNotEnoughMatching),
    };
    if let Some(k) = stop {
        out.push(Finding::new(1, k, vec![]));
        return Verified::Stop;
    }
    Verified::Ok {
        modified: *index != 0 && agcount > 2,
    }
}

struct Search<'a, S> {
    src: &'a S,
    dots: usize,
    force_geometry: bool,
    out: &'a mut Vec<Finding>,
}

/// The outcome of the secondary superblock search.
enum Found {
    Sb(Box<RawSb>),
    None,
    Stop,
}

impl<S: ByteSource> Search<'_, S> {
    /// One coarse or brute-force pass of `__find_secondary_sb`.
    fn pass(&mut self, start: u64, skip: u64) -> Found {
        let size = self.src.size();
        let mut off = start;
        loop {
            self.dots = self.dots.saturating_add(1);
            if off >= size || skip == 0 {
                return Found::None;
            }
            let len = usize::try_from(BSIZE.min(size.saturating_sub(off))).unwrap_or(0);
            let Ok(buf) = self.src.read_at(off, len) else {
                return Found::None;
            };
            let mut i = 0usize;
            while i < buf.len() {
                let at = buf.get(i..).unwrap_or(&[]);
                if let Some(mut sb) = parse_raw(at).filter(|sb| verify_sb(at, sb, false).is_ok()) {
                    self.out.push(Finding::new(
                        1,
                        Kind::SbSecondaryCandidate,
                        vec![("dots", ".".repeat(self.dots).into())],
                    ));
                    self.dots = 0;
                    sb.sb_inprogress = 0;
                    match verify_set_primary(self.src, &sb, self.force_geometry, self.out) {
                        Verified::Ok { .. } => {
                            self.out
                                .push(Finding::new(1, Kind::SbSecondaryVerified, vec![]));
                            return Found::Sb(Box::new(sb));
                        }
                        Verified::Insufficient => {
                            self.out
                                .push(Finding::new(1, Kind::SbSecondaryUnverified, vec![]))
                        }
                        Verified::Stop => return Found::Stop,
                    }
                }
                i = i.saturating_add(512);
            }
            drop(buf);
            match off.checked_add(skip) {
                Some(o) => off = o,
                None => return Found::None,
            }
        }
    }
}

/// `find_secondary_sb`: the three passes of xfs_repair's search.
fn find_secondary<S: ByteSource>(
    src: &S,
    bad: &RawSb,
    force_geometry: bool,
    out: &mut Vec<Finding>,
) -> Found {
    out.push(Finding::new(1, Kind::SbSecondarySearch, vec![]));
    let mut s = Search {
        src,
        dots: 0,
        force_geometry,
        out,
    };
    let mut passes = Vec::new();
    if verify_blocksize(bad).is_ok() {
        let skip = u64::from(bad.sb_agblocks).saturating_mul(bad.sb_blocksize.into());
        if (XFS_AG_MIN_BYTES..=XFS_AG_MAX_BYTES).contains(&skip) {
            passes.push((skip, skip));
        }
    }
    // mkfs's default geometry for a device of this size (4 KiB blocks; an image file
    // reports no stripe), then brute force.
    if let Some((agsize, _)) = default_ag_geometry(12, src.size() >> 12, false) {
        passes.push((agsize << 12, agsize << 12));
    }
    passes.push((XFS_AG_MIN_BYTES, BSIZE));
    for (start, skip) in passes {
        match s.pass(start, skip) {
            Found::None => {}
            found => return found,
        }
    }
    let dots = ".".repeat(s.dots);
    s.out.push(Finding::new(
        1,
        Kind::SbSecondaryNone,
        vec![("dots", dots.into())],
    ));
    Found::None
}

/// Phase 1: verify the primary superblock (against its secondaries too), then what
/// `libxfs_mount` refuses before any phase runs.
pub fn phase1<S: ByteSource>(
    src: &S,
    force_geometry: bool,
    out: &mut Vec<Finding>,
) -> xfs_format::Result<Phase1> {
    let len = usize::try_from(src.size().min(32768)).unwrap_or(512);
    let buf = src.read_at(0, len)?;
    let Some(raw) = parse_raw(&buf) else {
        return Err(xfs_format::Error::Truncated {
            offset: 0,
            len: 512,
            size: src.size(),
        });
    };
    let mut modified;
    let mut sb = raw.clone();
    let search = |out: &mut Vec<Finding>| match find_secondary(src, &raw, force_geometry, out) {
        Found::Sb(found) => Some(*found),
        Found::None | Found::Stop => None,
    };
    if let Err(e) = verify_sb(&buf, &raw, true) {
        out.push(Finding::new(
            1,
            Kind::SbPrimaryBad,
            vec![("reason", e.text().into())],
        ));
        match search(out) {
            Some(found) => sb = found,
            None => return Ok(Phase1::Stop),
        }
        modified = true;
    } else {
        match verify_set_primary(src, &raw, force_geometry, out) {
            Verified::Ok { modified: m } => modified = m,
            Verified::Stop => return Ok(Phase1::Stop),
            Verified::Insufficient => {
                out.push(Finding::new(
                    1,
                    Kind::SbPrimaryUnverified,
                    vec![(
                        "reason",
                        "not enough secondary superblocks with matching geometry".into(),
                    )],
                ));
                match search(out) {
                    Some(found) => sb = found,
                    None => return Ok(Phase1::Stop),
                }
                modified = true;
            }
        }
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
    // The primary must also decode as the library reads it.
    Superblock::parse(buf.get(..sect).unwrap_or(&buf), 0)?;
    if let Some(k) = mount_refusal(src, &raw, out) {
        out.push(Finding::new(1, k, vec![]));
        return Ok(Phase1::Stop);
    }
    Ok(Phase1::Good)
}

/// What `libxfs_mount` (init.c) refuses, in its order: the data size, V1 inodes and
/// directories, unknown features, a realtime subvolume without its device, an AG count too
/// large to read. Returns the kind that ends the run; reasons are pushed first.
fn mount_refusal<S: ByteSource>(src: &S, sb: &RawSb, out: &mut Vec<Finding>) -> Option<Kind> {
    let bbshift = u32::from(sb.sb_blocklog).saturating_sub(9);
    let size_ok = sb
        .sb_dblocks
        .checked_shl(bbshift)
        .is_some_and(|d| d.checked_shr(bbshift) == Some(sb.sb_dblocks));
    if !size_ok {
        out.push(Finding::new(1, Kind::MountSizeCheck, vec![]));
        return Some(Kind::MountRefused);
    }
    if !sb.has_version_bit(XFS_SB_VERSION_NLINKBIT) {
        return Some(Kind::MountV1Inodes);
    }
    if !sb.is_v5() && !sb.has_version_bit(XFS_SB_VERSION_DIRV2BIT) {
        return Some(Kind::MountV1Dirs);
    }
    if sb.sb_rblocks != 0 {
        let ro = if sb.is_v5() {
            sb.sb_features_ro_compat
        } else {
            0
        };
        out.push(Finding::new(
            1,
            if ro & XFS_SB_FEAT_RO_COMPAT_REFLINK != 0 {
                Kind::MountRtReflink
            } else if ro & XFS_SB_FEAT_RO_COMPAT_RMAPBT != 0 {
                Kind::MountRtRmapbt
            } else {
                Kind::MountRtSubvolume
            },
            vec![],
        ));
        out.push(Finding::new(1, Kind::MountRtInitFailed, vec![]));
        return Some(Kind::MountRefused);
    }
    if sb.sb_agcount > 1_000_000 {
        let last = 1u64
            .checked_shl(sb.sb_blocklog.into())
            .and_then(|bs| bs.checked_mul(sb.sb_agblocks.into()))
            .and_then(|ag| ag.checked_mul(sb.sb_agcount.saturating_sub(1).into()));
        if last.is_none_or(|o| src.read_at(o, 512).is_err()) {
            out.push(Finding::new(
                1,
                Kind::MountAgReadFailed,
                vec![("ag", u64::from(sb.sb_agcount).into())],
            ));
            return Some(Kind::MountRefused);
        }
    }
    None
}
