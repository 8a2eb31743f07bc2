//! Property test over mkfs.xfs parameters: for every image mkfs makes, every field that
//! `xfs-inspect sb/agf/agi/agfl` prints for every AG equals what `xfs_db print` prints, and
//! `info` equals `xfs_db -c info`, and `check` agrees with `xfs_repair -n` on the filesystem.
//!
//! Every image is populated with `mkfs.xfs -p` (see [`populate`]): an empty image hides every
//! fault of the checker in how it reads inodes (large extent counts, BMBT walks, directory
//! formats). xfsprogs 6.1's protofile writes each file as one extent and cannot set xattrs or
//! make hard links, so the many-extent forks here are directories: their blocks are allocated
//! one by one between the data of the files created in them, which fragments them into
//! BMBT-format forks. (Fixtures made by the kernel, with xattrs and sparse files of thousands of
//! extents, are in cli/tests/populated.rs.) 6.1 writes a v5 remote symlink without its header,
//! which xfs_repair -n rejects, so long symlinks are put in v4 images only.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
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

/// Reproducible content: numbered lines, distinct per file.
fn content(n: u64, seed: &str) -> Vec<u8> {
    let mut out = Vec::new();
    let mut i = 0u64;
    while (out.len() as u64) < n {
        out.extend_from_slice(format!("{seed}:{i:07}\n").as_bytes());
        i += 1;
    }
    out.truncate(n as usize);
    out
}

/// Writes the source files under `dir/src` and returns a protofile for mkfs.xfs -p: files of
/// assorted sizes (0 bytes to 1 MiB), directories of every format (shortform, block, leaf,
/// node: 3, 40, 400 and 3000 entries; the node directory's entries interleaved with hundreds of
/// one-block files, so its blocks are scattered, in btree format when directory blocks are
/// small enough), short symlinks (and a remote one on v4), a fifo, device nodes, a setuid file.
/// The data stays under about 6 MiB whatever the block size.
fn populate(dir: &Path, p: &Params) -> PathBuf {
    let src = dir.join("src");
    std::fs::create_dir_all(&src).unwrap();
    let bs = 1u64 << p.block_log;
    let mut proto = String::from("/dev/null\n0 0\nd--755 0 0\n");
    let file = |name: &str, size: u64| {
        let path = src.join(name);
        std::fs::write(&path, content(size, name)).unwrap();
        path.to_str().unwrap().to_string()
    };
    let empty = file("empty", 0);
    let small = file("small", 100);
    for (name, size) in [
        ("one", 1),
        ("almost-block", bs - 1),
        ("block", bs),
        ("multi", 70000),
        ("mib", 1 << 20),
    ] {
        let path = file(name, size);
        let _ = writeln!(proto, "{name} ---644 1000 1000 {path}");
    }
    let _ = writeln!(proto, "small ---644 0 0 {small}\ndirs d--755 0 0");
    let nonempty = (4u64 << 20) / bs;
    for (name, count) in [("sf", 3u64), ("block", 40), ("leaf", 400), ("node", 3000)] {
        let _ = writeln!(proto, "{name} d--750 1000 100");
        let every = if name == "node" {
            (count / nonempty.clamp(1, 600)).max(1)
        } else {
            u64::MAX
        };
        for i in 0..count {
            let entry = format!("e{i:05}{}", "x".repeat((i % 40) as usize));
            let src = if i % every == 0 { &small } else { &empty };
            let _ = writeln!(proto, "{entry} ---600 {} {} {src}", i % 7, i % 5);
        }
        proto.push_str("$\n");
    }
    proto.push_str("$\nlinks d--755 0 0\nto-small l--777 0 0 ../small\n");
    proto.push_str("dangling l--777 0 0 /nonexistent/target\n");
    if !p.crc {
        let long: Vec<String> = (0..60).map(|i| format!("component{i:03}")).collect();
        let _ = writeln!(proto, "long l--777 0 0 {}", long.join("/"));
    }
    proto.push_str("$\nspecial d--755 0 0\nfifo p--644 0 0\nnull c--666 0 0 1 3\n");
    let _ = writeln!(
        proto,
        "loop7 b--660 0 6 7 7\nsetuid -u-755 0 0 {empty}\n$\n$"
    );
    let path = dir.join("fs.proto");
    std::fs::write(&path, proto).unwrap();
    path
}

static ACCEPTED: AtomicUsize = AtomicUsize::new(0);
static FIELDS: AtomicUsize = AtomicUsize::new(0);
static REJECTED: AtomicUsize = AtomicUsize::new(0);
static REPAIR_DIRTY: AtomicUsize = AtomicUsize::new(0);
static NOSPACE: AtomicUsize = AtomicUsize::new(0);
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

