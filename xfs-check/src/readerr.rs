//! Read errors as located findings, and the findings they explain.
//!
//! The checker reads the image through a [`Recorder`], which notes every read that fails:
//! a medium error (`EIO` from the disk, a FUSE file, a network filesystem) and a read past
//! the end of a truncated image (a `dd` that stopped early) when the range lies inside the
//! filesystem the superblock describes. A failed request is read again sector by sector
//! (512 bytes, at most [`MAX_RELOCATE_SECTORS`] per request and [`RELOCATE_BUDGET`] of time
//! in all) to find the exact bad sectors. The checker itself goes on as it does when a read
//! fails: an AG whose header cannot be read is walked as far as it can be reached, an
//! unreadable inode cluster is skipped, an unreadable directory block is a hole.
//!
//! After the run each failure becomes one `read_error` finding (class `read_error`) with the
//! absolute byte `offset` and `length` of the bad sectors in the image or device (after
//! `--offset`/`--partition`), the AG and AG block, and what the bytes were to hold: an AG
//! header (superblock, AGF, AGI, AGFL of AG n), the internal log, an inode cluster (inodes
//! N..M), a block of an inode's fork (directory D block B, attribute fork of inode I block
//! B), or a metadata block of an AG (btree blocks). A truncated image first gets one
//! `image_truncated` finding saying how many bytes are missing.
//!
//! # Explanation rules
//!
//! Each unreadable range taints what it held:
//! - an AG header, or a metadata block found by an AG's btrees, taints the AG;
//! - a range past the end of a truncated image taints every AG it overlaps;
//! - an inode cluster taints its inodes;
//! - a block of an inode's fork taints that inode (the directory, the file);
//! - the internal log taints the log.
//!
//! A finding is then `explained_by_read_error` when
//! 1. it names (`ag`, `ag2`) a tainted AG, or the scan of a tainted AG printed it;
//! 2. it names an inode (`ino`, `dir_ino`) that is tainted, or that lives in a tainted AG;
//! 3. it names a block (`fsbno`, `daddr`) in a tainted AG or in an unreadable range;
//! 4. it is about the superblock summary counters (which count what could be read);
//! 5. it is about directory connectivity or link counts (`disconnected inode`, `nlinks`),
//!    or is `found inodes not in the inode allocation tree` / the inode btrees being too
//!    corrupt, and some AG, inode cluster or inode is tainted: the entries or records that
//!    would have accounted for them may be in the unreadable ranges;
//! 6. it is about the log and the log is tainted;
//! 7. it is an action (`would ...`) right after an explained finding of the same phase: the
//!    consequence xfs_repair prints of it;
//! 8. it is about a directory (`ino`, `dir_ino`) for which an earlier explained finding named
//!    an entry (`dir_ino` with `ino`): an entry pointing into an unreadable range is junked,
//!    and the directory's hash table and size follow.
//!
//! Every other finding stays unexplained: corruption that the unreadable ranges cannot
//! account for. On readable images nothing changes: no finding carries the mark.

use std::borrow::Cow;
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use xfs_format::addr::{AgBno, AgIno, AgNo, Ino};
use xfs_format::{ByteSource, Error, Filesystem, Result, WhichFork};

use crate::finding::{Finding, Kind, Structure, Val};
use crate::incore as bm;

/// The unit a failed request is read again in.
pub const SECTOR: u64 = 512;
/// Most sector re-reads spent on one failed request; a larger request is re-read in pieces
/// of `len / MAX_RELOCATE_SECTORS` (rounded up to whole sectors).
pub const MAX_RELOCATE_SECTORS: u64 = 1024;
/// Time all re-reads of a run may take; after that a failed request is reported whole.
pub const RELOCATE_BUDGET: Duration = Duration::from_secs(10);
/// Most failures noted (a truncated terabyte could fail millions of reads); later failures
/// inside a range already noted are dropped anyway.
const MAX_FAILURES: usize = 100_000;

/// Merged half-open ranges `start..end`, for lookups in O(log n) however many there are.
#[derive(Debug, Default)]
pub(crate) struct Ranges(BTreeMap<u64, u64>);

impl Ranges {
    /// Adds `start..end`, merged with the ranges it overlaps or touches.
    fn insert(&mut self, start: u64, end: u64) {
        let (mut s, mut e) = (start, end.max(start));
        if let Some((&ps, &pe)) = self.0.range(..=s).next_back() {
            if pe >= s {
                s = ps;
                e = e.max(pe);
            }
        }
        let over: Vec<u64> = self.0.range(s..=e).map(|(k, _)| *k).collect();
        for k in over {
            if let Some(v) = self.0.remove(&k) {
                e = e.max(v);
            }
        }
        self.0.insert(s, e);
    }

