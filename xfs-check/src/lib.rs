//! Read-only checker reproducing `xfs_repair -n` (xfsprogs 6.1.0), phase by phase.
//!
//! [`check`] runs the phases this crate implements (1: primary superblock, 2: AG headers,
//! free space and inode btrees, counters) and returns every finding as data in output order:
//! phase by phase, AG order within a phase. Phases 3 and later (inodes, directories, link
//! counts) are not implemented yet; [`Report::phases`] is where they will slot in.
#![forbid(unsafe_code)]

mod attrck;
pub mod bmap;
pub mod connect;
mod dirleaf;
pub mod finding;
pub mod inodes;
mod lfdir;
pub mod refcount;
pub mod sbcheck;
pub mod scan;
pub mod zerolog;

use serde::Serialize;
use xfs_format::{ByteSource, Filesystem};

pub use finding::{Class, Finding, Kind, Structure, Val};

/// The findings of one phase, in output order.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    pub phase: u8,
    pub findings: Vec<Finding>,
}

/// Everything a check found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    pub phases: Vec<PhaseReport>,
    /// The run stopped early, as xfs_repair -n does after a bad primary superblock.
    pub stopped: bool,
    /// xfs_repair 6.1.0 crashes (segfaults) on this image; the findings stop where its
    /// output stops, and this says where.
    pub repair_crash: Option<String>,
}

impl Report {
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.phases.iter().flat_map(|p| p.findings.iter())
    }

    /// Exit status of `xfs_repair -n`: 1 iff any finding other than a libxfs diagnostic.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.findings().any(Finding::is_dirty))
    }
}

/// Phases implemented so far; phase 3 and later will be appended here.
pub const IMPLEMENTED_PHASES: &[u8] = &[1, 2, 3, 4, 6, 7];

/// Checks the filesystem in `src`. `Err` only when the check cannot go on at all (the image
/// cannot be read, or its geometry is unusable after phase 1 accepted it).
pub fn check<S: ByteSource>(src: S) -> xfs_format::Result<Report> {
    check_with(src, &CheckOptions::default(), &mut |_, _| {})
}

/// How to check.
#[derive(Debug, Clone, Copy, Default)]
pub struct CheckOptions {
    /// `src` is a view whose log was replayed (in memory): no dirty-log alert.
    pub log_replayed: bool,
}

/// [`check`] with options, calling `progress(phase, what)` as each phase starts (for a
/// progress display).
pub fn check_with<S: ByteSource>(
    src: S,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(u8, &str),
) -> xfs_format::Result<Report> {
    progress(1, "find and verify superblock");
    let mut p1 = Vec::new();
    let res = sbcheck::phase1(&src, &mut p1)?;
    let mut phases = vec![PhaseReport {
        phase: 1,
        findings: p1,
    }];
    if let sbcheck::Phase1::Stop = res {
        return Ok(Report {
            phases,
            stopped: true,
            repair_crash: None,
        });
    }
    let fs = Filesystem::open(src)?;
    progress(2, "scan free space and inode maps");
    let mut p2 = Vec::new();
    zerolog::zero_log(&fs, opts.log_replayed, &mut p2);
    let mut ags = scan::phase2(&fs, &mut p2);
    phases.push(PhaseReport {
        phase: 2,
        findings: p2,
    });
    let mut repair_crash = None;
    let refc_btree: Vec<Vec<(u32, u32, u32)>> = ags
        .iter_mut()
        .map(|a| std::mem::take(&mut a.refcounts))
        .collect();
    let rmap_suspect = ags.iter().any(|a| a.rmap_suspect);
    let refc_suspect = ags.iter().any(|a| a.refc_suspect);
    let mut ck = inodes::Checker::new(&fs, &mut ags);
    drop(ags);
    progress(3, "process every inode");
    let p3 = ck.run_pass(3);
    phases.push(PhaseReport {
        phase: 3,
        findings: p3,
    });
    progress(4, "check for duplicate blocks");
    let mut p4 = ck.dup_extent_setup();
    p4.extend(ck.run_pass(4));
    // process_rmap_data: a suspect rmap / refcount btree is not cross-checked, only
    // reported once (from AG 0).
    if fs.geo.has_rmapbt && rmap_suspect {
        p4.push(Finding::new(4, Kind::RmapbtWouldRebuild, vec![]));
    }
    if fs.geo.has_reflink {
        p4.extend(refcount::phase4(&ck, &refc_btree, refc_suspect));
    }
    if fs.geo.has_reflink && refc_suspect {
        p4.push(Finding::new(4, Kind::RefcountbtWouldRebuild, vec![]));
    }
    if ck.incore.bad_ino_btree {
        p4.push(Finding::new(4, Kind::InoBtreeTooCorrupt, vec![]));
    }
    phases.push(PhaseReport {
        phase: 4,
        findings: p4,
    });
    if !ck.incore.bad_ino_btree {
        progress(6, "check inode connectivity and link counts");
        let (p6, p7, crash) = connect::phases67(&ck);
        repair_crash = crash.map(|d| {
            format!(
                "xfs_repair 6.1.0 segfaults in phase 6 on directory inode {d} (data block without a directory magic number); phase 6 output stops there and phase 7 is not run"
            )
        });
        phases.push(PhaseReport {
            phase: 6,
            findings: p6,
        });
        if repair_crash.is_none() {
            phases.push(PhaseReport {
                phase: 7,
                findings: p7,
            });
        }
    }
    Ok(Report {
        phases,
        stopped: false,
        repair_crash,
    })
}
