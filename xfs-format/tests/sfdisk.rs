//! Partition tables written by the real `sfdisk` (Debian package `fdisk`) on sparse files must
//! be found by `list_partitions` at the byte offsets sfdisk was told.
//!
//! scripts/test.sh installs `sfdisk`; a missing tool is a failure, never a skip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

use std::io::Write;
use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use xfs_format::partition::{list_partitions, Scheme};
use xfs_format::FileSource;

const SECTOR: u64 = 512;

fn have_sfdisk() -> bool {
    let ok = Command::new("sfdisk")
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success());
    assert!(
        ok,
        "sfdisk not found: run scripts/test.sh (installs the Debian package `fdisk`)"
    );
    ok
}

/// A sparse 64 MiB file, removed on drop.
struct TempImage(PathBuf);

impl TempImage {
    fn new(tag: &str) -> Self {
        let path = std::env::temp_dir().join(format!(
            "xfs-format-sfdisk-{tag}-{}.img",
            std::process::id()
        ));
        let f = std::fs::File::create(&path).unwrap();
        f.set_len(64 << 20).unwrap();
        TempImage(path)
    }

    fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for TempImage {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn sfdisk(img: &Path, script: &str) {
    let mut child = Command::new("sfdisk")
        .args(["--quiet", "--no-reread", "--no-tell-kernel"])
        .arg(img)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sfdisk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// The `id` sfdisk reports for the table (the disk GUID for GPT).
fn sfdisk_id(img: &Path) -> String {
    let out = Command::new("sfdisk")
        .arg("--json")
        .arg(img)
        .output()
        .unwrap();
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["partitiontable"]["id"].as_str().unwrap().to_owned()
}

fn put_xfs_magic(img: &Path, sector: u64) {
    let f = std::fs::OpenOptions::new().write(true).open(img).unwrap();
    f.write_all_at(b"XFSB", sector * SECTOR).unwrap();
}

#[test]
fn finds_sfdisk_gpt() {
    if !have_sfdisk() {
        return;
    }
    let img = TempImage::new("gpt");
    sfdisk(
        img.path(),
        "label: gpt\n\
         start=2048, size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"xfs data\"\n\
         start=16384, size=4096, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\n",
    );
    put_xfs_magic(img.path(), 2048);

    let t = list_partitions(&FileSource::open(img.path()).unwrap()).unwrap();
    assert_eq!(t.scheme, Some(Scheme::Gpt));
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    let gpt = t.gpt.as_ref().unwrap();
    assert!(gpt.header_crc_ok && gpt.entries_crc_ok && !gpt.from_backup);
    assert_eq!(gpt.sector_size, 512);
    assert_eq!(gpt.disk_guid, sfdisk_id(img.path()));

    let got: Vec<_> = t
        .partitions
        .iter()
        .map(|p| (p.index, p.start, p.len, p.has_xfs, p.name.as_deref()))
        .collect();
    assert_eq!(
        got,
        [
            (1, 2048 * SECTOR, 8192 * SECTOR, true, Some("xfs data")),
            (2, 16384 * SECTOR, 4096 * SECTOR, false, None),
        ]
    );
    assert!(t.partitions[0].type_desc.ends_with("(Linux filesystem)"));
    assert!(t.partitions[1].type_desc.ends_with("(Linux swap)"));
}

#[test]
fn finds_sfdisk_mbr_with_logicals() {
    if !have_sfdisk() {
        return;
    }
    let img = TempImage::new("dos");
    sfdisk(
        img.path(),
        "label: dos\n\
         start=2048, size=4096, type=83\n\
         start=8192, size=40960, type=5\n\
         start=10240, size=8192, type=83\n\
         start=20480, size=4096, type=8e\n",
    );
    put_xfs_magic(img.path(), 10240);

    let t = list_partitions(&FileSource::open(img.path()).unwrap()).unwrap();
    assert_eq!(t.scheme, Some(Scheme::Mbr));
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    let got: Vec<_> = t
        .partitions
        .iter()
        .map(|p| (p.index, p.start, p.len, p.type_desc.as_str(), p.has_xfs))
        .collect();
    assert_eq!(
        got,
        [
            (1, 2048 * SECTOR, 4096 * SECTOR, "0x83 (Linux)", false),
            (2, 8192 * SECTOR, 40960 * SECTOR, "0x05 (Extended)", false),
            (5, 10240 * SECTOR, 8192 * SECTOR, "0x83 (Linux)", true),
            (6, 20480 * SECTOR, 4096 * SECTOR, "0x8e (Linux LVM)", false),
        ]
    );
}
