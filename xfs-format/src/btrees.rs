//! Key and record layouts of the per-AG btrees: free space by block (bnobt) and by size
//! (cntbt), inodes (inobt) and inodes with free slots (finobt), reverse mappings (rmapbt) and
//! reference counts (refcountbt). Each tree is a [`BtreeKind`] for the walker in
//! [`crate::btree`]. Field names are the C names; `fields()` lists them the way xfs_db does.

use serde::Serialize;

use crate::ag::{Agf, Agi};
use crate::btree::{be_u16, be_u32, be_u64, fixed_btrees, BtreeItem, BtreeKind, WalkOptions};
use crate::fields::{Field, Null, Radix};
use crate::sb::Geometry;

/// `ABTB`: v4 bnobt block.
pub const XFS_ABTB_MAGIC: u32 = u32::from_be_bytes(*b"ABTB");
/// `AB3B`: v5 bnobt block.
pub const XFS_ABTB_CRC_MAGIC: u32 = u32::from_be_bytes(*b"AB3B");
/// `ABTC`: v4 cntbt block.
pub const XFS_ABTC_MAGIC: u32 = u32::from_be_bytes(*b"ABTC");
/// `AB3C`: v5 cntbt block.
pub const XFS_ABTC_CRC_MAGIC: u32 = u32::from_be_bytes(*b"AB3C");
/// `IABT`: v4 inobt block.
pub const XFS_IBT_MAGIC: u32 = u32::from_be_bytes(*b"IABT");
/// `IAB3`: v5 inobt block.
pub const XFS_IBT_CRC_MAGIC: u32 = u32::from_be_bytes(*b"IAB3");
/// `FIBT`: v4 finobt block.
pub const XFS_FIBT_MAGIC: u32 = u32::from_be_bytes(*b"FIBT");
/// `FIB3`: v5 finobt block.
pub const XFS_FIBT_CRC_MAGIC: u32 = u32::from_be_bytes(*b"FIB3");
/// `RMB3`: rmapbt block (v5 only).
pub const XFS_RMAP_CRC_MAGIC: u32 = u32::from_be_bytes(*b"RMB3");
/// `R3FC`: refcountbt block (v5 only).
pub const XFS_REFC_CRC_MAGIC: u32 = u32::from_be_bytes(*b"R3FC");

/// Inodes per inode btree record (chunk).
pub const XFS_INODES_PER_CHUNK: u32 = 64;
/// Inodes covered by one holemask bit.
pub const XFS_INODES_PER_HOLEMASK_BIT: u32 = 4;

/// rmap offset flag: the mapping is in the attribute fork.
pub const XFS_RMAP_OFF_ATTR_FORK: u64 = 1 << 63;
/// rmap offset flag: the block is a BMBT block of the owner.
pub const XFS_RMAP_OFF_BMBT_BLOCK: u64 = 1 << 62;
/// rmap offset flag: the extent is unwritten.
pub const XFS_RMAP_OFF_UNWRITTEN: u64 = 1 << 61;
/// The file offset bits of an rmap offset.
pub const XFS_RMAP_OFF_MASK: u64 = (1 << 54) - 1;
/// refcount startblock flag: a CoW staging extent.
pub const XFS_REFC_COW_START: u32 = 1 << 31;

fn agblock(name: &'static str, v: u32) -> Field {
    Field::nullable(name, v, 32)
}

fn flag(name: &'static str, set: bool) -> Field {
    Field::dec(name, u8::from(set), 1)
}

/// `startblock` and `blockcount` of an AG extent (free space and rmap records), as xfs_db
/// prints them.
fn extent_fields(startblock: u32, blockcount: u32) -> Vec<Field> {
    vec![
        agblock("startblock", startblock),
        Field::dec("blockcount", blockcount, 32),
    ]
}

// ---------------------------------------------------------------------------------------
// Free space btrees.

/// `xfs_alloc_rec_t` / `xfs_alloc_key_t`: a free extent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub struct AllocRec {
    /// First block of the free extent (AG block number).
    pub ar_startblock: u32,
    /// Length in blocks.
    pub ar_blockcount: u32,
}

