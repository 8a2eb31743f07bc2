//! Extended attributes: the shortform attribute fork, attribute leaf and da-node blocks,
//! remote value blocks, and a walk listing every attribute of a fork.
//!
//! Submodules follow libxfs: [`sf`] (shortform fork), [`leaf`] (leaf blocks) and [`remote`]
//! (remote value blocks); node blocks and the walk of the node tree use [`crate::da_btree`]
//! and are here. The v5 header checks go through [`crate::verify::verify`].
//!
//! These are pure decoders over byte slices plus [`Geometry`]. Mapping logical attribute-fork
//! blocks to disk is not done here: [`list_attrs`] and [`read_remote_value`] take an
//! [`AttrBlocks`] that returns the bytes of logical block N of the attribute fork.
//!
//! Everything wrong with the bytes (a bad magic, CRC, owner, an entry pointing outside its
//! block, unsorted hashes, a cycle in the tree) is reported as a [`Finding`], never a panic.
//!
//! The `render_xfs_db` methods reproduce xfs_db 6.1's `print` of a shortform fork
//! (`a.sfattr...`), and of `ablock N` leaf, node and remote value blocks, byte for byte on
//! sound v4 and v5 filesystems (tested against xfs_db). Known differences, on damaged blocks
//! only: xfs_db chooses the block type by magic while these renderers print the type they
//! were asked for; entries whose `nameidx` points outside the block get no `nvlist` lines
//! here (xfs_db reads whatever lies there); zero-length values (which xfs_db's `attr_set`
//! cannot create) print as `value = ""`, unverified.

use std::borrow::Cow;

use serde::Serialize;

use crate::da_btree::{
    self, hash_disorder, node_entries, struct_array, DaVisit, DaVisitor, DaWalkFinding,
};
use crate::fields::{CrcState, Field, Value};
use crate::sb::Geometry;
use crate::verify::Layout;

pub mod leaf;
pub mod remote;
pub mod sf;

pub use crate::da_btree::{
    da_hashname, da_magic, Da3Info, DaBlkinfo, NodeEntry, NodeHdr,
    XFS_DA3_BLKINFO_SIZE as DA3_BLKINFO_SIZE, XFS_DA3_CRC_OFF as DA3_CRC_OFF,
    XFS_DA3_NODE_HDR_SIZE as DA3_NODE_HDR_SIZE, XFS_DA3_NODE_MAGIC,
    XFS_DA_BLKINFO_SIZE as DA_BLKINFO_SIZE, XFS_DA_NODE_HDR_SIZE as DA_NODE_HDR_SIZE,
    XFS_DA_NODE_MAGIC, XFS_DA_NODE_MAXDEPTH as DA_NODE_MAXDEPTH,
};
pub use leaf::{
    decode_leaf, leaf_entry, leaf_hdr_size, LeafBlock, LeafEntry, LeafHdr, LeafName, LeafNameHdr,
    ATTR3_LEAF_HDR_SIZE, ATTR_LEAF_HDR_SIZE,
};
pub use remote::{
    decode_remote_block, read_remote_value, RemoteBlock, RemoteValue, RmtHdr, ATTR3_RMT_CRC_OFF,
    ATTR3_RMT_HDR_SIZE, XFS_ATTR3_RMT_MAGIC,
};
pub use sf::{decode_shortform, list_shortform, SfEntry, SfHdr, Shortform, SF_HDR_SIZE};

/// `XFS_ATTR_LEAF_MAGIC` (v4 leaf).
pub const XFS_ATTR_LEAF_MAGIC: u16 = 0xfbee;
/// `XFS_ATTR3_LEAF_MAGIC` (v5 leaf).
pub const XFS_ATTR3_LEAF_MAGIC: u16 = 0x3bee;
/// Entry flag: the value is stored in the leaf.
pub const XFS_ATTR_LOCAL: u8 = 1;
/// Entry flag: trusted ("root") namespace.
pub const XFS_ATTR_ROOT: u8 = 2;
/// Entry flag: security namespace.
pub const XFS_ATTR_SECURE: u8 = 4;
/// Entry flag: the attribute is being created or removed.
pub const XFS_ATTR_INCOMPLETE: u8 = 0x80;

