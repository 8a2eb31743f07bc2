//! Directory decoding against xfs_db (xfsprogs 6.1) on images populated at test time with
//! `mkfs.xfs -p protofile` (never mounted), and property tests feeding hostile directory
//! blocks and shortform forks to every decoder.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;
use common::{fsb_offset, inode_offset, test_geo, TempDir};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use proptest::prelude::*;
use xfs_format::dir2::{
    classify, da_hashname, data_dblocks, entries, leafn_blocks, parse_dir_block, parse_shortform,
    render_db_fields, shortform_entries, shortform_fields, BlockCtx, DirBlock, DirExtent,
    DirFormat, DirGeo, EntriesOptions, ForkFormat,
};
use xfs_format::files::ftype_name;
use xfs_format::sb::Geometry;
use xfs_format::{ByteSource, FileSource, Filesystem};

/// Directories of the test image: name, entry count, expected format(s).
const DIRS: &[(&str, usize)] = &[
    ("sf", 3),
    ("blk", 40),
    ("leaf", 400),
    ("node", 700),
    ("big", 5000),
];

fn entry_name(dir: &str, i: usize) -> String {
    // Lengths from 1 up to ~60 bytes, with a unique prefix.
    let pad = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    let extra = (i * 7) % 50;
    format!("{}{i}_{}", &dir[..1], &pad[..extra])
}

fn protofile(dir: &Path) -> PathBuf {
    let empty = dir.join("empty");
    std::fs::write(&empty, b"").unwrap();
    let mut p = String::from("/dev/null\n0 0\nd--755 0 0\n");
    for (d, n) in DIRS {
        p.push_str(&format!("{d} d--755 0 0\n"));
        for i in 0..*n {
            let name = if *d == "sf" {
                "s".repeat(i + 1)
            } else {
                entry_name(d, i)
            };
            match i % 13 {
                3 => p.push_str(&format!("{name} d--755 0 0\n$\n")),
                5 => p.push_str(&format!("{name} l--777 0 0 t{i}\n")),
                7 => p.push_str(&format!("{name} p--644 0 0\n")),
                _ => p.push_str(&format!("{name} ---644 0 0 {}\n", empty.display())),
            }
        }
        p.push_str("$\n");
    }
    p.push_str("$\n");
    let path = dir.join("proto");
    std::fs::write(&path, p).unwrap();
    path
}

/// Inode number, fork format and extents of a directory, from xfs_db.
fn dir_inode(img: &Path, name: &str) -> (u64, u8, Vec<DirExtent>) {
    let out = xfs_db(
        img,
        &[
            format!("path /{name}"),
            "inode".into(),
            "print core.format".into(),
            "bmap".into(),
        ],
    );
    let mut ino = None;
    let mut format = None;
    let mut ext = Vec::new();
    for line in out.lines() {
        if let Some(n) = line.strip_prefix("current inode number is ") {
            ino = Some(n.trim().parse().unwrap());
        } else if let Some(f) = line.strip_prefix("core.format = ") {
            format = Some(f.split_whitespace().next().unwrap().parse().unwrap());
        } else if let Some(rest) = line.strip_prefix("data offset ") {
            // "data offset X startblock Y (a/b) count Z flag F"
            let w: Vec<&str> = rest.split_whitespace().collect();
            ext.push(DirExtent {
                file_block: w[0].parse().unwrap(),
                start_block: w[2].parse().unwrap(),
                count: w[5].parse().unwrap(),
            });
        }
    }
    (ino.unwrap(), format.unwrap(), ext)
}

