//! Log replay against the kernel: for every dirty-log fixture, `check --replay-log` must
//! report what `xfs_repair -n` reported on a copy whose log the kernel replayed
//! (testdata/NAME.repair.txt), and browse commands with --replay-log must list what the
//! mounted copy listed (testdata/NAME.find.txt). Without --replay-log, `check` must print
//! what `xfs_repair -n` prints on the dirty image itself (run here, at test time), ALERT
//! included. The fixture image is never changed.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::collections::BTreeSet;
use std::path::Path;

use common::{
    check_repair, inspect, is_repair_progress, mask_repair_line, run_tool, sample, tempdir,
    testdata, DIRTY_LOGS,
};

/// Finding lines of xfs_repair -n output, as a set.
fn repair_set(out: &str) -> BTreeSet<String> {
    out.lines()
        .filter(|l| !is_repair_progress(l))
        .map(mask_repair_line)
        .collect()
}

/// Finding lines of `check --format repair` (plus extra args), and the exit status.
fn check_set(img: &Path, extra: &[&str]) -> (BTreeSet<String>, i32) {
    let out = check_repair(img, extra);
    let text = String::from_utf8_lossy(&out.stdout);
    (
        text.lines()
            .filter(|l| !l.is_empty())
            .map(mask_repair_line)
            .collect(),
        out.status.code().unwrap_or(-1),
    )
}

#[test]
fn replayed_check_matches_xfs_repair_of_kernel_replayed_copy() {
    let dir = tempdir();
    let mut report = Vec::new();
    let mut failed = false;
    for name in DIRTY_LOGS {
        let img = sample(dir.path(), name);
        let before = std::fs::read(&img).unwrap();
        let want =
            repair_set(&std::fs::read_to_string(testdata(&format!("{name}.repair.txt"))).unwrap());
        let (got, code) = check_set(&img, &["--replay-log"]);
        let ok = got == want && code == i32::from(!want.is_empty());
        failed |= !ok;
        report.push(format!(
            "{name}: {} (missing {:?}, extra {:?}, exit {code})",
            if ok { "match" } else { "MISMATCH" },
            want.difference(&got).collect::<Vec<_>>(),
            got.difference(&want).collect::<Vec<_>>()
        ));
        assert!(
            std::fs::read(&img).unwrap() == before,
            "{name}: image changed"
        );
        std::fs::remove_file(&img).unwrap();
    }
    eprintln!("{}", report.join("\n"));
    assert!(!failed, "{}", report.join("\n"));
}

#[test]
fn unreplayed_check_matches_xfs_repair_of_dirty_image() {
    let dir = tempdir();
    let alert = [
        "ALERT: The filesystem has valuable metadata changes in a log which is being",
        "ignored because the -n option was used.  Expect spurious inconsistencies",
        "which may be resolved by first mounting the filesystem to replay the log.",
    ];
    // log-forged's recording is xfs_repair -n of the image itself; the others are run here.
    for name in DIRTY_LOGS.iter().chain(["log-forged", "log-clean"].iter()) {
        let img = sample(dir.path(), name);
        let out = run_tool("xfs_repair", ["-n".as_ref(), img.as_os_str()]);
        let repair = String::from_utf8_lossy(&out.stdout).into_owned()
            + &String::from_utf8_lossy(&out.stderr);
        let want = repair_set(&repair);
        let (got, code) = check_set(&img, &[]);
        // The ALERT (and its absence) exactly as xfs_repair -n prints it, and the exit status.
        let zero_log = |s: &BTreeSet<String>| -> Vec<String> {
            s.iter()
                .filter(|l| alert.contains(&l.as_str()) || l.starts_with("zero_log"))
                .cloned()
                .collect()
        };
        assert_eq!(zero_log(&got), zero_log(&want), "{name}: zero_log lines");
        assert_eq!(code, out.status.code().unwrap(), "{name}: exit status");
        let dirty = *name != "log-clean";
        for l in alert {
            assert_eq!(repair.contains(l), dirty, "{name}: {l}");
        }
        // The rest is the un-replayed ("spurious") state; differences there are the
        // checker's business, not the log's: reported, not failed on.
        if got != want {
            eprintln!(
                "{name} (not replayed): {} lines only in xfs_repair, {} only in check",
                want.difference(&got).count(),
                got.difference(&want).count()
            );
        }
        std::fs::remove_file(&img).unwrap();
    }
}

/// `timeline --bodyfile` as "path inode size" lines, the format of NAME.find.txt.
fn listing(img: &Path, replay: bool) -> Vec<String> {
    let mut args = vec!["timeline".as_ref(), img.as_os_str(), "--bodyfile".as_ref()];
    if replay {
        args.push("--replay-log".as_ref());
    }
    let out = inspect(args);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let mut v: Vec<String> = String::from_utf8_lossy(&out.stdout)
        .lines()
        .filter_map(|l| {
            let f: Vec<&str> = l.split('|').collect();
            // Symlinks are named "path -> target"; /$Metadata holds the realtime inodes;
            // deleted names (`path (deleted)`, TSK's mark) are not in find's listing.
            let path = f.get(1)?.split(" -> ").next()?;
            let deleted = path.ends_with(" (deleted)") || path.ends_with(" (deleted-realloc)");
            (f.len() > 6 && path != "/" && !path.starts_with("/$Metadata") && !deleted)
                .then(|| format!("{path} {} {}", f[2], f[6]))
        })
        .collect();
    v.sort();
    v.dedup();
    v
}

