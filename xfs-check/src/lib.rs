//! Read-only checker reproducing `xfs_repair -n` (xfsprogs 6.1.0), phase by phase.
//!
//! [`check`] runs phases 1 (primary superblock), 2 (log, AG headers, free space and inode
//! btrees), 3 (every inode), 4 (duplicate blocks, reverse mappings and reference counts),
//! 6 (directory connectivity) and 7 (link counts), and returns every finding as data in
//! `xfs_repair -n`'s output order. Phase 5 rebuilds and has nothing to report with `-n`.
//!
//! The (private) modules follow xfsprogs' repair/ directory: `phase1` ... `phase7` drive the
//! phases; `sb` and `agheader` check superblocks; `scan` walks the per-AG btrees;
//! `dino_chunks` and `dinode` check inode chunks and inodes; `dir2` and `attr_repair` their
//! contents; `incore` holds the in-core block and inode maps; `rmap` computes reference
//! counts; `finding` renders findings exactly as xfs_repair prints them. The disk is read
//! only through [`xfs_format`]'s decoded views.
//!
//! Unlike xfs_repair, which stops at the first read error, the check goes on: `readerr`
//! notes every read that fails (a medium error, or past the end of a truncated image) and
//! turns each into a `read_error` finding ([`Report::read_errors`]) naming the absolute byte
//! range and what it held; every other finding then carries `explained_by_read_error`,
//! true when an unreadable range can account for it. The rules: a range taints the AG of an
//! AG header or btree block (and every AG a missing tail overlaps), the inodes of an inode
//! cluster, the inode whose fork block it is, or the log; a finding is explained when it
//! names a tainted AG, inode (or an inode of a tainted AG) or block, is about the summary
//! counters, is about connectivity or link counts (or inodes missing from the inode btree)
//! while something was tainted, is about a tainted log, is the `would ...` action right
//! after an explained finding, or is about a directory one of whose entries was explained
//! (its entries junked, the directory's hash table is rebuilt).
//!
//! # Example
//!
//! Check an image and print what `xfs_repair -n` would print:
//!
//! ```
//! use xfs_format::SliceSource;
//!
//! // A small v5 filesystem shipped with the project (zstd-compressed).
//! let packed = std::fs::read("../testdata/sample-v5.img.zst")?;
//! let image = zstd::decode_all(&packed[..])?;
//! let report = xfs_check::check(SliceSource(image))?;
//! for f in report.findings() {
//!     println!("[phase {}] {} ({})", f.phase, f.render(), f.kind.structure().label());
//! }
//! assert_eq!(report.exit_code(), 0, "the sample is clean");
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod agheader;
mod attr_repair;
mod bmbt;
mod da_util;
mod dino_chunks;
mod dinode;
mod dir2;
mod dir2_leaf;
mod finding;
mod incore;
mod phase1;
mod phase2;
mod phase3;
mod phase4;
mod phase6;
mod phase7;
mod readerr;
pub mod replay;
mod rmap;
mod sb;
mod scan;
mod state;

use std::sync::Arc;

use serde::Serialize;
use xfs_format::{ByteSource, Filesystem};

pub use finding::{Class, Finding, Kind, Structure, Val};

/// The findings of one phase, in output order.
#[derive(Debug, Clone, Serialize)]
pub struct PhaseReport {
    /// The phase number (1 to 7; 5 is never reported).
    pub phase: u8,
    /// Its findings, in xfs_repair's output order.
    pub findings: Vec<Finding>,
}

/// Everything a check found.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The phases that ran, in order.
    pub phases: Vec<PhaseReport>,
    /// The ranges that could not be read (`image_truncated` first, then one `read_error` per
    /// unreadable range), in the order they were met. Not xfs_repair's: it stops at the first.
    pub read_errors: Vec<Finding>,
    /// The run stopped early, as xfs_repair -n does after a bad primary superblock.
    pub stopped: bool,
    /// xfs_repair 6.1.0 would crash (segfault) on this image: where, and that its output
    /// would stop there. The findings still cover the whole check.
    pub repair_crash: Option<String>,
}

impl Report {
    /// Every finding: the read errors first, then every phase's, in output order.
    pub fn findings(&self) -> impl Iterator<Item = &Finding> {
        self.read_errors
            .iter()
            .chain(self.phases.iter().flat_map(|p| p.findings.iter()))
    }

