//! Attribute decoders against xfs_db (xfsprogs 6.1) on images made at test time: attributes
//! are created with `xfs_db -x attr_set`, then shortform forks, leaf, node and remote blocks
//! are rendered and compared with `xfs_db print`, and listed attributes are compared with
//! what was set.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;
use common::{fork_extents, fsb_offset, inode_bytes, root_entries, TempDir};

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use xfs_format::attr::{
    da_magic, decode_leaf, decode_node, decode_remote_block, decode_shortform, list_attrs,
    list_shortform, read_remote_value, AttrValue, BlockContext, Finding, ListOptions, Namespace,
    XFS_ATTR3_LEAF_MAGIC, XFS_ATTR_LEAF_MAGIC, XFS_DA3_NODE_MAGIC, XFS_DA_NODE_MAGIC,
};
use xfs_format::sb::Geometry;
use xfs_format::{ByteSource, FileSource, Filesystem};

/// What the test needs of an inode, decoded here (inode decoding is not this module's job).
struct InodeAttrFork {
    /// 1 local, 2 extents, 3 btree.
    aformat: u8,
    fork: Vec<u8>,
    /// (startoff, fsblock, count)
    extents: Vec<(u64, u64, u64)>,
}

fn read_inode(fs: &Filesystem<FileSource>, ino: u64) -> InodeAttrFork {
    let (buf, core) = inode_bytes(fs, ino);
    let forkoff = usize::from(buf[82]) * 8;
    assert!(forkoff > 0, "inode {ino} has no attribute fork");
    let aformat = buf[83];
    let anextents = u16::from_be_bytes([buf[80], buf[81]]);
    let fork = buf[core + forkoff..].to_vec();
    let extents = if aformat == 2 {
        fork_extents(&fork, usize::from(anextents))
    } else {
        Vec::new()
    };
    InodeAttrFork {
        aformat,
        fork,
        extents,
    }
}

/// Logical attribute-fork block -> (bytes, daddr), through the extent list.
fn block_reader<'a>(
    fs: &'a Filesystem<FileSource>,
    extents: &'a [(u64, u64, u64)],
) -> impl Fn(u32) -> Result<(Vec<u8>, Option<u64>), String> + 'a {
    move |lblk: u32| {
        let l = u64::from(lblk);
        let &(so, fsb, _) = extents
            .iter()
            .find(|(so, _, c)| l >= *so && l < so + c)
            .ok_or_else(|| format!("hole at {lblk}"))?;
        let off = fsb_offset(&fs.geo, fsb + (l - so));
        let b = fs
            .source()
            .read_at(off, fs.geo.block_size as usize)
            .map_err(|e| e.to_string())?;
        Ok((b.into_owned(), Some(off / 512)))
    }
}

/// One attribute to set: namespace flag for attr_set, name, value length.
struct Want {
    ns: Namespace,
    name: String,
    len: usize,
}

fn want(ns: Namespace, name: &str, len: usize) -> Want {
    Want {
        ns,
        name: name.to_string(),
        len,
    }
}

fn set_attrs(img: &Path, ino: u64, wants: &[Want]) {
    let mut cmds = vec![format!("inode {ino}")];
    for w in wants {
        let flag = match w.ns {
            Namespace::User => "-u",
            Namespace::Trusted => "-r",
            Namespace::Secure => "-s",
            Namespace::Invalid => unreachable!(),
        };
        cmds.push(format!("attr_set {flag} -v {} {}", w.len, w.name));
    }
    xfs_db(img, true, &cmds);
}

/// The xfs_db print lines of the attribute fork (`a.` lines) of inode `ino`.
fn xfs_db_afork(img: &Path, ino: u64) -> String {
    xfs_db(img, false, &[format!("inode {ino}"), "print a".into()])
}

#[derive(Default, Debug)]
struct Counts {
    sf_forks: usize,
    attrs: usize,
    leaf_blocks: usize,
    node_blocks: usize,
    remote_blocks: usize,
    remote_values: usize,
}