#[test]
fn browse_commands_see_the_replayed_tree() {
    let dir = tempdir();
    for name in DIRTY_LOGS {
        let img = sample(dir.path(), name);
        let want: Vec<String> = std::fs::read_to_string(testdata(&format!("{name}.find.txt")))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        let got = listing(&img, true);
        assert_eq!(
            got, want,
            "{name}: timeline --replay-log vs find on the mounted copy"
        );
        std::fs::remove_file(&img).unwrap();
    }
}

#[test]
fn triage_labels_findings() {
    let dir = tempdir();
    let img = sample(dir.path(), "log-v5-1k");
    let out = inspect(["check".as_ref(), img.as_os_str(), "--triage".as_ref()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("[disappears after log replay] [phase 2] ALERT: The filesystem"),
        "{text}"
    );
    assert!(
        text.contains("[disappears after log replay] [phase 2] sb_icount 64, counted 128"),
        "{text}"
    );
    assert!(!text.contains("persists after log replay"), "{text}");
    let out = inspect([
        "check".as_ref(),
        img.as_os_str(),
        "--triage".as_ref(),
        "--format".as_ref(),
        "json".as_ref(),
    ]);
    for l in String::from_utf8_lossy(&out.stdout).lines() {
        let v: serde_json::Value = serde_json::from_str(l).unwrap();
        assert_eq!(v["triage"], "disappears after log replay", "{l}");
    }
    // The human format points at --replay-log.
    let out = inspect(["check".as_ref(), img.as_os_str()]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("check --replay-log"), "{text}");
    assert_eq!(out.status.code(), Some(1));
}

/// Our replay's free space in the format of NAME.freesp.txt (see make-log-fixtures.sh),
/// record numbers dropped (a missing record renumbers all that follow).
fn freesp(img: &Path, ags: u32) -> Vec<String> {
    let mut v = Vec::new();
    for ag in 0..ags {
        let agn = ag.to_string();
        let out = inspect([
            "agf".as_ref(),
            img.as_os_str(),
            agn.as_ref(),
            "--replay-log".as_ref(),
        ]);
        for l in String::from_utf8_lossy(&out.stdout).lines() {
            if l.starts_with("freeblks ") || l.starts_with("longest ") {
                v.push(format!("ag {ag} {l}"));
            }
        }
        for tree in ["bno", "cnt", "rmap"] {
            let out = inspect([
                "btree".as_ref(),
                img.as_os_str(),
                tree.as_ref(),
                agn.as_ref(),
                "--replay-log".as_ref(),
            ]);
            for l in String::from_utf8_lossy(&out.stdout).lines() {
                if let Some((n, rec)) = l.split_once(":[") {
                    if n.chars().all(|c| c.is_ascii_digit()) {
                        v.push(format!("ag {ag} {tree} [{}", rec.trim_end()));
                    }
                }
            }
        }
    }
    v
}

fn normalize_freesp(text: &str) -> Vec<String> {
    text.lines()
        .map(|l| {
            let w: Vec<&str> = l.splitn(4, ' ').collect();
            match w.as_slice() {
                [a, n, t, rest] if rest.contains(":[") => {
                    format!(
                        "{a} {n} {t} [{}",
                        rest.split_once(":[").unwrap().1.trim_end()
                    )
                }
                _ => l.trim_end().to_owned(),
            }
        })
        .collect()
}

/// The free space after finishing the intents, against the kernel's (which xfs_repair -n
/// does not check: a block neither free nor owned goes unnoticed). log-efi-4k's EFI goes
/// into full bnobt and cntbt leaves whose right siblings have room: the kernel shifts a
/// record there instead of splitting, and so does our replay. log-efi-rmap-4k has an RUI
/// (unmap of the rmapbt record) before its EFI: the record is removed, then the EFI's
/// unknown-owner rmap free finds nothing. Both must match, with no EFI or RUI told "not
/// replayed" on stderr.
#[test]
fn finished_intents_leave_the_kernels_free_space() {
    let dir = tempdir();
    let mut report = Vec::new();
    for name in ["log-efi-4k", "log-efi-rmap-4k"] {
        let img = sample(dir.path(), name);
        let want = normalize_freesp(
            &std::fs::read_to_string(testdata(&format!("{name}.freesp.txt"))).unwrap(),
        );
        let ags = want
            .iter()
            .filter_map(|l| l.split(' ').nth(1)?.parse::<u32>().ok())
            .max()
            .unwrap()
            + 1;
        let got = freesp(&img, ags);
        let out = inspect(["check".as_ref(), img.as_os_str(), "--replay-log".as_ref()]);
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        let intent_undone = stderr
            .lines()
            .any(|l| (l.contains("EFI (") || l.contains("RUI (")) && l.contains("not replayed"));
        assert!(
            got == want,
            "{name}: free space differs from the kernel's:\n{stderr}\nmissing {:?}\nextra {:?}",
            want.iter()
                .filter(|l| !got.contains(l))
                .take(5)
                .collect::<Vec<_>>(),
            got.iter()
                .filter(|l| !want.contains(l))
                .take(5)
                .collect::<Vec<_>>()
        );
        assert!(
            !intent_undone,
            "{name}: matches, yet an intent is said not replayed:\n{stderr}"
        );
        report.push(format!("{name}: free space matches the kernel's"));
        std::fs::remove_file(&img).unwrap();
    }
    eprintln!("{}", report.join("\n"));
}
