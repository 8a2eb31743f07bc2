//! The da btree (directory/attribute btree) shared by node-format directories and
//! node-format attribute forks, as libxfs's `xfs_da_btree.c` / `xfs_da_format.h`.
//!
//! Every da block (node, directory leaf1/leafn, attribute leaf) starts with a
//! `struct xfs_da_blkinfo` (`forw`, `back`, `magic`, `pad`), extended on v5 by the
//! self-describing fields of `struct xfs_da3_blkinfo` (`crc`, `blkno`, `lsn`, `uuid`,
//! `owner`), whose offsets are [`Layout::DA3_BLKINFO`]. Interior blocks are
//! `struct xfs_da_intnode`: a node header (`count`, `level`) and `count` entries
//! (`hashval`, `before`) sorted by hash. The name hash is [`da_hashname`].
//!
//! [`walk`] descends a node tree from its root through a [`DaVisitor`], which reads and
//! decodes each block for its own structure (directory or attribute); the walk owns the
//! depth limit ([`XFS_DA_NODE_MAXDEPTH`]), the cycle check (each block once), a block budget
//! and the check of each node key against its child's last hash.

use std::collections::BTreeSet;

use serde::Serialize;

use crate::bytes::{be_u16, be_u32};
use crate::fields::{CrcState, Field, Null, Radix, Value};
use crate::verify::{self, Expected, HeaderChecks, Layout};

/// `XFS_DA_NODE_MAGIC`: da-btree interior node, v4.
pub const XFS_DA_NODE_MAGIC: u16 = 0xfebe;
/// `XFS_DA3_NODE_MAGIC`: da-btree interior node, v5.
pub const XFS_DA3_NODE_MAGIC: u16 = 0x3ebe;
/// `XFS_DA_NODE_MAXDEPTH`: the deepest da btree.
pub const XFS_DA_NODE_MAXDEPTH: u16 = 5;
/// `sizeof(struct xfs_da_blkinfo)`.
pub const XFS_DA_BLKINFO_SIZE: usize = 12;
/// `sizeof(struct xfs_da3_blkinfo)`.
pub const XFS_DA3_BLKINFO_SIZE: usize = 56;
/// Offset of the CRC in a v5 da block (right after the 12-byte v4 blkinfo).
pub const XFS_DA3_CRC_OFF: usize = 12;
/// Offset of the 16-bit magic in every da block.
pub const XFS_DA_MAGIC_OFF: usize = 8;
/// `sizeof(struct xfs_da_node_hdr)`.
pub const XFS_DA_NODE_HDR_SIZE: usize = 16;
/// `sizeof(struct xfs_da3_node_hdr)`.
pub const XFS_DA3_NODE_HDR_SIZE: usize = 64;
/// `sizeof(struct xfs_da_node_entry)`.
pub const XFS_DA_NODE_ENTRY_SIZE: usize = 8;

/// The name hash (`xfs_da_hashname`) directory leaves and attribute leaves are sorted by:
/// four bytes at a time, each group xored into the running hash rotated left by 28 bits,
/// the tail likewise with 7 bits per byte.
pub fn da_hashname(name: &[u8]) -> u32 {
    let mut hash: u32 = 0;
    let mut chunks = name.chunks_exact(4);
    for c in &mut chunks {
        let v = c
            .iter()
            .fold(0u32, |acc, &b| acc.rotate_left(7) ^ u32::from(b));
        hash = v ^ hash.rotate_left(28);
    }
    let rest = chunks.remainder();
    if rest.is_empty() {
        return hash;
    }
    let v = rest
        .iter()
        .fold(0u32, |acc, &b| acc.rotate_left(7) ^ u32::from(b));
    // rest.len() is 1..=3.
    v ^ hash.rotate_left(7u32.saturating_mul(rest.len() as u32))
}

/// The 16-bit magic of a da block (node or leaf), if the block is long enough.
pub fn da_magic(buf: &[u8]) -> Option<u16> {
    be_u16(buf, XFS_DA_MAGIC_OFF)
}

/// Size of the blkinfo at the start of a da block.
pub fn blkinfo_size(v5: bool) -> usize {
    if v5 {
        XFS_DA3_BLKINFO_SIZE
    } else {
        XFS_DA_BLKINFO_SIZE
    }
}

/// Size of a node block header (where the entries start).
pub fn node_hdr_size(v5: bool) -> usize {
    if v5 {
        XFS_DA3_NODE_HDR_SIZE
    } else {
        XFS_DA_NODE_HDR_SIZE
    }
}