/// Checks inode `ino` against xfs_db and against `wants`.
fn check_inode(img: &Path, fs: &Filesystem<FileSource>, ino: u64, wants: &[Want], c: &mut Counts) {
    let inode = read_inode(fs, ino);
    let geo: &Geometry = &fs.geo;
    let listing = match inode.aformat {
        1 => {
            let sf = decode_shortform(&inode.fork).unwrap();
            assert!(sf.findings.is_empty(), "ino {ino}: {:?}", sf.findings);
            assert_eq!(sf.render_xfs_db(), xfs_db_afork(img, ino), "ino {ino}");
            c.sf_forks += 1;
            list_shortform(&inode.fork)
        }
        2 => {
            let reader = block_reader(fs, &inode.extents);
            // Every mapped block, rendered by its type, against `ablock N` + print.
            for &(so, _, cnt) in &inode.extents {
                for lblk in so..so + cnt {
                    let (bytes, daddr) = reader(lblk as u32).unwrap();
                    let ctx = BlockContext {
                        geo,
                        lblk: lblk as u32,
                        owner: ino,
                        daddr,
                    };
                    let mine = match da_magic(&bytes) {
                        Some(XFS_ATTR_LEAF_MAGIC | XFS_ATTR3_LEAF_MAGIC) => {
                            let b = decode_leaf(&bytes, &ctx).unwrap();
                            assert!(b.findings.is_empty(), "{ino}/{lblk}: {:?}", b.findings);
                            c.leaf_blocks += 1;
                            b.render_xfs_db()
                        }
                        Some(XFS_DA_NODE_MAGIC | XFS_DA3_NODE_MAGIC) => {
                            let b = decode_node(&bytes, &ctx).unwrap();
                            assert!(b.findings.is_empty(), "{ino}/{lblk}: {:?}", b.findings);
                            c.node_blocks += 1;
                            b.render_xfs_db()
                        }
                        _ => {
                            let b = decode_remote_block(&bytes, &ctx).unwrap();
                            assert!(b.findings.is_empty(), "{ino}/{lblk}: {:?}", b.findings);
                            c.remote_blocks += 1;
                            b.render_xfs_db()
                        }
                    };
                    let theirs = xfs_db(
                        img,
                        false,
                        &[
                            format!("inode {ino}"),
                            format!("ablock {lblk}"),
                            "print".into(),
                        ],
                    );
                    assert_eq!(mine, theirs, "inode {ino} ablock {lblk}");
                }
            }
            let l = list_attrs(&reader, geo, ino, ListOptions::default());
            // Remote values assemble to what was set.
            for a in &l.attrs {
                if let AttrValue::Remote { valueblk, valuelen } = a.value {
                    let v = read_remote_value(&reader, geo, ino, valueblk, valuelen);
                    assert!(v.findings.is_empty(), "{:?}", v.findings);
                    assert!(v.is_complete(valuelen));
                    assert!(v.value.iter().all(|&b| b == b'v'));
                    c.remote_values += 1;
                }
            }
            l
        }
        f => panic!("inode {ino}: attribute fork format {f} not covered"),
    };
    assert!(listing.findings.is_empty(), "{:?}", listing.findings);
    let mut got: Vec<(Namespace, String, usize)> = listing
        .attrs
        .iter()
        .map(|a| {
            let len = match &a.value {
                AttrValue::Local(v) => {
                    assert!(v.iter().all(|&b| b == b'v'));
                    v.len()
                }
                AttrValue::Remote { valuelen, .. } => *valuelen as usize,
            };
            (a.namespace, String::from_utf8(a.name.clone()).unwrap(), len)
        })
        .collect();
    let mut exp: Vec<(Namespace, String, usize)> = wants
        .iter()
        .map(|w| (w.ns, w.name.clone(), w.len))
        .collect();
    got.sort();
    exp.sort();
    assert_eq!(got, exp, "inode {ino}");
    c.attrs += got.len();
}

