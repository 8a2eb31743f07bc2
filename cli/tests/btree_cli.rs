//! `xfs-inspect btree` prints every per-AG tree as `xfs_db btdump` does, on the sample images
//! and on a v4 image with 1 KiB blocks whose trees have several levels; a file with a
//! two-level BMBT is checked and mapped as xfs_repair and xfs_db see it.
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

/// Writes a v5 BMBT block (1 KiB) at filesystem block `fsb` of AG 0 of `img`: `keys` and
/// `ptrs` for a node, `recs` (startoff, startblock, blockcount) for a leaf.
fn put_bmbt_block(
    img: &mut [u8],
    (fsb, level): (u64, u16),
    (left, right): (u64, u64),
    owner: u64,
    node: &[(u64, u64)],
    recs: &[(u64, u64, u64)],
) {
    const BS: usize = 1024;
    const HDR: usize = xfs_format::btree::XFS_BTREE_LBLOCK_CRC_LEN;
    let uuid: [u8; 16] = img[32..48].try_into().unwrap();
    let b = &mut img[fsb as usize * BS..(fsb as usize + 1) * BS];
    b.fill(0);
    b[..4].copy_from_slice(b"BMA3");
    b[4..6].copy_from_slice(&level.to_be_bytes());
    let n = if level == 0 { recs.len() } else { node.len() } as u16;
    b[6..8].copy_from_slice(&n.to_be_bytes());
    b[8..16].copy_from_slice(&left.to_be_bytes());
    b[16..24].copy_from_slice(&right.to_be_bytes());
    b[24..32].copy_from_slice(&(fsb * BS as u64 / 512).to_be_bytes());
    b[40..56].copy_from_slice(&uuid);
    b[56..64].copy_from_slice(&owner.to_be_bytes());
    let maxrecs = (BS - HDR) / 16;
    for (i, (key, ptr)) in node.iter().enumerate() {
        b[HDR + 8 * i..HDR + 8 * i + 8].copy_from_slice(&key.to_be_bytes());
        let p = HDR + 8 * maxrecs + 8 * i;
        b[p..p + 8].copy_from_slice(&ptr.to_be_bytes());
    }
    for (i, &(off, blk, len)) in recs.iter().enumerate() {
        let l0 = (off << 9) | (blk >> 43);
        let l1 = ((blk & ((1 << 43) - 1)) << 21) | len;
        b[HDR + 16 * i..HDR + 16 * i + 8].copy_from_slice(&l0.to_be_bytes());
        b[HDR + 16 * i + 8..HDR + 16 * (i + 1)].copy_from_slice(&l1.to_be_bytes());
    }
    let crc = xfs_format::crc::xfs_cksum(b, xfs_format::btree::XFS_BTREE_LBLOCK_CRC_OFF).unwrap();
    b[64..68].copy_from_slice(&crc.to_le_bytes());
}