/// The v5 self-describing fields shared by `struct xfs_da3_blkinfo` and
/// `struct xfs_dir3_blk_hdr` (at the offsets of their [`Layout`]).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct Da3Info {
    /// Big-endian reading of the stored checksum, as xfs_db prints it.
    pub crc: u32,
    /// `blkno`: the block's own disk address in 512-byte sectors.
    pub blkno: u64,
    /// `lsn`: LSN of the last write.
    pub lsn: u64,
    /// `uuid`: the filesystem's metadata uuid.
    pub uuid: [u8; 16],
    /// `owner`: the inode number owning the block.
    pub owner: u64,
}

impl Da3Info {
    /// Reads the fields at the offsets of `layout`; `None` when they do not fit.
    pub fn read(b: &[u8], layout: &Layout) -> Option<Da3Info> {
        Some(Da3Info {
            crc: be_u32(b, layout.crc)?,
            blkno: layout.read_blkno(b)?,
            lsn: layout.read_lsn(b)?,
            uuid: layout.read_uuid(b)?,
            owner: layout.read_owner(b)?,
        })
    }

    /// The fields in `xfs_db print` order: crc, bno, lsn, uuid, owner.
    pub fn fields(&self, state: CrcState) -> Vec<Field> {
        vec![
            self.crc_field(state),
            self.bno_field(),
            self.lsn_field(),
            self.uuid_field(),
            self.owner_field(),
        ]
    }

    /// `crc`, with the state of the block's CRC.
    pub fn crc_field(&self, state: CrcState) -> Field {
        Field {
            name: "crc",
            value: Value::Crc {
                value: self.crc,
                state,
            },
        }
    }

    /// `bno` (the block's `blkno`).
    pub fn bno_field(&self) -> Field {
        Field::nullable("bno", self.blkno, 64)
    }

    /// `lsn`.
    pub fn lsn_field(&self) -> Field {
        Field::num("lsn", self.lsn, 64, Radix::Hex, Null::Plain)
    }

    /// `uuid`.
    pub fn uuid_field(&self) -> Field {
        Field {
            name: "uuid",
            value: Value::Uuid(self.uuid),
        }
    }

    /// `owner`.
    pub fn owner_field(&self) -> Field {
        Field::nullable("owner", self.owner, 64)
    }
}

/// Verifies the v5 header of a directory or attribute block (laid out as `layout`): its
/// CRC, its `blkno` against `daddr` (when known), its uuid against `uuid` and its owner
/// against `owner` (when given). The magic is the caller's to check: which magics fit
/// depends on the structure.
pub(crate) fn verify_v5_ident(
    buf: &[u8],
    layout: &Layout,
    daddr: Option<u64>,
    uuid: [u8; 16],
    owner: Option<u64>,
) -> HeaderChecks {
    let want = Expected {
        magic: None,
        blkno: daddr,
        uuid: Some(uuid),
        owner,
    };
    verify::verify(buf, layout, &want)
}

/// xfs_db's printing of an array of structures indexed from 0.
pub(crate) fn struct_array(out: &mut String, name: &str, names: &[&str], rows: &[Vec<String>]) {
    let n = rows.len();
    if n == 0 {
        return;
    }
    if n == 1 {
        out.push_str(&format!("{name}[0] = "));
    } else {
        out.push_str(&format!("{name}[0-{}] = ", n.saturating_sub(1)));
    }
    out.push('[');
    out.push_str(&names.join(","));
    out.push_str("] ");
    for (i, r) in rows.iter().enumerate() {
        out.push_str(&format!("\n{i}:[{}]", r.join(",")));
        if i.saturating_add(1) < n {
            out.push(' ');
        }
    }
    out.push('\n');
}

/// The rows xfs_db prints for `entries` in a structure array whose first column is the
/// entry's hash (`hashval`, in hex) and the others those `rest` gives.
pub(crate) fn hashed_rows<E>(
    entries: &[E],
    hashval: impl Fn(&E) -> u32,
    rest: impl Fn(&E) -> Vec<String>,
) -> Vec<Vec<String>> {
    entries
        .iter()
        .map(|e| {
            let mut r = vec![Field::hex("", hashval(e), 32).render_value()];
            r.extend(rest(e));
            r
        })
        .collect()
}

/// The `[hashval,before]` rows of node entries.
pub(crate) fn node_rows(entries: &[NodeEntry]) -> Vec<Vec<String>> {
    hashed_rows(entries, |e| e.hashval, |e| vec![e.before.to_string()])
}

