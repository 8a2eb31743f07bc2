//! Whole-disk images. Partition tables written by the real `sfdisk` on sparse files are found
//! by `list_partitions` at the byte offsets sfdisk was told; an XFS inside a GPT or MBR
//! partition is found, listed and opened with `--partition N`, and `--offset` reaches the same
//! bytes; the output equals xfs_db's on the bare filesystem.
//!
//! scripts/test.sh installs `sfdisk` (Debian package `fdisk`); a missing tool is a failure,
//! never a skip.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};

use xfs_format::FileSource;
use xfs_inspect::partition::{list_partitions, PartitionTable, Scheme};

use common::{inspect, inspect_ok, mkfs, run_tool, sfdisk, tempdir, xfs_db};

const SECTOR: u64 = 512;

/// The `id` sfdisk reports for the table (the disk GUID for GPT).
fn sfdisk_id(img: &Path) -> String {
    let out = run_tool("sfdisk", ["--json".as_ref(), img.as_os_str()]);
    assert!(out.status.success());
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    v["partitiontable"]["id"].as_str().unwrap().to_owned()
}

/// A 64 MiB disk with the partition table sfdisk writes from `script` and an XFS superblock
/// magic at `xfs_sector`, and what `list_partitions` finds on it.
fn sfdisk_table(
    label: &str,
    script: &str,
    xfs_sector: u64,
) -> (tempfile::TempDir, PathBuf, PartitionTable) {
    let dir = tempdir();
    let img = dir.path().join(format!("{label}.disk"));
    sfdisk(&img, 64 << 20, script);
    let f = std::fs::OpenOptions::new().write(true).open(&img).unwrap();
    f.write_all_at(b"XFSB", xfs_sector * SECTOR).unwrap();
    let t = list_partitions(&FileSource::open(&img).unwrap()).unwrap();
    (dir, img, t)
}

#[test]
fn lists_sfdisk_gpt() {
    let (_dir, img, t) = sfdisk_table(
        "gpt",
        "label: gpt\n\
         start=2048, size=8192, type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name=\"xfs data\"\n\
         start=16384, size=4096, type=0657FD6D-A4AB-43C4-84E5-0933C84B4F4F\n",
        2048,
    );
    assert_eq!(t.scheme, Some(Scheme::Gpt));
    assert!(t.notes.is_empty(), "{:?}", t.notes);
    let gpt = t.gpt.as_ref().unwrap();
    assert!(gpt.header_crc_ok && gpt.entries_crc_ok && !gpt.from_backup);
    assert_eq!(gpt.sector_size, 512);
    assert_eq!(gpt.disk_guid, sfdisk_id(&img));

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
fn lists_sfdisk_mbr_with_logicals() {
    let (_dir, _img, t) = sfdisk_table(
        "dos",
        "label: dos\n\
         start=2048, size=4096, type=83\n\
         start=8192, size=40960, type=5\n\
         start=10240, size=8192, type=83\n\
         start=20480, size=4096, type=8e\n",
        10240,
    );
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
        sfdisk(&disk, 96 << 20, script);
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