/// Disk address and bytes of every mapped directory block, keyed by directory block.
fn read_dir_blocks(
    src: &FileSource,
    geo: &Geometry,
    ext: &[DirExtent],
) -> BTreeMap<u32, (u64, Vec<u8>)> {
    let dg = DirGeo::new(geo).unwrap();
    let mut fsb_map = BTreeMap::new();
    for e in ext {
        for i in 0..e.count {
            fsb_map.insert(e.file_block + i, e.start_block + i);
        }
    }
    let bs = u64::from(geo.block_size);
    let mut out = BTreeMap::new();
    for (&fb, _) in fsb_map.iter() {
        if fb % u64::from(dg.fsbcount) != 0 {
            continue;
        }
        let db = dg.fsb_to_db(fb) as u32;
        let mut bytes = Vec::new();
        for k in 0..u64::from(dg.fsbcount) {
            let phys = fsb_map[&(fb + k)];
            bytes.extend_from_slice(&src.read_at(fsb_offset(geo, phys), bs as usize).unwrap());
        }
        let daddr = fsb_offset(geo, fsb_map[&fb]) / 512;
        out.insert(db, (daddr, bytes));
    }
    out
}

/// `xfs_db ls` lines as (cookie, inumber, ftype, hash, name).
fn xfs_db_ls(img: &Path, dir: &str) -> Vec<(u32, u64, String, u32, Vec<u8>)> {
    let out = xfs_db(img, &[format!("ls /{dir}")]);
    let mut v = Vec::new();
    for line in out.lines().skip(1) {
        let w: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(w.len(), 7, "unexpected ls line {line:?}");
        v.push((
            w[0].parse().unwrap(),
            w[1].parse().unwrap(),
            w[2].to_string(),
            u32::from_str_radix(w[3].trim_start_matches("0x"), 16).unwrap(),
            w[5].as_bytes().to_vec(),
        ));
    }
    v
}

/// Splits the output of a batch of `echo @@DB n` + `print` commands per block.
fn split_prints(out: &str) -> BTreeMap<u32, String> {
    let mut m = BTreeMap::new();
    let mut cur: Option<(u32, String)> = None;
    for line in out.lines() {
        if let Some(n) = line.strip_prefix("@@DB ") {
            if let Some((k, s)) = cur.take() {
                m.insert(k, s);
            }
            cur = Some((n.trim().parse().unwrap(), String::new()));
        } else if let Some((_, s)) = cur.as_mut() {
            s.push_str(line);
            s.push('\n');
        }
    }
    if let Some((k, s)) = cur {
        m.insert(k, s);
    }
    m
}

/// Mutates a real block deterministically and feeds it to the decoder (no panic).
fn mutate_all(geo: &Geometry, block: &[u8], seed: u64) {
    if geo.has_crc {
        // One flipped bit past the header is caught by the CRC.
        let mut b = block.to_vec();
        b[100] ^= 1;
        let d = parse_dir_block(&b, geo, &BlockCtx::default());
        assert_eq!(d.checks().unwrap().crc, xfs_format::fields::CrcState::Bad);
        assert!(d.findings().contains(&xfs_format::dir2::DirFinding::BadCrc));
    }
    let mut x = seed | 1;
    let mut next = || {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        x
    };
    for _ in 0..24 {
        let mut b = block.to_vec();
        for _ in 0..(next() % 8 + 1) {
            let i = (next() as usize) % b.len();
            b[i] = next() as u8;
        }
        let d = parse_dir_block(&b, geo, &BlockCtx::default());
        let _ = d.render_xfs_db();
        let cut = (next() as usize) % b.len();
        let _ = parse_dir_block(&b[..cut], geo, &BlockCtx::default()).render_xfs_db();
    }
}

struct Stats {
    blocks_compared: usize,
    formats: Vec<(String, DirFormat)>,
}

