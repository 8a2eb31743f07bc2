//! The log decoder against `xfs_logprint -t` (xfsprogs 6.1), run at test time on every log
//! fixture of testdata/ (made by scripts/make-log-fixtures.sh): head, tail, state, record
//! count, transaction count and item counts per type must agree.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use common::{inspect_ok, run_tool, sample, tempdir, DIRTY_LOGS};

/// The clean and forged log fixtures; the dirty ones are common::DIRTY_LOGS.
const UNDIRTY: [&str; 2] = ["log-clean", "log-forged"];

/// What xfs_logprint -t says about a log.
#[derive(Debug, Default, PartialEq)]
struct Summary {
    tail: u64,
    head: u64,
    state: String,
    records: usize,
    transactions: usize,
    items: BTreeMap<String, u64>,
}

fn logprint(img: &Path) -> Summary {
    let out = run_tool("xfs_logprint", ["-t".as_ref(), img.as_os_str()]);
    let text = String::from_utf8_lossy(&out.stdout);
    let mut s = Summary::default();
    for line in text.lines() {
        if let Some(rest) = line.trim().strip_prefix("log tail: ") {
            // "log tail: 2 head: 466 state: <DIRTY>"
            let w: Vec<&str> = rest.split_whitespace().collect();
            s.tail = w[0].parse().unwrap();
            s.head = w[2].parse().unwrap();
            s.state = w[4].trim_matches(|c| c == '<' || c == '>').to_lowercase();
        } else if line.starts_with("LOG REC AT LSN") {
            s.records += 1;
        } else if line.starts_with("TRANS:") {
            s.transactions += 1;
        } else if let Some((name, _)) = line.split_once(": cnt:") {
            *s.items.entry(name.trim().to_string()).or_default() += 1;
        }
    }
    s
}

fn ours(img: &Path) -> Summary {
    let v: serde_json::Value = serde_json::from_str(&inspect_ok([
        "log".as_ref(),
        img.as_os_str(),
        "--json".as_ref(),
    ]))
    .unwrap();
    Summary {
        tail: v["tail"]["block"].as_u64().unwrap(),
        head: v["head"]["block"].as_u64().unwrap(),
        state: v["state"].as_str().unwrap().to_string(),
        records: v["record_count"].as_u64().unwrap() as usize,
        transactions: v["transaction_count"].as_u64().unwrap() as usize,
        items: v["item_counts"]
            .as_object()
            .unwrap()
            .iter()
            .map(|(k, n)| (k.clone(), n.as_u64().unwrap()))
            .collect(),
    }
}

#[test]
fn log_fixtures_agree_with_xfs_logprint() {
    let dir = tempdir();
    for name in UNDIRTY.iter().chain(DIRTY_LOGS) {
        let img = sample(dir.path(), name);
        let theirs = logprint(&img);
        let mine = ours(&img);
        assert_eq!(mine, theirs, "{name}: xfs-inspect log vs xfs_logprint -t");
        std::fs::remove_file(&img).unwrap();
    }
}

#[test]
fn log_fixture_states_and_text() {
    let dir = tempdir();
    let clean = sample(dir.path(), "log-clean");
    let text = inspect_ok(["log".as_ref(), clean.as_os_str()]);
    assert!(text.contains("state: clean"), "{text}");
    let forged = sample(dir.path(), "log-forged");
    let text = inspect_ok([
        "log".as_ref(),
        forged.as_os_str(),
        "--records".as_ref(),
        "--transactions".as_ref(),
    ]);
    assert!(text.contains("state: dirty"), "{text}");
    // The forged op has no flags left: neither START nor UNMOUNT.
    assert!(text.contains("clientid LOG flags none"), "{text}");
    assert!(text.contains("records: 1 "), "{text}");
    let dirty = sample(dir.path(), "log-rmap-4k");
    let text = inspect_ok(["log".as_ref(), dirty.as_os_str(), "--items".as_ref()]);
    assert!(text.contains("agi 0"), "{text}");
    assert!(text.contains("new inode chunk"), "{text}");
    assert!(text.contains("holds superblock"), "{text}");
}
