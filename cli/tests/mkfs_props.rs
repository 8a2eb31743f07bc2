//! Property test over mkfs.xfs parameters: for every image mkfs makes, every field that
//! `xfs-inspect sb/agf/agi/agfl` prints for every AG equals what `xfs_db print` prints, and
//! `info` equals `xfs_db -c info`, and `check` finds nothing on the fresh filesystem.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;
use xfs_format::fields::render_xfs_db;
use xfs_format::{FileSource, Filesystem};

use common::{mkfs, tempdir, xfs_db};

/// One mkfs.xfs configuration.
#[derive(Debug, Clone)]
struct Params {
    crc: bool,
    block_log: u32,
    sect_log: u32,
    inode_log: u32,
    agcount: u32,
    ag_mib: u64,
    log_blocks: Option<u32>,
    finobt: bool,
    sparse: bool,
    reflink: bool,
    rmapbt: bool,
    bigtime: bool,
    inobtcount: bool,
    nrext64: bool,
    ftype: bool,
    dir_log: u32,
}

impl Params {
    fn args(&self) -> Vec<String> {
        let b = |x: bool| u32::from(x);
        let mut m = format!("crc={}", b(self.crc));
        if self.crc {
            m += &format!(
                ",finobt={},reflink={},rmapbt={},bigtime={},inobtcount={}",
                b(self.finobt),
                b(self.reflink),
                b(self.rmapbt),
                b(self.bigtime),
                b(self.inobtcount)
            );
        }
        let mut i = format!("size={}", 1u32 << self.inode_log);
        if self.crc {
            i += &format!(",sparse={},nrext64={}", b(self.sparse), b(self.nrext64));
        }
        let mut a = vec![
            "-m".into(),
            m,
            "-b".into(),
            format!("size={}", 1u32 << self.block_log),
            "-s".into(),
            format!("size={}", 1u32 << self.sect_log),
            "-i".into(),
            i,
            "-d".into(),
            format!("agcount={}", self.agcount),
            "-n".into(),
            format!(
                "size={},ftype={}",
                1u32 << self.dir_log,
                b(self.ftype || self.crc)
            ),
        ];
        if let Some(l) = self.log_blocks {
            a.push("-l".into());
            a.push(format!("size={}b", l));
        }
        a
    }
}

fn params() -> impl Strategy<Value = Params> {
    (
        any::<bool>(),
        0u32..=7,
        any::<bool>(),
        0u32..=3,
        2u32..=64,
        16u64..=40,
    )
        .prop_flat_map(|(crc, bsel, sect4k, isel, agcount, ag_mib)| {
            // v5 needs blocks >= 1024 and inodes >= 512; v4 goes down to 512-byte blocks.
            let min_block = if crc { 10 } else { 9 };
            let block_log = (min_block + bsel).min(16);
            let sect_log = if sect4k && block_log >= 12 { 12 } else { 9 };
            let min_inode = if crc { 9 } else { 8 };
            let inode_log = (min_inode + isel).min(11).min(block_log - 1);
            let dir_logs = block_log..=16u32;
            (
                Just((crc, block_log, sect_log, inode_log, agcount, ag_mib)),
                prop::option::weighted(0.3, 1024u32..=8192),
                prop::array::uniform8(any::<bool>()),
                dir_logs,
            )
        })
        .prop_map(
            |((crc, block_log, sect_log, inode_log, agcount, ag_mib), log_blocks, f, dir_log)| {
                Params {
                    crc,
                    block_log,
                    sect_log,
                    inode_log,
                    agcount,
                    ag_mib,
                    log_blocks,
                    finobt: f[0] || f[5],
                    sparse: f[1],
                    reflink: f[2],
                    rmapbt: f[3],
                    bigtime: f[4],
                    inobtcount: f[5],
                    nrext64: f[6],
                    ftype: f[7],
                    dir_log,
                }
            },
        )
}

static ACCEPTED: AtomicUsize = AtomicUsize::new(0);
static FIELDS: AtomicUsize = AtomicUsize::new(0);
static REJECTED: AtomicUsize = AtomicUsize::new(0);
static SEEN: std::sync::Mutex<Vec<Params>> = std::sync::Mutex::new(Vec::new());

/// Compares our rendering of every AG's sb/agf/agi/agfl with one xfs_db run over all of them.
fn compare_all(img: &Path) -> Result<usize, TestCaseError> {
    let fs = Filesystem::open(FileSource::open(img).unwrap()).unwrap();
    let mut cmds = Vec::new();
    let mut ours = Vec::new();
    for ag in 0..fs.geo.ag_count {
        for (what, text) in [
            ("sb", render_xfs_db(&fs.read_sb(ag).unwrap().fields())),
            ("agf", render_xfs_db(&fs.read_agf(ag).unwrap().fields())),
            ("agi", render_xfs_db(&fs.read_agi(ag).unwrap().fields())),
            ("agfl", render_xfs_db(&fs.read_agfl(ag).unwrap().fields())),
        ] {
            cmds.push(format!("{what} {ag}"));
            cmds.push("print".to_string());
            for line in text.lines() {
                ours.push((what, ag, line.to_string()));
            }
        }
    }
    let theirs = xfs_db(img, &cmds);
    let theirs: Vec<&str> = theirs.lines().collect();
    for (i, (what, ag, line)) in ours.iter().enumerate() {
        let t = theirs.get(i).copied().unwrap_or("<missing>");
        prop_assert_eq!(line.as_str(), t, "{} of AG {}, line {}", what, ag, i);
    }
    prop_assert_eq!(
        ours.len(),
        theirs.len(),
        "xfs_db printed more lines than we did"
    );
    Ok(ours.len())
}