    /// The findings of the phases (xfs_repair's), without the read errors.
    pub fn repair_findings(&self) -> impl Iterator<Item = &Finding> {
        self.phases.iter().flat_map(|p| p.findings.iter())
    }

    /// Exit status of `xfs_repair -n`: 1 iff any finding other than a libxfs diagnostic (a
    /// read error counts).
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
    /// `xfs_repair -o force_geometry`: go on when the geometry cannot be confirmed by
    /// secondary superblocks (one or two AGs).
    pub force_geometry: bool,
    /// Where `src` starts in the image or device (`--offset`, a partition): read errors
    /// name absolute byte offsets.
    pub base_offset: u64,
}

/// [`check`] with options, calling `progress(phase, what)` as each phase starts (for a
/// progress display).
pub fn check_with<S: ByteSource>(
    src: S,
    opts: &CheckOptions,
    progress: &mut dyn FnMut(u8, &str),
) -> xfs_format::Result<Report> {
    let reads = Arc::new(readerr::ReadLog::default());
    let src = readerr::Recorder::new(src, Arc::clone(&reads));
    let mut progress = |phase: u8, what: &str| {
        reads.set_phase(phase);
        progress(phase, what);
    };
    progress(1, "find and verify superblock");
    let mut p1 = Vec::new();
    let res = phase1::phase1(&src, opts.force_geometry, &mut p1)?;
    let mut phases = vec![PhaseReport {
        phase: 1,
        findings: p1,
    }];
    if let phase1::Phase1::Stop = res {
        return Ok(Report {
            phases,
            read_errors: Vec::new(),
            stopped: true,
            repair_crash: None,
        });
    }
    let fs = Filesystem::open(src)?;
    reads.set_fs_size(fs.claimed_size());
    progress(2, "scan free space and inode maps");
    let mut p2 = Vec::new();
    phase2::zero_log(&fs, opts.log_replayed, &mut p2);
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
    let mut ck = state::Checker::new(&fs, &mut ags);
    ck.reads = Some(Arc::clone(&reads));
    drop(ags);
    progress(3, "process every inode");
    let p3 = phase3::phase3(&mut ck);
    phases.push(PhaseReport {
        phase: 3,
        findings: p3,
    });
    progress(4, "check for duplicate blocks");
    let p4 = phase4::phase4(&mut ck, &refc_btree, rmap_suspect, refc_suspect);
    phases.push(PhaseReport {
        phase: 4,
        findings: p4,
    });
    if !ck.incore.bad_ino_btree {
        progress(6, "check inode connectivity and link counts");
        let (p6, p7, crash) = phase6::phases67(&ck);
        repair_crash = crash.map(|d| {
            format!(
                "xfs_repair 6.1.0 would segfault in phase 6 at directory inode {d} (a data block without a directory magic number): its output would stop there; every finding is reported here"
            )
        });
        phases.push(PhaseReport {
            phase: 6,
            findings: p6,
        });
        phases.push(PhaseReport {
            phase: 7,
            findings: p7,
        });
    }
    let (mut read_errors, taint) =
        readerr::findings(&fs, &reads, Some(&ck.bmaps), opts.base_offset);
    readerr::name_btree_blocks(&mut read_errors, &phases, opts.base_offset);
    if !read_errors.is_empty() {
        // Directories with an entry explained by a read error (rule 8).
        let mut junked_in = std::collections::BTreeSet::new();
        let u = |f: &Finding, n: &str| match f.get(n) {
            Some(Val::U(v)) => Some(*v),
            _ => None,
        };
        for p in &mut phases {
            let mut prev = false;
            for f in &mut p.findings {
                let about_junked = f.kind.structure() == Structure::Directories
                    && ["ino", "dir_ino"]
                        .iter()
                        .any(|n| u(f, n).is_some_and(|d| junked_in.contains(&d)));
                // Rule 7: a "would ..." action follows the finding it is the consequence of.
                let e = taint.explains(&fs.geo, f)
                    || (prev && f.class == Class::Action)
                    || about_junked;
                if e {
                    if let (Some(d), Some(_)) = (u(f, "dir_ino"), u(f, "ino")) {
                        junked_in.insert(d);
                    }
                }
                f.explained_by_read_error = Some(e);
                prev = e;
            }
        }
    }
    Ok(Report {
        phases,
        read_errors,
        stopped: false,
        repair_crash,
    })
}