fn check_image(tag: &str, img: &Path) -> Stats {
    let src = FileSource::open(img).unwrap();
    let fs = Filesystem::open(src).unwrap();
    let geo = fs.geo.clone();
    let dg = DirGeo::new(&geo).unwrap();
    let mut stats = Stats {
        blocks_compared: 0,
        formats: Vec::new(),
    };
    for (dir, n) in DIRS {
        let (ino, fmt, ext) = dir_inode(img, dir);
        let format = classify(&geo, ForkFormat::from_raw(fmt), &ext);
        stats.formats.push((dir.to_string(), format));
        let ls = xfs_db_ls(img, dir);
        assert_eq!(ls.len(), n + 2, "{tag}/{dir}: xfs_db ls count");
        for (_, _, _, hash, name) in &ls {
            assert_eq!(da_hashname(name), *hash, "{tag}/{dir}: hash of {name:?}");
        }
        let mine: Vec<(u32, u64, String, Vec<u8>)>;
        if format == DirFormat::Shortform {
            // The fork: di_size bytes after the inode core.
            let off = inode_offset(&geo, ino);
            let inode = fs
                .source()
                .read_at(off, geo.inode_size as usize)
                .unwrap()
                .into_owned();
            let size = u64::from_be_bytes(inode[56..64].try_into().unwrap()) as usize;
            let core = if geo.has_crc { 176 } else { 100 };
            let sf = parse_shortform(&inode[core..core + size], geo.has_ftype);
            assert!(sf.findings.is_empty(), "{tag}/{dir}: {:?}", sf.findings);
            assert_eq!(sf.used, size, "{tag}/{dir}: shortform size");
            let want: String = xfs_db(img, &[format!("inode {ino}"), "print".into()])
                .lines()
                .filter(|l| l.starts_with("u.sfdir") || l.starts_with("u3.sfdir"))
                .map(|l| format!("{l}\n"))
                .collect();
            let got = render_db_fields(&shortform_fields(&sf, geo.has_crc));
            assert_eq!(got, want, "{tag}/{dir}: shortform rendering");
            stats.blocks_compared += 1;
            mine = shortform_entries(&sf)
                .into_iter()
                .map(|e| (e.cookie, e.inumber, ftype_name(e.ftype).to_string(), e.name))
                .collect();
            let ls_no_dots: Vec<_> = ls
                .iter()
                .filter(|l| l.4 != b"." && l.4 != b"..")
                .map(|l| (l.0, l.1, l.2.clone(), l.4.clone()))
                .collect();
            assert_eq!(
                mine, ls_no_dots,
                "{tag}/{dir}: shortform entries vs xfs_db ls"
            );
            continue;
        }
        let blocks = read_dir_blocks(fs.source(), &geo, &ext);
        // One xfs_db run prints every block.
        let mut cmds = vec![format!("inode {ino}")];
        for db in blocks.keys() {
            cmds.push(format!("echo @@DB {db}"));
            cmds.push(format!("dblock {}", dg.db_to_fsb(*db)));
            cmds.push("print".into());
        }
        let prints = split_prints(&xfs_db(img, &cmds));
        let mut kinds = Vec::new();
        let mut leaf_index = BTreeMap::new();
        for (db, (daddr, bytes)) in &blocks {
            let ctx = BlockCtx {
                dblock: *db,
                daddr: Some(*daddr),
                owner: Some(ino),
            };
            let blk = parse_dir_block(bytes, &geo, &ctx);
            assert!(
                blk.findings().is_empty(),
                "{tag}/{dir} block {db}: {:?}",
                blk.findings()
            );
            let checks = blk.checks().unwrap();
            assert!(checks.all_ok(), "{tag}/{dir} block {db}: {checks:?}");
            if geo.has_crc {
                assert_eq!(checks.blkno_ok, Some(true));
                assert_eq!(checks.owner_ok, Some(true));
            }
            let live = match &blk {
                DirBlock::Data(b) => b.leaf.clone(),
                DirBlock::Leaf(b) => b.ents.clone(),
                _ => Vec::new(),
            };
            for l in live.iter().filter(|l| l.address != 0) {
                assert!(leaf_index.insert(l.address, l.hashval).is_none());
            }
            kinds.push(match &blk {
                DirBlock::Data(b) if b.is_block => "block",
                DirBlock::Data(_) => "data",
                DirBlock::Leaf(b) if b.is_leaf1 => "leaf1",
                DirBlock::Leaf(_) => "leafn",
                DirBlock::Node(_) => "node",
                DirBlock::Free(_) => "free",
                DirBlock::Unknown { .. } => "unknown",
            });
            let want = &prints[db];
            assert_eq!(
                &blk.render_xfs_db(),
                want,
                "{tag}/{dir}: rendering of directory block {db}"
            );
            stats.blocks_compared += 1;
            if *db % 7 == 0 {
                mutate_all(&geo, bytes, u64::from(*db) + 1);
            }
        }
        // The format agrees with the block kinds found.
        match format {
            DirFormat::Block => assert_eq!(kinds, ["block"], "{tag}/{dir}"),
            DirFormat::Leaf => {
                assert_eq!(kinds.iter().filter(|k| **k == "leaf1").count(), 1);
                assert!(kinds.iter().all(|k| matches!(*k, "data" | "leaf1")));
            }
            DirFormat::Node | DirFormat::Btree => {
                assert!(
                    kinds.contains(&"free") && kinds.contains(&"leafn"),
                    "{kinds:?}"
                );
                assert!(!kinds.contains(&"block") && !kinds.contains(&"leaf1"));
            }
            other => panic!("{tag}/{dir}: unexpected format {other:?}"),
        }
        // Entries by scanning the data blocks.
        let dbs = data_dblocks(&geo, &ext, 1 << 20);
        let mut reader = |db: u32| -> xfs_format::Result<Vec<u8>> {
            Ok(blocks.get(&db).map(|b| b.1.clone()).unwrap_or_default())
        };
        let listing = entries(
            &geo,
            &dbs,
            &mut reader,
            EntriesOptions {
                owner: Some(ino),
                ..Default::default()
            },
        );
        assert!(listing.findings.is_empty(), "{:?}", listing.findings);
        // Node directories: the da btree walk reaches every leafn block, in hash order.
        if matches!(format, DirFormat::Node | DirFormat::Btree) {
            let opts = EntriesOptions {
                owner: Some(ino),
                ..Default::default()
            };
            let walk = leafn_blocks(&geo, &mut reader, opts);
            assert!(walk.findings.is_empty(), "{tag}/{dir}: {:?}", walk.findings);
            let leafn: Vec<u32> = blocks
                .iter()
                .filter(|(_, b)| {
                    matches!(parse_dir_block(&b.1, &geo, &BlockCtx::default()),
                        DirBlock::Leaf(l) if !l.is_leaf1)
                })
                .map(|(d, _)| *d)
                .collect();
            let mut got = walk.leaves.clone();
            got.sort_unstable();
            assert_eq!(got, leafn, "{tag}/{dir}: leafn blocks reached by the walk");
        }
        // Every entry is indexed by a leaf entry with its hash at its dataptr.
        for e in &listing.entries {
            assert_eq!(
                leaf_index.get(&e.cookie),
                Some(&da_hashname(&e.name)),
                "{tag}/{dir}: leaf entry for {:?} at {:#x}",
                e.name,
                e.cookie
            );
        }
        assert_eq!(
            leaf_index.len(),
            listing.entries.len(),
            "{tag}/{dir}: leaf entries"
        );
        // xfs_db ls prints, like getdents, the position after each entry in leaf and node
        // directories, and the entry's own position in block directories.
        let with_cookie = format == DirFormat::Block;
        let key = |c: u32| if with_cookie { c } else { 0 };
        mine = listing
            .entries
            .into_iter()
            .map(|e| {
                (
                    key(e.cookie),
                    e.inumber,
                    ftype_name(e.ftype).to_string(),
                    e.name,
                )
            })
            .collect();
        let mut ls_sorted: Vec<_> = ls
            .iter()
            .map(|l| (key(l.0), l.1, l.2.clone(), l.4.clone()))
            .collect();
        ls_sorted.sort();
        let mut mine_sorted = mine.clone();
        mine_sorted.sort();
        let only_mine: Vec<_> = mine_sorted
            .iter()
            .filter(|e| !ls_sorted.contains(e))
            .collect();
        let only_ls: Vec<_> = ls_sorted
            .iter()
            .filter(|e| !mine_sorted.contains(e))
            .collect();
        assert!(
            only_mine.is_empty() && only_ls.is_empty(),
            "{tag}/{dir}: entries vs xfs_db ls: only decoded {only_mine:?}, only in ls {only_ls:?}"
        );
        assert_eq!(mine_sorted, ls_sorted, "{tag}/{dir}: duplicate entries");
    }
    stats
}