/// `XATTR_SIZE_MAX`: the largest value the kernel stores.
pub const XATTR_SIZE_MAX: u32 = 65536;
/// The namespace an attribute's flags put it in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Namespace {
    /// No namespace bit: Linux `user.`.
    User,
    /// `XFS_ATTR_ROOT`, shown to Linux users as `trusted.`.
    Trusted,
    /// `XFS_ATTR_SECURE`, Linux `security.`.
    Secure,
    /// Both namespace bits set: invalid.
    Invalid,
}

impl Namespace {
    /// The namespace of the entry flags `flags`.
    pub fn from_flags(flags: u8) -> Namespace {
        match (flags & XFS_ATTR_ROOT != 0, flags & XFS_ATTR_SECURE != 0) {
            (false, false) => Namespace::User,
            (true, false) => Namespace::Trusted,
            (false, true) => Namespace::Secure,
            (true, true) => Namespace::Invalid,
        }
    }

    /// The Linux xattr prefix (`user.`, `trusted.`, `security.`); empty when invalid.
    pub fn prefix(self) -> &'static str {
        match self {
            Namespace::User => "user.",
            Namespace::Trusted => "trusted.",
            Namespace::Secure => "security.",
            Namespace::Invalid => "",
        }
    }
}

/// A problem found in attribute structures. `block` is the logical block of the attribute
/// fork concerned; shortform findings concern the inode's attribute fork.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Finding {
    /// Shortform attribute fork of `have` bytes is shorter than its header.
    #[error("shortform attribute fork of {have} bytes is shorter than its header")]
    SfShort {
        /// Size of the fork in bytes.
        have: usize,
    },
    /// Shortform totsize `totsize` is outside `min`..=`fork_len` (header..fork size).
    #[error("shortform totsize {totsize} is outside {min}..={fork_len} (header..fork size)")]
    SfBadTotsize {
        /// The fork header's `totsize` in bytes.
        totsize: u16,
        /// The lowest valid value.
        min: usize,
        /// Size of the attribute fork in bytes.
        fork_len: usize,
    },
    /// Shortform entry `index` at byte `offset` runs past totsize `end`.
    #[error("shortform entry {index} at byte {offset} runs past totsize {end}")]
    SfEntryOverrun {
        /// Index of the entry.
        index: usize,
        /// Byte offset of the entry in the fork.
        offset: usize,
        /// The header's `totsize`: where the entries must end.
        end: usize,
    },
    /// Shortform header counts `count` entries, `found` fit.
    #[error("shortform header counts {count} entries, {found} fit")]
    SfCountMismatch {
        /// The count the header claims.
        count: u8,
        /// The value found.
        found: usize,
    },
    /// Shortform entries end at byte `end`, totsize is `totsize`.
    #[error("shortform entries end at byte {end}, totsize is {totsize}")]
    SfSizeMismatch {
        /// Byte offset where the entries end.
        end: usize,
        /// The fork header's `totsize` in bytes.
        totsize: u16,
    },
    /// Shortform entry `index`: empty name.
    #[error("shortform entry {index}: empty name")]
    SfEmptyName {
        /// Index of the entry.
        index: usize,
    },
    /// Shortform entry `index`: both root and secure flags set (`flags`).
    #[error("shortform entry {index}: both root and secure flags set ({flags:#x})")]
    SfBadNamespace {
        /// Index of the entry.
        index: usize,
        /// The entry's flags.
        flags: u8,
    },

    /// Block `block`: `have` bytes, the header needs `need`.
    #[error("block {block}: {have} bytes, the header needs {need}")]
    ShortBlock {
        /// Logical block of the attribute fork.
        block: u32,
        /// Bytes the header needs.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// Block `block`: magic `found`, expected `expected`.
    #[error("block {block}: magic {found:#x}, expected {expected}")]
    BadMagic {
        /// Logical block of the attribute fork.
        block: u32,
        /// The value found.
        found: u32,
        /// The value expected.
        expected: &'static str,
    },
    /// Block `block`: bad CRC.
    #[error("block {block}: bad CRC")]
    BadCrc {
        /// Logical block of the attribute fork.
        block: u32,
    },
    /// Block `block`: blkno `found`, expected daddr `expected`.
    #[error("block {block}: blkno {found}, expected daddr {expected}")]
    BadBlkno {
        /// Logical block of the attribute fork.
        block: u32,
        /// The value found.
        found: u64,
        /// The value expected.
        expected: u64,
    },
    /// Block `block`: owner `found`, expected `expected`.
    #[error("block {block}: owner {found}, expected {expected}")]
    BadOwner {
        /// Logical block of the attribute fork.
        block: u32,
        /// The value found.
        found: u64,
        /// The value expected.
        expected: u64,
    },
    /// Block `block`: uuid does not match the filesystem.
    #[error("block {block}: uuid does not match the filesystem")]
    BadUuid {
        /// Logical block of the attribute fork.
        block: u32,
    },

    /// Leaf `block`: firstused `firstused` is outside `min`..=`max`.
    #[error("leaf {block}: firstused {firstused} is outside {min}..={max}")]
    LeafBadFirstused {
        /// Logical block of the attribute fork.
        block: u32,
        /// The header's `firstused` in bytes.
        firstused: u32,
        /// The lowest valid value.
        min: usize,
        /// The largest valid value (or how many fit).
        max: usize,
    },
    /// Leaf `block`: `count` entries do not fit (`max` fit).
    #[error("leaf {block}: {count} entries do not fit ({max} fit)")]
    LeafTooManyEntries {
        /// Logical block of the attribute fork.
        block: u32,
        /// The count the header claims.
        count: u16,
        /// The largest valid value (or how many fit).
        max: usize,
    },
    /// Leaf `block` entry `index`: nameidx `nameidx` outside the name area.
    #[error("leaf {block} entry {index}: nameidx {nameidx} outside the name area")]
    LeafBadNameidx {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
        /// The entry's `nameidx`.
        nameidx: u16,
    },
    /// Leaf `block` entry `index`: name/value at `nameidx` runs past the block end.
    #[error("leaf {block} entry {index}: name/value at {nameidx} runs past the block end")]
    LeafNameOverrun {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
        /// The entry's `nameidx`.
        nameidx: u16,
    },
    /// Leaf `block` entry `index`: empty name.
    #[error("leaf {block} entry {index}: empty name")]
    LeafEmptyName {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
    },
    /// Leaf `block` entry `index`: stored hash `stored`, name hashes to `computed`.
    #[error("leaf {block} entry {index}: stored hash {stored:#x}, name hashes to {computed:#x}")]
    LeafBadHash {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
        /// The entry's `hashval`.
        stored: u32,
        /// The hash of its name.
        computed: u32,
    },
    /// Leaf `block` entry `index`: hash `hashval` is lower than its predecessor's.
    #[error("leaf {block} entry {index}: hash {hashval:#x} is lower than its predecessor's")]
    LeafHashOrder {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
        /// The hash value.
        hashval: u32,
    },
    /// Leaf `block` entry `index`: both root and secure flags set (`flags`).
    #[error("leaf {block} entry {index}: both root and secure flags set ({flags:#x})")]
    LeafBadNamespace {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
        /// The entry's flags.
        flags: u8,
    },
    /// Leaf `block` entry `index`: local value of `valuelen` bytes exceeds `max`.
    #[error("leaf {block} entry {index}: local value of {valuelen} bytes exceeds {max}")]
    LeafValueTooLong {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
        /// Value length in bytes.
        valuelen: u32,
        /// The largest valid value (or how many fit).
        max: u32,
    },
    /// Leaf `block` entry `index`: incomplete (being set or removed).
    #[error("leaf {block} entry {index}: incomplete (being set or removed)")]
    Incomplete {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
    },

    /// Node `block`: level `level` outside 1..=`max`.
    #[error("node {block}: level {level} outside 1..={max}")]
    NodeBadLevel {
        /// Logical block of the attribute fork.
        block: u32,
        /// The level the block claims.
        level: u16,
        /// The largest valid value (or how many fit).
        max: u16,
    },
    /// Node `block`: `count` entries, `max` fit.
    #[error("node {block}: {count} entries, {max} fit")]
    NodeBadCount {
        /// Logical block of the attribute fork.
        block: u32,
        /// The count the header claims.
        count: u16,
        /// The largest valid value (or how many fit).
        max: usize,
    },
    /// Node `block` entry `index`: hash `hashval` is lower than its predecessor's.
    #[error("node {block} entry {index}: hash {hashval:#x} is lower than its predecessor's")]
    NodeHashOrder {
        /// Logical block of the attribute fork.
        block: u32,
        /// Index of the entry.
        index: usize,
        /// The hash value.
        hashval: u32,
    },
    /// Block `block`: level `found`, the parent implies `expected`.
    #[error("block {block}: level {found}, the parent implies {expected}")]
    ChildLevel {
        /// Logical block of the attribute fork.
        block: u32,
        /// The value found.
        found: u16,
        /// The value expected.
        expected: u16,
    },
    /// Block `block` could not be read: `error`.
    #[error("block {block} could not be read: {error}")]
    ReadFailed {
        /// Logical block of the attribute fork.
        block: u32,
        /// Why the read failed.
        error: String,
    },
    /// Leaf `block`: `which` is `found`, expected `expected`.
    #[error("leaf {block}: {which} is {found}, expected {expected}")]
    BadSibling {
        /// Logical block of the attribute fork.
        block: u32,
        /// `forw` or `back`.
        which: &'static str,
        /// The value found.
        found: u32,
        /// The value expected.
        expected: u32,
    },

    /// Remote value block `block`: offset `found`, expected `expected`.
    #[error("remote value block {block}: offset {found}, expected {expected}")]
    RemoteBadOffset {
        /// Logical block of the attribute fork.
        block: u32,
        /// The value found.
        found: u32,
        /// The value expected.
        expected: u32,
    },
    /// Remote value block `block`: `found` bytes, expected `expected`.
    #[error("remote value block {block}: {found} bytes, expected {expected}")]
    RemoteBadBytes {
        /// Logical block of the attribute fork.
        block: u32,
        /// The value found.
        found: u32,
        /// The value expected.
        expected: u32,
    },
    /// Remote value of `valuelen` bytes exceeds the `max` byte maximum.
    #[error("remote value of {valuelen} bytes exceeds the {max} byte maximum")]
    RemoteTooLong {
        /// Value length in bytes.
        valuelen: u32,
        /// [`XATTR_SIZE_MAX`].
        max: u32,
    },
    /// Remote value block `valueblk` + `count` blocks overflows the fork offsets.
    #[error("remote value block {valueblk} + {count} blocks overflows the fork offsets")]
    RemoteBlockOverflow {
        /// First logical block of the value.
        valueblk: u32,
        /// Number of blocks the value needs.
        count: u32,
    },
    /// A finding of the da-btree walk (depth, cycles, block budget, node keys against
    /// their children); blocks are logical blocks of the attribute fork. Serialized as
    /// the walk finding itself.
    #[error("{0}")]
    #[serde(untagged)]
    DaWalk(DaWalkFinding),
}

