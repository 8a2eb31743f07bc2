//! `xfs-inspect btree` prints every per-AG tree as `xfs_db btdump` does, on the sample images
//! and on a v4 image with 1 KiB blocks whose trees have several levels.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use common::{inspect, inspect_ok, sample, tempdir, xfs_db};

const TREES: [(&str, &str, &str, bool); 6] = [
    ("bno", "agf", "bnoroot", true),
    ("cnt", "agf", "cntroot", true),
    ("ino", "agi", "root", true),
    ("fino", "agi", "free_root", false),
    ("rmap", "agf", "rmaproot", false),
    ("refc", "agf", "refcntroot", false),
];

#[test]
fn btree_matches_xfs_db_btdump() {
    let dir = tempdir();
    let mut compared = 0;
    for (name, v5) in [("sample-v5", true), ("sample-v4", false)] {
        let img = sample(dir.path(), name);
        let i = img.to_str().unwrap();
        for ag in 0..4 {
            for (tree, hdr, root, always) in TREES {
                let a = ag.to_string();
                if !always && !v5 {
                    let out = inspect(["btree", i, tree, &a]);
                    assert_eq!(out.status.code(), Some(2), "{name} {tree}");
                    continue;
                }
                for nodes in [false, true] {
                    let mut args = vec!["btree", i, tree, &a];
                    let mut dump = "btdump".to_string();
                    if nodes {
                        args.push("--nodes");
                        dump.push_str(" -i");
                    }
                    let ours = inspect_ok(&args);
                    let theirs =
                        xfs_db(&img, &[format!("{hdr} {ag}"), format!("addr {root}"), dump]);
                    assert_eq!(ours, theirs, "{name} AG {ag} {tree} nodes={nodes}");
                    compared += 1;
                }
            }
        }
        let json = inspect_ok(["btree", i, "bno", "0", "--json"]);
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        assert!(!v["records"].as_array().unwrap().is_empty());
        assert!(v["findings"].as_array().unwrap().is_empty());
    }
    assert_eq!(compared, 2 * 4 * (6 + 3));
}