impl BtreeItem for AllocRec {
    const LEN: usize = 8;
    const NAMES: &'static [&'static str] = &["startblock", "blockcount"];
    fn decode(b: &[u8]) -> Option<AllocRec> {
        Some(AllocRec {
            ar_startblock: be_u32(b, 0)?,
            ar_blockcount: be_u32(b, 4)?,
        })
    }
    fn fields(&self) -> Vec<Field> {
        extent_fields(self.ar_startblock, self.ar_blockcount)
    }
}

/// Which free-space index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AllocBy {
    /// By start block (bnobt).
    Block,
    /// By length, then start block (cntbt).
    Count,
}

/// The bnobt or the cntbt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AllocBtree(pub AllocBy);

impl BtreeKind for AllocBtree {
    type Rec = AllocRec;
    type Key = AllocRec;

    fn name(&self) -> &'static str {
        match self.0 {
            AllocBy::Block => "bnobt",
            AllocBy::Count => "cntbt",
        }
    }
    fn magic(&self, has_crc: bool) -> Option<u32> {
        Some(match (self.0, has_crc) {
            (AllocBy::Block, false) => XFS_ABTB_MAGIC,
            (AllocBy::Block, true) => XFS_ABTB_CRC_MAGIC,
            (AllocBy::Count, false) => XFS_ABTC_MAGIC,
            (AllocBy::Count, true) => XFS_ABTC_CRC_MAGIC,
        })
    }
    fn rec_len(&self) -> usize {
        AllocRec::LEN
    }
    fn key_len(&self) -> usize {
        AllocRec::LEN
    }
    fn decode_rec(&self, b: &[u8]) -> Option<AllocRec> {
        AllocRec::decode(b)
    }
    fn decode_key(&self, b: &[u8]) -> Option<AllocRec> {
        AllocRec::decode(b)
    }
    fn rec_names(&self) -> &'static [&'static str] {
        AllocRec::NAMES
    }
    fn key_names(&self) -> &'static [&'static str] {
        match self.0 {
            AllocBy::Block => AllocRec::NAMES,
            AllocBy::Count => &["blockcount", "startblock"],
        }
    }
    fn rec_fields(&self, rec: &AllocRec) -> Vec<Field> {
        rec.fields()
    }
    fn key_fields(&self, key: &AllocRec) -> Vec<Field> {
        let mut f = key.fields();
        if self.0 == AllocBy::Count {
            f.reverse();
        }
        f
    }
}

// ---------------------------------------------------------------------------------------
// Inode btrees.

/// `xfs_inobt_rec_t`: one chunk of 64 inodes. On a sparse-inode filesystem the 32-bit
/// free count is split into holemask, count and an 8-bit free count.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct InobtRec {
    /// First inode of the chunk (AG inode number, a multiple of 64).
    pub ir_startino: u32,
    /// Set bits are holes of 4 inodes each (sparse format; 0 otherwise).
    pub ir_holemask: u16,
    /// Inodes allocated in the chunk (sparse format; 64 otherwise).
    pub ir_count: u8,
    /// Free inodes in the chunk (8 bits in the sparse format, 32 otherwise).
    pub ir_freecount: u32,
    /// Bit i set: inode `ir_startino + i` is free.
    pub ir_free: u64,
    /// Decoded in the sparse format.
    pub sparse: bool,
}

impl InobtRec {
    fn decode(b: &[u8], sparse: bool) -> Option<InobtRec> {
        let ir_startino = be_u32(b, 0)?;
        let ir_free = be_u64(b, 8)?;
        Some(if sparse {
            InobtRec {
                ir_startino,
                ir_holemask: be_u16(b, 4)?,
                ir_count: *b.get(6)?,
                ir_freecount: u32::from(*b.get(7)?),
                ir_free,
                sparse,
            }
        } else {
            InobtRec {
                ir_startino,
                ir_holemask: 0,
                ir_count: 64,
                ir_freecount: be_u32(b, 4)?,
                ir_free,
                sparse,
            }
        })
    }

    /// Whether inode `ir_startino + i` (i < 64) is backed by disk (not in a sparse hole).
    pub fn is_present(&self, i: u32) -> bool {
        let bit = i.checked_div(XFS_INODES_PER_HOLEMASK_BIT).unwrap_or(0);
        i < XFS_INODES_PER_CHUNK && self.ir_holemask.checked_shr(bit).unwrap_or(0) & 1 == 0
    }