/// What a v5 block header is checked against.
#[derive(Debug, Clone, Copy)]
pub struct BlockContext<'g> {
    /// The filesystem geometry (layout version, metadata uuid).
    pub geo: &'g Geometry,
    /// Logical block number in the attribute fork (names findings).
    pub lblk: u32,
    /// The inode owning the fork.
    pub owner: u64,
    /// The block's disk address in 512-byte sectors, when the caller knows it.
    pub daddr: Option<u64>,
}

/// Checks the v5 self-describing header of a block through [`verify::verify`]: CRC,
/// blkno (when the caller knows the daddr), uuid, owner. Returns the CRC state.
pub(crate) fn check_v5_ident(
    buf: &[u8],
    layout: &Layout,
    ctx: &BlockContext<'_>,
    blkno: u64,
    owner: u64,
    findings: &mut Vec<Finding>,
) -> CrcState {
    let block = ctx.lblk;
    let h = da_btree::verify_v5_ident(buf, layout, ctx.daddr, ctx.geo.meta_uuid, Some(ctx.owner));
    if h.crc == CrcState::Bad {
        findings.push(Finding::BadCrc { block });
    }
    if let Some(d) = ctx.daddr {
        if !h.blkno_ok {
            findings.push(Finding::BadBlkno {
                block,
                found: blkno,
                expected: d,
            });
        }
    }
    if !h.uuid_ok {
        findings.push(Finding::BadUuid { block });
    }
    if !h.owner_ok {
        findings.push(Finding::BadOwner {
            block,
            found: owner,
            expected: ctx.owner,
        });
    }
    h.crc
}

