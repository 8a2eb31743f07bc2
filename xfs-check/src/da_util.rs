//! The da btree walks of phases 3 and 4 shared by node-format directories and attribute
//! forks (xfs_repair's da_util.c): the descent to the leftmost leaf (traverse_int_dablock)
//! and the cursor checks run as the leaf level is walked left to right (verify_da_path at
//! each block boundary, verify_final_da_path up the right edge), with the libxfs read
//! verifiers of the blocks they read and the buffer cache model (a verifier runs on a
//! buffer's first read only).

use xfs_format::attr::{
    leaf::LEAF_ENTRY_SIZE, leaf_entry, leaf_hdr_size, LeafEntry as AttrLeafEntry,
    LeafHdr as AttrLeafHdr, LeafNameHdr, XFS_ATTR3_LEAF_MAGIC, XFS_ATTR_INCOMPLETE,
    XFS_ATTR_LEAF_MAGIC, XFS_ATTR_LOCAL,
};
use xfs_format::bmap::BmbtRec;
use xfs_format::da_btree::{
    da_magic, node_entries, NodeEntry, NodeHdr, XFS_DA3_NODE_MAGIC, XFS_DA_NODE_MAGIC,
    XFS_DA_NODE_MAXDEPTH,
};
use xfs_format::dir2::leaf::leaf_ents;
use xfs_format::dir2::{LeafHdr, XFS_DIR2_LEAFN_MAGIC, XFS_DIR3_LEAFN_MAGIC};
use xfs_format::fields::CrcState;
use xfs_format::verify::{self, Expected, Layout};
use xfs_format::{ByteSource, Filesystem};

use crate::finding::{verifier_error, Kind, Val};
use crate::state::Checker;

/// Result of a libxfs buffer read verifier.
#[derive(PartialEq, Eq, Clone, Copy)]
pub(crate) enum Verify {
    Ok,
    BadCrc,
    Corrupt,
}

/// The header of an attribute leaf block as xfs_repair uses it (xfs_attr3_icleaf_hdr):
/// the decoded header with `firstused` in bytes and the header size.
pub(crate) struct LeafHdrView {
    pub(crate) h: AttrLeafHdr,
    pub(crate) v5: bool,
    pub(crate) firstused: usize,
    pub(crate) hsize: usize,
}

impl LeafHdrView {
    pub(crate) fn count(&self) -> usize {
        usize::from(self.h.count)
    }

    /// Entry `i` (zero when beyond the block).
    pub(crate) fn entry(&self, b: &[u8], i: usize) -> AttrLeafEntry {
        leaf_entry(b, self.v5, i).unwrap_or_default()
    }
}

pub(crate) fn leaf_hdr(b: &[u8], v5: bool, blksize: usize) -> LeafHdrView {
    let h = AttrLeafHdr::parse(b, v5).unwrap_or_default();
    LeafHdrView {
        firstused: h.firstused_bytes(v5, blksize),
        hsize: leaf_hdr_size(v5),
        h,
        v5,
    }
}

/// xfs_attr3_leaf_verify (after the magic/v5 header checks).
fn leaf_struct_ok(b: &[u8], h: &LeafHdrView, blksize: usize) -> bool {
    if h.firstused > blksize || h.firstused < h.hsize {
        return false;
    }
    if h.hsize
        .saturating_add(h.count().saturating_mul(LEAF_ENTRY_SIZE))
        > h.firstused
    {
        return false;
    }
    let mut last = 0u32;
    for i in 0..h.count() {
        let e = h.entry(b, i);
        let hash = e.hashval;
        if hash < last {
            return false;
        }
        last = hash;
        let nameidx = usize::from(e.nameidx);
        if nameidx < h.firstused || nameidx >= blksize {
            return false;
        }
        let n = LeafNameHdr::at(b, nameidx, e.flags & XFS_ATTR_LOCAL != 0);
        if n.namelen == 0 {
            return false;
        }
        if !n.local && e.flags & XFS_ATTR_INCOMPLETE == 0 && n.valueblk == 0 {
            return false;
        }
        if nameidx.saturating_add(n.entsize()) > blksize {
            return false;
        }
    }
    for (base, size) in h.h.freemap.map(|(b, s)| (usize::from(b), usize::from(s))) {
        if base > blksize || base & 3 != 0 || size > blksize || size & 3 != 0 {
            return false;
        }
        if base.saturating_add(size) > blksize {
            return false;
        }
    }
    true
}