/// `struct xfs_da_blkinfo`, with the v5 part of `struct xfs_da3_blkinfo`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DaBlkinfo {
    /// `forw`: next block at this level (da block number, 0 for none).
    pub forw: u32,
    /// `back`: previous block at this level (da block number, 0 for none).
    pub back: u32,
    /// `magic`: the 16-bit block type magic.
    pub magic: u16,
    /// `pad`.
    pub pad: u16,
    /// The v5 self-describing fields of `xfs_da3_blkinfo` (`None` on v4).
    pub v5: Option<Da3Info>,
}

impl DaBlkinfo {
    /// Decodes the blkinfo (v5 layout when `v5`); `None` when it does not fit.
    pub fn parse(b: &[u8], v5: bool) -> Option<DaBlkinfo> {
        Some(DaBlkinfo {
            forw: be_u32(b, 0)?,
            back: be_u32(b, 4)?,
            magic: be_u16(b, XFS_DA_MAGIC_OFF)?,
            pad: be_u16(b, 10)?,
            v5: if v5 {
                Some(Da3Info::read(b, &Layout::DA3_BLKINFO)?)
            } else {
                None
            },
        })
    }

    /// The fields in `xfs_db print` order, each with whether xfs_db nests it in the v5
    /// `hdr.` sub-structure (`forw`, `back` and `magic` on v5).
    pub fn fields(&self, crc: CrcState) -> Vec<(bool, Field)> {
        let nested = self.v5.is_some();
        let mut out = vec![
            (nested, Field::dec("forw", self.forw, 32)),
            (nested, Field::dec("back", self.back, 32)),
            (nested, Field::hex("magic", self.magic, 16)),
        ];
        if let Some(id) = &self.v5 {
            out.extend(id.fields(crc).into_iter().map(|f| (false, f)));
        }
        out
    }
}

/// Reads a da block header laid out as `xfs_da_node_hdr` and `xfs_dir2_leaf_hdr` (and
/// their v5 forms): the blkinfo, two 16-bit words (node `count`, `level`; leaf
/// `count`, `stale`) and on v5 a 32-bit pad. `None` when they do not fit.
pub(crate) fn da_hdr_words(b: &[u8], v5: bool) -> Option<(DaBlkinfo, u16, u16, Option<u32>)> {
    let at = blkinfo_size(v5);
    let pad = if v5 {
        Some(be_u32(b, at.checked_add(4)?)?)
    } else {
        None
    };
    Some((
        DaBlkinfo::parse(b, v5)?,
        be_u16(b, at)?,
        be_u16(b, at.checked_add(2)?)?,
        pad,
    ))
}

/// `struct xfs_da_node_hdr` / `struct xfs_da3_node_hdr`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct NodeHdr {
    /// `info`: the da block header.
    pub info: DaBlkinfo,
    /// `count`: number of entries.
    pub count: u16,
    /// `level`: height of the block above the leaves (1 for the lowest node).
    pub level: u16,
    /// `__pad32` (v5 only).
    pub pad32: Option<u32>,
}

impl NodeHdr {
    /// Decodes a node header (v5 layout when `v5`); `None` when it does not fit.
    pub fn parse(b: &[u8], v5: bool) -> Option<NodeHdr> {
        let (info, count, level, pad32) = da_hdr_words(b, v5)?;
        Some(NodeHdr {
            info,
            count,
            level,
            pad32,
        })
    }

    /// How many node entries fit in a block of `blksize` bytes.
    pub fn max_entries(blksize: usize, v5: bool) -> usize {
        blksize.saturating_sub(node_hdr_size(v5)) / XFS_DA_NODE_ENTRY_SIZE
    }

    /// The structural part of `xfs_da3_node_verify`: a level in 1..=MAXDEPTH and a count
    /// in 1..=what fits in the block.
    pub fn struct_ok(&self, blksize: usize, v5: bool) -> bool {
        self.level != 0
            && self.level <= XFS_DA_NODE_MAXDEPTH
            && self.count != 0
            && usize::from(self.count) <= NodeHdr::max_entries(blksize, v5)
    }
}

/// `struct xfs_da_node_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct NodeEntry {
    /// `hashval`: the highest hash in the child's subtree.
    pub hashval: u32,
    /// The child block (logical block of the fork) holding hashes up to `hashval`.
    pub before: u32,
}

/// The first `n` entries of a node block (fewer when the block ends first).
pub fn node_entries(b: &[u8], v5: bool, n: usize) -> Vec<NodeEntry> {
    let hs = node_hdr_size(v5);
    let mut out = Vec::with_capacity(n.min(b.len() / XFS_DA_NODE_ENTRY_SIZE));
    for i in 0..n {
        let at = i.saturating_mul(XFS_DA_NODE_ENTRY_SIZE).saturating_add(hs);
        let (Some(hashval), Some(before)) = (be_u32(b, at), be_u32(b, at.saturating_add(4))) else {
            break;
        };
        out.push(NodeEntry { hashval, before });
    }
    out
}