/// The header `parse` decodes from `buf` with the filesystem's layout, or
/// [`Finding::ShortBlock`] when `buf` is shorter than the header's `hs` bytes.
pub(crate) fn parse_hdr<H>(
    buf: &[u8],
    ctx: &BlockContext<'_>,
    hs: usize,
    parse: impl FnOnce(&[u8], bool) -> Option<H>,
) -> Result<H, Finding> {
    let short = || Finding::ShortBlock {
        block: ctx.lblk,
        need: hs,
        have: buf.len(),
    };
    if buf.len() < hs {
        return Err(short());
    }
    parse(buf, ctx.geo.has_crc).ok_or_else(short)
}

/// A decoded da block of an attribute fork: a node block ([`NodeBlock`]) or a leaf block
/// ([`LeafBlock`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AttrDaBlock<H, E> {
    /// The block header (`xfs_da_intnode` / `xfs_attr_leafblock` header, v4 or v5 form).
    pub hdr: H,
    /// The state of the v5 CRC (`Unchecked` on v4).
    pub crc: CrcState,
    /// The entries that fit in the block, at most the header's `count`; none when the magic
    /// is wrong.
    pub entries: Vec<E>,
    /// What is wrong with the block.
    pub findings: Vec<Finding>,
}

impl<H, E> AttrDaBlock<H, E> {
    /// Starts decoding a da block (`leaf`: an attribute leaf, else a node): parses its
    /// `hs`-byte header, checks the v5 header of its blkinfo (`info` of the header) and
    /// the magic. Returns the block without entries and whether the magic is the expected
    /// one. `Err` only when the block is shorter than the header.
    pub(crate) fn start(
        buf: &[u8],
        ctx: &BlockContext<'_>,
        hs: usize,
        parse: impl FnOnce(&[u8], bool) -> Option<H>,
        info: impl FnOnce(&H) -> &DaBlkinfo,
        leaf: bool,
    ) -> Result<(Self, bool), Finding> {
        let hdr = parse_hdr(buf, ctx, hs, parse)?;
        let info = info(&hdr);
        let mut findings = Vec::new();
        let crc = match &info.v5 {
            Some(v) => check_v5_ident(
                buf,
                &Layout::DA3_BLKINFO,
                ctx,
                v.blkno,
                v.owner,
                &mut findings,
            ),
            None => CrcState::Unchecked,
        };
        let (magic, what) = expected_magic(ctx.geo.has_crc, leaf);
        let ok = info.magic == magic;
        if !ok {
            findings.push(Finding::BadMagic {
                block: ctx.lblk,
                found: info.magic.into(),
                expected: what,
            });
        }
        let blk = AttrDaBlock {
            hdr,
            crc,
            entries: Vec::new(),
            findings,
        };
        Ok((blk, ok))
    }
}

