//! Whole-disk images: an XFS inside a GPT or MBR partition is found, listed and opened with
//! `--partition N`, and `--offset` reaches the same bytes; the output equals xfs_db's on the
//! bare filesystem.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::process::{Command, Stdio};

use common::{inspect, inspect_ok, mkfs, tempdir, tool, xfs_db};

/// Writes a partition table with sfdisk (`script` in sfdisk's input format) on `disk`.
fn sfdisk(disk: &std::path::Path, script: &str) {
    let mut child = Command::new(tool("sfdisk"))
        .arg("--quiet")
        .arg(disk)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    assert!(child.wait().unwrap().success());
}

#[test]
fn xfs_in_gpt_and_mbr_partitions() {
    let dir = tempdir();
    let fsimg = dir.path().join("fs.img");
    mkfs(&fsimg, 64 << 20, &["-d".into(), "agcount=4".into()]).unwrap();
    let fsbytes = std::fs::read(&fsimg).unwrap();
    let want_sb = xfs_db(&fsimg, &["sb 2".into(), "print".into()]);
    let want_info = xfs_db(&fsimg, &["info".into()]);

    for (label, script, part, start_sector) in [
        ("gpt", "label: gpt\nstart=2048, size=16384, type=L\nstart=18432, size=131072, type=L, name=\"data\"\n", 2u32, 18432u64),
        ("dos", "label: dos\nstart=2048, size=131072, type=83\n", 1, 2048),
    ] {
        let disk = dir.path().join(format!("{label}.disk"));
        let f = std::fs::File::create(&disk).unwrap();
        f.set_len(96 << 20).unwrap();
        drop(f);
        sfdisk(&disk, script);
        let f = std::fs::OpenOptions::new().write(true).open(&disk).unwrap();
        f.write_all_at(&fsbytes, start_sector * 512).unwrap();
        drop(f);
        let d = disk.to_str().unwrap();

        let list = inspect_ok(["partitions", d]);
        assert!(list.contains(if label == "gpt" { "GPT" } else { "MBR" }), "{list}");
        let row = list
            .lines()
            .find(|l| l.trim_start().starts_with(&format!("{part} ")))
            .unwrap_or_else(|| panic!("no partition {part} in\n{list}"));
        assert!(row.contains(&(start_sector * 512).to_string()) && row.contains("yes"), "{row}");

        // Without a choice the whole disk is refused, naming the XFS partition.
        let out = inspect(["info", d]);
        assert_eq!(out.status.code(), Some(2));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(&format!("XFS found in partition {part}")), "{err}");

        let p = part.to_string();
        let off = (start_sector * 512).to_string();
        let sb_part = inspect_ok(["sb", d, "--ag", "2", "--partition", &p]);
        let sb_off = inspect_ok(["sb", d, "--ag", "2", "--offset", &off]);
        assert_eq!(sb_part, want_sb);
        assert_eq!(sb_off, want_sb);
        let info = inspect_ok(["info", d, "--partition", &p]);
        // xfs_db names the image; the rest of the report must be identical.
        let body = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
        assert_eq!(body(&info), body(&want_info));

        let out = inspect(["info", d, "--partition", "9"]);
        assert_eq!(out.status.code(), Some(2));
        assert!(String::from_utf8_lossy(&out.stderr).contains("no partition 9"));
    }
}