    /// Whether inode `ir_startino + i` is free.
    pub fn is_free(&self, i: u32) -> bool {
        i < XFS_INODES_PER_CHUNK && self.ir_free.checked_shr(i).unwrap_or(0) & 1 != 0
    }

    /// Record fields in xfs_db order.
    pub fn fields(&self) -> Vec<Field> {
        let start = Field::nullable("startino", self.ir_startino, 32);
        let free = Field::num("free", self.ir_free, 64, Radix::Hex, Null::Plain);
        if self.sparse {
            vec![
                start,
                Field::hex("holemask", self.ir_holemask, 16),
                Field::dec("count", self.ir_count, 8),
                Field::dec("freecount", self.ir_freecount, 8),
                free,
            ]
        } else {
            vec![
                start,
                Field::num(
                    "freecount",
                    self.ir_freecount.into(),
                    32,
                    Radix::Signed,
                    Null::Plain,
                ),
                free,
            ]
        }
    }
}

/// `xfs_inobt_key_t`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct InobtKey {
    /// First inode of the subtree (AG inode number).
    pub ir_startino: u32,
}

impl BtreeItem for InobtKey {
    const LEN: usize = 4;
    const NAMES: &'static [&'static str] = &["startino"];
    fn decode(b: &[u8]) -> Option<InobtKey> {
        be_u32(b, 0).map(|ir_startino| InobtKey { ir_startino })
    }
    fn fields(&self) -> Vec<Field> {
        vec![Field::nullable("startino", self.ir_startino, 32)]
    }
}

/// The inobt (`free == false`) or the finobt.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct InoBtree {
    /// The finobt (chunks with free inodes only) rather than the inobt.
    pub free: bool,
    /// The filesystem has sparse inodes (records in the sparse format).
    pub sparse: bool,
}

impl InoBtree {
    /// The inobt of `geo`'s filesystem.
    pub fn inobt(geo: &Geometry) -> Self {
        InoBtree {
            free: false,
            sparse: geo.has_sparse_inodes,
        }
    }
    /// The finobt of `geo`'s filesystem.
    pub fn finobt(geo: &Geometry) -> Self {
        InoBtree {
            free: true,
            sparse: geo.has_sparse_inodes,
        }
    }
}

impl BtreeKind for InoBtree {
    type Rec = InobtRec;
    type Key = InobtKey;

    fn name(&self) -> &'static str {
        if self.free {
            "finobt"
        } else {
            "inobt"
        }
    }
    fn sibling_name(&self) -> &'static str {
        // xfs_db declares the siblings of finobt blocks as inobt blocks.
        "inobt"
    }
    fn magic(&self, has_crc: bool) -> Option<u32> {
        Some(match (self.free, has_crc) {
            (false, false) => XFS_IBT_MAGIC,
            (false, true) => XFS_IBT_CRC_MAGIC,
            (true, false) => XFS_FIBT_MAGIC,
            (true, true) => XFS_FIBT_CRC_MAGIC,
        })
    }
    fn rec_len(&self) -> usize {
        16
    }
    fn key_len(&self) -> usize {
        InobtKey::LEN
    }
    fn decode_rec(&self, b: &[u8]) -> Option<InobtRec> {
        InobtRec::decode(b, self.sparse)
    }
    fn decode_key(&self, b: &[u8]) -> Option<InobtKey> {
        InobtKey::decode(b)
    }
    fn rec_names(&self) -> &'static [&'static str] {
        if self.sparse {
            &["startino", "holemask", "count", "freecount", "free"]
        } else {
            &["startino", "freecount", "free"]
        }
    }
    fn key_names(&self) -> &'static [&'static str] {
        InobtKey::NAMES
    }
    fn rec_fields(&self, rec: &InobtRec) -> Vec<Field> {
        rec.fields()
    }
    fn key_fields(&self, key: &InobtKey) -> Vec<Field> {
        key.fields()
    }
}

// ---------------------------------------------------------------------------------------
// Reverse mapping btree.