#[test]
fn directories_match_xfs_db() {
    let t = TempDir::new("cmp");
    let proto = protofile(&t.0);
    let configs: &[(&str, &[&str])] = &[
        ("v4-ftype0", &["-m", "crc=0", "-n", "ftype=0"]),
        (
            "v4-ftype1-1k",
            &["-m", "crc=0", "-n", "ftype=1", "-b", "size=1024"],
        ),
        ("v5", &[]),
        ("v5-1k", &["-b", "size=1024"]),
        ("v5-dir8k", &["-n", "size=8192"]),
    ];
    for (tag, opts) in configs {
        let img = mkfs(&t.0, &format!("{tag}.img"), opts, &proto);
        let stats = check_image(tag, &img);
        let f: BTreeMap<_, _> = stats.formats.into_iter().collect();
        assert_eq!(f["sf"], DirFormat::Shortform, "{tag}");
        assert_eq!(f["blk"], DirFormat::Block, "{tag}");
        assert_eq!(f["leaf"], DirFormat::Leaf, "{tag}");
        // With 8 KiB directory blocks, 700 entries still fit a single leaf.
        let node_ok = match f["node"] {
            DirFormat::Node | DirFormat::Btree => true,
            DirFormat::Leaf => *tag == "v5-dir8k",
            _ => false,
        };
        assert!(node_ok, "{tag}: node dir is {:?}", f["node"]);
        assert!(
            matches!(f["big"], DirFormat::Node | DirFormat::Btree),
            "{tag}: {:?}",
            f["big"]
        );
        eprintln!(
            "{tag}: {} blocks compared, formats {f:?}",
            stats.blocks_compared
        );
        std::fs::remove_file(&img).unwrap();
    }
}