/// The CLI prints what the library renders (spot check on the first and last AG), and `info`
/// matches `xfs_db -c info`.
fn compare_cli(img: &Path, agcount: u32) -> Result<(), TestCaseError> {
    let name = img.file_name().unwrap().to_str().unwrap();
    let dir = img.parent().unwrap();
    for ag in [0, agcount - 1] {
        let a = ag.to_string();
        for (what, args) in [
            ("sb", vec!["sb", name, "--ag", &a]),
            ("agf", vec!["agf", name, &a]),
            ("agi", vec!["agi", name, &a]),
        ] {
            let ours = std::process::Command::new(env!("CARGO_BIN_EXE_xfs-inspect"))
                .args(&args)
                .current_dir(dir)
                .output()
                .unwrap();
            prop_assert!(ours.status.success());
            let theirs = xfs_db(img, &[format!("{what} {ag}"), "print".into()]);
            prop_assert_eq!(String::from_utf8_lossy(&ours.stdout), theirs);
        }
    }
    let ours = std::process::Command::new(env!("CARGO_BIN_EXE_xfs-inspect"))
        .args(["info", name])
        .current_dir(dir)
        .output()
        .unwrap();
    let theirs = std::process::Command::new(common::tool("xfs_db"))
        .args(["-r", "-c", "info", name])
        .current_dir(dir)
        .output()
        .unwrap();
    prop_assert_eq!(
        String::from_utf8_lossy(&ours.stdout),
        String::from_utf8_lossy(&theirs.stdout)
    );
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_global_rejects: 200,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    #[test]
    fn every_header_field_matches_xfs_db(p in params()) {
        let dir = tempdir();
        let img = dir.path().join("fs.img");
        let size = u64::from(p.agcount) * p.ag_mib * (1 << 20);
        if let Err(e) = mkfs(&img, size, &p.args()) {
            // mkfs refuses some combinations (log too small, too many AGs for the size...).
            REJECTED.fetch_add(1, Ordering::Relaxed);
            let why = format!("mkfs.xfs rejected {:?}: {}", p.args(), e.lines().next().unwrap_or(""));
            prop_assume!(false, "{}", why);
        }
        ACCEPTED.fetch_add(1, Ordering::Relaxed);
        SEEN.lock().unwrap().push(p.clone());
        let n = compare_all(&img)?;
        FIELDS.fetch_add(n, Ordering::Relaxed);
        compare_cli(&img, Filesystem::open(FileSource::open(&img).unwrap()).unwrap().geo.ag_count)?;
        // A freshly made filesystem is clean: the checker must find nothing.
        let report = xfs_check::check(FileSource::open(&img).unwrap()).unwrap();
        let findings: Vec<String> = report.findings().map(|f| f.render()).collect();
        prop_assert!(findings.is_empty(), "check on a clean mkfs image {:?}: {:?}", p.args(), findings);
    }
}

#[test]
fn mkfs_cases_were_really_compared() {
    // Run the property explicitly so the counters are ours, whatever the test order.
    every_header_field_matches_xfs_db();
    let accepted = ACCEPTED.load(Ordering::Relaxed);
    let fields = FIELDS.load(Ordering::Relaxed);
    let rejected = REJECTED.load(Ordering::Relaxed);
    eprintln!(
        "mkfs property: {accepted} images accepted by mkfs.xfs ({rejected} parameter sets rejected), {fields} field lines compared"
    );
    let seen = SEEN.lock().unwrap();
    let set = |f: &dyn Fn(&Params) -> u32| {
        let mut v: Vec<u32> = seen.iter().map(f).collect();
        v.sort_unstable();
        v.dedup();
        v
    };
    let count = |f: &dyn Fn(&Params) -> bool| seen.iter().filter(|p| f(p)).count();
    eprintln!(
        "  v5 {} / v4 {}; block sizes {:?}; sector sizes {:?}; inode sizes {:?}; dir block logs {:?}; \
         agcount {:?}..{:?}; explicit log size {}; finobt {} sparse {} reflink {} rmapbt {} bigtime {} \
         inobtcount {} nrext64 {} (v5 cases); v4 ftype {}",
        count(&|p| p.crc),
        count(&|p| !p.crc),
        set(&|p| 1 << p.block_log),
        set(&|p| 1 << p.sect_log),
        set(&|p| 1 << p.inode_log),
        set(&|p| p.dir_log),
        seen.iter().map(|p| p.agcount).min(),
        seen.iter().map(|p| p.agcount).max(),
        count(&|p| p.log_blocks.is_some()),
        count(&|p| p.crc && p.finobt),
        count(&|p| p.crc && p.sparse),
        count(&|p| p.crc && p.reflink),
        count(&|p| p.crc && p.rmapbt),
        count(&|p| p.crc && p.bigtime),
        count(&|p| p.crc && p.inobtcount),
        count(&|p| p.crc && p.nrext64),
        count(&|p| !p.crc && p.ftype),
    );
    assert!(accepted >= 32, "mkfs.xfs accepted only {accepted} cases");
    assert!(fields > 0);
}
