//! Compares inode decoding and rendering with xfs_db (xfsprogs 6.1) on images made by
//! `mkfs.xfs -p protofile` (never mounted), plus a proptest that the decoder never panics.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;
use common::{xfs_db, TempDir as Scratch};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use xfs_format::bmap::{BmbtRec, ForkFormat};
use xfs_format::fields::render_xfs_db;
use xfs_format::inode::{Inode, UNRENDERED_FORK_PREFIXES};
use xfs_format::{Error, FileSource, Filesystem};

/// Source files and a protofile with every file type mkfs can make, plus a directory of
/// `nfrag` files with long names so that its blocks interleave with file data and its data
/// fork ends up with many extents (btree format when they do not fit the inode).
fn write_proto(dir: &Path, nfrag: usize) -> PathBuf {
    std::fs::write(dir.join("empty"), b"").unwrap();
    std::fs::write(dir.join("small"), b"hello\n").unwrap();
    let big: Vec<u8> = (0..20_000u32).map(|i| (i * 7 + 3) as u8).collect();
    std::fs::write(dir.join("big"), &big).unwrap();
    std::fs::write(dir.join("f1500"), vec![0x5au8; 1500]).unwrap();
    let d = dir.display();
    let mut p = String::from("dummy\n0 0\nd--755 0 0\n");
    p += &format!("empty ---644 1000 1000 {d}/empty\n");
    p += &format!("small ---600 0 0 {d}/small\n");
    p += &format!("big -u-755 12 34 {d}/big\n");
    p += &format!("sgid --g755 1 2 {d}/small\n");
    p += "sub d--750 5 6\n";
    p += &format!(" inner ---644 0 0 {d}/small\n");
    p += " deeper d--700 0 0\n  $\n $\n";
    p += "fifo p--644 0 0\n";
    p += "cdev c--644 0 0 4 5\n";
    p += "bdev b--660 0 6 8 1\n";
    p += "slink l--777 0 0 /a/short/target\n";
    p += &format!("longlink l--777 0 0 /{}\n", "x".repeat(600));
    p += "frag d--755 0 0\n";
    for i in 0..nfrag {
        p += &format!(" {}{i:04} ---644 0 0 {d}/f1500\n", "n".repeat(240));
    }
    p += " $\n$\n";
    let path = dir.join("proto");
    std::fs::write(&path, p).unwrap();
    path
}

/// Allocated inode numbers, from the inobt records xfs_db dumps for every AG.
fn allocated_inodes(img: &Path, fs: &Filesystem<FileSource>) -> Vec<u64> {
    let geo = &fs.geo;
    let shift = u32::from(geo.ag_blk_log) + u32::from(geo.inopb_log);
    let mut inos = Vec::new();
    for agno in 0..geo.ag_count {
        let out = xfs_db(
            img,
            false,
            &[format!("agi {agno}"), "addr root".into(), "btdump".into()],
        );
        let mut cols: Vec<String> = Vec::new();
        for line in out.lines() {
            if let Some(rest) = line.strip_prefix("recs[") {
                let hdr = rest
                    .split(" = [")
                    .nth(1)
                    .unwrap()
                    .trim_end()
                    .trim_end_matches(']');
                cols = hdr.split(',').map(str::to_string).collect();
            } else if let Some((_, rec)) = line.split_once(":[") {
                let vals: Vec<&str> = rec.trim_end().trim_end_matches(']').split(',').collect();
                let get = |name: &str| {
                    let i = cols.iter().position(|c| c == name).unwrap();
                    let v = vals[i];
                    match v.strip_prefix("0x") {
                        Some(h) => u64::from_str_radix(h, 16).unwrap(),
                        None => v.parse::<u64>().unwrap(),
                    }
                };
                let start = get("startino");
                let free = get("free");
                let holemask = if cols.iter().any(|c| c == "holemask") {
                    get("holemask")
                } else {
                    0
                };
                for i in 0..64u64 {
                    let in_hole = holemask >> (i / 4) & 1 != 0;
                    if !in_hole && free >> i & 1 == 0 {
                        inos.push((u64::from(agno) << shift) | (start + i));
                    }
                }
            }
        }
    }
    assert!(!inos.is_empty(), "no inodes found in {}", img.display());
    inos
}

