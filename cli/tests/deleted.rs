//! `deleted`, `recover` and the deleted entries of `timeline`, on testdata/deleted-v5 (built
//! by scripts/make-deleted-fixture.sh: files written by the kernel through a loop mount, their
//! names, inode numbers (stat) and SHA-256 recorded before every other file and one whole
//! directory were deleted). The oracle is that manifest.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::collections::{BTreeMap, HashMap};
use std::path::Path;
use std::process::Output;

use common::{inspect, tempdir, testdata_zst};
use serde_json::Value;
use sha2::{Digest, Sha256};

struct File {
    path: String,
    ino: u64,
    sha256: String,
    size: u64,
    deleted: bool,
}

fn manifest(name: &str) -> Vec<File> {
    let m: Value =
        serde_json::from_slice(&testdata_zst(&format!("{name}.manifest.json.zst"))).unwrap();
    m["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| File {
            path: format!(
                "{}/{}",
                f["dir"].as_str().unwrap(),
                f["name"].as_str().unwrap()
            ),
            ino: f["ino"].as_u64().unwrap(),
            sha256: f["sha256"].as_str().unwrap().to_string(),
            size: f["size"].as_u64().unwrap(),
            deleted: f["deleted"].as_bool().unwrap(),
        })
        .collect()
}