/// The structural part of xfs_attr3_leaf_verify of block `b` of `c`'s filesystem.
pub(crate) fn leaf_block_struct_ok<S: ByteSource>(fs: &Filesystem<S>, b: &[u8]) -> bool {
    let v5 = fs.geo.has_crc;
    let bs = fs.geo.block_size as usize;
    leaf_struct_ok(b, &leaf_hdr(b, v5, bs), bs)
}

/// Which fork a da btree belongs to (FORKNAME).
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fork {
    /// A node-format directory (data fork).
    Dir,
    /// A node-format attribute fork.
    Attr,
}

impl Fork {
    fn name(self) -> &'static str {
        match self {
            Fork::Dir => "directory",
            Fork::Attr => "attribute",
        }
    }
}

/// The buffer ops a block is read with.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) enum Ops {
    /// xfs_da3_node_buf_ops (which hands leaf blocks to their own verifiers).
    Node,
    /// xfs_dir3_leafn_buf_ops.
    Leafn,
    /// xfs_attr3_leaf_buf_ops.
    AttrLeaf,
}

/// The outcome of reading one da block.
pub(crate) enum DaRead {
    /// The block is not mapped.
    Unmapped,
    /// The block could not be read.
    Unreadable,
    /// The block and what its verifier said (Ok on a cache hit).
    Buf(Vec<u8>, Verify),
}

/// One level of the cursor (da_level_state_t).
#[derive(Clone, Default)]
struct Level {
    bp: Option<Vec<u8>>,
    bno: u32,
    hashval: u32,
    index: usize,
}

/// The da btree cursor (da_bt_cursor_t).
pub(crate) struct DaCursor {
    ino: u64,
    fork: Fork,
    active: usize,
    level: Vec<Level>,
}

/// Most leaf blocks walked along one leaf level.
const MAX_LEAVES: usize = 1 << 20;

impl DaCursor {
    pub(crate) fn new(ino: u64, fork: Fork) -> DaCursor {
        DaCursor {
            ino,
            fork,
            active: 0,
            level: vec![Level::default(); usize::from(XFS_DA_NODE_MAXDEPTH).saturating_add(2)],
        }
    }

    fn lv(&self, i: usize) -> Level {
        self.level.get(i).cloned().unwrap_or_default()
    }

    fn lv_mut(&mut self, i: usize) -> Option<&mut Level> {
        self.level.get_mut(i)
    }

    /// Records the leaf level's state (the C code's level[0] assignments).
    pub(crate) fn set_leaf(&mut self, bno: u32, hashval: u32, index: usize) {
        if let Some(l) = self.lv_mut(0) {
            l.bno = bno;
            l.hashval = hashval;
            l.index = index;
        }
    }

    /// The leftmost leaf found by the descent.
    pub(crate) fn leaf_bno(&self) -> u32 {
        self.lv(0).bno
    }

    /// The inode whose fork this is.
    pub(crate) fn ino(&self) -> u64 {
        self.ino
    }

    /// Levels filled by the descent.
    pub(crate) fn active(&self) -> usize {
        self.active
    }
}

/// Entry `i` of a node block (zeroes beyond the block, as a read past the entries would
/// find nothing meaningful).
fn entry_at(b: &[u8], v5: bool, i: usize) -> NodeEntry {
    node_entries(b, v5, i.saturating_add(1))
        .get(i)
        .copied()
        .unwrap_or(NodeEntry {
            hashval: 0,
            before: 0,
        })
}

fn da_v5<S: ByteSource>(fs: &Filesystem<S>) -> bool {
    fs.geo.has_crc
}

