//! The field-fuzz differential harness (scripts/fuzz-fields) on two samples: 200 cases of a
//! fixed seed and 40 of a seed that changes with every run. Each case changes one field of
//! one structure of a clean populated base image with `xfs_db -x fuzz` and compares
//! `check --format repair` with `xfs_repair -n`: line sets and exit statuses. The run fails
//! when xfs-inspect crashes, hangs or changes a byte of an image, or when the share of exact
//! cases falls below a floor (raise the floors as the checker improves; the fixed seed's
//! measured share is in the comment beside each).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

/// Runs the harness; returns its report (stdout).
fn fuzz(cases: u32, seed: &str, min_exact: f64, min_status: f64) -> String {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let out = Command::new("python3")
        .arg(root.join("scripts/fuzz-fields"))
        .args(["--inspect", env!("CARGO_BIN_EXE_xfs-inspect")])
        .args(["--cases", &cases.to_string(), "--seed", seed, "--jobs", "2"])
        .args(["--min-exact", &min_exact.to_string()])
        .args(["--min-status", &min_status.to_string()])
        .env(
            "PATH",
            format!(
                "{}:/usr/sbin:/sbin",
                std::env::var("PATH").unwrap_or_default()
            ),
        )
        .output()
        .expect("python3 scripts/fuzz-fields");
    let report = String::from_utf8_lossy(&out.stdout).into_owned();
    println!("seed {seed}:\n{report}");
    assert!(
        out.status.success(),
        "scripts/fuzz-fields --cases {cases} --seed {seed} failed (reproduce with that command):\n{report}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    report
}

#[test]
fn fixed_seed_sample_meets_the_floor() {
    // Measured: 88.2% exact, 100% exit statuses agree (2026-12-01; 72.5% / 92.3% earlier
    // that day).
    let report = fuzz(200, "1", 86.0, 98.0);
    assert!(report.contains("total"), "{report}");
}

#[test]
fn changing_seed_sample_meets_the_floor() {
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs())
        .to_string();
    // A small sample varies: the floors sit well below the fixed seed's (seed 7, 400
    // cases: 86.4% exact, 99.4% exit statuses).
    fuzz(40, &seed, 70.0, 90.0);
}
