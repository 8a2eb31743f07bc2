//! Failing disks, truncated copies, live filesystems and compressed images.
//!
//! A clean image (testdata/readerr-v5, 4 KiB sectors) is served through FUSE by
//! scripts/eio-fuse.py with three unreadable ranges found with xfs_db (the oracle): the AGF of
//! AG 2, the inode cluster of a file of /dir1 and block 0 of the block directory /dir3. It is
//! read through the memory map (the default), with `--no-mmap` and through a read-only loop
//! device over the FUSE file. `check --format json` must exit 1 (not by a signal), report
//! each range by a read_error whose offset/length overlaps it and no read error elsewhere,
//! and leave no finding unexplained. The same for a copy cut at 20 MB. A mounted copy draws
//! the live-filesystem warning naming its mount point, and `info` of the .zst of an empty
//! 3 GiB filesystem stays under 100 MiB of RSS.
//!
//! Needs root, /dev/fuse and python3-fusepy (scripts/test.sh installs it).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output};
use std::time::{Duration, Instant};

use common::{inspect, tempdir, testdata, testdata_zst, xfs_db};
use serde_json::Value;

/// A FUSE mount of scripts/eio-fuse.py, unmounted when dropped.
struct Fuse {
    mnt: tempfile::TempDir,
    child: Child,
}