/// Special owners of rmap records (negative as signed 64-bit numbers).
pub mod rmap_owner {
    /// No owner (used in CoW).
    pub const NULL: i64 = -1;
    /// Owner unknown.
    pub const UNKNOWN: i64 = -2;
    /// Static fs metadata (headers, log).
    pub const FS: i64 = -3;
    /// The internal log.
    pub const LOG: i64 = -4;
    /// AG btrees (bnobt, cntbt, rmapbt, AGFL).
    pub const AG: i64 = -5;
    /// Inode btree blocks (inobt, finobt).
    pub const INOBT: i64 = -6;
    /// Inode chunks.
    pub const INODES: i64 = -7;
    /// Refcount btree blocks.
    pub const REFC: i64 = -8;
    /// CoW staging extents.
    pub const COW: i64 = -9;
}

/// `struct xfs_rmap_rec`. `rm_offset` is kept raw: file offset in the low 54 bits, flags in
/// the top three.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RmapRec {
    /// First block of the extent (AG block number).
    pub rm_startblock: u32,
    /// Length in blocks.
    pub rm_blockcount: u32,
    /// Inode number, or a special owner ([`rmap_owner`]) as a two's complement number.
    pub rm_owner: u64,
    /// File offset (low 54 bits) and the attr fork / BMBT block / unwritten flags.
    pub rm_offset: u64,
}

impl RmapRec {
    /// The owner as a signed number (negative for the special owners).
    pub fn owner(&self) -> i64 {
        self.rm_owner as i64
    }
    /// The file offset in blocks, flags masked off.
    pub fn offset(&self) -> u64 {
        self.rm_offset & XFS_RMAP_OFF_MASK
    }
    /// `XFS_RMAP_OFF_ATTR_FORK`: the extent belongs to the attr fork.
    pub fn is_attr_fork(&self) -> bool {
        self.rm_offset & XFS_RMAP_OFF_ATTR_FORK != 0
    }
    /// `XFS_RMAP_OFF_BMBT_BLOCK`: the block is a BMBT block of the owner.
    pub fn is_bmbt_block(&self) -> bool {
        self.rm_offset & XFS_RMAP_OFF_BMBT_BLOCK != 0
    }
    /// `XFS_RMAP_OFF_UNWRITTEN`: the extent is unwritten.
    pub fn is_unwritten(&self) -> bool {
        self.rm_offset & XFS_RMAP_OFF_UNWRITTEN != 0
    }
}

impl BtreeItem for RmapRec {
    const LEN: usize = 24;
    const NAMES: &'static [&'static str] = &[
        "startblock",
        "blockcount",
        "owner",
        "offset",
        "extentflag",
        "attrfork",
        "bmbtblock",
    ];
    fn decode(b: &[u8]) -> Option<RmapRec> {
        Some(RmapRec {
            rm_startblock: be_u32(b, 0)?,
            rm_blockcount: be_u32(b, 4)?,
            rm_owner: be_u64(b, 8)?,
            rm_offset: be_u64(b, 16)?,
        })
    }
    fn fields(&self) -> Vec<Field> {
        let mut f = extent_fields(self.rm_startblock, self.rm_blockcount);
        f.extend([
            Field::num("owner", self.rm_owner, 64, Radix::Signed, Null::Plain),
            Field::dec("offset", self.offset(), 54),
            flag("extentflag", self.is_unwritten()),
            flag("attrfork", self.is_attr_fork()),
            flag("bmbtblock", self.is_bmbt_block()),
        ]);
        f
    }
}

/// One half of an rmapbt node key (`struct xfs_rmap_key`, 20 packed bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RmapKeyHalf {
    /// First block (AG block number).
    pub rm_startblock: u32,
    /// Owner, as in [`RmapRec::rm_owner`].
    pub rm_owner: u64,
    /// Offset and flags, as in [`RmapRec::rm_offset`].
    pub rm_offset: u64,
}

impl RmapKeyHalf {
    fn decode(b: &[u8]) -> Option<RmapKeyHalf> {
        Some(RmapKeyHalf {
            rm_startblock: be_u32(b, 0)?,
            rm_owner: be_u64(b, 4)?,
            rm_offset: be_u64(b, 12)?,
        })
    }