// ---------------------------------------------------------------------------------------
// Property tests
// ---------------------------------------------------------------------------------------

const MAGICS32: &[u32] = &[
    0x5844_3242,
    0x5844_3244,
    0x5844_3246,
    0x5844_4233,
    0x5844_4433,
    0x5844_4633,
];
const MAGICS16: &[u16] = &[0xd2f1, 0xd2ff, 0x3df1, 0x3dff, 0xfebe, 0x3ebe];

/// A block of random bytes with a directory magic planted, with random small counts in
/// the usual count positions so the entry loops get exercised.
fn hostile_block() -> impl Strategy<Value = (Vec<u8>, bool, bool, u8)> {
    (
        prop::collection::vec(any::<u8>(), 0..=4096usize),
        any::<bool>(),
        any::<bool>(),
        0u8..14,
        any::<u16>(),
    )
        .prop_map(|(mut b, v5, ftype, which, count)| {
            if b.len() >= 64 {
                if (which as usize) < MAGICS32.len() {
                    b[..4].copy_from_slice(&MAGICS32[which as usize].to_be_bytes());
                } else if (which as usize) < MAGICS32.len() + MAGICS16.len() {
                    let m = MAGICS16[which as usize - MAGICS32.len()];
                    b[8..10].copy_from_slice(&m.to_be_bytes());
                }
                for at in [12usize, 56] {
                    b[at..at + 2].copy_from_slice(&(count % 600).to_be_bytes());
                }
                let n = b.len();
                b[n - 8..n - 4].copy_from_slice(&u32::from(count % 300).to_be_bytes());
                b[n - 4..].copy_from_slice(&u32::from(count % 100).to_be_bytes());
            }
            (b, v5, ftype, which)
        })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn dir_blocks_never_panic((b, v5, ftype, _w) in hostile_block(), daddr in any::<u64>()) {
        let geo = test_geo(v5, ftype, 4096, 4096);
        let ctx = BlockCtx { dblock: 3, daddr: Some(daddr), owner: Some(131) };
        let blk = parse_dir_block(&b, &geo, &ctx);
        let _ = blk.render_xfs_db();
        let _ = blk.fields();
        // Decoded items never exceed what fits in the block.
        if let DirBlock::Data(d) = &blk {
            prop_assert!(d.items.len() <= b.len() / 8 + 1);
        }
    }

    #[test]
    fn shortform_never_panics(b in prop::collection::vec(any::<u8>(), 0..400), ftype in any::<bool>()) {
        let sf = parse_shortform(&b, ftype);
        prop_assert!(sf.entries.len() <= usize::from(sf.hdr.count));
        prop_assert!(sf.used <= b.len().max(10));
        let _ = render_db_fields(&shortform_fields(&sf, ftype));
        let _ = shortform_entries(&sf);
    }

    #[test]
    fn entries_and_classify_are_bounded(
        blocks in prop::collection::vec(hostile_block(), 1..6),
        dbs in prop::collection::vec(0u32..8, 0..12),
        exts in prop::collection::vec((any::<u64>(), any::<u64>(), 0u64..1000), 0..8),
        fmt in 0u8..5,
    ) {
        let geo = test_geo(true, true, 4096, 4096);
        let mut reader = |db: u32| -> xfs_format::Result<Vec<u8>> {
            Ok(blocks[db as usize % blocks.len()].0.clone())
        };
        let l = entries(&geo, &dbs, &mut reader, EntriesOptions { max_blocks: 4, owner: None });
        prop_assert!(l.blocks.len() <= 4);
        let ext: Vec<DirExtent> = exts
            .iter()
            .map(|&(f, s, c)| DirExtent { file_block: f, start_block: s, count: c })
            .collect();
        let _ = classify(&geo, ForkFormat::from_raw(fmt), &ext);
        prop_assert!(data_dblocks(&geo, &ext, 100).len() <= 100);
    }
}