/// The `xfs_db print` fields of a da blkinfo, each with its prefix (`hdr.info.` and, for
/// the v5 nested part, `hdr.info.hdr.`).
pub(crate) fn blkinfo_fields(info: &DaBlkinfo, crc: CrcState) -> Vec<(&'static str, Field)> {
    info.fields(crc)
        .into_iter()
        .map(|(n, f)| (if n { "hdr.info.hdr." } else { "hdr.info." }, f))
        .collect()
}

pub(crate) fn chars(bytes: &[u8]) -> String {
    Field {
        name: "",
        value: Value::Chars(bytes.to_vec()),
    }
    .render_value()
}

pub(crate) fn line(out: &mut String, prefix: &str, f: &Field) {
    out.push_str(prefix);
    out.push_str(&f.render_xfs_db());
    out.push('\n');
}

/// The `xfs_db print` lines of `fields`, each under its prefix.
pub(crate) fn lines(fields: &[(&str, Field)]) -> String {
    let mut out = String::new();
    for (p, f) in fields {
        line(&mut out, p, f);
    }
    out
}

// ---------------------------------------------------------------------------------------
// Node blocks

/// A decoded da-node block of an attribute fork.
pub type NodeBlock = AttrDaBlock<NodeHdr, NodeEntry>;

/// The magic a leaf (`leaf`) or node block of this filesystem version must carry, and its
/// description.
pub(crate) fn expected_magic(has_crc: bool, leaf: bool) -> (u16, &'static str) {
    match (has_crc, leaf) {
        (true, true) => (XFS_ATTR3_LEAF_MAGIC, "0x3bee (attr3 leaf)"),
        (false, true) => (XFS_ATTR_LEAF_MAGIC, "0xfbee (attr leaf)"),
        (true, false) => (XFS_DA3_NODE_MAGIC, "0x3ebe (da3 node)"),
        (false, false) => (XFS_DA_NODE_MAGIC, "0xfebe (da node)"),
    }
}

