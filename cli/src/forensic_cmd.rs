//! `deleted` and `recover`: deleted files from stale directory entries, the log's history
//! and free inodes (the search is `xfs_format::forensic`), and the deleted entries
//! `timeline` adds.

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;

use serde_json::json;

use xfs_format::files::{ftype_name, type_char};
use xfs_format::forensic::{self, Deleted, InodeState, Plan, Verdict};
use xfs_format::inode::civil_from_days;
use xfs_format::{Filesystem, Timestamp};

use crate::error::CliError;
use crate::image::Source;
use crate::options::{Common, Out};

fn fmt_time(t: &Timestamp) -> String {
    let days = t.sec.div_euclid(86_400);
    let secs = t.sec.rem_euclid(86_400);
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:09} +0000",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        t.nsec
    )
}

/// TSK's type letter of a directory entry's `ftype` (`XFS_DIR3_FT_*`, by the name the
/// library gives it).
fn ftype_char(ft: Option<u8>) -> char {
    match ftype_name(ft) {
        "regular" => 'r',
        "directory" => 'd',
        "chardev" => 'c',
        "blkdev" => 'b',
        "fifo" => 'p',
        "socket" => 's',
        "symlink" => 'l',
        _ => '-',
    }
}

/// TSK's type letter of an inode mode (`r` for regular files, `-` when unknown).
fn mode_char(mode: u16) -> char {
    match type_char(mode) {
        '-' => 'r',
        '?' => '-',
        c => c,
    }
}

fn time_json(t: &Timestamp) -> serde_json::Value {
    json!({"sec": t.sec, "nsec": t.nsec, "utc": fmt_time(t)})
}

fn state_json(s: &InodeState) -> serde_json::Value {
    json!({
        "source": s.source.as_str(),
        "lsn": s.lsn.map(|(c, b)| format!("{c}/{b}")),
        "mode": s.mode,
        "uid": s.uid,
        "gid": s.gid,
        "size": s.size,
        "gen": s.gen,
        "atime": time_json(&s.atime),
        "mtime": time_json(&s.mtime),
        "ctime": time_json(&s.ctime),
        "crtime": s.crtime.as_ref().map(time_json),
        "dtime": s.dtime.as_ref().map(time_json),
        "extents_lsn": s.extents_lsn.map(|(c, b)| format!("{c}/{b}")),
        "extents": s.extents.iter().map(|e| json!({
            "startoff": e.rec.startoff,
            "startblock": e.rec.startblock,
            "blockcount": e.rec.blockcount,
            "unwritten": e.rec.unwritten,
            "free_blocks": e.free_blocks,
        })).collect::<Vec<_>>(),
    })
}

fn deleted_json(d: &Deleted) -> serde_json::Value {
    let s = d.inode.as_ref();
    json!({
        "name": d.name.as_ref().map(|n| String::from_utf8_lossy(n).into_owned()),
        "path": d.path,
        "ino": d.ino,
        "ino_high_known": d.ino_high_known,
        "parent": d.parent,
        "ftype": d.ftype,
        "verdict": d.verdict.as_str(),
        "reason": d.reason,
        "realloc": d.realloc,
        "evidence": d.evidence.iter().map(|e| e.as_str()).collect::<Vec<_>>(),
        "size": s.map(|s| s.size),
        "mtime": s.map(|s| time_json(&s.mtime)),
        "inode": s.map(state_json),
    })
}