/// The positions (and hashes) where a sequence of hashes goes down.
pub fn hash_disorder(hashes: impl IntoIterator<Item = u32>) -> Vec<(usize, u32)> {
    let mut prev = 0u32;
    let mut out = Vec::new();
    for (i, h) in hashes.into_iter().enumerate() {
        if h < prev {
            out.push((i, h));
        }
        prev = h;
    }
    out
}

/// What a [`DaVisitor`] found in a block.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum DaVisit {
    /// An interior node: the walk descends its entries when `level` is in range.
    Node {
        /// The node's `level`.
        level: u16,
        /// The node's entries (`before` is the child's da block).
        entries: Vec<NodeEntry>,
    },
    /// A leaf, with its last hash (for the parent's key check).
    Leaf {
        /// The leaf's last (highest) hash, if it has entries.
        last_hash: Option<u32>,
    },
    /// Unreadable or not decodable: nothing below it is walked.
    Stop,
}

/// Something the walk itself found wrong.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum DaWalkFinding {
    /// Block `block`: deeper than `max` levels.
    #[error("block {block}: deeper than {max} levels")]
    TooDeep {
        /// The da block concerned.
        block: u32,
        /// The deepest level allowed.
        max: u16,
    },
    /// Block `block` is reached twice (cycle or shared block).
    #[error("block {block} is reached twice (cycle or shared block)")]
    Revisited {
        /// The da block concerned.
        block: u32,
    },
    /// Walk stopped after `limit` blocks.
    #[error("walk stopped after {limit} blocks")]
    BlockLimit {
        /// The block budget.
        limit: usize,
    },
    /// Node `block` entry `index`: hash `hashval`, child `child` ends at `child_last`.
    #[error(
        "node {block} entry {index}: hash {hashval:#x}, child {child} ends at {child_last:#x}"
    )]
    HashMismatch {
        /// The da block concerned.
        block: u32,
        /// Index of the node entry.
        index: usize,
        /// The entry's `hashval`.
        hashval: u32,
        /// Da block of the child (`before`).
        child: u32,
        /// The last hash of the child.
        child_last: u32,
    },
}

/// Reads and decodes the blocks of one da btree for [`walk`].
pub trait DaVisitor {
    /// Decodes block `blkno`, expected at `level` (`None` for the root, whose level is not
    /// known in advance), reporting its own findings.
    fn visit(&mut self, blkno: u32, level: Option<u16>) -> DaVisit;
    /// Receives what the walk finds.
    fn report(&mut self, finding: DaWalkFinding);
}

/// How a [`walk`] ended.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct DaWalkOutcome {
    /// Blocks entered, in order.
    pub visited: Vec<u32>,
    /// The block budget ran out.
    pub stopped: bool,
}

struct Walker<'v, V: ?Sized> {
    v: &'v mut V,
    max_blocks: usize,
    seen: BTreeSet<u32>,
    out: DaWalkOutcome,
}

impl<V: DaVisitor + ?Sized> Walker<'_, V> {
    fn enter(&mut self, blkno: u32, level: Option<u16>, depth: u16) -> Option<u32> {
        if self.out.stopped {
            return None;
        }
        if depth > XFS_DA_NODE_MAXDEPTH {
            self.v.report(DaWalkFinding::TooDeep {
                block: blkno,
                max: XFS_DA_NODE_MAXDEPTH,
            });
            return None;
        }
        if self.seen.len() >= self.max_blocks {
            self.v.report(DaWalkFinding::BlockLimit {
                limit: self.max_blocks,
            });
            self.out.stopped = true;
            return None;
        }
        if !self.seen.insert(blkno) {
            self.v.report(DaWalkFinding::Revisited { block: blkno });
            return None;
        }
        self.out.visited.push(blkno);
        let (nlevel, entries) = match self.v.visit(blkno, level) {
            DaVisit::Stop => return None,
            DaVisit::Leaf { last_hash } => return last_hash,
            DaVisit::Node { level, entries } => (level, entries),
        };
        if nlevel == 0 || nlevel > XFS_DA_NODE_MAXDEPTH {
            return None;
        }
        let child_level = nlevel.saturating_sub(1);
        for (index, e) in entries.iter().enumerate() {
            if let Some(last) = self.enter(e.before, Some(child_level), depth.saturating_add(1)) {
                if last != e.hashval {
                    self.v.report(DaWalkFinding::HashMismatch {
                        block: blkno,
                        index,
                        hashval: e.hashval,
                        child: e.before,
                        child_last: last,
                    });
                }
            }
            if self.out.stopped {
                break;
            }
        }
        entries.last().map(|e| e.hashval)
    }
}