fn sha256(b: &[u8]) -> String {
    Sha256::digest(b)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Output that shows a Rust Debug rendering (`Foo { a: 1 }`, `Some(..)`) is a bug.
fn assert_no_debug(out: &Output) {
    for text in [&out.stdout, &out.stderr] {
        let s = String::from_utf8_lossy(text);
        for bad in ["Some(", "None,", " { ", "Error {", "Corrupt", "Io {"] {
            if bad == " { " {
                // JSON objects have `{"`, never `Name { `.
                let debug = s
                    .match_indices(" { ")
                    .any(|(i, _)| s[..i].chars().last().is_some_and(char::is_alphanumeric));
                assert!(!debug, "Debug rendering in output: {s}");
            } else {
                assert!(!s.contains(bad), "Debug rendering ({bad}) in output: {s}");
            }
        }
    }
}

fn image(dir: &Path, name: &str) -> std::path::PathBuf {
    let img = dir.join(format!("{name}.img"));
    std::fs::write(&img, testdata_zst(&format!("{name}.img.zst"))).unwrap();
    img
}

/// `deleted --json` of `img`, as parsed rows, with the exit status checked.
fn deleted_rows(img: &Path) -> Vec<Value> {
    let out = inspect(["deleted".as_ref(), img.as_os_str(), "--json".as_ref()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_debug(&out);
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn deleted_names_inodes_and_contents_come_back() {
    let dir = tempdir();
    let img = image(dir.path(), "deleted-v5");
    let before = sha256(&std::fs::read(&img).unwrap());
    let mtime = std::fs::metadata(&img).unwrap().modified().unwrap();
    let files = manifest("deleted-v5");
    let gone: Vec<&File> = files.iter().filter(|f| f.deleted).collect();
    assert!(
        gone.len() >= 200,
        "the fixture deletes {} files",
        gone.len()
    );

    // deleted --json: one object per line with name, path, ino, verdict.
    let out = inspect(["deleted".as_ref(), img.as_os_str(), "--json".as_ref()]);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_debug(&out);
    let rows: Vec<Value> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    for r in &rows {
        for k in ["name", "path", "ino", "verdict", "evidence"] {
            assert!(r.get(k).is_some(), "no {k} in {r}");
        }
    }
    let by_path: HashMap<&str, &Value> = rows
        .iter()
        .map(|r| (r["path"].as_str().unwrap(), r))
        .collect();
    // No file that is still there is listed as deleted.
    for f in files.iter().filter(|f| !f.deleted) {
        assert!(
            !by_path.contains_key(f.path.as_str()),
            "{} is alive",
            f.path
        );
    }
    let mut found = 0usize;
    let mut per_source: BTreeMap<String, usize> = BTreeMap::new();
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    for f in &gone {
        let Some(r) = by_path.get(f.path.as_str()) else {
            continue;
        };
        if r["ino"].as_u64() == Some(f.ino) {
            found += 1;
        }
        for e in r["evidence"].as_array().unwrap() {
            *per_source
                .entry(e.as_str().unwrap().to_string())
                .or_default() += 1;
        }
        *verdicts
            .entry(r["verdict"].as_str().unwrap().to_string())
            .or_default() += 1;
        if r["verdict"] == "recoverable" {
            assert_eq!(r["size"].as_u64(), Some(f.size), "{}", f.path);
        }
    }
    eprintln!(
        "deleted names listed with their inode: {found} of {}; per evidence source: {per_source:?}; verdicts: {verdicts:?}",
        gone.len()
    );
    assert!(found * 10 >= gone.len() * 9, "{found} of {}", gone.len());
    // The removed directory is listed under its own name.
    assert!(by_path.contains_key("/gone"));

    // Human output: fls -d style.
    let text = inspect(["deleted".as_ref(), img.as_os_str()]);
    assert!(text.status.success());
    assert_no_debug(&text);
    let text = String::from_utf8(text.stdout).unwrap();
    let f = gone[0];
    assert!(
        text.contains(&format!("r/r * {}:\t{}\t", f.ino, f.path)),
        "{text}"
    );

    // recover --json: the SHA-256 of what comes back, for every deleted file (four
    // processes at a time).
    let results: Vec<(bool, String)> = std::thread::scope(|scope| {
        let chunks: Vec<Vec<&&File>> = (0..4)
            .map(|k| gone.iter().skip(k).step_by(4).collect())
            .collect();
        let handles: Vec<_> = chunks
            .into_iter()
            .map(|chunk| {
                let img = &img;
                scope.spawn(move || {
                    chunk
                        .into_iter()
                        .map(|f| {
                            let out = inspect([
                                "recover".as_ref(),
                                img.as_os_str(),
                                f.ino.to_string().as_ref(),
                                "--json".as_ref(),
                            ]);
                            assert_no_debug(&out);
                            let v: Value =
                                serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
                            let ok =
                                out.status.code() == Some(0) && v["sha256"] == f.sha256.as_str();
                            (ok, format!("{} ({}): {}", f.path, out.status, v["reason"]))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| h.join().unwrap())
            .collect()
    });
    let exact = results.iter().filter(|(ok, _)| *ok).count();
    let failures: Vec<&String> = results
        .iter()
        .filter(|(ok, _)| !ok)
        .map(|(_, m)| m)
        .collect();
    eprintln!(
        "deleted contents recovered byte-exact: {exact} of {}; failures: {failures:?}",
        gone.len()
    );
    assert!(exact * 10 >= gone.len() * 9, "{exact} of {}", gone.len());

    // recover to DEST: the bytes, the mtime of the deleted inode, never overwriting.
    let f = gone.iter().find(|f| f.size > 100_000).unwrap();
    let dest = dir.path().join("out.bin");
    let out = inspect([
        "recover".as_ref(),
        img.as_os_str(),
        f.ino.to_string().as_ref(),
        dest.as_os_str(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_no_debug(&out);
    assert_eq!(sha256(&std::fs::read(&dest).unwrap()), f.sha256);
    let r = by_path[f.path.as_str()];
    let got = std::fs::metadata(&dest)
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert_eq!(Some(got), r["mtime"]["sec"].as_u64());
    let again = inspect([
        "recover".as_ref(),
        img.as_os_str(),
        f.ino.to_string().as_ref(),
        dest.as_os_str(),
    ]);
    assert_eq!(again.status.code(), Some(2));
    assert_no_debug(&again);
    // To stdout: the same bytes.
    let out = inspect([
        "recover".as_ref(),
        img.as_os_str(),
        f.ino.to_string().as_ref(),
    ]);
    assert_eq!(out.status.code(), Some(0));
    assert_eq!(sha256(&out.stdout), f.sha256);

    // A live file and an inode number that was never used: nothing to recover, status 2.
    let live = files.iter().find(|f| !f.deleted).unwrap();
    for ino in [live.ino, 200_000] {
        let out = inspect([
            "recover".as_ref(),
            img.as_os_str(),
            ino.to_string().as_ref(),
        ]);
        assert_eq!(out.status.code(), Some(2), "inode {ino}");
        assert!(out.stdout.is_empty());
        assert_no_debug(&out);
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.starts_with("xfs-inspect: inode"), "{err}");
    }

    // timeline --bodyfile marks deleted names as TSK does: `NAME (deleted)` and the inode.
    let out = inspect(["timeline".as_ref(), img.as_os_str(), "--bodyfile".as_ref()]);
    assert!(out.status.success());
    assert_no_debug(&out);
    let body = String::from_utf8(out.stdout).unwrap();
    let marked = gone
        .iter()
        .filter(|f| body.contains(&format!("0|{} (deleted)|{}|", f.path, f.ino)))
        .count();
    assert!(marked * 10 >= gone.len() * 9, "{marked} of {}", gone.len());
    assert!(body.contains(&format!("0|{}|{}|", live.path, live.ino)));

    // The image is unchanged.
    assert_eq!(sha256(&std::fs::read(&img).unwrap()), before);
    assert_eq!(std::fs::metadata(&img).unwrap().modified().unwrap(), mtime);
}

/// testdata/deleted-v5-churn: the log wrapped before the files were written, their inode
/// numbers are those of deleted empty files, and after the deletes a btree-format file was
/// written and deleted and new files took freed blocks. Every name still comes back with its
/// inode; a verdict of recoverable is never wrong (the content is byte-exact), and the
/// btree-format file comes back through its logged BMBT.
#[test]
fn verdicts_are_honest_after_reuse_and_a_wrapped_log() {
    let dir = tempdir();
    let img = image(dir.path(), "deleted-v5-churn");
    let before = sha256(&std::fs::read(&img).unwrap());
    let files = manifest("deleted-v5-churn");
    let gone: Vec<&File> = files.iter().filter(|f| f.deleted).collect();
    let rows = deleted_rows(&img);
    let by_path: HashMap<&str, &Value> = rows
        .iter()
        .map(|r| (r["path"].as_str().unwrap(), r))
        .collect();
    for f in files.iter().filter(|f| !f.deleted) {
        assert!(
            !by_path.contains_key(f.path.as_str()),
            "{} is alive",
            f.path
        );
    }
    let found = gone
        .iter()
        .filter(|f| by_path.get(f.path.as_str()).and_then(|r| r["ino"].as_u64()) == Some(f.ino))
        .count();
    assert!(found * 10 >= gone.len() * 9, "{found} of {}", gone.len());
    // The content the listed extents give, read from the image with the geometry xfs_db
    // reports, truncated to the listed size; `recover` itself on a few of them.
    let geo = common::xfs_db(
        &img,
        &["sb 0".into(), "p blocksize agblocks agblklog".into()],
    );
    let field = |name: &str| -> u64 {
        geo.lines()
            .find_map(|l| l.strip_prefix(&format!("{name} = ")))
            .unwrap()
            .trim()
            .parse()
            .unwrap()
    };
    let (bs, agblocks, agblklog) = (field("blocksize"), field("agblocks"), field("agblklog"));
    let bytes = std::fs::read(&img).unwrap();
    let content = |r: &Value| -> Vec<u8> {
        let size = r["inode"]["size"].as_u64().unwrap() as usize;
        let mut out = vec![0u8; size];
        for e in r["inode"]["extents"].as_array().unwrap() {
            let (off, fsb, n) = (
                e["startoff"].as_u64().unwrap(),
                e["startblock"].as_u64().unwrap(),
                e["blockcount"].as_u64().unwrap(),
            );
            let daddr = ((fsb >> agblklog) * agblocks + (fsb & ((1 << agblklog) - 1))) * bs;
            for i in 0..n {
                let at = ((off + i) * bs) as usize;
                if at >= size {
                    break;
                }
                let len = (bs as usize).min(size - at);
                let src = (daddr + i * bs) as usize;
                out[at..at + len].copy_from_slice(&bytes[src..src + len]);
            }
        }
        out
    };
    let mut verdicts: BTreeMap<String, usize> = BTreeMap::new();
    let mut exact = 0usize;
    let mut recovered = 0usize;
    for f in &gone {
        let r = by_path[f.path.as_str()];
        let v = r["verdict"].as_str().unwrap();
        *verdicts.entry(v.to_string()).or_default() += 1;
        if v != "recoverable" {
            continue;
        }
        assert_eq!(
            sha256(&content(r)),
            f.sha256,
            "{} judged recoverable",
            f.path
        );
        exact += 1;
        if recovered >= 4 && !f.path.starts_with("/frag/") {
            continue;
        }
        recovered += 1;
        // The life of the inode number the name was matched to.
        let lsn = r["inode"]["lsn"].as_str().unwrap();
        let out = inspect([
            "recover".as_ref(),
            img.as_os_str(),
            f.ino.to_string().as_ref(),
            "--json".as_ref(),
            "--lsn".as_ref(),
            lsn.as_ref(),
        ]);
        assert_no_debug(&out);
        assert_eq!(out.status.code(), Some(0), "{}", f.path);
        let j: Value = serde_json::from_slice(&out.stdout).unwrap();
        assert_eq!(j["sha256"], f.sha256.as_str(), "{}", f.path);
    }
    eprintln!(
        "churn: names with inode {found} of {}; verdicts {verdicts:?}; recoverable and byte-exact {exact}",
        gone.len()
    );
    assert!(exact > 0);
    let frag = by_path["/frag/frag-file.bin"];
    assert_eq!(frag["verdict"], "recoverable", "{frag}");
    assert!(frag["inode"]["extents"].as_array().unwrap().len() > 9);
    assert_eq!(sha256(&std::fs::read(&img).unwrap()), before);
}

/// The log fixtures (dirty logs, wrapped logs, forged records) never make `deleted` fail.
#[test]
fn deleted_runs_on_every_log_fixture() {
    for name in [
        "log-clean",
        "log-efi-4k",
        "log-efi-rmap-4k",
        "log-forged",
        "log-rmap-1k",
        "log-rmap-4k",
        "log-v5-1k",
        "log-v5-4k",
        "fixture-v4",
        "fixture-v5-live",
    ] {
        let img = common::testdata(&format!("{name}.img.zst"));
        let out = inspect(["deleted".as_ref(), img.as_os_str(), "--json".as_ref()]);
        assert!(
            out.status.success(),
            "{name}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_no_debug(&out);
        for l in String::from_utf8(out.stdout).unwrap().lines() {
            let v: Value = serde_json::from_str(l).unwrap();
            assert!(v["verdict"].is_string() && v["ino"].is_u64(), "{name}: {l}");
        }
    }
}