/// Bytes of one block of `fork`'s da btree and fs blocks per da block.
fn da_geo<S: ByteSource>(fs: &Filesystem<S>, fork: Fork) -> (usize, u64) {
    match fork {
        Fork::Dir => {
            let dbs = fs.geo.dir_block_size;
            let fc = dbs.checked_div(fs.geo.block_size).unwrap_or(1).max(1);
            (dbs as usize, u64::from(fc))
        }
        Fork::Attr => (fs.geo.block_size as usize, 1),
    }
}

/// geo->node_ents of `fork`.
fn node_ents<S: ByteSource>(fs: &Filesystem<S>, fork: Fork) -> usize {
    NodeHdr::max_entries(da_geo(fs, fork).0, da_v5(fs))
}

/// xfs_da3_blkinfo_verify: the magic (`want`), and on v5 the uuid and blkno.
fn blkinfo_ok<S: ByteSource>(fs: &Filesystem<S>, b: &[u8], daddr: u64, want: u16) -> bool {
    if da_magic(b) != Some(want) {
        return false;
    }
    if !da_v5(fs) {
        return true;
    }
    let h = verify::verify(
        b,
        &Layout::DA3_BLKINFO,
        &Expected {
            blkno: Some(daddr),
            uuid: Some(fs.geo.meta_uuid),
            ..Expected::default()
        },
    );
    h.uuid_ok && h.blkno_ok
}

fn da_crc_bad(b: &[u8]) -> bool {
    verify::verify(b, &Layout::DA3_BLKINFO, &Expected::default()).crc == CrcState::Bad
}

/// xfs_da3_node_verify.
fn node_verify<S: ByteSource>(fs: &Filesystem<S>, b: &[u8], daddr: u64) -> bool {
    let v5 = da_v5(fs);
    let want = if v5 {
        XFS_DA3_NODE_MAGIC
    } else {
        XFS_DA_NODE_MAGIC
    };
    if !blkinfo_ok(fs, b, daddr, want) {
        return false;
    }
    let h = NodeHdr::parse(b, v5).unwrap_or_default();
    let count = usize::from(h.count);
    h.level != 0
        && h.level <= XFS_DA_NODE_MAXDEPTH
        && count != 0
        && (count <= node_ents(fs, Fork::Dir) || count <= node_ents(fs, Fork::Attr))
}

/// xfs_dir3_leafn read verifier.
fn leafn_verify<S: ByteSource>(fs: &Filesystem<S>, b: &[u8], daddr: u64) -> Verify {
    let v5 = da_v5(fs);
    if v5 && da_crc_bad(b) {
        return Verify::BadCrc;
    }
    let want = if v5 {
        XFS_DIR3_LEAFN_MAGIC
    } else {
        XFS_DIR2_LEAFN_MAGIC
    };
    if !blkinfo_ok(fs, b, daddr, want) {
        return Verify::Corrupt;
    }
    let (bs, _) = da_geo(fs, Fork::Dir);
    let h = LeafHdr::parse(b, v5).unwrap_or_default();
    let count = usize::from(h.count);
    if count > LeafHdr::max_entries(bs, v5) {
        return Verify::Corrupt;
    }
    let ents = leaf_ents(b, v5, count);
    let ordered = ents
        .windows(2)
        .all(|w| matches!(w, [a, c] if a.hashval <= c.hashval));
    let stale = ents.iter().filter(|e| e.address == 0).count();
    if !ordered || stale != usize::from(h.stale) {
        return Verify::Corrupt;
    }
    Verify::Ok
}

/// xfs_attr3_leaf read verifier.
pub(crate) fn attr_leaf_verify<S: ByteSource>(fs: &Filesystem<S>, b: &[u8], daddr: u64) -> Verify {
    let v5 = da_v5(fs);
    if v5 && da_crc_bad(b) {
        return Verify::BadCrc;
    }
    let want = if v5 {
        XFS_ATTR3_LEAF_MAGIC
    } else {
        XFS_ATTR_LEAF_MAGIC
    };
    if !blkinfo_ok(fs, b, daddr, want) || !leaf_block_struct_ok(fs, b) {
        return Verify::Corrupt;
    }
    Verify::Ok
}

