//! The btree walker and renderer against xfs_db (xfsprogs 6.1) on images made at test time,
//! and a property test feeding hostile blocks to the walker.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;
use common::{mkfs, xfs_db, TempDir};

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use xfs_format::btree::{
    render_btdump, walk, walk_with, AgAddressing, BtreeKind, Finding, WalkOptions, WalkResult,
};
use xfs_format::btrees::{AgTree, AllocBtree, AllocBy, InoBtree, RefcountBtree, RmapBtree};
use xfs_format::sb::Geometry;
use xfs_format::{ByteSource, FileSource, Filesystem, SliceSource};

/// A protofile with `big` 9 KiB files and `small` one-byte files in the root directory.
/// With a stripe unit of 8 blocks the 9-block files are stripe aligned, which fragments
/// free space enough for multi-level free space btrees.
fn protofile(dir: &Path, big: usize, small: usize) -> PathBuf {
    let small_src = dir.join("small");
    std::fs::write(&small_src, b"x\n").unwrap();
    let big_src = dir.join("big");
    let data: Vec<u8> = (0..9216u32).map(|i| (i * 7 % 251) as u8).collect();
    std::fs::write(&big_src, data).unwrap();
    let mut p = String::from("/dev/null\n0 0\nd--755 0 0\n");
    for i in 0..big {
        p.push_str(&format!("g{i} ---644 0 0 {}\n", big_src.display()));
    }
    for i in 0..small {
        p.push_str(&format!("f{i} ---644 0 0 {}\n", small_src.display()));
    }
    p.push_str("$\n");
    let path = dir.join("proto");
    std::fs::write(&path, p).unwrap();
    path
}

fn tree_cmds(agno: u32, tree: AgTree) -> Vec<String> {
    let (hdr, field) = match tree {
        AgTree::Bno => ("agf", "bnoroot"),
        AgTree::Cnt => ("agf", "cntroot"),
        AgTree::Ino => ("agi", "root"),
        AgTree::Fino => ("agi", "free_root"),
        AgTree::Rmap => ("agf", "rmaproot"),
        AgTree::Refcount => ("agf", "refcntroot"),
    };
    vec![format!("{hdr} {agno}"), format!("addr {field}")]
}

fn render_tree<S: ByteSource>(
    fs: &Filesystem<S>,
    agno: u32,
    tree: AgTree,
    root: u64,
    nodes: bool,
) -> String {
    let geo = &fs.geo;
    let a = AgAddressing::new(geo, agno).unwrap();
    let src = fs.source();
    match tree {
        AgTree::Bno => render_btdump(src, &a, &AllocBtree(AllocBy::Block), root, nodes),
        AgTree::Cnt => render_btdump(src, &a, &AllocBtree(AllocBy::Count), root, nodes),
        AgTree::Ino => render_btdump(src, &a, &InoBtree::inobt(geo), root, nodes),
        AgTree::Fino => render_btdump(src, &a, &InoBtree::finobt(geo), root, nodes),
        AgTree::Rmap => render_btdump(src, &a, &RmapBtree, root, nodes),
        AgTree::Refcount => render_btdump(src, &a, &RefcountBtree, root, nodes),
    }
}