    /// The five fields under `names` (the low or the high half of [`RmapKey::NAMES`]).
    fn fields(&self, names: &[&'static str]) -> Vec<Field> {
        let values = [
            agblock("", self.rm_startblock),
            Field::num("", self.rm_owner, 64, Radix::Signed, Null::Plain),
            Field::dec("", self.rm_offset & XFS_RMAP_OFF_MASK, 54),
            flag("", self.rm_offset & XFS_RMAP_OFF_ATTR_FORK != 0),
            flag("", self.rm_offset & XFS_RMAP_OFF_BMBT_BLOCK != 0),
        ];
        let named = |(&name, f): (&&'static str, Field)| Field { name, ..f };
        names.iter().zip(values).map(named).collect()
    }
}

/// An rmapbt node key: the lowest and the highest key of the subtree (the tree indexes
/// overlapping intervals).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RmapKey {
    /// The lowest key of the subtree.
    pub low: RmapKeyHalf,
    /// The highest key of the subtree (the `_hi` fields).
    pub high: RmapKeyHalf,
}

impl BtreeItem for RmapKey {
    const LEN: usize = 40;
    const NAMES: &'static [&'static str] = &[
        "startblock",
        "owner",
        "offset",
        "attrfork",
        "bmbtblock",
        "startblock_hi",
        "owner_hi",
        "offset_hi",
        "attrfork_hi",
        "bmbtblock_hi",
    ];
    fn decode(b: &[u8]) -> Option<RmapKey> {
        Some(RmapKey {
            low: RmapKeyHalf::decode(b)?,
            high: RmapKeyHalf::decode(b.get(20..)?)?,
        })
    }
    fn fields(&self) -> Vec<Field> {
        let (low, high) = Self::NAMES.split_at(5);
        let mut f = self.low.fields(low);
        f.extend(self.high.fields(high));
        f
    }
}

// ---------------------------------------------------------------------------------------
// Reference count btree.

/// `struct xfs_refcount_rec`. `rc_startblock` is raw: the top bit marks CoW staging extents.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RefcountRec {
    /// First block (AG block number), with [`XFS_REFC_COW_START`] for CoW staging extents.
    pub rc_startblock: u32,
    /// Length in blocks.
    pub rc_blockcount: u32,
    /// How many owners share the extent (1 for CoW staging extents).
    pub rc_refcount: u32,
}

impl RefcountRec {
    /// The first block, the CoW flag masked off.
    pub fn startblock(&self) -> u32 {
        self.rc_startblock & !XFS_REFC_COW_START
    }
    /// A CoW staging extent.
    pub fn is_cow(&self) -> bool {
        self.rc_startblock & XFS_REFC_COW_START != 0
    }
}

impl BtreeItem for RefcountRec {
    const LEN: usize = 12;
    const NAMES: &'static [&'static str] = &["startblock", "blockcount", "refcount", "cowflag"];
    fn decode(b: &[u8]) -> Option<RefcountRec> {
        Some(RefcountRec {
            rc_startblock: be_u32(b, 0)?,
            rc_blockcount: be_u32(b, 4)?,
            rc_refcount: be_u32(b, 8)?,
        })
    }
    fn fields(&self) -> Vec<Field> {
        vec![
            Field::nullable("startblock", self.startblock(), 31),
            Field::dec("blockcount", self.rc_blockcount, 32),
            Field::dec("refcount", self.rc_refcount, 32),
            flag("cowflag", self.is_cow()),
        ]
    }
}

/// `struct xfs_refcount_key` (raw startblock with the CoW bit).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct RefcountKey {
    /// First block of the subtree, CoW flag included.
    pub rc_startblock: u32,
}

impl BtreeItem for RefcountKey {
    const LEN: usize = 4;
    const NAMES: &'static [&'static str] = &["startblock", "cowflag"];
    fn decode(b: &[u8]) -> Option<RefcountKey> {
        be_u32(b, 0).map(|rc_startblock| RefcountKey { rc_startblock })
    }
    fn fields(&self) -> Vec<Field> {
        vec![
            Field::nullable("startblock", self.rc_startblock & !XFS_REFC_COW_START, 31),
            flag("cowflag", self.rc_startblock & XFS_REFC_COW_START != 0),
        ]
    }
}

