//! Holes stay holes: `extract` and `cat` into a regular file seek over holes and unwritten
//! extents. The files are in vgdata/lvxfs of testdata/lvm-gpt.img.zst, written by the kernel
//! through a loop mount (scripts/make-lvm-fixture.sh): /sparse is 4 KiB, a 1 GiB hole, 4 KiB
//! (`xfs_io pwrite 0 4k; pwrite 1g 4k`); /prealloc is 1 MiB preallocated with 4 KiB written.
//! Their sizes and sha256 as read through the mount are in testdata/lvm-gpt.facts.json; the
//! copies must read back the same (sha256sum) and allocate under 4 MiB. An extract that needs
//! more than the destination's free space is refused before anything is written; write
//! errors name the file.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::os::unix::fs::{FileExt, MetadataExt};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde_json::Value;

use common::{inspect, inspect_ok, tempdir, testdata, testdata_zst};

const VOL: &str = "vgdata/lvxfs";

fn facts() -> Value {
    serde_json::from_slice(&std::fs::read(testdata("lvm-gpt.facts.json")).unwrap()).unwrap()
}

/// The fixture, decompressed sparse into `dir`.
fn disk(dir: &Path) -> PathBuf {
    let bytes = testdata_zst("lvm-gpt.img.zst");
    let p = dir.join("lvm-gpt.img");
    let f = std::fs::File::create(&p).unwrap();
    f.set_len(bytes.len() as u64).unwrap();
    static ZEROS: [u8; 64 << 10] = [0; 64 << 10];
    for (i, chunk) in bytes.chunks(64 << 10).enumerate() {
        // (a slice comparison is a memcmp, fast in debug builds too)
        if *chunk != ZEROS[..chunk.len()] {
            f.write_all_at(chunk, (i as u64) << 16).unwrap();
        }
    }
    p
}

fn sha256sum(p: &Path) -> String {
    let out = Command::new("sha256sum").arg(p).output().unwrap();
    assert!(out.status.success());
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_owned()
}

fn allocated(p: &Path) -> u64 {
    std::fs::metadata(p).unwrap().blocks() * 512
}

#[test]
fn extract_keeps_holes_and_unwritten_extents() {
    let f = facts();
    let files = &f["volumes"][VOL]["files"];
    let dir = tempdir();
    let img = disk(dir.path());
    let out = dir.path().join("out");
    std::fs::create_dir(&out).unwrap();
    for name in ["sparse", "prealloc"] {
        inspect_ok([
            "extract".as_ref(),
            img.as_os_str(),
            format!("/{name}").as_ref(),
            out.as_os_str(),
            "--volume".as_ref(),
            VOL.as_ref(),
        ]);
        let p = out.join(name);
        let want = &files[name];
        assert_eq!(
            std::fs::metadata(&p).unwrap().len(),
            want["size"].as_u64().unwrap()
        );
        let alloc = allocated(&p);
        eprintln!("{name}: {} bytes, {alloc} allocated", want["size"]);
        assert!(alloc < 4 << 20, "{name}: {alloc} bytes allocated");
        assert_eq!(sha256sum(&p), want["sha256"].as_str().unwrap(), "{name}");
    }
    // The unwritten extents are holes too: 4 KiB written of the 1 MiB preallocated.
    assert!(allocated(&out.join("prealloc")) < files["prealloc"]["allocated"].as_u64().unwrap());
}

#[test]
fn cat_to_a_regular_file_keeps_holes() {
    let f = facts();
    let dir = tempdir();
    let img = disk(dir.path());
    let dest = dir.path().join("cat.out");
    let status = Command::new(env!("CARGO_BIN_EXE_xfs-inspect"))
        .args(["cat".as_ref(), img.as_os_str(), "/sparse".as_ref()])
        .args(["--volume", VOL])
        .stdout(Stdio::from(std::fs::File::create(&dest).unwrap()))
        .status()
        .unwrap();
    assert!(status.success());
    let size = f["volumes"][VOL]["files"]["sparse"]["size"]
        .as_u64()
        .unwrap();
    assert_eq!(std::fs::metadata(&dest).unwrap().len(), size);
    assert!(allocated(&dest) < 4 << 20, "{}", allocated(&dest));
    // The two written blocks (0x61 at 0, 0x62 at 1 GiB) and zeros between.
    let file = std::fs::File::open(&dest).unwrap();
    let mut buf = vec![0u8; 8192];
    file.read_exact_at(&mut buf, 0).unwrap();
    assert!(buf[..4096].iter().all(|&b| b == 0x61) && buf[4096..].iter().all(|&b| b == 0));
    file.read_exact_at(&mut buf[..4096], 1 << 30).unwrap();
    assert!(buf[..4096].iter().all(|&b| b == 0x62));
}

#[test]
fn extract_refused_when_it_does_not_fit() {
    // /proc reports no free blocks: the 86 KiB of /docs cannot fit; nothing is created.
    let dir = tempdir();
    let img = disk(dir.path());
    let dest = "/proc/xfs-inspect-test-nonexistent/docs";
    let out = inspect([
        "extract".as_ref(),
        img.as_os_str(),
        "/docs".as_ref(),
        dest.as_ref(),
        "--volume".as_ref(),
        VOL.as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(
        e.contains(dest) && e.contains("bytes free") && e.contains("--force"),
        "{e}"
    );
    // --force starts anyway (and fails at the first write, naming it).
    let out = inspect([
        "extract".as_ref(),
        img.as_os_str(),
        "/docs".as_ref(),
        dest.as_ref(),
        "--volume".as_ref(),
        VOL.as_ref(),
        "--force".as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains(dest) && !e.contains("bytes free"), "{e}");
}

#[test]
fn write_errors_name_the_file() {
    let dir = tempdir();
    let img = disk(dir.path());
    let out = Command::new(env!("CARGO_BIN_EXE_xfs-inspect"))
        .args(["cat".as_ref(), img.as_os_str(), "/docs/xfs-2.txt".as_ref()])
        .args(["--volume", VOL])
        .stdout(Stdio::from(
            std::fs::OpenOptions::new()
                .write(true)
                .open("/dev/full")
                .unwrap(),
        ))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let e = String::from_utf8_lossy(&out.stderr);
    assert!(e.contains("standard output: write error"), "{e}");
}