/// Compares `render_btdump` with `xfs_db btdump` and `btdump -i` for every tree of every
/// AG; returns the number of block headers compared.
fn compare_with_xfs_db(img: &Path) -> usize {
    let fs = Filesystem::open(FileSource::open(img).unwrap()).unwrap();
    let mut blocks = 0;
    for agno in 0..fs.geo.ag_count {
        let agf = fs.read_agf(agno).unwrap();
        let agi = fs.read_agi(agno).unwrap();
        for tree in AgTree::ALL {
            if !tree.exists(&fs.geo) {
                continue;
            }
            let (root, _) = tree.root(&agf, &agi);
            for nodes in [false, true] {
                let mut cmds = tree_cmds(agno, tree);
                cmds.push(if nodes { "btdump -i" } else { "btdump" }.to_string());
                let want = xfs_db(img, false, &cmds);
                let got = render_tree(&fs, agno, tree, root.into(), nodes);
                if got != want {
                    let line = got
                        .lines()
                        .zip(want.lines())
                        .position(|(a, b)| a != b)
                        .unwrap_or(got.lines().count().min(want.lines().count()));
                    panic!(
                        "{}: AG {agno} {tree:?} btdump{}: first difference at line {line}:\n ours: {:?}\nxfs_db: {:?}",
                        img.display(),
                        if nodes { " -i" } else { "" },
                        got.lines().nth(line),
                        want.lines().nth(line)
                    );
                }
                blocks += want.lines().filter(|l| l.contains(" level ")).count();
            }
        }
    }
    blocks
}

/// Walks `tree` of AG `agno` as `kind` from the root and with the options its AG header gives.
fn walk_tree<S: ByteSource, K: BtreeKind>(
    fs: &Filesystem<S>,
    agno: u32,
    kind: &K,
    tree: AgTree,
) -> (WalkResult, Vec<K::Rec>) {
    let (agf, agi) = (fs.read_agf(agno).unwrap(), fs.read_agi(agno).unwrap());
    let a = AgAddressing::new(&fs.geo, agno).unwrap();
    let (root, _) = tree.root(&agf, &agi);
    walk(
        fs.source(),
        &a,
        kind,
        root.into(),
        tree.walk_options(&agf, &agi),
    )
}

/// On a pristine filesystem every tree walks clean and agrees with the AG header counters.
fn check_walks(img: &Path) -> (usize, u16) {
    let fs = Filesystem::open(FileSource::open(img).unwrap()).unwrap();
    let geo = fs.geo.clone();
    let mut max_height = 0;
    let mut trees = 0;
    for agno in 0..geo.ag_count {
        let agf = fs.read_agf(agno).unwrap();
        let agi = fs.read_agi(agno).unwrap();
        let clean = |r: &WalkResult, what: &str| {
            assert!(r.findings.is_empty(), "AG {agno} {what}: {:?}", r.findings);
        };

        let (bno, bno_recs) = walk_tree(&fs, agno, &AllocBtree(AllocBy::Block), AgTree::Bno);
        clean(&bno, "bnobt");
        let (cnt, cnt_recs) = walk_tree(&fs, agno, &AllocBtree(AllocBy::Count), AgTree::Cnt);
        clean(&cnt, "cntbt");
        let free: u64 = bno_recs.iter().map(|r| u64::from(r.ar_blockcount)).sum();
        assert_eq!(free, u64::from(agf.raw.agf_freeblks), "AG {agno} freeblks");
        assert!(bno_recs
            .windows(2)
            .all(|w| w[0].ar_startblock < w[1].ar_startblock));
        let key = |r: &xfs_format::btrees::AllocRec| (r.ar_blockcount, r.ar_startblock);
        assert!(cnt_recs.windows(2).all(|w| key(&w[0]) < key(&w[1])));
        assert_eq!(
            cnt_recs.last().map_or(0, |r| r.ar_blockcount),
            agf.raw.agf_longest,
            "AG {agno} longest"
        );
        let mut sorted = cnt_recs.clone();
        sorted.sort();
        let mut by_bno = bno_recs.clone();
        by_bno.sort();
        assert_eq!(
            sorted, by_bno,
            "AG {agno}: bnobt and cntbt index the same extents"
        );

        let (ino, ino_recs) = walk_tree(&fs, agno, &InoBtree::inobt(&geo), AgTree::Ino);
        clean(&ino, "inobt");
        let count: u64 = ino_recs.iter().map(|r| u64::from(r.ir_count)).sum();
        assert_eq!(count, u64::from(agi.raw.agi_count), "AG {agno} agi_count");
        let freec: u64 = ino_recs.iter().map(|r| u64::from(r.ir_freecount)).sum();
        assert_eq!(
            freec,
            u64::from(agi.raw.agi_freecount),
            "AG {agno} agi_freecount"
        );
        if geo.has_inobtcount {
            assert_eq!(ino.block_count() as u32, agi.raw.agi_iblocks);
        }
        let mut btreeblks = bno.block_count() + cnt.block_count() - 2;
        max_height = max_height
            .max(bno.height())
            .max(cnt.height())
            .max(ino.height());
        trees += 3;
        if geo.has_finobt {
            let (fino, fino_recs) = walk_tree(&fs, agno, &InoBtree::finobt(&geo), AgTree::Fino);
            clean(&fino, "finobt");
            let with_free: Vec<_> = ino_recs
                .iter()
                .filter(|r| r.ir_freecount > 0)
                .cloned()
                .collect();
            assert_eq!(
                fino_recs, with_free,
                "AG {agno}: finobt = inobt records with free inodes"
            );
            if geo.has_inobtcount {
                assert_eq!(fino.block_count() as u32, agi.raw.agi_fblocks);
            }
            trees += 1;
        }
        if geo.has_rmapbt {
            let (rmap, rmap_recs) = walk_tree(&fs, agno, &RmapBtree, AgTree::Rmap);
            clean(&rmap, "rmapbt");
            assert_eq!(
                rmap.block_count() as u32,
                agf.raw.agf_rmap_blocks,
                "AG {agno} rmapblocks"
            );
            assert!(rmap_recs
                .windows(2)
                .all(|w| w[0].rm_startblock < w[1].rm_startblock));
            btreeblks += rmap.block_count() - 1;
            max_height = max_height.max(rmap.height());
            trees += 1;
        }
        if geo.has_reflink {
            let (refc, _) = walk_tree(&fs, agno, &RefcountBtree, AgTree::Refcount);
            clean(&refc, "refcountbt");
            assert_eq!(refc.block_count() as u32, agf.raw.agf_refcount_blocks);
            trees += 1;
        }
        assert_eq!(
            btreeblks as u32, agf.raw.agf_btreeblks,
            "AG {agno} btreeblks"
        );
        // Every block is visited once.
        let set: BTreeSet<_> = bno.block_ptrs().collect();
        assert_eq!(set.len(), bno.block_count());
    }
    (trees, max_height)
}