/// The inode number of `path` in the image, from xfs_db's `path` command.
fn ino_of(img: &Path, path: &str) -> u64 {
    let out = xfs_db(img, false, &[format!("path {path}"), "inode".into()]);
    out.trim()
        .strip_prefix("current inode number is ")
        .unwrap_or_else(|| panic!("path {path}: {out}"))
        .parse()
        .unwrap()
}

/// Drops the xfs_db lines this crate does not render (short-form directory and attribute
/// contents, see `UNRENDERED_FORK_PREFIXES`) and the CRC warning `inode N` prints before the
/// fields.
fn strip_unrendered_fork_content(lines: &[String]) -> Vec<String> {
    lines
        .iter()
        .filter(|l| !UNRENDERED_FORK_PREFIXES.iter().any(|p| l.starts_with(p)))
        .filter(|l| !l.starts_with("Metadata CRC error detected for ino"))
        .cloned()
        .collect()
}

/// Runs `inode N; print; bmap; bmap -a` for every inode in one xfs_db call and splits the
/// output per inode and command.
fn xfs_db_inodes(img: &Path, inos: &[u64], with_bmap: bool) -> BTreeMap<u64, [Vec<String>; 3]> {
    let mut cmds = Vec::new();
    for ino in inos {
        cmds.push(format!("echo ##{ino} print"));
        cmds.push(format!("inode {ino}"));
        cmds.push("print".into());
        if !with_bmap {
            continue;
        }
        cmds.push("echo ##bmap".into());
        cmds.push("bmap".into());
        cmds.push("echo ##bmap-a".into());
        cmds.push("bmap -a".into());
    }
    let out = xfs_db(img, false, &cmds);
    let mut map: BTreeMap<u64, [Vec<String>; 3]> = BTreeMap::new();
    let mut cur: Option<(u64, usize)> = None;
    for line in out.lines() {
        let t = line.trim_end();
        if let Some(rest) = t.strip_prefix("##") {
            cur = match rest {
                "bmap" => cur.map(|(i, _)| (i, 1)),
                "bmap-a" => cur.map(|(i, _)| (i, 2)),
                _ => Some((rest.split(' ').next().unwrap().parse().unwrap(), 0)),
            };
            continue;
        }
        let (ino, part) = cur.expect("output before the first marker");
        map.entry(ino).or_default()[part].push(line.to_string());
    }
    map
}

#[derive(Default)]
struct Stats {
    inodes: usize,
    lines: usize,
    bmap_lines: usize,
    btree_forks: usize,
    extent_forks: usize,
    attr_forks: usize,
}