fn mkfs(dir: &Path, name: &str, opts: &[&str], proto: &Path) -> PathBuf {
    common::mkfs(dir, name, 64 << 20, opts, proto)
}

fn xfs_db(img: &Path, cmds: &[String]) -> String {
    common::xfs_db(img, false, cmds)
}

// ---------------------------------------------------------------------------------------
// Hand-made blocks
// ---------------------------------------------------------------------------------------

mod hand_made {
    use super::common::test_geo;
    use xfs_format::dir2::*;
    use xfs_format::sb::Geometry;

    #[test]
    fn entsize() {
        assert_eq!(data_entsize(1, false), 16);
        assert_eq!(data_entsize(1, true), 16);
        assert_eq!(data_entsize(5, false), 16);
        assert_eq!(data_entsize(5, true), 24);
        assert_eq!(data_entsize(12, true), 24);
        assert_eq!(data_entsize(13, true), 32);
    }

    fn geo4() -> Geometry {
        test_geo(false, false, 4096, 4096)
    }

    /// A v4 data block: one entry "ab" at 16, then one unused region to the end.
    fn data_block() -> Vec<u8> {
        let mut b = vec![0u8; 4096];
        b[..4].copy_from_slice(&XFS_DIR2_DATA_MAGIC.to_be_bytes());
        b[4..6].copy_from_slice(&32u16.to_be_bytes());
        b[6..8].copy_from_slice(&(4096u16 - 32).to_be_bytes());
        b[16..24].copy_from_slice(&131u64.to_be_bytes());
        b[24] = 2;
        b[25..27].copy_from_slice(b"ab");
        b[30..32].copy_from_slice(&16u16.to_be_bytes());
        b[32..34].copy_from_slice(&0xffffu16.to_be_bytes());
        b[34..36].copy_from_slice(&(4096u16 - 32).to_be_bytes());
        b[4094..].copy_from_slice(&32u16.to_be_bytes());
        b
    }