    /// Whether one range holds all of `start..end`.
    fn covers(&self, start: u64, end: u64) -> bool {
        self.0
            .range(..=start)
            .next_back()
            .is_some_and(|(_, &pe)| pe >= end && pe > start)
    }

    /// Whether some range meets `start..end`.
    fn overlaps(&self, start: u64, end: u64) -> bool {
        self.0
            .range(..end)
            .next_back()
            .is_some_and(|(_, &pe)| pe > start)
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// One failed read.
#[derive(Debug, Clone)]
pub(crate) struct Failure {
    /// The request, relative to the filesystem.
    offset: u64,
    len: u64,
    /// The bad (or missing) ranges inside it, relative to the filesystem, merged.
    bad: Vec<(u64, u64)>,
    /// Phase that read.
    phase: u8,
    /// Inode being processed when the read failed.
    owner: Option<u64>,
    /// What the medium said.
    error: String,
    /// Past the end of a truncated image.
    past_end: bool,
    /// The medium failed the request but read every piece of it again.
    transient: bool,
}

#[derive(Debug, Default)]
struct LogState {
    failures: Vec<Failure>,
    /// Every range noted (requests and bad sectors): a read inside one is not noted again.
    known: Ranges,
    /// The bad sectors found: a read that meets one fails at once, without asking the medium
    /// again (a failing disk may take seconds per attempt).
    bad: Ranges,
    phase: u8,
    owner: Option<u64>,
    fs_size: u64,
    paused: bool,
    relocate_spent: Duration,
}

/// The failures of one run, shared by the [`Recorder`] and the checker.
#[derive(Debug, Default)]
pub(crate) struct ReadLog(Mutex<LogState>);

impl ReadLog {
    fn state(&self) -> MutexGuard<'_, LogState> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// The phase now reading.
    pub(crate) fn set_phase(&self, phase: u8) {
        self.state().phase = phase;
    }

    /// The inode now processed (None between inodes).
    pub(crate) fn set_owner(&self, owner: Option<u64>) {
        self.state().owner = owner;
    }

    /// The size of the filesystem: reads short of it past the end of the image are failures.
    pub(crate) fn set_fs_size(&self, size: u64) {
        self.state().fs_size = size;
    }

    fn set_paused(&self, paused: bool) {
        self.state().paused = paused;
    }

    fn take(&self) -> Vec<Failure> {
        std::mem::take(&mut self.state().failures)
    }
}

/// A byte source that notes its failed reads in a [`ReadLog`].
#[derive(Debug)]
pub(crate) struct Recorder<S> {
    inner: S,
    log: Arc<ReadLog>,
}

impl<S: ByteSource> Recorder<S> {
    pub(crate) fn new(inner: S, log: Arc<ReadLog>) -> Self {
        Recorder { inner, log }
    }

    /// Re-reads `offset..offset+len` in small pieces; the pieces that fail, merged.
    /// Also says whether every piece read back (a transient error).
    fn locate(&self, offset: u64, len: u64) -> (Vec<(u64, u64)>, bool) {
        let started = Instant::now();
        if self.log.state().relocate_spent >= RELOCATE_BUDGET {
            return (vec![(offset, len)], false);
        }
        let pieces = len.div_ceil(SECTOR).max(1);
        let step = pieces
            .div_ceil(MAX_RELOCATE_SECTORS)
            .max(1)
            .saturating_mul(SECTOR);
        let end = offset.saturating_add(len);
        let mut bad: Vec<(u64, u64)> = Vec::new();
        // Pieces aligned on sector boundaries of the filesystem.
        let mut at = offset;
        while at < end {
            let next = at.saturating_sub(at % SECTOR).saturating_add(step).min(end);
            let n = usize::try_from(next.saturating_sub(at)).unwrap_or(0);
            if matches!(self.inner.read_at(at, n), Err(Error::Io { .. })) {
                match bad.last_mut() {
                    Some((o, l)) if o.saturating_add(*l) == at => *l = l.saturating_add(n as u64),
                    _ => bad.push((at, n as u64)),
                }
            }
            at = next;
            if started.elapsed() > RELOCATE_BUDGET {
                bad.push((at, end.saturating_sub(at)));
                break;
            }
        }
        let mut st = self.log.state();
        st.relocate_spent = st.relocate_spent.saturating_add(started.elapsed());
        if bad.is_empty() {
            // Every piece read back: the error was transient; report the whole request.
            return (vec![(offset, len)], true);
        }
        (bad, false)
    }

    fn note(&self, offset: u64, len: usize, e: &Error) {
        let len = len as u64;
        let end = offset.saturating_add(len);
        let (phase, owner, fs_size) = {
            let st = self.log.state();
            if st.paused || st.failures.len() >= MAX_FAILURES {
                return;
            }
            // A range already noted (the checker reads some structures twice).
            if st.known.covers(offset, end.max(offset.saturating_add(1))) {
                return;
            }
            (st.phase, st.owner, st.fs_size)
        };
        let failure = match e {
            Error::Io { source, .. } => {
                let (bad, transient) = self.locate(offset, len);
                Failure {
                    offset,
                    len,
                    bad,
                    phase,
                    owner,
                    error: if transient {
                        format!("{source} (transient: every sector read back when read again)")
                    } else {
                        source.to_string()
                    },
                    past_end: false,
                    transient,
                }
            }
            Error::Truncated { .. } => {
                let size = self.inner.size();
                // Only the filesystem's own bytes: a read past the filesystem's end comes from
                // a bad address, which the checker reports as such.
                if fs_size == 0 || offset >= fs_size || end <= size || len > 16 << 20 {
                    return;
                }
                let from = offset.max(size);
                Failure {
                    offset,
                    len,
                    bad: vec![(from, end.min(fs_size).saturating_sub(from))],
                    phase,
                    owner,
                    error: "beyond the end of the image (the image is truncated)".to_owned(),
                    past_end: true,
                    transient: false,
                }
            }
            _ => return,
        };
        let mut st = self.log.state();
        st.known
            .insert(failure.offset, failure.offset.saturating_add(failure.len));
        for &(o, l) in &failure.bad {
            st.known.insert(o, o.saturating_add(l));
            if !failure.past_end && !failure.transient {
                st.bad.insert(o, o.saturating_add(l));
            }
        }
        st.failures.push(failure);
    }
}

impl<S: ByteSource> ByteSource for Recorder<S> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let end = offset.saturating_add(len as u64);
        if len > 0 && self.log.state().bad.overlaps(offset, end) {
            return Err(Error::Io {
                offset,
                len,
                source: std::io::Error::from_raw_os_error(5),
            });
        }
        match self.inner.read_at(offset, len) {
            Ok(b) => Ok(b),
            Err(e) => {
                self.note(offset, len, &e);
                Err(e)
            }
        }
    }
}

