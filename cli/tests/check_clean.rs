//! `check` on images xfs_repair -n calls clean gives no finding and exit 0 (the samples and
//! the structure fixtures of testdata/), and on an image where xfs_repair 6.1.0 itself
//! crashes (a block directory with a bad magic on v4) `check` finishes and reports.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::path::Path;
use std::process::Command;

use common::{check_repair, is_repair_progress, run_tool, sample, tempdir};

#[test]
fn clean_images_have_no_findings() {
    let dir = tempdir();
    for name in [
        "sample-v5",
        "sample-v4",
        "fixture-v5",
        "fixture-v4",
        "fixture-v5-live",
    ] {
        let img = sample(dir.path(), name);
        let out = check_repair(&img, &[]);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{name}: {stdout}");
        assert!(out.stdout.is_empty(), "{name}: {stdout}");
        let repair = run_tool("xfs_repair", ["-n".as_ref(), img.as_os_str()]);
        assert_eq!(
            repair.status.code(),
            Some(0),
            "{name}: xfs_repair -n disagrees that it is clean"
        );
    }
}

#[test]
fn check_finishes_where_xfs_repair_crashes() {
    let dir = tempdir();
    let out = Command::new(Path::new(env!("CARGO_MANIFEST_DIR")).join("../scripts/recipes.sh"))
        .arg(dir.path())
        .arg("blkdir_bad_magic")
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let case = dir.path().join("blkdir_bad_magic.v4");
    let rc = std::fs::read_to_string(case.join("rc")).unwrap();
    assert_eq!(
        rc.trim(),
        "139",
        "xfs_repair 6.1.0 is expected to segfault on this image"
    );
    let img = case.join("image.img");
    let out = check_repair(&img, &[]);
    assert_eq!(
        out.status.code(),
        Some(1),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(!text.is_empty());
    // Every finding xfs_repair printed before it crashed, we print too (its progress lines
    // and host-geometry notice aside); then we finish instead of crashing.
    let repair = std::fs::read_to_string(case.join("repair.out")).unwrap();
    let mut compared = 0;
    for line in repair.lines() {
        if is_repair_progress(line) {
            continue;
        }
        let masked = line.split(" detected at ").next().unwrap();
        assert!(text.contains(masked), "missing {line:?} in\n{text}");
        compared += 1;
    }
    assert!(compared >= 5, "xfs_repair printed only {compared} findings");
}