    #[test]
    fn clean_data_block_decodes() {
        let blk = parse_dir_block(&data_block(), &geo4(), &BlockCtx::default());
        let DirBlock::Data(d) = blk else {
            panic!("not a data block")
        };
        assert!(d.findings.is_empty(), "{:?}", d.findings);
        assert!(d.checks.all_ok());
        let e: Vec<_> = d.entries().collect();
        assert_eq!(e.len(), 1);
        assert_eq!((e[0].name.as_slice(), e[0].inumber), (&b"ab"[..], 131));
        assert_eq!(d.items.len(), 2);
    }

    #[test]
    fn corrupt_lengths_and_tags_are_findings() {
        let geo = geo4();
        let mut b = data_block();
        b[30..32].copy_from_slice(&24u16.to_be_bytes()); // tag of the entry
        b[34..36].copy_from_slice(&0u16.to_be_bytes()); // zero free length
        let blk = parse_dir_block(&b, &geo, &BlockCtx::default());
        let f = blk.findings();
        assert!(
            f.contains(&DirFinding::BadTag { at: 16, found: 24 }),
            "{f:?}"
        );
        assert!(
            f.contains(&DirFinding::BadFreeLength { at: 32, length: 0 }),
            "{f:?}"
        );
        // An entry whose name runs off the block.
        let mut c = data_block();
        c[32..40].copy_from_slice(&7u64.to_be_bytes());
        c[40] = 255;
        c[34..36].copy_from_slice(&0u16.to_be_bytes());
        let mut short = c[..200].to_vec();
        short[0..4].copy_from_slice(&XFS_DIR2_DATA_MAGIC.to_be_bytes());
        let blk = parse_dir_block(&short, &geo, &BlockCtx::default());
        assert!(blk
            .findings()
            .iter()
            .any(|f| matches!(f, DirFinding::EntryOverrun { at: 32, .. })));
        // A v5 magic on a v4 filesystem.
        let mut d = data_block();
        d[..4].copy_from_slice(&XFS_DIR3_DATA_MAGIC.to_be_bytes());
        let blk = parse_dir_block(&d, &geo, &BlockCtx::default());
        assert!(!blk.checks().unwrap().magic_ok);
    }

    #[test]
    fn shortform_overrun_stops() {
        // count 3, i8count 0, parent 128, one entry "x" then truncated.
        let b = [3u8, 0, 0, 0, 0, 128, 1, 0, 0x30, b'x', 0, 0, 0, 200, 5];
        let sf = parse_shortform(&b, false);
        assert_eq!(sf.entries.len(), 1);
        assert_eq!(sf.entries[0].inumber, 200);
        assert!(matches!(
            sf.findings.first(),
            Some(DirFinding::Truncated { at: 14, .. })
        ));
    }

    #[test]
    fn classify_by_mapping() {
        let geo = geo4();
        let ext = |f, c| DirExtent {
            file_block: f,
            start_block: 100,
            count: c,
        };
        let leaf = XFS_DIR2_LEAF_OFFSET / 4096;
        let free = XFS_DIR2_FREE_OFFSET / 4096;
        assert_eq!(
            classify(&geo, ForkFormat::Extents, &[ext(0, 1)]),
            DirFormat::Block
        );
        assert_eq!(
            classify(&geo, ForkFormat::Extents, &[ext(0, 3), ext(leaf, 1)]),
            DirFormat::Leaf
        );
        assert_eq!(
            classify(
                &geo,
                ForkFormat::Extents,
                &[ext(0, 3), ext(leaf, 2), ext(free, 1)]
            ),
            DirFormat::Node
        );
        assert_eq!(classify(&geo, ForkFormat::Local, &[]), DirFormat::Shortform);
        assert_eq!(classify(&geo, ForkFormat::Extents, &[]), DirFormat::Invalid);
        assert_eq!(
            classify(&geo, ForkFormat::Extents, &[ext(0, 2)]),
            DirFormat::Invalid
        );
    }
}