/// What the unreadable ranges held (see the module docs).
#[derive(Debug, Default)]
pub(crate) struct Taint {
    any: bool,
    ags: BTreeSet<u32>,
    /// Inode numbers, as ranges `first..last + 1`.
    inodes: Ranges,
    owners: BTreeSet<u64>,
    log: bool,
    /// Unreadable ranges, relative to the filesystem.
    ranges: Ranges,
}

/// What a failed range held, with the AG it taints or the inodes.
struct Held {
    what: String,
    ag: u32,
    agbno: u64,
}

/// Turns the failures noted in `log` into findings (the truncation first), and says what they
/// taint. `bmaps`: the block states of each AG after the scan, when the check got that far.
pub(crate) fn findings<S: ByteSource>(
    fs: &Filesystem<Recorder<S>>,
    log: &ReadLog,
    bmaps: Option<&[crate::incore::Bmap]>,
    base: u64,
) -> (Vec<Finding>, Taint) {
    let failures = log.take();
    log.set_paused(true);
    let geo = &fs.geo;
    let mut taint = Taint::default();
    let mut out = Vec::new();
    let size = fs.source().size();
    let claimed = fs.claimed_size();
    if size < claimed {
        out.push(Finding::new(
            1,
            Kind::ImageTruncated,
            vec![
                ("missing", claimed.saturating_sub(size).into()),
                ("size", base.saturating_add(size).into()),
                ("fs_size", claimed.into()),
                ("fs_end", base.saturating_add(claimed).into()),
            ],
        ));
    }
    let ag_bytes = u64::from(geo.ag_blocks).saturating_mul(geo.block_size.into());
    for f in &failures {
        taint.any = true;
        for &(off, len) in &f.bad {
            taint.ranges.insert(off, off.saturating_add(len));
            let held = describe(fs, f, off, len, bmaps, &mut taint);
            if f.past_end {
                // Every AG the missing range overlaps.
                let last = off.saturating_add(len.saturating_sub(1));
                let (a, b) = (
                    off.checked_div(ag_bytes).unwrap_or(0),
                    last.checked_div(ag_bytes).unwrap_or(0),
                );
                for ag in a..=b.min(a.saturating_add(1 << 20)) {
                    taint.ags.insert(u32::try_from(ag).unwrap_or(u32::MAX));
                }
            }
            // One finding for adjacent ranges that held the same structure (the blocks of one
            // inode cluster, read one by one).
            if let Some(prev) = out.last_mut().filter(|p| {
                p.kind == Kind::ReadError
                    && p.get("what") == Some(&Val::S(held.what.clone()))
                    && p.get("end") == Some(&Val::U(base.saturating_add(off)))
            }) {
                let new_end = base.saturating_add(off).saturating_add(len);
                for (name, v) in &mut prev.fields {
                    match *name {
                        "end" => *v = Val::U(new_end),
                        "length" => {
                            if let Val::U(l) = v {
                                *v = Val::U(l.saturating_add(len));
                            }
                        }
                        "request_length" => {
                            if let Val::U(l) = v {
                                *v = Val::U(l.saturating_add(f.len));
                            }
                        }
                        _ => {}
                    }
                }
                continue;
            }
            out.push(Finding::new(
                f.phase,
                Kind::ReadError,
                vec![
                    ("offset", base.saturating_add(off).into()),
                    ("length", len.into()),
                    ("end", base.saturating_add(off).saturating_add(len).into()),
                    ("ag", held.ag.into()),
                    ("agbno", held.agbno.into()),
                    ("what", held.what.into()),
                    ("error", f.error.as_str().into()),
                    ("request_offset", base.saturating_add(f.offset).into()),
                    ("request_length", f.len.into()),
                ],
            ));
        }
    }
    (out, taint)
}