/// Decodes one da-node block. A wrong magic is a finding and then no entries are decoded.
/// `Err` only when the block is shorter than the header.
pub fn decode_node(buf: &[u8], ctx: &BlockContext<'_>) -> Result<NodeBlock, Finding> {
    let v5 = ctx.geo.has_crc;
    let block = ctx.lblk;
    let hs = da_btree::node_hdr_size(v5);
    let (mut blk, magic_ok) = NodeBlock::start(buf, ctx, hs, NodeHdr::parse, |h| &h.info, false)?;
    if !magic_ok {
        return Ok(blk);
    }
    let hdr = &blk.hdr;
    if hdr.level == 0 || hdr.level > DA_NODE_MAXDEPTH {
        blk.findings.push(Finding::NodeBadLevel {
            block,
            level: hdr.level,
            max: DA_NODE_MAXDEPTH,
        });
    }
    let max = NodeHdr::max_entries(buf.len(), v5);
    let count = usize::from(hdr.count);
    if count == 0 || count > max {
        blk.findings.push(Finding::NodeBadCount {
            block,
            count: hdr.count,
            max,
        });
    }
    blk.entries = node_entries(buf, v5, count.min(max));
    for (index, hashval) in hash_disorder(blk.entries.iter().map(|e| e.hashval)) {
        blk.findings.push(Finding::NodeHashOrder {
            block,
            index,
            hashval,
        });
    }
    Ok(blk)
}

impl NodeBlock {
    /// The header fields in `xfs_db print` order.
    pub fn header_fields(&self) -> Vec<(&'static str, Field)> {
        let mut f = blkinfo_fields(&self.hdr.info, self.crc);
        f.push(("hdr.", Field::dec("count", self.hdr.count, 16)));
        f.push(("hdr.", Field::dec("level", self.hdr.level, 16)));
        f
    }

    /// The block as `xfs_db -c 'inode N' -c 'ablock B' -c print` prints it.
    pub fn render_xfs_db(&self) -> String {
        let mut out = lines(&self.header_fields());
        let rows = da_btree::node_rows(&self.entries);
        struct_array(&mut out, "btree", &["hashval", "before"], &rows);
        out
    }
}

/// A block of the attribute fork as handed out by an [`AttrBlocks`].
#[derive(Debug, Clone)]
pub struct FetchedBlock<'a> {
    /// One filesystem block of bytes.
    pub bytes: Cow<'a, [u8]>,
    /// Its disk address in 512-byte sectors, when known (checked against v5 `blkno`).
    pub daddr: Option<u64>,
}

/// Reads logical blocks of one inode's attribute fork. Mapping the fork is the caller's job.
pub trait AttrBlocks {
    /// Logical block `lblk` of the attribute fork; `Err` with a reason when it is a hole or
    /// cannot be read.
    fn read_block(&self, lblk: u32) -> Result<FetchedBlock<'_>, String>;
}

impl<F> AttrBlocks for F
where
    F: Fn(u32) -> Result<(Vec<u8>, Option<u64>), String>,
{
    fn read_block(&self, lblk: u32) -> Result<FetchedBlock<'_>, String> {
        let (bytes, daddr) = self(lblk)?;
        Ok(FetchedBlock {
            bytes: Cow::Owned(bytes),
            daddr,
        })
    }
}