/// A `size`-byte image of 1 KiB blocks in 2 AGs, formatted with `opts` over the protofile
/// of 400 big and 5000 small files (in a scratch directory named `name`).
fn fragmented_image(name: &str, size: u64, opts: &[&str]) -> (TempDir, PathBuf) {
    let dir = TempDir::new(name);
    let proto = protofile(&dir.0, 400, 5000);
    let mut args = opts.to_vec();
    args.extend(["-b", "size=1024", "-d", "agcount=2,su=8k,sw=1"]);
    let img = mkfs(&dir.0, &format!("{name}.img"), size, &args, &proto);
    (dir, img)
}

/// [`check_walks`] and [`compare_with_xfs_db`] on a pristine image: `trees` trees walked,
/// at least `height` levels in the tallest, more than `blocks` blocks compared.
fn walks_and_dumps(img: &Path, trees: usize, height: u16, blocks: usize) {
    let (walked, tallest) = check_walks(img);
    assert_eq!(walked, trees);
    assert!(tallest >= height, "want {height} levels, got {tallest}");
    let compared = compare_with_xfs_db(img);
    assert!(compared > blocks, "only {compared} blocks compared");
}

#[test]
fn v4_1k_blocks_multi_level_free_space_and_inode_trees() {
    let (_dir, img) = fragmented_image("v4", 64 << 20, &["-m", "crc=0"]);
    walks_and_dumps(&img, 6, 2, 20);

    // An empty inobt root node: xfs_db prints "field ... not found" and stops there.
    let cmds = ["agi 0", "addr root", "write numrecs 0"].map(String::from);
    let _ = xfs_db(&img, true, &cmds);
    compare_with_xfs_db(&img);
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let root = fs.read_agi(0).unwrap().raw.agi_root;
    let (res, recs) = walk_tree(&fs, 0, &InoBtree::inobt(&fs.geo), AgTree::Ino);
    assert_eq!(res.findings, vec![Finding::Empty { ptr: root.into() }]);
    assert!(recs.is_empty() && res.block_count() == 1);
}