/// A "metadata block" read error names its btree when a read verifier finding of the run
/// names the same block (`Metadata ... error detected at <addr>, xfs_cntbt block 0x...`).
pub(crate) fn name_btree_blocks(
    read_errors: &mut [Finding],
    phases: &[crate::PhaseReport],
    base: u64,
) {
    for r in read_errors.iter_mut().filter(|r| r.kind == Kind::ReadError) {
        let is_meta = matches!(r.get("what"), Some(Val::S(w)) if w.starts_with("metadata block"));
        let Some(Val::U(off)) = r.get("offset").cloned() else {
            continue;
        };
        if !is_meta {
            continue;
        }
        let daddr = off.saturating_sub(base) / SECTOR;
        let ops = phases
            .iter()
            .flat_map(|p| p.findings.iter())
            .filter(|f| f.kind == Kind::VerifierError && f.get("daddr") == Some(&Val::U(daddr)))
            .find_map(|f| match f.get("ops") {
                Some(Val::S(o)) => Some(o.trim_start_matches("xfs_").to_owned()),
                _ => None,
            });
        let (Some(ops), Some(Val::U(ag)), Some(Val::U(agbno))) =
            (ops, r.get("ag").cloned(), r.get("agbno").cloned())
        else {
            continue;
        };
        for (name, v) in &mut r.fields {
            if *name == "what" {
                *v = Val::S(format!("{ops} block {agbno} of AG {ag}"));
            }
        }
    }
}

