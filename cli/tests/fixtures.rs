//! Differential tests on the structure fixtures of testdata/ (made by scripts/make-fixtures.sh):
//!
//! - every allocated inode: `inode` and `bmap` (and `bmap -a`) output equal xfs_db's;
//! - every directory: the listing (names, inode numbers, file types) equals `xfs_db ls`;
//! - every per-AG btree: `btree` equals `xfs_db btdump`;
//! - every file of the manifest: type, mode, owner, size, content (sha256), symlink target,
//!   device numbers, link count and extended attributes equal what was put in;
//! - `extract` of the whole tree reproduces the manifest on disk, hard links included.
//!
//! Counts are printed (run with --nocapture) for the closing notes.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::os::unix::fs::{MetadataExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;
use sha2::{Digest, Sha256};
use xfs_format::bmap::WhichFork;
use xfs_format::files::ftype_name;
use xfs_format::{FileSource, Filesystem};

use common::{inspect_ok, sample, tempdir, testdata_zst, tool};

const FIXTURES: [&str; 3] = ["fixture-v5", "fixture-v4", "fixture-v5-live"];

/// Decompresses fixture `name` and its manifest into `dir`.
fn unpack(dir: &Path, name: &str) -> (PathBuf, Vec<Value>) {
    let img = sample(dir, name);
    let man = testdata_zst(&format!("{name}.manifest.json.zst"));
    (img, serde_json::from_slice(&man).unwrap())
}