fn exercise(tag: &str, opts: &[&str]) -> Counts {
    let dir = TempDir::new(tag);
    let img = mkfs(&dir.0, "img", opts, 4);
    let fs0 = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let names = root_entries(&img, fs0.sb.raw.sb_rootino);
    drop(fs0);
    let ino = |n: &str| names[n];
    let sf = vec![
        want(Namespace::User, "user1", 5),
        want(Namespace::Trusted, "rootattr", 3),
        want(Namespace::Secure, "sec", 1),
        want(Namespace::User, "esc\\aped", 2),
    ];
    // xfs_db 6.1 crashes on v4 when the first attribute of an inode needs a leaf block
    // (attr_set -v 100 on a fork-less inode), so a small one goes first.
    let leaf = vec![
        want(Namespace::User, "a0", 3),
        want(Namespace::User, "a1", 100),
        want(Namespace::Trusted, "a2", 200),
        want(Namespace::Secure, "big", 5000),
        want(Namespace::User, "bigger", 9000),
    ];
    let mut node: Vec<Want> = (0..200)
        .map(|i| {
            let ns = [Namespace::User, Namespace::Trusted, Namespace::Secure][i % 3];
            want(ns, &format!("attribute_name_number_{i}"), 40 + i % 7)
        })
        .collect();
    node.push(want(Namespace::User, "remote_in_node", 4000));
    set_attrs(&img, ino("f0"), &sf);
    set_attrs(&img, ino("f1"), &leaf);
    set_attrs(&img, ino("f2"), &node);
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let mut c = Counts::default();
    check_inode(&img, &fs, ino("f0"), &sf, &mut c);
    check_inode(&img, &fs, ino("f1"), &leaf, &mut c);
    check_inode(&img, &fs, ino("f2"), &node, &mut c);
    // Mutations: one flipped byte in a leaf of the node-format inode is caught.
    let inode = read_inode(&fs, ino("f2"));
    let reader = block_reader(&fs, &inode.extents);
    let l = list_attrs(&reader, &fs.geo, ino("f2"), ListOptions::default());
    let leaf_blk = l.leaves[1];
    let bad = move |lblk: u32| {
        let (mut b, d) = reader(lblk)?;
        if lblk == leaf_blk {
            let last = b.len() - 1;
            b[last] ^= 0x20;
        }
        Ok((b, d))
    };
    let l2 = list_attrs(&bad, &fs.geo, ino("f2"), ListOptions::default());
    if fs.geo.has_crc {
        assert!(l2.findings.contains(&Finding::BadCrc { block: leaf_blk }));
    }
    // Wrong owner expected.
    let l3 = list_attrs(&bad, &fs.geo, 12345, ListOptions::default());
    if fs.geo.has_crc {
        assert!(l3
            .findings
            .iter()
            .any(|f| matches!(f, Finding::BadOwner { found, .. } if *found == ino("f2"))));
    }
    c
}

#[test]
fn v5_attrs_match_xfs_db() {
    let c = exercise("v5", &[]);
    eprintln!("v5: {c:?}");
    assert_eq!(c.sf_forks, 1);
    assert!(
        c.node_blocks >= 1 && c.leaf_blocks >= 3 && c.remote_blocks >= 6 && c.remote_values == 3
    );
}

#[test]
fn v4_attrs_match_xfs_db() {
    let c = exercise("v4", &["-m", "crc=0"]);
    eprintln!("v4: {c:?}");
    assert_eq!(c.sf_forks, 1);
    assert!(
        c.node_blocks >= 1 && c.leaf_blocks >= 3 && c.remote_blocks >= 6 && c.remote_values == 3
    );
}

// ---------------------------------------------------------------------------------------
// Hostile input: arbitrary and mutated forks and blocks never panic, and walks terminate.

use proptest::prelude::*;
use std::sync::OnceLock;

/// A plausible geometry for decoders that only look at the block size, CRC flag and uuid.
fn geo(has_crc: bool, block_size: u32) -> Geometry {
    let base = real_blocks(has_crc).geo.clone();
    Geometry {
        block_size,
        block_log: block_size.trailing_zeros() as u8,
        ..base
    }
}

struct RealBlocks {
    geo: Geometry,
    owner: u64,
    /// The attribute fork of a node-format inode: lblk -> block bytes.
    blocks: BTreeMap<u32, Vec<u8>>,
    sf_fork: Vec<u8>,
}