/// The read verifier of `ops` on `b`: its outcome and the name of the ops that ran it
/// (xfs_da3_node_buf_ops switches to the leaf ops for leaf magics).
pub(crate) fn da_verify<S: ByteSource>(
    fs: &Filesystem<S>,
    b: &[u8],
    daddr: u64,
    ops: Ops,
) -> (Verify, &'static str) {
    match ops {
        Ops::Leafn => (leafn_verify(fs, b, daddr), "xfs_dir3_leafn"),
        Ops::AttrLeaf => (attr_leaf_verify(fs, b, daddr), "xfs_attr3_leaf"),
        Ops::Node => match da_magic(b).unwrap_or(0) {
            m @ (XFS_DA3_NODE_MAGIC | XFS_DA_NODE_MAGIC) => {
                let v = if m == XFS_DA3_NODE_MAGIC && da_crc_bad(b) {
                    Verify::BadCrc
                } else if node_verify(fs, b, daddr) {
                    Verify::Ok
                } else {
                    Verify::Corrupt
                };
                (v, "xfs_da3_node")
            }
            XFS_ATTR_LEAF_MAGIC | XFS_ATTR3_LEAF_MAGIC => {
                (attr_leaf_verify(fs, b, daddr), "xfs_attr3_leaf")
            }
            XFS_DIR2_LEAFN_MAGIC | XFS_DIR3_LEAFN_MAGIC => {
                (leafn_verify(fs, b, daddr), "xfs_dir3_leafn")
            }
            _ => (Verify::Corrupt, "xfs_da3_node"),
        },
    }
}