/// Every fixture, unpacked into `dir` one after the other: (name, image, manifest, opened).
fn fixtures(
    dir: &Path,
) -> impl Iterator<Item = (&'static str, PathBuf, Vec<Value>, Filesystem<FileSource>)> + '_ {
    FIXTURES.into_iter().map(move |name| {
        let (img, manifest) = unpack(dir, name);
        let fs = open(&img);
        (name, img, manifest, fs)
    })
}

/// Runs xfs_db with commands on stdin (no argument-length limit) and returns stdout.
fn xfs_db_script(img: &Path, script: &str) -> String {
    let mut child = Command::new(tool("xfs_db"))
        .arg("-r")
        .arg(img)
        .env("TZ", "UTC")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let mut stdin = child.stdin.take().unwrap();
    let script = script.to_string();
    let writer = std::thread::spawn(move || stdin.write_all(script.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn open(img: &Path) -> Filesystem<FileSource> {
    Filesystem::open(FileSource::open(img).unwrap()).unwrap()
}

#[test]
fn every_inode_prints_and_maps_like_xfs_db() {
    let dir = tempdir();
    for (name, img, _, fs) in fixtures(dir.path()) {
        let inos = fs.allocated_inodes();
        let mut script = String::new();
        let mut ours = Vec::new();
        let (mut print_lines, mut bmap_lines, mut attr_bmaps) = (0, 0, 0);
        for &ino in &inos {
            let inode = fs.read_inode(ino).unwrap();
            script.push_str(&format!("inode {ino}\nprint\nbmap\n"));
            let p = inode.print_lines(fs.geo.has_ftype);
            print_lines += p.len();
            ours.extend(p.into_iter().map(|l| (ino, "print", l)));
            let b = fs.bmap_lines(&inode, false).unwrap();
            bmap_lines += b.len();
            ours.extend(b.into_iter().map(|l| (ino, "bmap", l)));
            if !fs.fork_records(&inode, WhichFork::Attr).unwrap().is_empty() {
                script.push_str("bmap -a\n");
                let a = fs.bmap_lines(&inode, true).unwrap();
                attr_bmaps += 1;
                ours.extend(a.into_iter().map(|l| (ino, "bmap -a", l)));
            }
        }
        let theirs = xfs_db_script(&img, &script);
        let theirs: Vec<&str> = theirs.lines().collect();
        for (i, (ino, what, line)) in ours.iter().enumerate() {
            let t = theirs.get(i).copied().unwrap_or("<missing>");
            assert_eq!(line, t, "{name}: inode {ino} {what}, output line {i}");
        }
        assert_eq!(ours.len(), theirs.len(), "{name}: xfs_db printed more");
        eprintln!(
            "{name}: {} inodes, {print_lines} print lines, {bmap_lines} bmap lines, {attr_bmaps} attr bmaps equal xfs_db",
            inos.len()
        );
        // The CLI prints what the library renders.
        let cli = inspect_ok(["inode", img.to_str().unwrap(), &fs.root_ino().to_string()]);
        let lib: String = fs
            .read_inode(fs.root_ino())
            .unwrap()
            .print_lines(fs.geo.has_ftype)
            .iter()
            .map(|l| format!("{l}\n"))
            .collect();
        assert_eq!(cli, lib);
    }
}

/// Parses `xfs_db ls` lines: (name, inode, type).
fn parse_ls(block: &str) -> Vec<(String, u64, String)> {
    block
        .lines()
        .filter_map(|l| {
            let mut it = l.split_whitespace();
            let _cookie = it.next()?;
            let ino: u64 = it.next()?.parse().ok()?;
            let ty = it.next()?.to_string();
            let _hash = it.next()?;
            let _len = it.next()?;
            let rest: Vec<&str> = it.collect();
            let name = rest.get(..rest.len().checked_sub(1)?)?.join(" ");
            Some((name, ino, ty))
        })
        .collect()
}

#[test]
fn every_directory_lists_like_xfs_db_ls() {
    let dir = tempdir();
    for (name, img, _, fs) in fixtures(dir.path()) {
        let mut stack = vec![("/".to_string(), fs.root_ino())];
        let mut dirs = Vec::new();
        let mut formats = BTreeMap::new();
        while let Some((path, ino)) = stack.pop() {
            let inode = fs.read_inode(ino).unwrap();
            let listing = fs.read_dir(&inode).unwrap();
            assert!(
                listing.findings.is_empty(),
                "{name} {path}: {:?}",
                listing.findings
            );
            *formats.entry(format!("{:?}", listing.format)).or_insert(0) += 1;
            for e in &listing.entries {
                if e.name == b"." || e.name == b".." {
                    continue;
                }
                if fs.read_inode(e.ino).unwrap().mode() & 0o170000 == 0o040000 {
                    let n = String::from_utf8(e.name.clone()).unwrap();
                    stack.push((format!("{}/{n}", path.trim_end_matches('/')), e.ino));
                }
            }
            dirs.push((path, listing));
        }
        let script: String = dirs.iter().map(|(p, _)| format!("ls {p}\n")).collect();
        let out = xfs_db_script(&img, &script);
        // Split the output at the "PATH:" header lines, which come in request order.
        let mut blocks = Vec::new();
        let mut cur: Option<String> = None;
        for line in out.lines() {
            if dirs.iter().any(|(p, _)| line == format!("{p}:")) && !line.starts_with(' ') {
                if let Some(c) = cur.take() {
                    blocks.push(c);
                }
                cur = Some(String::new());
            } else if let Some(c) = cur.as_mut() {
                c.push_str(line);
                c.push('\n');
            }
        }
        blocks.extend(cur);
        assert_eq!(
            blocks.len(),
            dirs.len(),
            "{name}: one ls block per directory"
        );
        let mut entries = 0;
        for ((path, listing), block) in dirs.iter().zip(&blocks) {
            let theirs = parse_ls(block);
            let ours: Vec<(String, u64, String)> = listing
                .entries
                .iter()
                .map(|e| {
                    let ty = if fs.geo.has_ftype || e.name == b"." || e.name == b".." {
                        ftype_name(e.ftype)
                    } else {
                        "unknown"
                    };
                    (
                        String::from_utf8_lossy(&e.name).into_owned(),
                        e.ino,
                        ty.to_string(),
                    )
                })
                .collect();
            // xfs_db shows `.`/`..` of shortform dirs as directories; compare their inodes only.
            let strip = |v: &[(String, u64, String)]| -> Vec<(String, u64, String)> {
                v.iter()
                    .map(|(n, i, t)| {
                        if n == "." || n == ".." {
                            (n.clone(), *i, String::new())
                        } else {
                            (n.clone(), *i, t.clone())
                        }
                    })
                    .collect()
            };
            assert_eq!(strip(&ours), strip(&theirs), "{name}: directory {path}");
            entries += ours.len();
        }
        eprintln!(
            "{name}: {} directories ({formats:?}), {entries} entries equal xfs_db ls",
            dirs.len()
        );
    }
}

#[test]
fn every_btree_dumps_like_xfs_db() {
    let dir = tempdir();
    for (name, img, _, fs) in fixtures(dir.path()) {
        let i = img.to_str().unwrap();
        let mut n = 0;
        for ag in 0..fs.geo.ag_count {
            for (tree, hdr, root, exists) in [
                ("bno", "agf", "bnoroot", true),
                ("cnt", "agf", "cntroot", true),
                ("ino", "agi", "root", true),
                ("fino", "agi", "free_root", fs.geo.has_finobt),
                ("rmap", "agf", "rmaproot", fs.geo.has_rmapbt),
                ("refc", "agf", "refcntroot", fs.geo.has_reflink),
            ] {
                if !exists {
                    continue;
                }
                let ours = inspect_ok(["btree", i, tree, &ag.to_string(), "--nodes"]);
                let theirs = xfs_db_script(&img, &format!("{hdr} {ag}\naddr {root}\nbtdump -i\n"));
                assert_eq!(ours, theirs, "{name} AG {ag} {tree}");
                n += 1;
            }
        }
        eprintln!("{name}: {n} btrees equal xfs_db btdump -i");
    }
}

fn sha(data: &[u8]) -> String {
    Sha256::digest(data)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

#[test]
fn every_file_matches_its_manifest() {
    let dir = tempdir();
    for (name, _img, manifest, fs) in fixtures(dir.path()) {
        let (mut files, mut bytes, mut links, mut xattrs) = (0, 0u64, 0, 0);
        let mut paths = BTreeSet::new();
        for e in &manifest {
            let path = e["path"].as_str().unwrap();
            paths.insert(path.to_string());
            let ino = fs
                .lookup(path, false)
                .unwrap_or_else(|err| panic!("{name} {path}: {err}"));
            let inode = fs.read_inode(ino).unwrap();
            let r = &inode.raw;
            assert_eq!(
                u64::from(r.di_mode),
                e["mode"].as_u64().unwrap(),
                "{name} {path} mode"
            );
            assert_eq!(
                u64::from(r.di_uid),
                e["uid"].as_u64().unwrap(),
                "{name} {path} uid"
            );
            assert_eq!(
                u64::from(r.di_gid),
                e["gid"].as_u64().unwrap(),
                "{name} {path} gid"
            );
            if let Some(i) = e.get("ino").and_then(Value::as_u64) {
                assert_eq!(ino, i, "{name} {path} ino");
            }
            if let Some(n) = e.get("nlink").and_then(Value::as_u64) {
                assert_eq!(u64::from(inode.nlink()), n, "{name} {path} nlink");
            }
            if let Some(want) = e.get("sha256").and_then(Value::as_str) {
                let mut data = Vec::new();
                fs.copy_data(&inode, &mut data).unwrap();
                assert_eq!(
                    data.len() as u64,
                    e["size"].as_u64().unwrap(),
                    "{name} {path} size"
                );
                assert_eq!(sha(&data), want, "{name} {path} content");
                files += 1;
                bytes += data.len() as u64;
            }
            if let Some(t) = e.get("target").and_then(Value::as_str) {
                assert_eq!(
                    fs.read_link(&inode).unwrap(),
                    t.as_bytes(),
                    "{name} {path} target"
                );
                links += 1;
            }
            if let Some(rdev) = e.get("rdev") {
                let xfs_format::bmap::ForkData::Dev(d) = inode.data_fork.data else {
                    panic!("{name} {path}: no device number");
                };
                let (ma, mi) = xfs_format::files::dev_numbers(d);
                assert_eq!(serde_json::json!([ma, mi]), *rdev, "{name} {path} rdev");
            }
            let (got, findings) = fs.read_xattrs(&inode).unwrap();
            assert!(findings.is_empty(), "{name} {path}: {findings:?}");
            let got: BTreeMap<String, String> = got
                .iter()
                .filter(|a| !a.incomplete)
                .map(|a| {
                    (
                        format!(
                            "{}{}",
                            a.namespace.prefix(),
                            String::from_utf8_lossy(&a.name)
                        ),
                        sha(&a.value),
                    )
                })
                .collect();
            let want: BTreeMap<String, String> = e
                .get("xattrs")
                .and_then(Value::as_object)
                .map(|o| {
                    o.iter()
                        .map(|(k, v)| (k.clone(), v.as_str().unwrap().to_string()))
                        .collect()
                })
                .unwrap_or_default();
            // The kernel may add attributes of its own (e.g. security labels); all we put
            // in must be there with the same value.
            for (k, v) in &want {
                assert_eq!(got.get(k), Some(v), "{name} {path} xattr {k}");
            }
            xattrs += want.len();
        }
        eprintln!(
            "{name}: {} manifest entries; {files} files ({bytes} bytes), {links} symlinks, {xattrs} xattrs equal the manifest",
            manifest.len()
        );
    }
}

#[test]
fn extract_reproduces_the_live_tree() {
    let dir = tempdir();
    let (img, manifest) = unpack(dir.path(), "fixture-v5-live");
    let dest = dir.path().join("out");
    let out = inspect_ok([
        "extract",
        img.to_str().unwrap(),
        "/",
        dest.to_str().unwrap(),
    ]);
    assert!(out.starts_with("extracted "), "{out}");
    let mut first_of_ino: BTreeMap<u64, u64> = BTreeMap::new();
    for e in &manifest {
        let path = e["path"].as_str().unwrap();
        let p = dest.join(path.trim_start_matches('/'));
        let m = std::fs::symlink_metadata(&p).unwrap_or_else(|err| panic!("{path}: {err}"));
        let mode = e["mode"].as_u64().unwrap() as u32;
        assert_eq!(m.mode() & 0o170000, mode & 0o170000, "{path} type");
        if mode & 0o170000 != 0o120000 {
            assert_eq!(
                m.permissions().mode() & 0o7777,
                mode & 0o7777,
                "{path} perms"
            );
        }
        if let Some(want) = e.get("sha256").and_then(Value::as_str) {
            assert_eq!(sha(&std::fs::read(&p).unwrap()), want, "{path} content");
            if mode & 0o170000 == 0o100000 {
                assert_eq!(
                    m.mtime(),
                    {
                        let fs = open(&img);
                        let i = fs.read_inode(fs.lookup(path, false).unwrap()).unwrap();
                        i.mtime().sec
                    },
                    "{path} mtime"
                );
            }
        }
        if let Some(t) = e.get("target").and_then(Value::as_str) {
            assert_eq!(
                std::fs::read_link(&p).unwrap().to_str().unwrap(),
                t,
                "{path} target"
            );
        }
        // Hard links stay hard links.
        let ino = e["ino"].as_u64().unwrap();
        if mode & 0o170000 != 0o040000 {
            let local = m.ino();
            let prev = *first_of_ino.entry(ino).or_insert(local);
            assert_eq!(prev, local, "{path}: hard link not preserved");
        }
    }
    // Refuses to overwrite without --force.
    let again = common::inspect([
        "extract",
        img.to_str().unwrap(),
        "/",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(again.status.code(), Some(2));
}