/// The blocks of a node-format attribute fork (200 attributes, one remote value) and a
/// shortform fork, from a freshly made image; built once per test binary and flavour.
fn real_blocks(has_crc: bool) -> &'static RealBlocks {
    static V5: OnceLock<RealBlocks> = OnceLock::new();
    static V4: OnceLock<RealBlocks> = OnceLock::new();
    let cell = if has_crc { &V5 } else { &V4 };
    cell.get_or_init(|| {
        let tag = if has_crc { "pv5" } else { "pv4" };
        let dir = TempDir::new(tag);
        let opts: &[&str] = if has_crc { &[] } else { &["-m", "crc=0"] };
        let img = mkfs(&dir.0, "img", opts, 2);
        let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
        let names = root_entries(&img, fs.sb.raw.sb_rootino);
        drop(fs);
        let mut node: Vec<Want> = (0..120)
            .map(|i| want(Namespace::User, &format!("n{i}"), 30 + i % 5))
            .collect();
        node.push(want(Namespace::Secure, "remote", 6000));
        set_attrs(&img, names["f0"], &node);
        set_attrs(&img, names["f1"], &[want(Namespace::Trusted, "t", 4)]);
        let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
        let inode = read_inode(&fs, names["f0"]);
        let reader = block_reader(&fs, &inode.extents);
        let mut blocks = BTreeMap::new();
        for &(so, _, cnt) in &inode.extents {
            for l in so..so + cnt {
                blocks.insert(l as u32, reader(l as u32).unwrap().0);
            }
        }
        RealBlocks {
            geo: fs.geo.clone(),
            owner: names["f0"],
            blocks,
            sf_fork: read_inode(&fs, names["f1"]).fork,
        }
    })
}