#[test]
fn v5_finobt_sparse_rmapbt_reflink() {
    let features = ["-m", "crc=1,finobt=1,rmapbt=1,reflink=1", "-i", "sparse=1"];
    let (_dir, img) = fragmented_image("v5", 128 << 20, &features);
    // A 3-level rmapbt.
    walks_and_dumps(&img, 12, 3, 100);

    // Records no fresh mkfs writes (refcount records with the CoW flag and a null start,
    // sparse holemasks, rmap flags), written with xfs_db itself; and a finobt root pointing
    // at the inobt, so that its sibling blocks are named the way xfs_db names them.
    let cmds: Vec<String> = [
        "agf 0",
        "addr refcntroot",
        "write numrecs 3",
        "write recs[1].startblock 100",
        "write recs[1].blockcount 5",
        "write recs[1].refcount 2",
        "write recs[2].startblock 200",
        "write recs[2].cowflag 1",
        "write recs[2].blockcount 1",
        "write recs[2].refcount 1",
        "write recs[3].startblock 2147483647",
        "agi 0",
        "addr root",
        "addr ptrs[1]",
        "write recs[1].holemask 0xff00",
        "write recs[1].count 32",
        "write recs[1].freecount 3",
        "agi 0",
        "write free_root 0",
        "agf 1",
        "addr rmaproot",
        "write recs[2].attrfork 1",
        "write recs[3].bmbtblock 1",
        "write recs[4].extentflag 1",
        "write recs[5].offset 12345",
    ]
    .iter()
    .map(|s| s.to_string())
    .collect();
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let agi0 = fs.read_agi(0).unwrap();
    drop(fs);
    let mut cmds = cmds;
    for c in cmds.iter_mut() {
        if c == "write free_root 0" {
            *c = format!("write free_root {}", agi0.raw.agi_root);
        }
    }
    cmds.push("agi 0".to_string());
    cmds.push(format!("write free_level {}", agi0.raw.agi_level));
    let _ = xfs_db(&img, true, &cmds);
    let blocks = compare_with_xfs_db(&img);
    assert!(blocks > 100, "only {blocks} blocks compared");

    // The walker reports the finobt-into-inobt redirection as bad magic, as data.
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let (res, _) = walk_tree(&fs, 0, &InoBtree::finobt(&fs.geo), AgTree::Fino);
    assert!(
        matches!(res.findings.first(), Some(Finding::BadMagic { .. })),
        "{:?}",
        res.findings
    );
    let (res, recs) = walk_tree(&fs, 0, &RefcountBtree, AgTree::Refcount);
    assert!(res.findings.is_empty(), "{:?}", res.findings);
    assert_eq!(recs.len(), 3);
    assert!(recs[1].is_cow() && recs[1].startblock() == 200);
}

// ---------------------------------------------------------------------------------------
// Hostile input.

const BS: usize = 512;
const AG_BLOCKS: u32 = 64;