fixed_btrees! {
    /// The rmapbt (v5 only).
    RmapBtree: "rmapbt", RmapRec, RmapKey, [None, Some(XFS_RMAP_CRC_MAGIC)];
    /// The refcountbt (v5 with reflink only).
    RefcountBtree: "refcntbt", RefcountRec, RefcountKey, [None, Some(XFS_REFC_CRC_MAGIC)];
}

// ---------------------------------------------------------------------------------------
// Roots.

/// The per-AG trees, for finding their roots in the AG headers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AgTree {
    /// The bnobt (`agf_bno_root`).
    Bno,
    /// The cntbt (`agf_cnt_root`).
    Cnt,
    /// The inobt (`agi_root`).
    Ino,
    /// The finobt (`agi_free_root`).
    Fino,
    /// The rmapbt (`agf_rmap_root`).
    Rmap,
    /// The refcountbt (`agf_refcount_root`).
    Refcount,
}

impl AgTree {
    /// Every per-AG tree.
    pub const ALL: [AgTree; 6] = [
        AgTree::Bno,
        AgTree::Cnt,
        AgTree::Ino,
        AgTree::Fino,
        AgTree::Rmap,
        AgTree::Refcount,
    ];

    /// Whether the filesystem has this tree.
    pub fn exists(self, geo: &Geometry) -> bool {
        match self {
            AgTree::Bno | AgTree::Cnt | AgTree::Ino => true,
            AgTree::Fino => geo.has_finobt,
            AgTree::Rmap => geo.has_rmapbt,
            AgTree::Refcount => geo.has_reflink,
        }
    }

    /// Root block and number of levels as the AG headers record them.
    pub fn root(self, agf: &Agf, agi: &Agi) -> (u32, u32) {
        let (f, i) = (&agf.raw, &agi.raw);
        match self {
            AgTree::Bno => (f.agf_bno_root, f.agf_bno_level),
            AgTree::Cnt => (f.agf_cnt_root, f.agf_cnt_level),
            AgTree::Ino => (i.agi_root, i.agi_level),
            AgTree::Fino => (i.agi_free_root, i.agi_free_level),
            AgTree::Rmap => (f.agf_rmap_root, f.agf_rmap_level),
            AgTree::Refcount => (f.agf_refcount_root, f.agf_refcount_level),
        }
    }

    /// Walk options for this tree: the root level the headers imply (levels - 1). Zero or
    /// absurd level counts leave the root level unchecked but capped.
    pub fn walk_options(self, agf: &Agf, agi: &Agi) -> WalkOptions {
        let (_, levels) = self.root(agf, agi);
        WalkOptions {
            root_level: levels.checked_sub(1).and_then(|l| u16::try_from(l).ok()),
            ..WalkOptions::default()
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signed_and_flag_fields_render_like_xfs_db() {
        let r = RmapRec {
            rm_startblock: 7,
            rm_blockcount: 1,
            rm_owner: (-8i64) as u64,
            rm_offset: XFS_RMAP_OFF_ATTR_FORK | XFS_RMAP_OFF_UNWRITTEN | 12345,
        };
        let v: Vec<String> = r.fields().iter().map(Field::render_value).collect();
        assert_eq!(v, ["7", "1", "-8", "12345", "1", "1", "0"]);
        assert_eq!(r.fields()[2].to_json(), serde_json::json!(-8));
        let i = InobtRec::decode(
            &[0, 0, 0, 64, 0xff, 0xff, 0xff, 0xfe, 0, 0, 0, 0, 0, 0, 0, 1],
            false,
        )
        .unwrap();
        let v: Vec<String> = i.fields().iter().map(Field::render_value).collect();
        assert_eq!(v, ["64", "-2", "0x1"]);
        let s = InobtRec::decode(
            &[0, 0, 0, 64, 0xff, 0x00, 32, 3, 0, 0, 0, 0, 0, 0, 0, 0],
            true,
        )
        .unwrap();
        assert!(!s.is_present(63) && s.is_present(0) && !s.is_free(0));
        let c = RefcountRec {
            rc_startblock: u32::MAX,
            rc_blockcount: 0,
            rc_refcount: 1,
        };
        let v: Vec<String> = c.fields().iter().map(Field::render_value).collect();
        assert_eq!(v, ["null", "0", "1", "1"]);
    }
}