/// `deleted IMAGE`
pub fn deleted(out: &mut Out<'_>, common: &Common) -> Result<ExitCode, CliError> {
    let (fs, _base) = common.open()?;
    let rep = forensic::find_deleted(&fs);
    if common.json {
        for d in &rep.deleted {
            writeln!(
                out,
                "{}",
                serde_json::to_string(&deleted_json(d)).unwrap_or_default()
            )?;
        }
    } else {
        // `fls -d` style: entry type / inode type, `*` for deleted, inode, path; then the
        // verdict and the evidence.
        for d in rep.deleted.iter().filter(|d| d.name.is_some()) {
            let it = d.inode.as_ref().map_or('-', |s| mode_char(s.mode));
            let realloc = if d.realloc { "(realloc)" } else { "" };
            let ev: Vec<&str> = d.evidence.iter().map(|e| e.as_str()).collect();
            writeln!(
                out,
                "{}/{it} * {}{realloc}:\t{}\t{} ({})",
                ftype_char(d.ftype),
                d.ino,
                d.path,
                d.verdict.as_str(),
                ev.join(",")
            )?;
        }
        let unnamed: Vec<&Deleted> = rep.deleted.iter().filter(|d| d.name.is_none()).collect();
        if !unnamed.is_empty() {
            // `ils` style for the inodes no name was found for.
            writeln!(out)?;
            writeln!(
                out,
                "st_ino|st_alloc|st_uid|st_gid|st_mtime|st_atime|st_ctime|st_crtime|st_mode|st_size|verdict|evidence"
            )?;
            for d in unnamed {
                let Some(s) = &d.inode else { continue };
                let ev: Vec<&str> = d.evidence.iter().map(|e| e.as_str()).collect();
                writeln!(
                    out,
                    "{}|{}|{}|{}|{}|{}|{}|{}|{:o}|{}|{}|{}",
                    d.ino,
                    if d.realloc { 'a' } else { 'f' },
                    s.uid,
                    s.gid,
                    s.mtime.sec,
                    s.atime.sec,
                    s.ctime.sec,
                    s.crtime.map_or(0, |t| t.sec),
                    s.mode,
                    s.size,
                    d.verdict.as_str(),
                    ev.join(",")
                )?;
            }
        }
    }
    let mut summary: Vec<String> = rep
        .by_source
        .iter()
        .map(|(k, v)| format!("{k} {v}"))
        .collect();
    summary.push(format!(
        "log records read {} (rejected {})",
        rep.log_records, rep.log_rejected
    ));
    eprintln!(
        "xfs-inspect: {} deleted entries and inodes; evidence: {}",
        rep.deleted.len(),
        summary.join(", ")
    );
    for w in &rep.warnings {
        eprintln!("xfs-inspect: warning: {w}");
    }
    if rep.log_dirty && !common.replay_log {
        eprintln!(
            "xfs-inspect: warning: the log is dirty: files of transactions not yet written in place are listed as deleted although log recovery would keep them; --replay-log lists what is deleted once the log is replayed"
        );
    }
    Ok(ExitCode::SUCCESS)
}

/// Options of `recover`.
#[derive(Debug, Clone, Copy)]
pub struct RecoverOpts {
    /// Read blocks that are in use by other files now too.
    pub force: bool,
    /// The life of the inode number to recover (the LSN `deleted` gives).
    pub lsn: Option<(u32, u32)>,
}

/// Parses `CYCLE/BLOCK`.
pub fn parse_lsn(s: &str) -> Result<(u32, u32), CliError> {
    let bad = || CliError::new(format!("--lsn {s}: expected CYCLE/BLOCK, e.g. 1/2"));
    let (c, b) = s.split_once('/').ok_or_else(bad)?;
    Ok((c.parse().map_err(|_| bad())?, b.parse().map_err(|_| bad())?))
}

/// `recover IMAGE INO [DEST]`
pub fn recover(
    out: &mut Out<'_>,
    common: &Common,
    ino: u64,
    dest: Option<&Path>,
    opts: RecoverOpts,
) -> Result<ExitCode, CliError> {
    let (fs, base) = common.open()?;
    let (plan, warnings) = forensic::recovery_plan(&fs, ino, opts.lsn);
    for w in &warnings {
        eprintln!("xfs-inspect: warning: {w}");
    }
    let Some(plan) = plan else {
        eprintln!(
            "xfs-inspect: inode {ino}: no evidence of its content survives (no logged inode core and no residual data fork)"
        );
        return Ok(ExitCode::from(2));
    };
    if plan.state.extents.is_empty() && plan.state.size > 0 {
        eprintln!(
            "xfs-inspect: inode {ino}: {} ({} bytes, no extent records)",
            plan.reason, plan.state.size
        );
        return Ok(ExitCode::from(2));
    }
    let mut file = match dest {
        Some(p) => {
            let f = std::fs::OpenOptions::new()
                .write(true)
                .create_new(true)
                .open(p)
                .map_err(|e| {
                    CliError::new(format!(
                        "{}: cannot create: {e} (recover never overwrites)",
                        p.display()
                    ))
                })?;
            Some((p, f))
        }
        None => None,
    };
    let mut hasher = sha2::Sha256::default();
    let json = common.json;
    let res = {
        let mut sink = |b: &[u8]| -> std::io::Result<()> {
            sha2::Digest::update(&mut hasher, b);
            match file.as_mut() {
                Some((_, f)) => f.write_all(b),
                None if json => Ok(()),
                None => out.write_all(b),
            }
        };
        forensic::read_plan(&fs, &plan, opts.force, &mut sink)
    };
    let (bytes, wanted, read) = res.map_err(|e| match (&e, dest) {
        (xfs_format::Error::Write(w), Some(p)) => {
            CliError::new(format!("{}: write error: {w}", p.display()))
        }
        _ => CliError::from_format(&common.image, base, &e),
    })?;
    if let Some((p, f)) = file {
        drop(f);
        set_times(p, &plan);
    }
    let complete = read == wanted;
    if !complete {
        eprintln!(
            "xfs-inspect: inode {ino}: {} of {wanted} blocks are in use by other files now and were written as zeros (--force reads them anyway)",
            wanted.saturating_sub(read)
        );
    }
    if json {
        use sha2::Digest;
        let digest: String = hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        writeln!(
            out,
            "{}",
            serde_json::to_string(&json!({
                "ino": ino,
                "size": bytes,
                "sha256": digest,
                "verdict": plan.verdict.as_str(),
                "reason": plan.reason,
                "complete": complete,
                "blocks": wanted,
                "blocks_read": read,
                "dest": dest.map(|p| p.display().to_string()),
                "inode": state_json(&plan.state),
            }))
            .unwrap_or_default()
        )?;
    } else if dest.is_some() {
        eprintln!(
            "xfs-inspect: inode {ino}: {bytes} bytes recovered ({}; {read} of {wanted} blocks read)",
            plan.reason
        );
    }
    let partial = !complete || plan.verdict != Verdict::Recoverable;
    Ok(ExitCode::from(if partial { 1 } else { 0 }))
}