impl<S: ByteSource> Checker<'_, S> {
    /// Reads da block `bno` of `fork` (`recs`: the fork's extents) with `ops`: the verifier
    /// runs and reports on the buffer's first read only.
    pub(crate) fn da_read(&mut self, recs: &[BmbtRec], fork: Fork, bno: u32, ops: Ops) -> DaRead {
        let (bs, fc) = da_geo(self.fs, fork);
        let Some((fsb, _)) = xfs_format::bmap::lookup(recs, bno.into()) else {
            return DaRead::Unmapped;
        };
        let Ok(b) = self.fs.read_logical(recs, bno.into(), fc) else {
            return DaRead::Unreadable;
        };
        let Some(off) = self.fs.fsb_to_offset(fsb) else {
            return DaRead::Unreadable;
        };
        let daddr = off / 512;
        if !self.dir_bufs_seen.insert(daddr) {
            return DaRead::Buf(b, Verify::Ok);
        }
        let (v, name) = da_verify(self.fs, &b, daddr, ops);
        if v != Verify::Ok {
            self.push(
                Kind::VerifierError,
                verifier_error(v == Verify::Corrupt, name, daddr, bs as u64),
            );
        }
        DaRead::Buf(b, v)
    }

    fn da_push(
        &mut self,
        kind: Kind,
        cur: &DaCursor,
        blk: Option<u32>,
        mut extra: Vec<(&'static str, Val)>,
    ) {
        let mut f = vec![("fork", Val::from(cur.fork.name()))];
        if let Some(b) = blk {
            f.push(("blk", b.into()));
        }
        f.push(("ino", cur.ino.into()));
        f.append(&mut extra);
        self.push(kind, f);
    }

    /// traverse_int_dablock: descends the left edge of the tree from its root to the
    /// leftmost leaf, filling the cursor. `None` when the tree is bad; `Some(0)` for a
    /// directory whose root (or a lower block) is a leafn block.
    pub(crate) fn traverse_int_dablock(
        &mut self,
        cur: &mut DaCursor,
        recs: &[BmbtRec],
    ) -> Option<u32> {
        let v5 = da_v5(self.fs);
        let fork = cur.fork;
        let ino = cur.ino;
        let mut bno: u32 = match fork {
            Fork::Dir => {
                let (bs, fc) = da_geo(self.fs, fork);
                let leaf_db = xfs_format::dir2::XFS_DIR2_LEAF_OFFSET
                    .checked_div(bs as u64)
                    .unwrap_or(0);
                u32::try_from(leaf_db.saturating_mul(fc)).unwrap_or(u32::MAX)
            }
            Fork::Attr => 0,
        };
        let mut i: Option<usize> = None;
        cur.active = 0;
        loop {
            let (b, v) = match self.da_read(recs, fork, bno, Ops::Node) {
                DaRead::Unmapped => return None,
                DaRead::Unreadable => {
                    self.da_push(Kind::DaCantRead, cur, Some(bno), vec![]);
                    return None;
                }
                DaRead::Buf(b, v) => (b, v),
            };
            if v != Verify::Ok {
                self.da_push(Kind::DaCorruptTreeBlock, cur, Some(bno), vec![]);
                return None;
            }
            let h = NodeHdr::parse(&b, v5).unwrap_or_default();
            let magic = h.info.magic;
            if fork == Fork::Dir && matches!(magic, XFS_DIR2_LEAFN_MAGIC | XFS_DIR3_LEAFN_MAGIC) {
                if i.is_some() {
                    self.push(
                        Kind::DaNonRootLeafn,
                        vec![("ino", ino.into()), ("blk", bno.into())],
                    );
                }
                return Some(0);
            }
            if magic != XFS_DA_NODE_MAGIC && magic != XFS_DA3_NODE_MAGIC {
                self.push(
                    Kind::DaBadMagic,
                    vec![
                        ("fork", fork.name().into()),
                        ("magic", magic.into()),
                        ("ino", ino.into()),
                        ("blk", bno.into()),
                    ],
                );
                return None;
            }
            let max = node_ents(self.fs, fork);
            if usize::from(h.count) > max {
                self.push(
                    Kind::DaBadRecordCount,
                    vec![
                        ("fork", fork.name().into()),
                        ("ino", ino.into()),
                        ("count", h.count.into()),
                        ("max", max.into()),
                    ],
                );
                return None;
            }
            let lvl = usize::from(h.level);
            let now = match i {
                None => {
                    cur.active = lvl;
                    if lvl < 1 || lvl >= usize::from(XFS_DA_NODE_MAXDEPTH) {
                        self.push(Kind::DirBadHeaderDepth, vec![("ino", ino.into())]);
                        return None;
                    }
                    lvl
                }
                Some(prev) if lvl.checked_add(1) == Some(prev) => lvl,
                Some(_) => {
                    self.da_push(Kind::DaBadBtree, cur, None, vec![]);
                    return None;
                }
            };
            i = Some(now);
            let e0 = entry_at(&b, v5, 0);
            if let Some(l) = cur.lv_mut(now) {
                l.hashval = e0.hashval;
                l.bp = Some(b);
                l.bno = bno;
                l.index = 0;
            }
            bno = e0.before;
            if now <= 1 {
                break;
            }
        }
        if let Some(l) = cur.lv_mut(0) {
            l.bno = bno;
        }
        Some(bno)
    }

    /// verify_da_path: at a block boundary of level `p_level`, checks the parent entry of
    /// the block just finished (stepping the parent to its next sibling when it is used
    /// up). True when the tree is bad.
    pub(crate) fn verify_da_path(
        &mut self,
        cur: &mut DaCursor,
        recs: &[BmbtRec],
        p_level: usize,
    ) -> bool {
        let v5 = da_v5(self.fs);
        let fork = cur.fork;
        let this = p_level.saturating_add(1);
        if this > usize::from(XFS_DA_NODE_MAXDEPTH) {
            return true;
        }
        let Some(mut node) = cur.lv(this).bp else {
            return true;
        };
        let mut entry = cur.lv(this).index;
        let h = NodeHdr::parse(&node, v5).unwrap_or_default();
        let count = usize::from(h.count);
        if count == 0 {
            return true;
        }
        if entry >= count {
            let last = entry_at(&node, v5, entry.saturating_sub(1)).hashval;
            if let Some(l) = cur.lv_mut(this) {
                l.hashval = last;
            }
            if self.verify_da_path(cur, recs, this) {
                return true;
            }
            let dabno = h.info.forw;
            let (b, v) = match self.da_read(recs, fork, dabno, Ops::Node) {
                DaRead::Unmapped => {
                    self.da_push(Kind::DaNoMapInfo, cur, Some(dabno), vec![]);
                    return true;
                }
                DaRead::Unreadable => {
                    self.da_push(Kind::DaCantRead, cur, Some(dabno), vec![]);
                    return true;
                }
                DaRead::Buf(b, v) => (b, v),
            };
            if v != Verify::Ok {
                self.da_push(Kind::DaCorruptTreeBlock, cur, Some(dabno), vec![]);
                return true;
            }
            let nh = NodeHdr::parse(&b, v5).unwrap_or_default();
            let mut bad = false;
            if nh.info.magic != XFS_DA_NODE_MAGIC && nh.info.magic != XFS_DA3_NODE_MAGIC {
                self.push(
                    Kind::DaPathBadMagic,
                    vec![
                        ("magic", nh.info.magic.into()),
                        ("fork", fork.name().into()),
                        ("blk", dabno.into()),
                        ("ino", cur.ino.into()),
                    ],
                );
                bad = true;
            }
            if nh.info.back != cur.lv(this).bno {
                self.da_push(Kind::DaPathBadBack, cur, Some(dabno), vec![]);
                bad = true;
            }
            if usize::from(nh.count) > node_ents(self.fs, fork) {
                self.push(
                    Kind::DaPathBadCount,
                    vec![
                        ("count", nh.count.into()),
                        ("fork", fork.name().into()),
                        ("blk", dabno.into()),
                        ("ino", cur.ino.into()),
                    ],
                );
                bad = true;
            }
            if usize::from(nh.level) != this {
                self.push(
                    Kind::DaPathBadLevel,
                    vec![
                        ("level", nh.level.into()),
                        ("fork", fork.name().into()),
                        ("blk", dabno.into()),
                        ("ino", cur.ino.into()),
                    ],
                );
                bad = true;
            }
            if bad {
                return true;
            }
            let first = entry_at(&b, v5, 0).hashval;
            node = b.clone();
            if let Some(l) = cur.lv_mut(this) {
                l.bp = Some(b);
                l.bno = dabno;
                l.hashval = first;
                l.index = 0;
            }
            entry = 0;
        }
        let e = entry_at(&node, v5, entry);
        let child = cur.lv(p_level);
        if child.bno != e.before {
            return true;
        }
        if child.hashval != e.hashval {
            let f = vec![
                ("fork", Val::from(fork.name())),
                ("level", this.into()),
                ("ino", cur.ino.into()),
            ];
            self.push(Kind::DaFixHashInterior, f);
        }
        if let Some(l) = cur.lv_mut(this) {
            l.index = l.index.saturating_add(1);
        }
        false
    }

    /// verify_final_da_path: after the last leaf, checks the right edge of the tree from
    /// level `p_level` up to the root. True when the tree is bad.
    pub(crate) fn verify_final_da_path(&mut self, cur: &mut DaCursor, p_level: usize) -> bool {
        let v5 = da_v5(self.fs);
        let fork = cur.fork;
        let mut p = p_level;
        loop {
            let this = p.saturating_add(1);
            if this > usize::from(XFS_DA_NODE_MAXDEPTH) {
                return true;
            }
            let Some(node) = cur.lv(this).bp else {
                return true;
            };
            let entry = cur.lv(this).index;
            let h = NodeHdr::parse(&node, v5).unwrap_or_default();
            let e = entry_at(&node, v5, entry);
            let mut bad = false;
            let last_index = i64::from(h.count).saturating_sub(1);
            if i64::try_from(entry).unwrap_or(i64::MAX) != last_index {
                self.push(
                    Kind::DaUsedCount,
                    vec![
                        ("fork", fork.name().into()),
                        ("entry", Val::I(i64::try_from(entry).unwrap_or(i64::MAX))),
                        ("count", h.count.into()),
                    ],
                );
                bad = true;
            }
            let lh = cur.lv(this).hashval;
            if lh >= e.hashval {
                self.push(
                    Kind::DaHashInconsistency,
                    vec![
                        ("fork", fork.name().into()),
                        ("expected", lh.into()),
                        ("found", e.hashval.into()),
                    ],
                );
                bad = true;
            }
            if h.info.forw != 0 {
                self.push(
                    Kind::DaBadForw,
                    vec![("fork", fork.name().into()), ("forw", h.info.forw.into())],
                );
                bad = true;
            }
            if bad {
                self.da_push(Kind::DaBadBlock, cur, None, vec![]);
                return true;
            }
            let child = cur.lv(p);
            if child.bno != e.before {
                return true;
            }
            if child.hashval != e.hashval {
                let f = vec![
                    ("fork", Val::from(fork.name())),
                    ("level", this.into()),
                    ("ino", cur.ino.into()),
                ];
                self.push(Kind::DaFixHashNonleaf, f);
            }
            if let Some(l) = cur.lv_mut(this) {
                l.bp = None;
            }
            if this >= cur.active {
                return false;
            }
            if let Some(l) = cur.lv_mut(this) {
                l.hashval = e.hashval;
            }
            p = this;
        }
    }

    /// process_leaf_level_dir2: walks the leafn blocks left to right from the cursor's
    /// leftmost leaf. True when the directory's leaf/node space is bad.
    pub(crate) fn process_leaf_level_dir2(&mut self, cur: &mut DaCursor, recs: &[BmbtRec]) -> bool {
        let v5 = da_v5(self.fs);
        let ino = cur.ino;
        let (bs, _) = da_geo(self.fs, Fork::Dir);
        let hsize = xfs_format::dir2::dir_hdr_size(v5);
        let mut da_bno = cur.leaf_bno();
        let mut prev_bno = 0u32;
        let mut current = 0u32;
        let mut greatest = 0u32;
        let blk = |b: u32| vec![("blk", Val::from(b)), ("ino", ino.into())];
        for _ in 0..MAX_LEAVES {
            let (b, v) = match self.da_read(recs, Fork::Dir, da_bno, Ops::Leafn) {
                DaRead::Unmapped => {
                    self.push(Kind::DirLeafnCantMap, blk(da_bno));
                    return true;
                }
                DaRead::Unreadable => {
                    self.push(Kind::DirLeafnCantRead, blk(da_bno));
                    return true;
                }
                DaRead::Buf(b, v) => (b, v),
            };
            if v == Verify::Corrupt {
                self.push(Kind::DirLeafnCorrupt, blk(da_bno));
                return true;
            }
            let h = LeafHdr::parse(&b, v5).unwrap_or_default();
            let magic = h.info.magic;
            if magic != XFS_DIR2_LEAFN_MAGIC && magic != XFS_DIR3_LEAFN_MAGIC {
                self.push(
                    Kind::DirLeafnBadMagic,
                    vec![
                        ("magic", magic.into()),
                        ("ino", ino.into()),
                        ("blk", da_bno.into()),
                    ],
                );
                return true;
            }
            // process_leaf_block_dir2
            let count = usize::from(h.count);
            let mut stale = 0usize;
            let mut last = current;
            let ents = leaf_ents(&b, v5, count.min(bs));
            for i in 0..count {
                let at = hsize.saturating_add(i.saturating_mul(8));
                let (true, Some(e)) = (at < bs, ents.get(i).copied()) else {
                    self.push(Kind::DirLeafnBadCount, blk(da_bno));
                    return true;
                };
                if e.address == 0 {
                    stale = stale.saturating_add(1);
                } else if e.hashval < last {
                    self.push(Kind::DirLeafnHashOrder, blk(da_bno));
                    return true;
                }
                last = e.hashval;
                greatest = e.hashval;
            }
            if stale != usize::from(h.stale) {
                self.push(Kind::DirLeafnBadStale, blk(da_bno));
                return true;
            }
            cur.set_leaf(da_bno, greatest, count);
            if h.info.back != prev_bno {
                self.push(Kind::DirLeafnBadBack, blk(da_bno));
                return true;
            }
            prev_bno = da_bno;
            da_bno = h.info.forw;
            if da_bno != 0 && self.verify_da_path(cur, recs, 0) {
                return true;
            }
            current = greatest;
            if da_bno == 0 {
                break;
            }
        }
        if self.verify_final_da_path(cur, 0) {
            self.push(Kind::DirBadHashPath, vec![("ino", ino.into())]);
            return true;
        }
        false
    }
}