fn tiny_geo(has_crc: bool) -> Geometry {
    Geometry {
        version: if has_crc { 5 } else { 4 },
        has_crc,
        block_size: BS as u32,
        block_log: 9,
        sect_size: 512,
        sect_log: 9,
        inode_size: 256,
        inode_log: 8,
        inodes_per_block: 2,
        inopb_log: 1,
        ag_blocks: AG_BLOCKS,
        ag_blk_log: 6,
        ag_count: 2,
        data_blocks: u64::from(AG_BLOCKS) * 2 - 5,
        dir_block_size: 512,
        log_start: 0,
        log_blocks: 0,
        log_sect_size: 512,
        has_ftype: true,
        has_finobt: true,
        has_rmapbt: true,
        has_reflink: true,
        has_inobtcount: false,
        has_sparse_inodes: has_crc,
        has_bigtime: false,
        has_nrext64: false,
        has_meta_uuid: false,
        has_projid32: false,
        has_attr2: false,
        has_lazysbcount: true,
        has_logv2: true,
        meta_uuid: [7; 16],
        rext_size: 1,
    }
}

/// A block description: header fields plus pointers/records area filled from `ptrs`.
#[derive(Debug, Clone)]
struct FakeBlock {
    magic_ok: bool,
    level: u16,
    numrecs: u16,
    left: u32,
    right: u32,
    ptrs: Vec<u32>,
    noise: Vec<u8>,
}

fn fake_block() -> impl Strategy<Value = FakeBlock> {
    (
        any::<bool>(),
        prop_oneof![0u16..4, any::<u16>()],
        prop_oneof![0u16..8, any::<u16>()],
        prop_oneof![0u32..80, Just(u32::MAX), any::<u32>()],
        prop_oneof![0u32..80, Just(u32::MAX), any::<u32>()],
        prop::collection::vec(prop_oneof![0u32..80, any::<u32>()], 0..8),
        prop::collection::vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |(magic_ok, level, numrecs, left, right, ptrs, noise)| FakeBlock {
                magic_ok,
                level,
                numrecs,
                left,
                right,
                ptrs,
                noise,
            },
        )
}

fn build_image(blocks: &[FakeBlock], magic: u32, has_crc: bool, key_len: usize) -> Vec<u8> {
    let total = (AG_BLOCKS as usize) * 2 * BS;
    let mut img = vec![0u8; total];
    let hdr = if has_crc { 56 } else { 16 };
    let max = (BS - hdr) / (key_len + 4);
    for (i, b) in blocks.iter().enumerate() {
        let off = (i + 4) * BS; // blocks 0-3 hold the AG headers
        let blk = &mut img[off..off + BS];
        for (j, n) in b.noise.iter().enumerate() {
            blk[(j * 37) % BS] = *n;
        }
        let m = if b.magic_ok {
            magic
        } else {
            magic ^ (b.noise.len() as u32 + 1)
        };
        blk[0..4].copy_from_slice(&m.to_be_bytes());
        blk[4..6].copy_from_slice(&b.level.to_be_bytes());
        blk[6..8].copy_from_slice(&b.numrecs.to_be_bytes());
        blk[8..12].copy_from_slice(&b.left.to_be_bytes());
        blk[12..16].copy_from_slice(&b.right.to_be_bytes());
        if has_crc {
            blk[16..24].copy_from_slice(&((off / 512) as u64).to_be_bytes());
            blk[32..48].copy_from_slice(&[7; 16]);
        }
        let ptrs_at = hdr + max * key_len;
        for (j, p) in b.ptrs.iter().enumerate() {
            let at = ptrs_at + j * 4;
            blk[at..at + 4].copy_from_slice(&p.to_be_bytes());
        }
        if has_crc {
            let c = xfs_format::crc::xfs_cksum(blk, 52).unwrap();
            blk[52..56].copy_from_slice(&c.to_le_bytes());
        }
    }
    img
}