/// What the bytes at `off` (relative to the filesystem) were to hold; notes what that taints.
fn describe<S: ByteSource>(
    fs: &Filesystem<Recorder<S>>,
    f: &Failure,
    off: u64,
    len: u64,
    bmaps: Option<&[crate::incore::Bmap]>,
    taint: &mut Taint,
) -> Held {
    let geo = &fs.geo;
    let bs = u64::from(geo.block_size.max(1));
    let ag_bytes = u64::from(geo.ag_blocks).saturating_mul(bs);
    let ag = u32::try_from(off.checked_div(ag_bytes).unwrap_or(0)).unwrap_or(u32::MAX);
    let in_ag = off.checked_rem(ag_bytes).unwrap_or(off);
    let agbno = in_ag.checked_div(bs).unwrap_or(0);
    let last_in_ag = in_ag.saturating_add(len.saturating_sub(1));
    let held = |what: String| Held { what, ag, agbno };
    // The AG headers: four sectors at the start of the AG.
    let sect = u64::from(geo.sect_size.max(1));
    if in_ag < sect.saturating_mul(4) {
        let names = ["superblock", "AGF", "AGI", "AGFL"];
        let first = usize::try_from(in_ag.checked_div(sect).unwrap_or(0)).unwrap_or(0);
        let last = usize::try_from(last_in_ag.checked_div(sect).unwrap_or(0).min(3)).unwrap_or(0);
        let list: Vec<&str> = names.get(first..=last.max(first)).unwrap_or(&[]).to_vec();
        taint.ags.insert(ag);
        return held(format!("{} of AG {ag}", list.join(", ")));
    }
    // The internal log.
    let fsb = geo.fsb_make(AgNo(ag), AgBno(u32::try_from(agbno).unwrap_or(u32::MAX)));
    if let Some(fsb) = fsb {
        if geo.log_start != 0
            && fsb.0 >= geo.log_start
            && fsb.0 < geo.log_start.saturating_add(geo.log_blocks.into())
        {
            taint.log = true;
            return held(format!(
                "internal log block {}",
                fsb.0.saturating_sub(geo.log_start)
            ));
        }
    }
    // An inode cluster: a block the scan found in an inode chunk.
    let state = bmaps
        .and_then(|m| m.get(ag as usize))
        .map(|m| m.get(u32::try_from(agbno).unwrap_or(u32::MAX)));
    if state == Some(bm::INO) {
        let cl_blocks = geo
            .inode_cluster_bytes()
            .checked_div(bs)
            .unwrap_or(1)
            .max(1);
        let first_b = agbno.saturating_sub(agbno.checked_rem(cl_blocks).unwrap_or(0));
        let last_b = last_in_ag.checked_div(bs).unwrap_or(0);
        let last_b = last_b
            .saturating_sub(last_b.checked_rem(cl_blocks).unwrap_or(0))
            .saturating_add(cl_blocks);
        let ino = |b: u64| {
            geo.agbno_to_agino(AgBno(u32::try_from(b).unwrap_or(u32::MAX)))
                .and_then(|i: AgIno| geo.ino_make(AgNo(ag), i))
                .map_or(0, |i| i.0)
        };
        let (a, b) = (ino(first_b), ino(last_b).saturating_sub(1));
        taint.inodes.insert(a, b.saturating_add(1));
        return held(format!("inode cluster of inodes {a}..{b}"));
    }
    // A block of the inode being processed.
    if let Some(owner) = f.owner {
        taint.owners.insert(owner);
        return held(fork_block(fs, owner, fsb.map(|b| b.0)));
    }
    taint.ags.insert(ag);
    held(format!("metadata block {agbno} of AG {ag}"))
}

/// "directory D block B", "attribute fork of inode I block B", ... for the fs block `fsb`
/// of inode `ino`.
fn fork_block<S: ByteSource>(fs: &Filesystem<Recorder<S>>, ino: u64, fsb: Option<u64>) -> String {
    let Ok(inode) = fs.read_inode(ino) else {
        return format!("a block of inode {ino}");
    };
    let is_dir = inode.file_type() == 0o040000;
    for (which, name) in [
        (WhichFork::Data, "data fork"),
        (WhichFork::Attr, "attribute fork"),
    ] {
        let Ok(recs) = fs.fork_records(&inode, which) else {
            continue;
        };
        let Some(fsb) = fsb else { continue };
        for r in recs {
            let end = r.startblock.saturating_add(r.blockcount.into());
            if fsb >= r.startblock && fsb < end {
                let lblk = r.startoff.saturating_add(fsb.saturating_sub(r.startblock));
                return match (which, is_dir) {
                    (WhichFork::Data, true) => format!("directory {ino} block {lblk}"),
                    _ => format!("{name} of inode {ino} block {lblk}"),
                };
            }
        }
    }
    if is_dir {
        format!("a block of directory {ino} (its extent map or btree)")
    } else {
        format!("a block of inode {ino} (its extent map or btree)")
    }
}

impl Taint {
    fn ino_hit(&self, geo: &xfs_format::Geometry, ino: u64) -> bool {
        self.owners.contains(&ino)
            || self.inodes.covers(ino, ino.saturating_add(1))
            || geo
                .ino_split(Ino(ino))
                .is_some_and(|(ag, _)| self.ags.contains(&ag.0))
    }

    fn byte_hit(&self, geo: &xfs_format::Geometry, off: u64) -> bool {
        let ag_bytes = u64::from(geo.ag_blocks).saturating_mul(geo.block_size.into());
        let ag = off
            .checked_div(ag_bytes)
            .and_then(|a| u32::try_from(a).ok());
        ag.is_some_and(|a| self.ags.contains(&a)) || self.ranges.covers(off, off.saturating_add(1))
    }

