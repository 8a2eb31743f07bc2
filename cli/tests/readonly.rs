//! Every subcommand, on v4 and v5 images, leaves the image's bytes and mtime unchanged; and
//! bad input gives one line on stderr and exit status 2.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::path::Path;

use common::{inspect, mkfs, tempdir};

fn all_invocations(img: &Path) -> Vec<Vec<String>> {
    let i = img.to_str().unwrap().to_string();
    let mut v: Vec<Vec<&str>> = vec![
        vec!["info"],
        vec!["info", "--json"],
        vec!["sb"],
        vec!["sb", "--ag", "1"],
        vec!["sb", "--ag", "3", "--json"],
        vec!["agf", "0"],
        vec!["agf", "2", "--json"],
        vec!["agi", "1"],
        vec!["agi", "3", "--json"],
        vec!["agfl", "0"],
        vec!["agfl", "1", "--json"],
        vec!["block", "--daddr", "0"],
        vec!["block", "--fsb", "1", "--count", "2"],
        vec!["block", "--agbno", "1/0", "--json"],
        vec!["partitions"],
        vec!["btree", "bno", "0"],
        vec!["btree", "ino", "1", "--nodes"],
        vec!["btree", "cnt", "2", "--json"],
    ];
    let mut out = Vec::new();
    for mmap in [false, true] {
        for args in &mut v {
            let mut a: Vec<String> = vec![args[0].to_string(), i.clone()];
            a.extend(args[1..].iter().map(|s| s.to_string()));
            if mmap {
                a.push("--no-mmap".into());
            }
            out.push(a);
        }
    }
    out
}