fn exercise<K: BtreeKind>(
    kind: &K,
    blocks: &[FakeBlock],
    has_crc: bool,
    root: u32,
    root_level: Option<u16>,
) {
    let geo = tiny_geo(has_crc);
    let Some(magic) = kind.magic(has_crc) else {
        return;
    };
    let img = build_image(blocks, magic, has_crc, kind.key_len());
    let src = SliceSource(img);
    for agno in 0..2 {
        let a = AgAddressing::new(&geo, agno).unwrap();
        let opts = WalkOptions {
            root_level,
            ..WalkOptions::default()
        };
        let mut n = 0u64;
        let res = walk_with(&src, &a, kind, root.into(), opts, |_| n += 1);
        assert_eq!(n, res.records);
        let ptrs: BTreeSet<_> = res.blocks.iter().map(|b| b.ptr).collect();
        assert_eq!(ptrs.len(), res.blocks.len(), "a block was entered twice");
        assert!(res.blocks.len() <= AG_BLOCKS as usize);
        assert!(res.height() <= 9);
        let out = render_btdump(&src, &a, kind, root.into(), true);
        assert!(out.len() < 4 << 20);
        let _ = render_btdump(&src, &a, kind, root.into(), false);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, .. ProptestConfig::default() })]

    #[test]
    fn hostile_trees_terminate_without_panic(
        blocks in prop::collection::vec(fake_block(), 1..40),
        has_crc in any::<bool>(),
        root in prop_oneof![3u32..48, any::<u32>()],
        root_level in prop::option::of(prop_oneof![0u16..5, any::<u16>()]),
    ) {
        let geo = tiny_geo(has_crc);
        exercise(&AllocBtree(AllocBy::Block), &blocks, has_crc, root, root_level);
        exercise(&AllocBtree(AllocBy::Count), &blocks, has_crc, root, root_level);
        exercise(&InoBtree::inobt(&geo), &blocks, has_crc, root, root_level);
        exercise(&InoBtree::finobt(&geo), &blocks, has_crc, root, root_level);
        exercise(&RmapBtree, &blocks, has_crc, root, root_level);
        exercise(&RefcountBtree, &blocks, has_crc, root, root_level);
    }

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096), root in 0u64..20) {
        let geo = tiny_geo(true);
        let src = SliceSource(bytes);
        let a = AgAddressing::new(&geo, 0).unwrap();
        let _ = walk(&src, &a, &RmapBtree, root, WalkOptions::default());
        let _ = render_btdump(&src, &a, &RmapBtree, root, true);
        let _ = walk(&src, &a, &InoBtree::inobt(&geo), root, WalkOptions::default());
    }
}

/// A two-block cycle through sibling and child pointers is reported, not followed forever.
#[test]
fn cycle_is_a_finding() {
    let node = |left, right, ptrs: Vec<u32>| FakeBlock {
        magic_ok: true,
        level: 1,
        numrecs: ptrs.len() as u16,
        left,
        right,
        ptrs,
        noise: vec![],
    };
    // Block 4 (root, level 1) points at itself and at block 5.
    let blocks = vec![node(u32::MAX, u32::MAX, vec![4, 5])];
    let kind = AllocBtree(AllocBy::Block);
    let img = build_image(&blocks, kind.magic(false).unwrap(), false, 8);
    let geo = tiny_geo(false);
    let a = AgAddressing::new(&geo, 0).unwrap();
    let src = SliceSource(img);
    let (res, _) = walk(&src, &a, &kind, 4, WalkOptions::default());
    assert!(
        res.findings.contains(&Finding::Revisited { ptr: 4 }),
        "{:?}",
        res.findings
    );
    assert!(res
        .findings
        .iter()
        .any(|f| matches!(f, Finding::BadMagic { ptr: 5, .. })));
    // Root pointers into the AG headers or past the AG are out of range; an absurd root
    // level is refused before any block is read.
    let at = |root: u64, level: u16| {
        let opts = WalkOptions {
            root_level: Some(level),
            ..Default::default()
        };
        walk(&src, &a, &kind, root, opts).0.findings
    };
    for root in [0, 3] {
        assert_eq!(
            at(root, 0),
            vec![Finding::PtrOutOfRange {
                ptr: root,
                level: 0
            }]
        );
    }
    let res_findings = at(4, 40);
    assert!(matches!(res_findings[..], [Finding::TooDeep { .. }]));
}