// ---------------------------------------------------------------------------------------
// Listing

/// An attribute's value: stored in place, or in remote blocks of the attribute fork.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum AttrValue {
    /// Stored in the leaf or shortform fork.
    Local(Vec<u8>),
    /// Stored in remote blocks.
    Remote {
        /// First logical block of the value.
        valueblk: u32,
        /// Value length in bytes.
        valuelen: u32,
    },
}

/// One attribute as listed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Attr {
    /// The namespace its flags put it in.
    pub namespace: Namespace,
    /// The raw on-disk flags (incomplete, local, namespace bits).
    pub flags: u8,
    /// The name, without namespace prefix.
    pub name: Vec<u8>,
    /// The value or where it lives.
    pub value: AttrValue,
}

impl Attr {
    /// The attribute is being created or removed (`XFS_ATTR_INCOMPLETE`).
    pub fn is_incomplete(&self) -> bool {
        self.flags & XFS_ATTR_INCOMPLETE != 0
    }
}

/// All attributes found in a fork, the blocks entered and the problems seen.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct AttrListing {
    /// In on-disk order (hash order for leaf/node forks). Incomplete entries are included
    /// (see [`Attr::is_incomplete`]); the kernel hides them.
    pub attrs: Vec<Attr>,
    /// Logical blocks of the leaves entered, in hash order.
    pub leaves: Vec<u32>,
    /// Logical blocks of the node blocks entered.
    pub nodes: Vec<u32>,
    /// What is wrong with the fork's blocks.
    pub findings: Vec<Finding>,
}

/// Limits of [`list_attrs`].
#[derive(Debug, Clone, Copy)]
pub struct ListOptions {
    /// Stop after entering this many blocks.
    pub max_blocks: usize,
}

impl Default for ListOptions {
    fn default() -> Self {
        ListOptions {
            max_blocks: 1 << 16,
        }
    }
}

struct Lister<'a, R: ?Sized> {
    reader: &'a R,
    geo: &'a Geometry,
    owner: u64,
    out: AttrListing,
    /// (lblk, forw, back) of each leaf in visiting order.
    chain: Vec<(u32, u32, u32)>,
}

impl<R: AttrBlocks + ?Sized> DaVisitor for Lister<'_, R> {
    /// Decodes `lblk` (a leaf or a node), expected at `level` (None: unknown, at the root).
    fn visit(&mut self, lblk: u32, level: Option<u16>) -> DaVisit {
        let fetched = match self.reader.read_block(lblk) {
            Ok(f) => f,
            Err(error) => {
                self.out
                    .findings
                    .push(Finding::ReadFailed { block: lblk, error });
                return DaVisit::Stop;
            }
        };
        let ctx = BlockContext {
            geo: self.geo,
            lblk,
            owner: self.owner,
            daddr: fetched.daddr,
        };
        let buf: &[u8] = &fetched.bytes;
        let is_node = matches!(da_magic(buf), Some(XFS_DA_NODE_MAGIC | XFS_DA3_NODE_MAGIC));
        if !is_node {
            if let Some(l) = level.filter(|&l| l != 0) {
                self.out.findings.push(Finding::ChildLevel {
                    block: lblk,
                    found: 0,
                    expected: l,
                });
            }
            let leaf = match decode_leaf(buf, &ctx) {
                Ok(l) => l,
                Err(f) => {
                    self.out.findings.push(f);
                    return DaVisit::Stop;
                }
            };
            self.out.findings.extend(leaf.findings.iter().cloned());
            self.out.leaves.push(lblk);
            self.chain
                .push((lblk, leaf.hdr.info.forw, leaf.hdr.info.back));
            let magic_ok = !leaf
                .findings
                .iter()
                .any(|f| matches!(f, Finding::BadMagic { .. }));
            if !magic_ok {
                return DaVisit::Stop;
            }
            for e in &leaf.entries {
                let Some(n) = &e.name else { continue };
                let (name, value) = match n {
                    LeafName::Local { name, value, .. } => {
                        (name.clone(), AttrValue::Local(value.clone()))
                    }
                    LeafName::Remote {
                        name,
                        valueblk,
                        valuelen,
                        ..
                    } => (
                        name.clone(),
                        AttrValue::Remote {
                            valueblk: *valueblk,
                            valuelen: *valuelen,
                        },
                    ),
                };
                self.out.attrs.push(Attr {
                    namespace: e.namespace(),
                    flags: e.flags,
                    name,
                    value,
                });
            }
            return DaVisit::Leaf {
                last_hash: leaf.entries.last().map(|e| e.hashval),
            };
        }
        let node = match decode_node(buf, &ctx) {
            Ok(n) => n,
            Err(f) => {
                self.out.findings.push(f);
                return DaVisit::Stop;
            }
        };
        drop(fetched);
        self.out.findings.extend(node.findings.iter().cloned());
        self.out.nodes.push(lblk);
        if let Some(l) = level {
            if node.hdr.level != l {
                self.out.findings.push(Finding::ChildLevel {
                    block: lblk,
                    found: node.hdr.level,
                    expected: l,
                });
            }
        }
        DaVisit::Node {
            level: node.hdr.level,
            entries: node.entries,
        }
    }

    fn report(&mut self, finding: DaWalkFinding) {
        self.out.findings.push(Finding::DaWalk(finding));
    }
}