/// Runs the binary with `args`, which must succeed and print something.
fn succeeds_with_output<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(args: &[S]) {
    let out = inspect(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(!out.stdout.is_empty(), "{args:?} printed nothing");
}

#[test]
fn every_subcommand_leaves_the_image_unchanged() {
    let dir = tempdir();
    for (name, args) in [
        (
            "v5.img",
            vec!["-m", "crc=1,rmapbt=1,reflink=1", "-d", "agcount=4"],
        ),
        (
            "v4.img",
            vec!["-m", "crc=0", "-d", "agcount=4", "-b", "size=1024"],
        ),
    ] {
        let img = dir.path().join(name);
        let args: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        mkfs(&img, 64 << 20, &args).unwrap();
        let before = std::fs::read(&img).unwrap();
        let mtime = std::fs::metadata(&img).unwrap().modified().unwrap();
        for inv in all_invocations(&img) {
            succeeds_with_output(&inv);
        }
        assert_eq!(
            std::fs::metadata(&img).unwrap().modified().unwrap(),
            mtime,
            "{name}: mtime changed"
        );
        assert!(
            std::fs::read(&img).unwrap() == before,
            "{name}: bytes changed"
        );
    }
}

/// Runs a failing invocation: exit 2, one line on stderr, nothing on stdout, no panic text.
fn fails(args: &[&str]) -> String {
    let out = inspect(args);
    let err = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(
        out.status.code(),
        Some(2),
        "{args:?}: status {}, stderr {err}",
        out.status
    );
    assert!(
        !err.contains("panicked") && !err.contains("internal error"),
        "{args:?}: {err}"
    );
    if err.starts_with("xfs-inspect: ") {
        assert_eq!(err.trim_end().lines().count(), 1, "{args:?}: {err}");
    } else {
        // Usage errors come from clap: an `error:` line and a pointer to --help.
        assert!(
            err.starts_with("error:") || err.contains("Usage:"),
            "{args:?}: {err}"
        );
    }
    err
}

#[test]
fn bad_input_is_one_line_and_exit_2() {
    let dir = tempdir();
    let img = dir.path().join("fs.img");
    mkfs(&img, 64 << 20, &["-d".into(), "agcount=4".into()]).unwrap();
    let i = img.to_str().unwrap();

    let e = fails(&["info", "/nonexistent/image"]);
    assert!(e.contains("cannot open /nonexistent/image"), "{e}");

    let junk = dir.path().join("junk.img");
    std::fs::write(&junk, vec![0x5au8; 8192]).unwrap();
    let e = fails(&["info", junk.to_str().unwrap()]);
    assert!(
        e.contains("no XFS superblock at byte 0: magic 0x5a5a5a5a"),
        "{e}"
    );
    let e = fails(&["info", i, "--offset", "4096"]);
    assert!(e.contains("no XFS superblock at byte 4096"), "{e}");

    let tiny = dir.path().join("tiny.img");
    std::fs::write(&tiny, b"XFSB").unwrap();
    let e = fails(&["sb", tiny.to_str().unwrap()]);
    assert!(e.contains("truncated"), "{e}");

    // Only the first AG survives: later AG headers are past the end.
    let trunc = dir.path().join("trunc.img");
    let bytes = std::fs::read(&img).unwrap();
    std::fs::write(&trunc, &bytes[..1 << 20]).unwrap();
    let t = trunc.to_str().unwrap();
    let e = fails(&["agf", t, "2"]);
    assert!(e.contains("image truncated: needs bytes"), "{e}");
    let ok = inspect(["agf", t, "0"]);
    assert!(ok.status.success());
    let info = inspect(["info", t]);
    assert!(String::from_utf8_lossy(&info.stdout).contains("warning: the image has 1048576 bytes"));

    let e = fails(&["agf", i, "4"]);
    assert!(
        e.contains("AG 4 does not exist: the filesystem has 4 AGs"),
        "{e}"
    );
    let e = fails(&["block", i, "--agbno", "x/1"]);
    assert!(e.contains("--agbno expects AG/BLOCK"), "{e}");
    let e = fails(&["block", i, "--fsb", "99999999999"]);
    assert!(e.contains("outside the filesystem"), "{e}");
    let e = fails(&["block", i, "--daddr", "999999999"]);
    assert!(e.contains("truncated"), "{e}");
    fails(&["block", i]);
    fails(&["agf", i, "notanumber"]);
    fails(&["sb", i, "--bogus"]);
    fails(&[]);
    let e = fails(&["info", dir.path().to_str().unwrap()]);
    assert!(e.contains("is a directory"), "{e}");

    // Newer kernels' incompatible features are refused by name, never misread.
    let newer = dir.path().join("newer.img");
    let mut b = bytes.clone();
    b[218] |= 0x01; // features_incompat (bytes 216..220, big-endian) |= 0x100: metadir
    b[219] |= 0x80; // |= 0x80: parent pointers
    std::fs::write(&newer, &b).unwrap();
    let e = fails(&["sb", newer.to_str().unwrap()]);
    assert!(
        e.contains("incompatible feature 0x180 (parent, metadir)"),
        "{e}"
    );

    // Absurd geometry names the offending field.
    let absurd = dir.path().join("absurd.img");
    let mut b = bytes.clone();
    b[4..8].copy_from_slice(&3000u32.to_be_bytes()); // sb_blocksize
    std::fs::write(&absurd, &b).unwrap();
    let e = fails(&["info", absurd.to_str().unwrap()]);
    assert!(e.contains("blocksize = 3000"), "{e}");
}

#[test]
fn help_teaches() {
    let out = inspect(["--help"]);
    assert!(out.status.success());
    let h = String::from_utf8_lossy(&out.stdout);
    for word in [
        "read-only",
        "info",
        "sb",
        "agf",
        "agi",
        "agfl",
        "block",
        "partitions",
        "Exit status",
    ] {
        assert!(h.contains(word), "--help lacks {word}");
    }
    let out = inspect(["block", "--help"]);
    assert!(String::from_utf8_lossy(&out.stdout).contains("--agbno"));
    // Each subcommand's one-line summary names what it does.
    for (sub, word) in [
        ("check", "xfs_repair -n"),
        ("log", "log"),
        ("inode", "inode"),
        ("ls", "directory"),
        ("extract", "Copy"),
        ("timeline", "timestamps"),
    ] {
        let line = h
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{sub} ")))
            .unwrap_or_else(|| panic!("--help lists no {sub}"));
        assert!(line.contains(word), "{sub}: {line}");
        let out = inspect([sub, "--help"]);
        assert!(out.status.success(), "{sub} --help");
    }
}

#[test]
fn browse_commands_leave_the_image_unchanged() {
    let dir = tempdir();
    let img = common::sample(dir.path(), "fixture-v5-live");
    let i = img.to_str().unwrap();
    let before = std::fs::read(&img).unwrap();
    let mtime = std::fs::metadata(&img).unwrap().modified().unwrap();
    let dest = dir.path().join("out");
    let d = dest.to_str().unwrap();
    let runs: Vec<Vec<&str>> = vec![
        vec!["inode", i, "128"],
        vec!["inode", i, "132", "--json"],
        vec!["bmap", i, "136"],
        vec!["bmap", i, "133", "--attr", "--json"],
        vec!["ls", i, "-lRa"],
        vec!["ls", i, "/xattr", "--json", "-l"],
        vec!["ls", i, "--inode", "128"],
        vec!["stat", i, "/hard/a"],
        vec!["stat", i, "--inode", "137", "--json"],
        vec!["readlink", i, "/links/remote"],
        vec!["readlink", i, "/links/short", "--json"],
        vec!["getfattr", i, "/xattr/node"],
        vec!["getfattr", i, "/xattr/remote", "-n", "trusted.t"],
        vec!["getfattr", i, "/xattr/leaf", "--json"],
        vec!["cat", i, "/reflink/clone"],
        vec!["cat", i, "/frag/sparse", "--json", "--no-mmap"],
        vec!["timeline", i],
        vec!["timeline", i, "--bodyfile"],
        vec!["timeline", i, "--json"],
        vec!["extract", i, "/", d],
        vec!["extract", i, "--inode", "132", "--force", d],
    ];
    for args in runs {
        succeeds_with_output(&args);
    }
    assert_eq!(std::fs::metadata(&img).unwrap().modified().unwrap(), mtime);
    assert!(std::fs::read(&img).unwrap() == before, "bytes changed");
    // Errors name the problem in one line.
    for (args, msg) in [
        (vec!["cat", i, "/nope"], "/nope: no such file or directory"),
        (vec!["cat", i, "/xattr"], "/xattr: is a directory"),
        (vec!["ls", i, "/hard/a/x"], "/hard/a/x: not a directory"),
        (
            vec!["readlink", i, "/hard/a"],
            "/hard/a: not a symbolic link",
        ),
        (
            vec!["getfattr", i, "/xattr/sf", "-n", "user.none"],
            "no such attribute",
        ),
        (
            vec!["inode", i, "99999999999"],
            "inode number 99999999999 is outside the filesystem",
        ),
    ] {
        let out = inspect(&args);
        let err = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
        assert!(
            err.contains(msg) && err.lines().count() == 1,
            "{args:?}: {err}"
        );
    }
}
