//! `check --format repair` on the twenty images other projects ship
//! (`../shared/external-xfs-images`), against the `xfs_repair -n` 6.1.0 output recorded
//! beside each (`expected/NAME.repair.txt` and `.rc`; single-AG images also with
//! `-o force_geometry`). Line sets (progress lines left out, verifier addresses masked) and
//! exit statuses must be equal, and the image must be unchanged.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{check_repair, is_repair_progress, mask_repair_line, tempdir};

fn images_dir() -> PathBuf {
    let d = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/external-xfs-images");
    assert!(
        d.join("SHA256SUMS").is_file(),
        "{} is missing: the shared external images sit beside the project (../shared)",
        d.display()
    );
    d
}

fn lines(text: &str) -> Vec<String> {
    let mut v: Vec<String> = text
        .lines()
        .filter(|l| !is_repair_progress(l))
        .map(mask_repair_line)
        .collect();
    v.sort();
    v
}

fn digest(p: &Path) -> String {
    let out = Command::new("sha256sum").arg(p).output().unwrap();
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap_or_default()
        .to_owned()
}

#[test]
fn external_images_match_xfs_repair() {
    let dir = images_dir();
    let expected = dir.join("expected");
    let tmp = tempdir();
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap()
        .filter_map(|e| {
            let n = e.unwrap().file_name().to_string_lossy().into_owned();
            n.strip_suffix(".img.zst").map(str::to_owned)
        })
        .collect();
    names.sort();
    assert_eq!(names.len(), 20, "twenty shared images expected");
    let (mut compared, mut failures) = (0, Vec::new());
    for name in &names {
        let img = tmp.path().join(format!("{name}.img"));
        let st = Command::new("zstd")
            .args(["-q", "-d", "--sparse", "-f"])
            .arg(dir.join(format!("{name}.img.zst")))
            .arg("-o")
            .arg(&img)
            .status()
            .unwrap();
        assert!(st.success(), "zstd -d {name}");
        let before = digest(&img);
        for (variant, extra) in [
            ("", &[][..]),
            (".force_geometry", &["-o", "force_geometry"][..]),
        ] {
            let rc_file = expected.join(format!("{name}{variant}.rc"));
            if !rc_file.exists() {
                continue;
            }
            let want_rc: i32 = std::fs::read_to_string(&rc_file)
                .unwrap()
                .trim()
                .parse()
                .unwrap();
            let want = lines(
                &std::fs::read_to_string(expected.join(format!("{name}{variant}.repair.txt")))
                    .unwrap(),
            );
            let out = check_repair(&img, extra);
            let got = lines(&String::from_utf8_lossy(&out.stdout));
            let rc = out.status.code().unwrap_or(-1);
            compared += 1;
            if got != want || rc != want_rc {
                failures.push(format!(
                    "{name}{variant}: exit {rc} (xfs_repair {want_rc})\n  repair: {want:?}\n  ours:   {got:?}\n  stderr: {}",
                    String::from_utf8_lossy(&out.stderr)
                ));
            }
        }
        assert_eq!(digest(&img), before, "{name} was modified");
        std::fs::remove_file(&img).unwrap();
    }
    assert_eq!(compared, 29, "20 images and 9 force_geometry runs");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}