fn exercise_block(buf: &[u8], geo: &Geometry, owner: u64) {
    let ctx = BlockContext {
        geo,
        lblk: 0,
        owner,
        daddr: Some(8),
    };
    if let Ok(l) = decode_leaf(buf, &ctx) {
        let _ = l.render_xfs_db();
        assert!(l.entries.len() <= buf.len() / 8);
    }
    if let Ok(n) = decode_node(buf, &ctx) {
        let _ = n.render_xfs_db();
        assert!(n.entries.len() <= buf.len() / 8);
    }
    if let Ok(r) = decode_remote_block(buf, &ctx) {
        let _ = r.render_xfs_db();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_forks_and_blocks(bytes in prop::collection::vec(any::<u8>(), 0..1100), crc in any::<bool>()) {
        let sf = list_shortform(&bytes);
        prop_assert!(sf.attrs.len() <= 255);
        if let Some(s) = decode_shortform(&bytes) {
            let _ = s.render_xfs_db();
        }
        let g = geo(crc, 1024);
        exercise_block(&bytes, &g, 1);
        // A reader answering every block with these bytes: a cycle everywhere.
        let reader = |_: u32| -> Result<(Vec<u8>, Option<u64>), String> { Ok((bytes.clone(), None)) };
        let l = list_attrs(&reader, &g, 1, ListOptions { max_blocks: 64 });
        prop_assert!(l.leaves.len() + l.nodes.len() <= 64);
        let v = read_remote_value(&reader, &g, 1, u32::MAX - 1, u32::MAX);
        prop_assert!(v.value.len() <= 65536);
    }

    #[test]
    fn arbitrary_node_trees(
        blocks in prop::collection::vec(prop::collection::vec(any::<u8>(), 512), 1..8),
        crc in any::<bool>(),
    ) {
        // Force node and leaf magics so the walk descends into hostile blocks.
        let g = geo(crc, 512);
        let mut blocks = blocks;
        for (i, b) in blocks.iter_mut().enumerate() {
            let m: u16 = match (crc, i % 2) {
                (true, 0) => XFS_DA3_NODE_MAGIC,
                (false, 0) => XFS_DA_NODE_MAGIC,
                (true, _) => XFS_ATTR3_LEAF_MAGIC,
                (false, _) => XFS_ATTR_LEAF_MAGIC,
            };
            b[8..10].copy_from_slice(&m.to_be_bytes());
            // Small child pointers, so that children exist.
            for e in (16..512).step_by(8) {
                if e + 8 <= 512 {
                    let child = u32::from(b[e + 7] % 8);
                    b[e + 4..e + 8].copy_from_slice(&child.to_be_bytes());
                }
            }
        }
        let n = blocks.len() as u32;
        let reader = move |l: u32| -> Result<(Vec<u8>, Option<u64>), String> {
            blocks.get((l % n) as usize).cloned().map(|b| (b, None)).ok_or_else(|| "hole".into())
        };
        let l = list_attrs(&reader, &g, 1, ListOptions::default());
        prop_assert!(l.nodes.len() + l.leaves.len() <= 8);
    }

    #[test]
    fn mutated_real_forks(
        crc in any::<bool>(),
        patches in prop::collection::vec((any::<u16>(), any::<u16>(), any::<u8>()), 1..12),
    ) {
        let rb = real_blocks(crc);
        let mut blocks = rb.blocks.clone();
        let keys: Vec<u32> = blocks.keys().copied().collect();
        for (bi, off, val) in &patches {
            let k = keys[*bi as usize % keys.len()];
            let b = blocks.get_mut(&k).unwrap();
            let i = *off as usize % b.len();
            b[i] = *val;
        }
        let reader = |l: u32| -> Result<(Vec<u8>, Option<u64>), String> {
            blocks.get(&l).cloned().map(|b| (b, None)).ok_or_else(|| "hole".to_string())
        };
        let l = list_attrs(&reader, &rb.geo, rb.owner, ListOptions::default());
        for a in &l.attrs {
            if let AttrValue::Remote { valueblk, valuelen } = a.value {
                let v = read_remote_value(&reader, &rb.geo, rb.owner, valueblk, valuelen);
                prop_assert!(v.value.len() <= valuelen as usize);
            }
        }
        for b in blocks.values() {
            exercise_block(b, &rb.geo, rb.owner);
        }
        let mut sf = rb.sf_fork.clone();
        for (_, off, val) in &patches {
            let i = *off as usize % sf.len();
            sf[i] = *val;
        }
        let _ = list_shortform(&sf);
        if let Some(s) = decode_shortform(&sf) {
            let _ = s.render_xfs_db();
        }
    }
}

#[test]
fn unmutated_real_forks_are_clean() {
    for crc in [true, false] {
        let rb = real_blocks(crc);
        let reader = |l: u32| -> Result<(Vec<u8>, Option<u64>), String> {
            rb.blocks
                .get(&l)
                .cloned()
                .map(|b| (b, None))
                .ok_or_else(|| "hole".to_string())
        };
        let l = list_attrs(&reader, &rb.geo, rb.owner, ListOptions::default());
        assert!(l.findings.is_empty(), "{:?}", l.findings);
        assert_eq!(l.attrs.len(), 121);
        // A flipped byte in the name area of the first leaf is caught by the CRC (v5) or
        // by the name hash check (v4).
        let leaf = l.leaves[0];
        let mut blocks = rb.blocks.clone();
        let b = blocks.get_mut(&leaf).unwrap();
        let entry = if crc { 80 } else { 32 };
        let nameidx = u16::from_be_bytes([b[entry + 4], b[entry + 5]]) as usize;
        b[nameidx + 3] ^= 1; // first name byte of a local entry
        let reader = |l: u32| -> Result<(Vec<u8>, Option<u64>), String> {
            blocks
                .get(&l)
                .cloned()
                .map(|b| (b, None))
                .ok_or_else(|| "hole".to_string())
        };
        let l = list_attrs(&reader, &rb.geo, rb.owner, ListOptions::default());
        assert!(l
            .findings
            .iter()
            .any(|f| matches!(f, Finding::LeafBadHash { .. })));
        assert_eq!(
            crc,
            l.findings.contains(&Finding::BadCrc { block: leaf }),
            "{:?}",
            l.findings
        );
    }
}

fn mkfs(dir: &Path, name: &str, opts: &[&str], files: usize) -> PathBuf {
    let mut p = String::from("/dev/null\n0 0\nd--755 0 0\n");
    for i in 0..files {
        p.push_str(&format!("f{i} ---644 0 0 /dev/null\n"));
    }
    p.push_str("$\n");
    let proto = dir.join(format!("{name}.proto"));
    std::fs::write(&proto, p).unwrap();
    common::mkfs(dir, name, 64 << 20, opts, &proto)
}

/// xfs_db, also failing on the attr_set errors it reports on stdout with exit status 0.
fn xfs_db(img: &Path, expert: bool, cmds: &[String]) -> String {
    let out = common::xfs_db(img, expert, cmds);
    assert!(
        !out.contains("failed to set attr") && !out.contains("bad attr_set"),
        "xfs_db {cmds:?}: {out}"
    );
    out
}