/// A file whose BMBT has two levels below the root in the inode (2 nodes, 58 leaves, 1988
/// one-block extents): xfs_repair (scan_bmapbt visits every block through every pointer)
/// finds nothing wrong and neither may we. The walk that went down the leftmost path and then
/// along the leaves missed the second node and reported a false
/// `bad nblocks 2048 for inode 67, would reset to 2047`. Also: `bmap` lists the extents as
/// xfs_db does.
#[test]
fn every_block_of_a_two_level_bmbt_is_the_inodes() {
    use std::process::Command;
    let dir = tempdir();
    let d = dir.path();
    // A 2 MiB file in one extent of 2048 1 KiB blocks, remapped below into a BMBT.
    let data: Vec<u8> = (0..2048 * 1024u32).map(|i| (i % 251) as u8).collect();
    std::fs::write(d.join("bigsrc"), data).unwrap();
    let proto = format!(
        "/dev/null\n0 0\nd--755 0 0\nbig ---644 0 0 {}\n$\n",
        d.join("bigsrc").display()
    );
    std::fs::write(d.join("proto"), proto).unwrap();
    let img = d.join("bmbt.img");
    let proto_arg = d.join("proto").display().to_string();
    let args = ["-b", "size=1024", "-p", &proto_arg].map(String::from);
    common::mkfs(&img, 64 << 20, &args).unwrap();
    let out = xfs_db(&img, &["path /big".into(), "inode".into(), "bmap".into()]);
    let ino: u64 = out
        .split_whitespace()
        .nth(4)
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    let start: u64 = out
        .split("startblock ")
        .nth(1)
        .and_then(|w| w.split_whitespace().next())
        .and_then(|w| w.parse().ok())
        .unwrap_or_else(|| panic!("{out}"));
    assert!(out.contains("count 2048 flag 0"), "{out}");

    // Blocks start..start+2 are the nodes, the next 58 the leaves, the rest the data.
    const NULL: u64 = u64::MAX;
    let (nodes, leaves) = (2usize, 58usize);
    let data0 = start + (nodes + leaves) as u64;
    let nrec = 2048 - nodes - leaves;
    let recs: Vec<(u64, u64, u64)> = (0..nrec as u64).map(|i| (2 * i, data0 + i, 1)).collect();
    let per = |i: usize| nrec / leaves + usize::from(i < nrec % leaves);
    let mut leaf_recs = Vec::new();
    let mut k = 0;
    for i in 0..leaves {
        leaf_recs.push(&recs[k..k + per(i)]);
        k += per(i);
    }
    let node_fsb = |i: usize| start + i as u64;
    let leaf_fsb = |i: usize| start + (nodes + i) as u64;
    let sib = |f: &dyn Fn(usize) -> u64, i: usize, n: usize| {
        let left = if i == 0 { NULL } else { f(i - 1) };
        (left, if i + 1 < n { f(i + 1) } else { NULL })
    };
    let mut bytes = std::fs::read(&img).unwrap();
    for (i, r) in leaf_recs.iter().enumerate() {
        let s = sib(&leaf_fsb, i, leaves);
        put_bmbt_block(&mut bytes, (leaf_fsb(i), 0), s, ino, &[], r);
    }
    let half = leaves / nodes;
    for n in 0..nodes {
        let kids: Vec<(u64, u64)> = (n * half..(n + 1) * half)
            .map(|c| (leaf_recs[c][0].0, leaf_fsb(c)))
            .collect();
        let s = sib(&node_fsb, n, nodes);
        put_bmbt_block(&mut bytes, (node_fsb(n), 1), s, ino, &kids, &[]);
    }
    std::fs::write(&img, bytes).unwrap();
    let last = recs.last().unwrap().0;
    let mut cmds = vec![
        format!("inode {ino}"),
        "write core.format 3".into(),
        format!("write core.nextents {nrec}"),
        format!("write core.size {}", (last + 1) * 1024),
        "write u3.bmbt.level 2".into(),
        format!("write u3.bmbt.numrecs {nodes}"),
    ];
    for n in 0..nodes {
        let first = leaf_recs[n * half][0].0;
        cmds.push(format!("write u3.bmbt.keys[{}].startoff {first}", n + 1));
        cmds.push(format!("write u3.bmbt.ptrs[{}] {}", n + 1, node_fsb(n)));
    }
    let mut c = Command::new(common::tool("xfs_db"));
    c.arg("-x");
    for cmd in &cmds {
        c.arg("-c").arg(cmd);
    }
    assert!(c.arg(&img).output().unwrap().status.success());

    let repair = Command::new(common::tool("xfs_repair"))
        .args(["-n", "-o", "phase2_threads=1"])
        .arg(&img)
        .env("TEST_DIR", "1")
        .env("TEST_DEV", "1")
        .env("QA_CHECK_FS", "1")
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&repair.stdout).into_owned()
        + &String::from_utf8_lossy(&repair.stderr);
    assert_eq!(repair.status.code(), Some(0), "{text}");
    assert!(!text.contains("bad nblocks"), "{text}");
    let i = img.to_str().unwrap();
    let check = inspect(["check", i]);
    let ours = String::from_utf8_lossy(&check.stdout).into_owned();
    assert_eq!(check.status.code(), Some(0), "{ours}");
    assert!(ours.starts_with("No problems found"), "{ours}");
    let bmap = inspect_ok(["bmap", i, &ino.to_string()]);
    let theirs = xfs_db(&img, &[format!("inode {ino}"), "bmap".into()]);
    assert_eq!(bmap, theirs);
    assert_eq!(bmap.lines().count(), nrec);
}