fn compare_image(img: &Path, stats: &mut Stats) {
    let fs = Filesystem::open(FileSource::open(img).unwrap()).unwrap();
    let inos = allocated_inodes(img, &fs);
    let expected = xfs_db_inodes(img, &inos, true);
    for ino in &inos {
        let inode = fs.read_inode(*ino).unwrap();
        let [print, bmap, bmap_a] = &expected[ino];
        let want = strip_unrendered_fork_content(print);
        let got: Vec<String> = render_xfs_db(&inode.fields())
            .lines()
            .map(str::to_string)
            .collect();
        if got != want {
            let diff: Vec<String> = want
                .iter()
                .zip(got.iter().chain(std::iter::repeat(&String::new())))
                .filter(|(a, b)| a != b)
                .map(|(a, b)| format!("  xfs_db: {a}\n  ours:   {b}"))
                .collect();
            panic!(
                "{} inode {ino}: print differs ({} vs {} lines)\n{}\nfull ours:\n{}",
                img.display(),
                want.len(),
                got.len(),
                diff.join("\n"),
                got.join("\n")
            );
        }
        assert!(
            inode.checks.all_ok(),
            "inode {ino} checks {:?}",
            inode.checks
        );
        let got_bmap = fs.bmap_lines(&inode, false).unwrap();
        assert_eq!(
            &got_bmap,
            bmap,
            "{} inode {ino}: bmap differs",
            img.display()
        );
        let got_bmap_a = fs.bmap_lines(&inode, true).unwrap();
        assert_eq!(
            &got_bmap_a,
            bmap_a,
            "{} inode {ino}: bmap -a differs",
            img.display()
        );
        stats.inodes += 1;
        stats.lines += want.len();
        stats.bmap_lines += bmap.len() + bmap_a.len();
        if inode.data_fork.format == ForkFormat::Btree {
            stats.btree_forks += 1;
            // The BMBT walk must agree with the file's extent count and be clean.
            let root = match &inode.data_fork.data {
                xfs_format::bmap::ForkData::Btree(r) => r.clone(),
                _ => unreachable!(),
            };
            let walk = fs.bmbt_records(&root, *ino).unwrap();
            assert!(walk.findings.is_empty(), "inode {ino}: {:?}", walk.findings);
            assert_eq!(walk.records.len() as u64, inode.raw.data_extents());
        }
        if inode.data_fork.format == ForkFormat::Extents && inode.raw.data_extents() > 1 {
            stats.extent_forks += 1;
        }
        if inode.attr_fork.is_some() {
            stats.attr_forks += 1;
        }
    }
}

/// Adds attributes with xfs_db's expert mode (on our own fresh image): a short-form fork on
/// one file and an extents-format fork (a remote value) on two others. (xfs_db 6.1's
/// `attr_set` crashes on v4 filesystems, so this is for v5 images only.)
fn add_attrs(img: &Path) {
    let cmds = vec![
        format!("inode {}", ino_of(img, "/big")),
        "attr_set -r -v 20 short".to_string(),
        format!("inode {}", ino_of(img, "/small")),
        "attr_set -v 3000 big".into(),
        "attr_set -v 100 small".into(),
        format!("inode {}", ino_of(img, "/sub")),
        "attr_set -s -v 5000 big".into(),
    ];
    let out = xfs_db(img, true, &cmds);
    assert!(!out.contains("failed"), "attr_set failed: {out}");
}

#[test]
fn inodes_match_xfs_db() {
    let s = Scratch::new("cmp");
    let proto = write_proto(&s.0, 420);
    let configs: &[(&str, &[&str])] = &[
        (
            "v4.img",
            &["-m", "crc=0", "-i", "size=256", "-b", "size=1024"],
        ),
        (
            "v4-noftype.img",
            &["-m", "crc=0", "-n", "ftype=0", "-b", "size=1024"],
        ),
        ("v5.img", &["-b", "size=1024"]),
        ("v5-nobigtime.img", &["-m", "bigtime=0", "-b", "size=1024"]),
        ("v5-nrext64.img", &["-i", "nrext64=1", "-b", "size=1024"]),
        ("v5-2k.img", &["-i", "size=2048"]),
    ];
    let mut stats = Stats::default();
    for (name, opts) in configs {
        let img = mkfs(&s.0, name, opts, &proto);
        if name.starts_with("v5") {
            add_attrs(&img);
        }
        compare_image(&img, &mut stats);
    }
    eprintln!(
        "compared {} inodes, {} print lines, {} bmap lines; {} btree, {} multi-extent, {} attr forks",
        stats.inodes, stats.lines, stats.bmap_lines, stats.btree_forks, stats.extent_forks, stats.attr_forks
    );
    assert!(stats.btree_forks >= 4, "expected btree-format forks");
    assert!(stats.attr_forks >= 12, "expected attribute forks");
}