/// Gives a recovered file the access and modification times of the deleted inode.
fn set_times(p: &Path, plan: &Plan) {
    let ts =
        |t: Timestamp| nix::sys::time::TimeSpec::new(t.sec, i64::from(t.nsec.min(999_999_999)));
    if let Err(e) = nix::sys::stat::utimensat(
        nix::fcntl::AT_FDCWD,
        p,
        &ts(plan.state.atime),
        &ts(plan.state.mtime),
        nix::sys::stat::UtimensatFlags::FollowSymlink,
    ) {
        eprintln!("xfs-inspect: warning: {}: set times: {e}", p.display());
    }
}

/// A deleted entry as `timeline` shows it: the name marked as TSK bodyfiles mark deleted
/// names (` (deleted)`, or ` (deleted-realloc)` when the inode is in use again).
pub struct TimelineDeleted {
    /// The path, with the TSK suffix.
    pub name: String,
    /// The inode number (0 when none survives).
    pub ino: u64,
    /// Mode, uid, gid and size of the deleted inode (zero when unknown).
    pub mode: u16,
    /// Owner.
    pub uid: u32,
    /// Group.
    pub gid: u32,
    /// Size in bytes.
    pub size: u64,
    /// atime, mtime, ctime, crtime (when known).
    pub times: [Option<Timestamp>; 4],
}

impl TimelineDeleted {
    /// The TSK bodyfile line (`MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime`).
    pub fn bodyfile_line(&self) -> String {
        let sec = |i: usize| {
            self.times
                .get(i)
                .copied()
                .flatten()
                .map_or(0, |t: Timestamp| t.sec)
        };
        let t = mode_char(self.mode);
        let perms: String = (0..9)
            .map(|i| {
                let bit = 0o400u16 >> i;
                if self.mode & bit == 0 {
                    '-'
                } else {
                    ['r', 'w', 'x'].get(i % 3).copied().unwrap_or('-')
                }
            })
            .collect();
        format!(
            "0|{}|{}|{t}/{t}{perms}|{}|{}|{}|{}|{}|{}|{}",
            self.name.replace('|', "\\|"),
            self.ino,
            self.uid,
            self.gid,
            self.size,
            sec(0),
            sec(1),
            sec(2),
            sec(3)
        )
    }

    /// The mactime events (0 m, 1 a, 2 c, 3 b) with their times.
    pub fn events(&self) -> Vec<(u8, Timestamp)> {
        // times holds a, m, c, b; mactime orders them m, a, c, b.
        [(1u8, 0usize), (0, 1), (2, 2), (3, 3)]
            .iter()
            .filter_map(|&(what, i)| self.times.get(i).copied().flatten().map(|t| (what, t)))
            .collect()
    }

    /// The JSON object `timeline --json` lists.
    pub fn to_json(&self) -> serde_json::Value {
        let t = |i: usize| self.times.get(i).copied().flatten().map(|t| time_json(&t));
        json!({
            "path": self.name,
            "ino": self.ino,
            "deleted": true,
            "mode": self.mode,
            "uid": self.uid,
            "gid": self.gid,
            "size": self.size,
            "atime": t(0),
            "mtime": t(1),
            "ctime": t(2),
            "crtime": t(3),
        })
    }
}

/// The deleted entries for `timeline`, named ones first.
pub fn timeline_deleted(fs: &Filesystem<Source>) -> Vec<TimelineDeleted> {
    let rep = forensic::find_deleted(fs);
    rep.deleted
        .iter()
        .map(|d| {
            let suffix = if d.realloc {
                " (deleted-realloc)"
            } else {
                " (deleted)"
            };
            let s = d.inode.as_ref();
            TimelineDeleted {
                name: format!("{}{suffix}", d.path),
                ino: d.ino,
                mode: s.map_or(0, |s| s.mode),
                uid: s.map_or(0, |s| s.uid),
                gid: s.map_or(0, |s| s.gid),
                size: s.map_or(0, |s| s.size),
                times: match s {
                    Some(s) => [Some(s.atime), Some(s.mtime), Some(s.ctime), s.crtime],
                    None => [None; 4],
                },
            }
        })
        .collect()
}