/// Walks the da btree rooted at `root` depth first in hash order: each block at most once,
/// at most [`XFS_DA_NODE_MAXDEPTH`] levels below the root, at most `max_blocks` blocks.
/// Node keys are checked against the last hash of their child.
pub fn walk<V: DaVisitor + ?Sized>(root: u32, max_blocks: usize, v: &mut V) -> DaWalkOutcome {
    let mut w = Walker {
        v,
        max_blocks,
        seen: BTreeSet::new(),
        out: DaWalkOutcome::default(),
    };
    let _ = w.enter(root, None, 0);
    w.out
}

#[cfg(test)]
#[allow(clippy::indexing_slicing, clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn hash_matches_known_values() {
        assert_eq!(da_hashname(b"."), 0x2e);
        assert_eq!(da_hashname(b".."), 0x172e);
        assert_eq!(da_hashname(b"s"), 0x73);
        assert_eq!(da_hashname(b"ss"), 0x39f3);
        assert_eq!(da_hashname(b"sss"), 0x001c_f9f3);
        assert_eq!(da_hashname(b"blockentry_0"), 0xad85_a3f0);
        assert_eq!(da_hashname(b"blockentry_1x"), 0xc2d1_f8ae);
        assert_eq!(da_hashname(b"a1"), 0x30b1);
        assert_eq!(da_hashname(b"big"), 0x18b4e7);
        assert_eq!(da_hashname(b""), 0);
    }

    /// A tree given as block -> visit; block 3 points back at the root.
    struct Tree(Vec<(u32, DaVisit)>, Vec<DaWalkFinding>);

    impl DaVisitor for Tree {
        fn visit(&mut self, blkno: u32, _level: Option<u16>) -> DaVisit {
            self.0
                .iter()
                .find(|(b, _)| *b == blkno)
                .map_or(DaVisit::Stop, |(_, v)| v.clone())
        }
        fn report(&mut self, f: DaWalkFinding) {
            self.1.push(f);
        }
    }

    #[test]
    fn walk_checks_keys_and_cycles() {
        let e = |hashval, before| NodeEntry { hashval, before };
        let mut t = Tree(
            vec![
                (
                    0,
                    DaVisit::Node {
                        level: 1,
                        entries: vec![e(10, 1), e(20, 2), e(30, 0)],
                    },
                ),
                (
                    1,
                    DaVisit::Leaf {
                        last_hash: Some(10),
                    },
                ),
                (
                    2,
                    DaVisit::Leaf {
                        last_hash: Some(21),
                    },
                ),
            ],
            Vec::new(),
        );
        let out = walk(0, 100, &mut t);
        assert_eq!(out.visited, vec![0, 1, 2]);
        assert!(!out.stopped);
        assert_eq!(
            t.1,
            vec![
                DaWalkFinding::HashMismatch {
                    block: 0,
                    index: 1,
                    hashval: 20,
                    child: 2,
                    child_last: 21
                },
                DaWalkFinding::Revisited { block: 0 },
            ]
        );
        t.1.clear();
        let out = walk(0, 2, &mut t);
        assert!(out.stopped);
        assert_eq!(t.1, vec![DaWalkFinding::BlockLimit { limit: 2 }]);
    }

    #[test]
    fn node_header_and_entries() {
        let mut b = vec![0u8; 512];
        b[8..10].copy_from_slice(&XFS_DA_NODE_MAGIC.to_be_bytes());
        b[12..14].copy_from_slice(&2u16.to_be_bytes());
        b[14..16].copy_from_slice(&1u16.to_be_bytes());
        b[16..20].copy_from_slice(&5u32.to_be_bytes());
        b[20..24].copy_from_slice(&9u32.to_be_bytes());
        b[24..28].copy_from_slice(&3u32.to_be_bytes());
        let h = NodeHdr::parse(&b, false).unwrap();
        assert_eq!((h.count, h.level, h.info.magic), (2, 1, XFS_DA_NODE_MAGIC));
        assert!(h.struct_ok(512, false));
        let ents = node_entries(&b, false, 2);
        assert_eq!(
            ents[0],
            NodeEntry {
                hashval: 5,
                before: 9
            }
        );
        assert_eq!(hash_disorder(ents.iter().map(|e| e.hashval)), vec![(1, 3)]);
    }
}