/// One case: mkfs.xfs with `p` and the populated tree, then every comparison. Returns false
/// when mkfs.xfs refuses the parameters themselves. `count`: add to the property's counters.
fn case(p: &Params, count: bool) -> Result<bool, TestCaseError> {
    let dir = tempdir();
    let img = dir.path().join("fs.img");
    let size = u64::from(p.agcount) * p.ag_mib * (1 << 20);
    let proto = populate(dir.path(), p);
    let mut args = p.args();
    args.push("-p".into());
    args.push(proto.to_str().unwrap().into());
    if let Err(e) = mkfs(&img, size, &args) {
        // mkfs refuses some combinations (log too small, too many AGs for the size...), and a
        // filesystem that is mostly log has no room for the tree; mkfs must fail for no
        // other reason.
        if e.contains("No space left on device") {
            if count {
                NOSPACE.fetch_add(1, Ordering::Relaxed);
            }
            return Ok(false);
        }
        if mkfs(&img, size, &p.args()).is_ok() {
            return Err(TestCaseError::fail(format!(
                "mkfs.xfs {:?} accepts the parameters but not the protofile: {e}",
                p.args()
            )));
        }
        if count {
            REJECTED.fetch_add(1, Ordering::Relaxed);
        }
        return Ok(false);
    }
    if count {
        ACCEPTED.fetch_add(1, Ordering::Relaxed);
        SEEN.lock().unwrap().push(p.clone());
    }
    let n = compare_all(&img)?;
    if count {
        FIELDS.fetch_add(n, Ordering::Relaxed);
    }
    compare_cli(
        &img,
        Filesystem::open(FileSource::open(&img).unwrap())
            .unwrap()
            .geo
            .ag_count,
    )?;
    // The checker agrees with xfs_repair -n: nothing where it finds nothing; findings (exit 1)
    // where it finds something.
    let report = xfs_check::check(FileSource::open(&img).unwrap()).unwrap();
    let findings: Vec<String> = report.findings().map(|f| f.render()).collect();
    let (rc, text) = common::repair_n(&img);
    if rc == Some(0) {
        prop_assert!(
            findings.is_empty(),
            "check on a populated mkfs image that xfs_repair -n calls clean {:?}: {} findings, the first {:?}",
            p.args(),
            findings.len(),
            &findings[..findings.len().min(20)]
        );
    } else {
        if count {
            REPAIR_DIRTY.fetch_add(1, Ordering::Relaxed);
        }
        prop_assert_eq!(rc, Some(1), "xfs_repair -n on {:?}: {}", p.args(), text);
        prop_assert!(
            !findings.is_empty(),
            "xfs_repair -n finds problems in {:?} and check none: {}",
            p.args(),
            text
        );
    }
    Ok(true)
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 32,
        max_global_rejects: 200,
        // Each case takes about a second: a failure is reported after a short shrink.
        max_shrink_iters: 16,
        failure_persistence: None,
        .. ProptestConfig::default()
    })]

    // Not a #[test] of its own: mkfs_cases_were_really_compared runs it once.
    fn every_header_field_matches_xfs_db(p in params()) {
        let accepted = case(&p, true)?;
        prop_assume!(accepted, "mkfs.xfs rejected {:?}", p.args());
    }
}

/// Populated images with large extent counts (nrext64) and the feature mixes most likely to
/// matter, whatever the random draw gives.
#[test]
fn populated_fixed_cases_agree_with_xfs_repair() {
    let base = Params {
        crc: true,
        block_log: 12,
        sect_log: 9,
        inode_log: 9,
        agcount: 4,
        ag_mib: 16,
        log_blocks: None,
        finobt: true,
        sparse: true,
        reflink: true,
        rmapbt: true,
        bigtime: true,
        inobtcount: true,
        nrext64: true,
        ftype: true,
        dir_log: 12,
    };
    let cases = [
        base.clone(),
        Params {
            block_log: 10,
            ..base.clone()
        },
        Params {
            block_log: 11,
            inode_log: 10,
            dir_log: 13,
            reflink: false,
            rmapbt: false,
            ..base.clone()
        },
        Params {
            crc: false,
            block_log: 9,
            inode_log: 8,
            nrext64: false,
            ftype: false,
            ..base.clone()
        },
    ];
    for p in &cases {
        match case(p, false) {
            Ok(true) => {}
            Ok(false) => panic!("mkfs.xfs rejected {:?}", p.args()),
            Err(e) => panic!("{e}"),
        }
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
        "mkfs property: {accepted} images accepted by mkfs.xfs ({rejected} parameter sets rejected), {fields} field lines compared, {} where xfs_repair -n was not clean, {} too small for the tree",
        REPAIR_DIRTY.load(Ordering::Relaxed),
        NOSPACE.load(Ordering::Relaxed)
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