impl<R: AttrBlocks + ?Sized> Lister<'_, R> {
    fn check_chain(&mut self) {
        let n = self.chain.len();
        for i in 0..n {
            let Some(&(blk, forw, back)) = self.chain.get(i) else {
                continue;
            };
            let prev = i
                .checked_sub(1)
                .and_then(|p| self.chain.get(p))
                .map_or(0, |c| c.0);
            let next = self.chain.get(i.saturating_add(1)).map_or(0, |c| c.0);
            for (which, found, expected) in [("back", back, prev), ("forw", forw, next)] {
                if found != expected {
                    self.out.findings.push(Finding::BadSibling {
                        block: blk,
                        which,
                        found,
                        expected,
                    });
                }
            }
        }
    }
}

/// Lists the attributes of a leaf- or node-format attribute fork: reads logical block 0,
/// descends every node entry (depth at most [`DA_NODE_MAXDEPTH`], each block once, at most
/// `opts.max_blocks` blocks) and collects each leaf's entries. Checks leaf contents, node
/// hash keys against their children, levels, and the leaves' forw/back chain. Remote values
/// are returned as references; read them with [`read_remote_value`].
pub fn list_attrs<R: AttrBlocks + ?Sized>(
    reader: &R,
    geo: &Geometry,
    owner: u64,
    opts: ListOptions,
) -> AttrListing {
    let mut l = Lister {
        reader,
        geo,
        owner,
        out: AttrListing::default(),
        chain: Vec::new(),
    };
    let walked = da_btree::walk(0, opts.max_blocks, &mut l);
    if !walked.stopped {
        l.check_chain();
    }
    l.out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn shortform_basic() {
        let mut f = vec![0u8, 0, 2, 0];
        f.extend_from_slice(&[2, 1, 0, b'a', b'b', b'x']);
        f.extend_from_slice(&[1, 0, XFS_ATTR_ROOT, b'r']);
        let tot = u16::try_from(f.len()).unwrap();
        f[0..2].copy_from_slice(&tot.to_be_bytes());
        f.extend_from_slice(&[0; 8]);
        let sf = decode_shortform(&f).unwrap();
        assert!(sf.findings.is_empty(), "{:?}", sf.findings);
        assert_eq!(sf.entries.len(), 2);
        assert_eq!(sf.entries[1].namespace(), Namespace::Trusted);
        let r = sf.render_xfs_db();
        assert!(r.contains("a.sfattr.list[0].name = \"ab\"\n"), "{r}");
        assert!(r.contains("a.sfattr.list[1].value = \"\"\n"), "{r}");
        // Count beyond the data.
        f[2] = 9;
        let sf = decode_shortform(&f).unwrap();
        assert!(matches!(
            sf.findings.last(),
            Some(Finding::SfCountMismatch { .. })
        ));
    }
}