impl Fuse {
    fn serve(backing: &Path, bad: &[(u64, u64)]) -> Fuse {
        let mnt = tempdir();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/eio-fuse.py");
        let child = Command::new("/usr/bin/python3")
            .arg(script)
            .arg(backing)
            .arg(mnt.path())
            .args(bad.iter().map(|(o, l)| format!("{o}:{l}")))
            .spawn()
            .unwrap();
        let me = Fuse { mnt, child };
        let t = Instant::now();
        while !me.image().exists() {
            assert!(
                t.elapsed() < Duration::from_secs(20),
                "the FUSE helper did not come up (python3-fusepy missing? scripts/test.sh installs it)"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        me
    }

    fn image(&self) -> PathBuf {
        self.mnt.path().join("image")
    }
}

impl Drop for Fuse {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.mnt.path()).status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A read-only loop device over a file, detached when dropped.
struct Loop(String);

impl Loop {
    fn attach(file: &Path, read_only: bool) -> Loop {
        let mut c = Command::new("losetup");
        if read_only {
            c.arg("-r");
        }
        let out = c.args(["-f", "--show"]).arg(file).output().unwrap();
        assert!(
            out.status.success(),
            "losetup: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        Loop(String::from_utf8(out.stdout).unwrap().trim().to_string())
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = Command::new("losetup").args(["-d", &self.0]).status();
    }
}

/// A mount of a device on a fresh directory, unmounted when dropped (before its loop device).
struct Mounted {
    dir: tempfile::TempDir,
    _dev: Loop,
}

impl Drop for Mounted {
    fn drop(&mut self) {
        let _ = Command::new("umount").arg(self.dir.path()).status();
    }
}

fn decompress(dir: &Path, name: &str) -> PathBuf {
    let p = dir.join(format!("{name}.img"));
    std::fs::write(&p, testdata_zst(&format!("{name}.img.zst"))).unwrap();
    p
}

/// (byte offset, length) of what xfs_db's `stack` shows after `cmds`: the buffer.
fn buffer_of(img: &Path, cmds: &[&str]) -> (u64, u64) {
    let mut c: Vec<String> = cmds.iter().map(|s| s.to_string()).collect();
    c.push("stack".into());
    let out = xfs_db(img, &c);
    // "buffer block 65544 (fsbno 8193), 8 bbs"
    let line = out
        .lines()
        .find(|l| l.trim().starts_with("buffer block"))
        .unwrap_or_else(|| panic!("xfs_db {cmds:?}: {out}"));
    let words: Vec<&str> = line.split_whitespace().collect();
    let daddr: u64 = words[2].parse().unwrap();
    let bbs: u64 = words[words.len() - 2].parse().unwrap();
    (daddr * 512, bbs * 512)
}

fn overlaps(a: (u64, u64), b: (u64, u64)) -> bool {
    a.0 < b.0 + b.1 && b.0 < a.0 + a.1
}

fn json_lines(out: &Output) -> Vec<Value> {
    String::from_utf8_lossy(&out.stdout)
        .lines()
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
        .collect()
}

/// `check --format json` with `extra`: exit 1 (not a signal), every range in `bad` overlapped
/// by a read error, every read error inside `bad`, every other finding explained. Returns
/// the findings.
fn check_reports(image: &Path, extra: &[&str], bad: &[(u64, u64)], how: &str) -> Vec<Value> {
    let mut args = vec!["check".to_string(), image.display().to_string()];
    args.extend(["--format", "json"].map(String::from));
    args.extend(extra.iter().map(|s| s.to_string()));
    let out = inspect(&args);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{how}: check must exit 1 (status {:?}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    let findings = json_lines(&out);
    let reads: Vec<(u64, u64)> = findings
        .iter()
        .filter(|f| f["kind"] == "read_error")
        .map(|f| {
            assert_eq!(f["class"], "read_error", "{how}: {f}");
            (f["offset"].as_u64().unwrap(), f["length"].as_u64().unwrap())
        })
        .collect();
    for r in bad {
        assert!(
            reads.iter().any(|x| overlaps(*x, *r)),
            "{how}: no read_error overlaps the unreadable range {r:?}; read errors: {reads:?}"
        );
    }
    for x in &reads {
        assert!(
            bad.iter().any(|r| overlaps(*x, *r)),
            "{how}: read_error {x:?} outside the unreadable ranges {bad:?}"
        );
    }
    let unexplained: Vec<&Value> = findings
        .iter()
        .filter(|f| f["class"] != "read_error" && f["explained_by_read_error"] != true)
        .collect();
    assert!(
        unexplained.is_empty(),
        "{how}: findings left unexplained: {unexplained:#?}"
    );
    findings
}

#[test]
fn unreadable_ranges_are_located_findings() {
    let dir = tempdir();
    let img = decompress(dir.path(), "readerr-v5");
    let agf = buffer_of(&img, &["agf 2"]);
    let cluster = buffer_of(&img, &["path /dir1/file-with-a-longish-name-040"]);
    let dirblk = buffer_of(&img, &["path /dir3", "dblock 0"]);
    let bad = [agf, cluster, dirblk];
    let before = std::fs::read(&img).unwrap();
    let fuse = Fuse::serve(&img, &bad);
    let image = fuse.image();

    // The memory map is the default for browse commands; check reads with pread.
    let f = check_reports(&image, &[], &bad, "FUSE file");
    let agf_err = f
        .iter()
        .find(|x| x["kind"] == "read_error" && overlaps((x["offset"].as_u64().unwrap(), 1), agf))
        .unwrap();
    assert_eq!(agf_err["ag"], 2);
    assert!(
        agf_err["what"].as_str().unwrap().contains("AGF of AG 2"),
        "{agf_err}"
    );
    let texts: Vec<&str> = f
        .iter()
        .filter(|x| x["kind"] == "read_error")
        .map(|x| x["what"].as_str().unwrap())
        .collect();
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("inode cluster of inodes")),
        "{texts:?}"
    );
    assert!(
        texts
            .iter()
            .any(|t| t.starts_with("directory ") && t.ends_with("block 0")),
        "{texts:?}"
    );
    check_reports(&image, &["--no-mmap"], &bad, "FUSE file, --no-mmap");
    {
        let dev = Loop::attach(&image, true);
        check_reports(
            Path::new(&dev.0),
            &[],
            &bad,
            "loop device over the FUSE file",
        );
        let out = inspect(["ls", &dev.0, "/dir3"]);
        assert_eq!(out.status.code(), Some(1), "ls on the loop device: {out:?}");
    }

    // `--format repair`: the read errors in one block of their own, then xfs_repair's lines.
    let out = inspect(["check", image.to_str().unwrap(), "--format", "repair"]);
    assert_eq!(out.status.code(), Some(1));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.starts_with("read errors"), "{text}");
    assert!(
        text.contains(&format!("read error at bytes {}..{}", agf.0, agf.0 + agf.1)),
        "{text}"
    );

    // Browse commands through the memory map: one clear line, no signal.
    for (args, what) in [
        (vec!["ls", "/dir3"], "/dir3: directory block 0"),
        (vec!["ls", "-R", "/"], "/dir3: directory block 0"),
    ] {
        let mut a = vec![args[0], image.to_str().unwrap()];
        a.extend(&args[1..]);
        let out = inspect(&a);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(1), "{a:?}: {err}");
        let line = err
            .lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("{a:?}: {err}"));
        assert!(
            line.contains(&format!("bytes {}..{}", dirblk.0, dirblk.0 + dirblk.1)),
            "{line}"
        );
        assert!(!err.contains('{'), "a Debug rendering: {err}");
    }
    // cat of a file whose inode is unreadable: one line naming the path and the range.
    let out = inspect([
        "cat",
        image.to_str().unwrap(),
        "/dir1/file-with-a-longish-name-040",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.code().is_some(), "cat ended by a signal");
    assert!(
        err.contains("/dir1/file-with-a-longish-name-040") && err.contains("bytes "),
        "{err}"
    );
    assert!(err.contains("inode ") && err.lines().count() == 1, "{err}");
    // A lookup through an unreadable directory block says so, instead of "not found".
    let out = inspect([
        "stat",
        image.to_str().unwrap(),
        "/dir3/file-with-a-longish-name-000",
    ]);
    let err = String::from_utf8_lossy(&out.stderr);
    let range = format!("bytes {}..{}", dirblk.0, dirblk.0 + dirblk.1);
    assert!(
        err.contains("directory /dir3") && err.contains(&range),
        "{err}"
    );
    // extract goes on with the rest and exits 1.
    let dest = dir.path().join("out");
    let out = inspect([
        "extract",
        image.to_str().unwrap(),
        "/",
        dest.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "extract: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(dest.join("dir0/file-with-a-longish-name-000").is_file());
    assert!(dest.join("dir2/file-with-a-longish-name-059").is_file());
    let readable = std::fs::read(dest.join("dir0/file-with-a-longish-name-005")).unwrap();
    assert_eq!(readable.len(), 3000);
    drop(fuse);
    assert!(std::fs::read(&img).unwrap() == before, "the image changed");
}

#[test]
fn truncated_copy_is_a_read_error() {
    let dir = tempdir();
    let img = decompress(dir.path(), "readerr-v5");
    let full = std::fs::metadata(&img).unwrap().len();
    let cut = 20_000_000u64;
    let short = dir.path().join("short.img");
    let bytes = std::fs::read(&img).unwrap();
    std::fs::write(&short, &bytes[..cut as usize]).unwrap();
    let missing = [(cut, full - cut)];
    let f = check_reports(&short, &[], &missing, "truncated copy");
    assert_eq!(
        f[0]["kind"], "image_truncated",
        "says first that the image is short"
    );
    assert_eq!(f[0]["missing"], full - cut);
}

#[test]
fn mounted_filesystem_draws_a_warning() {
    let dir = tempdir();
    let img = decompress(dir.path(), "readerr-v5");
    let mnt = {
        let dev = Loop::attach(&img, false);
        let d = tempdir();
        let st = Command::new("mount")
            .args(["-t", "xfs", &dev.0])
            .arg(d.path())
            .status()
            .unwrap();
        assert!(st.success(), "mount");
        Mounted { dir: d, _dev: dev }
    };
    let point = mnt.dir.path().display().to_string();
    for target in [img.display().to_string(), mnt._dev.0.clone()] {
        let out = inspect(["info", &target]);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "info {target}: {err}");
        assert!(
            err.contains("mounted read-write at")
                && err.contains(&point)
                && err.contains("--replay-log"),
            "info {target}: {err}"
        );
    }
    drop(mnt);
    let out = inspect(["info", img.to_str().unwrap()]);
    assert!(!String::from_utf8_lossy(&out.stderr).contains("mounted"));
}

#[test]
fn compressed_image_in_bounded_memory() {
    let zst = testdata("empty-3g.img.zst");
    let bin = env!("CARGO_BIN_EXE_xfs-inspect");
    let out = Command::new("/usr/bin/time")
        .arg("-v")
        .arg(bin)
        .args(["info", "--json"])
        .arg(&zst)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(info["filesystem_size"], 3_221_225_472u64, "{info}");
    let rss_kib: u64 = err
        .lines()
        .find_map(|l| {
            l.trim()
                .strip_prefix("Maximum resident set size (kbytes): ")
        })
        .unwrap()
        .parse()
        .unwrap();
    assert!(rss_kib < 100 * 1024, "info took {rss_kib} KiB of RSS");
    // No space for the copy: a clear error, exit 2.
    let out = inspect([
        "info",
        zst.to_str().unwrap(),
        "--tmpdir",
        "/nonexistent-dir",
    ]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--tmpdir"));
}