#[test]
fn forged_inodes_match_xfs_db() {
    // v1 inode, unwritten extent, a bad magic and unusual flags, forged with xfs_db -x on a
    // fresh v4 image (no CRCs to fix up).
    let s = Scratch::new("forge");
    let proto = write_proto(&s.0, 0);
    let img = mkfs(
        &s.0,
        "forge.img",
        &["-m", "crc=0", "-i", "size=256"],
        &proto,
    );
    let (a, b, c) = (
        ino_of(&img, "/small"),
        ino_of(&img, "/big"),
        ino_of(&img, "/sgid"),
    );
    let cmds: Vec<String> = vec![
        format!("inode {a}"),
        "write core.version 1".into(),
        format!("inode {b}"),
        "write u.bmx[0].extentflag 1".into(),
        "write core.flags 0x7fff".into(),
        "write core.size 0xfffffffffffffffb".into(),
        "write core.atime.sec 0xffffffff".into(),
        format!("inode {c}"),
        "write core.magic 0x4142".into(),
        "write core.format 9".into(),
        "write core.forkoff 3".into(),
        "write core.aformat 3".into(),
    ];
    xfs_db(&img, true, &cmds);
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let expected = xfs_db_inodes(&img, &[a, b, c], false);
    for ino in [a, b, c] {
        let inode = fs.read_inode(ino).unwrap();
        let want = strip_unrendered_fork_content(&expected[&ino][0]);
        let got: Vec<String> = render_xfs_db(&inode.fields())
            .lines()
            .map(str::to_string)
            .collect();
        assert_eq!(got, want, "forged inode {ino}");
    }
    assert!(!fs.read_inode(c).unwrap().checks.magic_ok);
    let recs: Vec<BmbtRec> = fs
        .fork_records(
            &fs.read_inode(b).unwrap(),
            xfs_format::bmap::WhichFork::Data,
        )
        .unwrap();
    assert!(recs[0].unwritten);
}

#[test]
fn inode_numbers_outside_the_filesystem_are_rejected() {
    let s = Scratch::new("range");
    let proto = write_proto(&s.0, 0);
    let img = mkfs(&s.0, "r.img", &[], &proto);
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let shift = u32::from(fs.geo.ag_blk_log) + u32::from(fs.geo.inopb_log);
    for bad in [u64::from(fs.geo.ag_count) << shift, u64::MAX] {
        assert!(
            matches!(fs.read_inode(bad), Err(Error::Corrupt { .. })),
            "inode {bad} accepted"
        );
    }
    assert!(fs.read_inode(fs.sb.raw.sb_rootino).is_ok());
}

fn sample_inode() -> (Vec<u8>, xfs_format::sb::Geometry) {
    let s = Scratch::new("sample");
    let proto = write_proto(&s.0, 420);
    let img = mkfs(&s.0, "s.img", &["-b", "size=1024"], &proto);
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    // The big directory: a btree-format data fork, so mutations hit the BMBT root.
    let inode = fs.read_inode(ino_of(&img, "/frag")).unwrap();
    assert_eq!(inode.data_fork.format, ForkFormat::Btree);
    let buf = inode.buf;
    (buf, fs.geo.clone())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_buffers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2100)) {
        let (_, geo) = SAMPLE.with(|s| s.clone());
        if let Ok(inode) = Inode::parse(&bytes, 131, &geo, 0) {
            let _ = render_xfs_db(&inode.fields());
        }
    }

    #[test]
    fn mutated_inodes_never_panic(
        edits in proptest::collection::vec((0usize..512, any::<u8>()), 1..24),
        cut in 0usize..600,
    ) {
        let (mut buf, geo) = SAMPLE.with(|s| s.clone());
        for (i, v) in edits {
            if let Some(b) = buf.get_mut(i) { *b = v; }
        }
        // Steer some mutations into the interesting formats.
        buf[5] %= 6;
        buf.truncate(cut.max(1).min(buf.len()));
        if let Ok(inode) = Inode::parse(&buf, 64, &geo, 0) {
            let _ = render_xfs_db(&inode.fields());
            let _ = xfs_format::bmap::map_with_holes(&inode.bmap_inline_records(xfs_format::bmap::WhichFork::Data));
        }
    }
}

thread_local! {
    static SAMPLE: (Vec<u8>, xfs_format::sb::Geometry) = sample_inode();
}

fn mkfs(dir: &Path, name: &str, opts: &[&str], proto: &Path) -> PathBuf {
    common::mkfs(dir, name, 64 << 20, opts, proto)
}