    /// Whether `f` can be accounted for by the unreadable ranges (module docs, rules 1-6).
    pub(crate) fn explains(&self, geo: &xfs_format::Geometry, f: &Finding) -> bool {
        if !self.any {
            return false;
        }
        let u = |name: &str| match f.get(name) {
            Some(Val::U(v)) => Some(*v),
            _ => None,
        };
        let ag_hit = f.ag_context.is_some_and(|a| self.ags.contains(&a))
            || ["ag", "ag2"].iter().any(|n| {
                u(n).and_then(|a| u32::try_from(a).ok())
                    .is_some_and(|a| self.ags.contains(&a))
            });
        let ino_hit = ["ino", "dir_ino"]
            .iter()
            .any(|n| u(n).is_some_and(|i| self.ino_hit(geo, i)));
        let fsb_hit = u("fsbno").is_some_and(|b| {
            geo.fsb_byte_offset(xfs_format::addr::Fsb(b))
                .is_some_and(|o| self.byte_hit(geo, o))
        });
        let daddr_hit = u("daddr").is_some_and(|d| self.byte_hit(geo, d.saturating_mul(512)));
        if ag_hit || ino_hit || fsb_hit || daddr_hit {
            return true;
        }
        let lost_something =
            !self.ags.is_empty() || !self.inodes.is_empty() || !self.owners.is_empty();
        match f.kind.structure() {
            Structure::SummaryCounters => return true,
            Structure::Connectivity | Structure::LinkCounts => return lost_something,
            Structure::Log => return self.log,
            _ => {}
        }
        matches!(
            f.kind,
            Kind::FoundInodesNotInTree | Kind::InoBtreeTooCorrupt
        ) && lost_something
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use xfs_format::{PreadSource, ReadAt};

    /// A disk whose sectors 3 and 4 fail.
    struct Bad;

    impl ReadAt for Bad {
        fn read_exact_at(&self, buf: &mut [u8], offset: u64) -> std::io::Result<()> {
            let end = offset.saturating_add(buf.len() as u64);
            if offset < 5 * 512 && end > 3 * 512 {
                return Err(std::io::Error::from_raw_os_error(5));
            }
            buf.fill(1);
            Ok(())
        }
    }

    #[test]
    fn ranges_merge_and_cover() {
        let mut r = Ranges::default();
        r.insert(10, 20);
        r.insert(30, 40);
        assert!(r.covers(12, 18) && !r.covers(18, 32) && !r.covers(20, 21));
        assert!(r.overlaps(19, 31) && !r.overlaps(20, 30) && r.overlaps(0, 11));
        r.insert(15, 35);
        assert!(r.covers(10, 40) && !r.covers(9, 11));
        assert_eq!(r.0.len(), 1);
    }

    #[test]
    fn a_failed_request_is_located_sector_by_sector() {
        let log = Arc::new(ReadLog::default());
        let r = Recorder::new(PreadSource::new(Bad, 1 << 20), Arc::clone(&log));
        log.set_phase(3);
        log.set_owner(Some(131));
        assert!(r.read_at(0, 8192).is_err());
        // The same range again is not noted twice, nor a part of it.
        assert!(r.read_at(1536, 512).is_err());
        assert!(r.read_at(8192, 512).is_ok());
        // A known bad sector fails at once, and the good ones around it still read.
        assert!(r.read_at(1024, 1024).is_err());
        assert!(r.read_at(512, 1024).is_ok());
        let f = log.take();
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].offset, f[0].len), (0, 8192));
        assert_eq!(f[0].bad, vec![(1536, 1024)]);
        assert_eq!((f[0].phase, f[0].owner), (3, Some(131)));
        assert!(!f[0].past_end);
    }

    #[test]
    fn reads_past_the_end_count_only_inside_the_filesystem() {
        let log = Arc::new(ReadLog::default());
        let r = Recorder::new(xfs_format::SliceSource(vec![0u8; 4096]), Arc::clone(&log));
        log.set_fs_size(16384);
        assert!(r.read_at(3584, 1024).is_err());
        // Beyond the filesystem: a bad address, not truncation.
        assert!(r.read_at(20000, 512).is_err());
        let f = log.take();
        assert_eq!(f.len(), 1);
        assert!(f[0].past_end);
        assert_eq!(f[0].bad, vec![(4096, 512)]);
    }
}
