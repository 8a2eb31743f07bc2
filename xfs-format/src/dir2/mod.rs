//! XFS directories (version 2 and, with CRCs, version 3): pure decoders over byte slices.
//!
//! A directory lives in its inode's data fork in one of these formats:
//!
//! * **shortform**: the entries are packed inside the inode ([`parse_shortform`]);
//! * **block**: one directory block at offset 0 holding data entries, a leaf (hash index)
//!   and a tail (magic `XD2B` / `XDB3`);
//! * **leaf**: data blocks (`XD2D` / `XDD3`) plus one leaf block (`leaf1`: `0xd2f1` /
//!   `0x3df1`) at [`XFS_DIR2_LEAF_OFFSET`], which also holds the best-free table;
//! * **node**: data blocks, a da-btree of node (`0xfebe` / `0x3ebe`) and leafn
//!   (`0xd2ff` / `0x3dff`) blocks in the leaf space, and free-index blocks
//!   (`XD2F` / `XDF3`) at [`XFS_DIR2_FREE_OFFSET`];
//! * any of the block formats with the fork itself in btree format.
//!
//! [`parse_dir_block`] decodes one directory block of `geo.dir_block_size` bytes, given its
//! logical directory block number, dispatching on its magic. Everything found wrong (a bad
//! magic, CRC, `blkno`, owner or uuid, an entry running off the block, a bad tag) is returned
//! as [`DirFinding`]s on the decoded value: decoding never fails and never panics, and every
//! loop is bounded by the block size.
//!
//! The block formats live in submodules laid out like libxfs: [`sf`] (shortform),
//! [`data`] (data blocks and the data area of block directories), [`block`] (the block
//! tail and hash index), [`leaf`] (leaf1/leafn), [`node`] (da-btree nodes and the leafn
//! walk, over [`crate::da_btree`]) and [`free`] (free-index blocks). The v5 header checks
//! go through [`crate::verify::verify`].
//!
//! [`classify`] names a directory's format from its fork format and extents, and [`entries`]
//! lists the entries of a block, leaf or node directory by scanning its data blocks through a
//! [`DirBlockReader`]. The `render_xfs_db` methods print blocks the way
//! `xfs_db -c 'dblock N' -c print` (xfsprogs 6.1) prints them; [`shortform_fields`] gives the
//! lines `xfs_db -c 'inode N' -c print` prints for a shortform directory.

use std::borrow::Cow;
use std::collections::BTreeSet;

use serde::Serialize;

use crate::bytes::{be_u16, be_u32};
use crate::error::Result;
use crate::fields::{CrcState, Field, Null, Radix, Value};
use crate::sb::Geometry;
use crate::verify::Layout;

pub mod block;
pub mod data;
pub mod free;
pub mod leaf;
pub mod node;
pub mod sf;
pub mod stale;

pub use crate::da_btree::{
    da_hashname, DaBlkinfo, NodeEntry, XFS_DA3_CRC_OFF, XFS_DA3_NODE_MAGIC, XFS_DA_NODE_MAGIC,
    XFS_DA_NODE_MAXDEPTH,
};
pub use block::BlockTail;
pub use data::{
    data_entsize, DataBlock, DataEntry, DataFree, DataHdr, DataItem, DataItemView, DataUnused,
};
pub use free::{FreeBlock, FreeHdr};
pub use leaf::{Leaf1Tail, LeafBlock, LeafEntry, LeafHdr};
pub use node::{leafn_blocks, LeafnWalk, NodeBlock};
pub use sf::{parse_shortform, shortform_entries, shortform_fields, SfEntry, SfHdr, Shortform};

/// `XD2B`: single-block directory, v4.
pub const XFS_DIR2_BLOCK_MAGIC: u32 = 0x5844_3242;
/// `XD2D`: data block, v4.
pub const XFS_DIR2_DATA_MAGIC: u32 = 0x5844_3244;
/// `XD2F`: free-index block, v4.
pub const XFS_DIR2_FREE_MAGIC: u32 = 0x5844_3246;
/// `XDB3`: single-block directory, v5.
pub const XFS_DIR3_BLOCK_MAGIC: u32 = 0x5844_4233;
/// `XDD3`: data block, v5.
pub const XFS_DIR3_DATA_MAGIC: u32 = 0x5844_4433;
/// `XDF3`: free-index block, v5.
pub const XFS_DIR3_FREE_MAGIC: u32 = 0x5844_4633;
/// Single leaf block (leaf format), v4.
pub const XFS_DIR2_LEAF1_MAGIC: u16 = 0xd2f1;
/// Leaf block of a node directory, v4.
pub const XFS_DIR2_LEAFN_MAGIC: u16 = 0xd2ff;
/// Single leaf block, v5.
pub const XFS_DIR3_LEAF1_MAGIC: u16 = 0x3df1;
/// Leaf block of a node directory, v5.
pub const XFS_DIR3_LEAFN_MAGIC: u16 = 0x3dff;
/// `freetag` of an unused region in a data block.
pub const XFS_DIR2_DATA_FREE_TAG: u16 = 0xffff;
/// Data entries and unused regions are aligned to 8 bytes.
pub const XFS_DIR2_DATA_ALIGN: usize = 8;
/// Byte offset of the leaf space in the directory's address space (32 GiB).
pub const XFS_DIR2_LEAF_OFFSET: u64 = 1 << 35;
/// Byte offset of the free-index space (64 GiB).
pub const XFS_DIR2_FREE_OFFSET: u64 = 2 << 35;
/// Largest inode number a 4-byte shortform inode number holds.
pub const XFS_DIR2_MAX_SHORT_INUM: u64 = 0xffff_ffff;
/// File types in `ftype` bytes: 0 unknown .. 8 whiteout.
pub const XFS_DIR3_FT_MAX: u8 = 9;

/// Byte offset of the CRC in v5 data and free blocks (`struct xfs_dir3_blk_hdr`).
pub const XFS_DIR3_DATA_CRC_OFF: usize = 4;
/// `sizeof(struct xfs_dir2_data_hdr)` / `sizeof(struct xfs_dir3_data_hdr)`; also the
/// sizes of the leaf and free block headers (`xfs_dir2_leaf_hdr`, `xfs_dir2_free_hdr` and
/// their v5 forms).
pub(crate) const DIR2_HDR_V4: usize = 16;
pub(crate) const DIR3_HDR_V5: usize = 64;

/// Header size of any directory block (data, block, leaf, node, free) by version.
pub fn dir_hdr_size(v5: bool) -> usize {
    if v5 {
        DIR3_HDR_V5
    } else {
        DIR2_HDR_V4
    }
}
/// The directory geometry derived from the filesystem geometry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DirGeo {
    /// Directory block size in bytes.
    pub blksize: u32,
    /// Filesystem blocks per directory block.
    pub fsbcount: u32,
    /// The filesystem has v5 (CRC) metadata.
    pub has_crc: bool,
    /// Entries carry a file type byte.
    pub has_ftype: bool,
    /// First directory block of the leaf space.
    pub leaf_db: u32,
    /// First directory block of the free-index space.
    pub free_db: u32,
}

impl DirGeo {
    /// `None` when the directory block size is not a power-of-two multiple of the block size
    /// (a validated [`Geometry`] always has one).
    pub fn new(geo: &Geometry) -> Option<DirGeo> {
        let blksize = geo.dir_block_size;
        if !blksize.is_power_of_two() || blksize < geo.block_size || blksize < 512 {
            return None;
        }
        let fsbcount = blksize.checked_div(geo.block_size)?;
        Some(DirGeo {
            blksize,
            fsbcount,
            has_crc: geo.has_crc,
            has_ftype: geo.has_ftype,
            leaf_db: u32::try_from(XFS_DIR2_LEAF_OFFSET.checked_div(blksize.into())?).ok()?,
            free_db: u32::try_from(XFS_DIR2_FREE_OFFSET.checked_div(blksize.into())?).ok()?,
        })
    }

    /// Offset of the first data entry in a data or block-format block.
    pub fn data_entry_offset(&self) -> usize {
        dir_hdr_size(self.has_crc)
    }

    /// The leaf-entry `address` (dataptr, also the readdir cookie) of byte `off` of data
    /// block `db`: the directory byte offset divided by 8.
    pub fn dataptr(&self, db: u32, off: u16) -> u32 {
        let byte = u64::from(db)
            .saturating_mul(u64::from(self.blksize))
            .saturating_add(u64::from(off));
        // Truncation is what the format does (data space is 32 GiB = 2^32 * 8 bytes).
        (byte >> 3) as u32
    }

    /// Data block and byte offset a leaf `address` points to.
    pub fn dataptr_to_db_off(&self, addr: u32) -> (u32, u32) {
        let byte = u64::from(addr) << 3;
        let bs = u64::from(self.blksize);
        let db = byte.checked_div(bs).unwrap_or(0);
        let off = byte.checked_rem(bs).unwrap_or(0);
        (db as u32, off as u32)
    }

    /// First filesystem block (file offset) of directory block `db`.
    pub fn db_to_fsb(&self, db: u32) -> u64 {
        u64::from(db).saturating_mul(u64::from(self.fsbcount))
    }

    /// Directory block holding file block `fsb`.
    pub fn fsb_to_db(&self, fsb: u64) -> u64 {
        fsb.checked_div(u64::from(self.fsbcount)).unwrap_or(0)
    }
}

/// Something wrong in a directory structure. Positions (`at`) are byte offsets in the block
/// or fork being decoded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum DirFinding {
    /// `what`: needs `need` bytes at `at`, only `have` available.
    #[error("{what}: needs {need} bytes at {at}, only {have} available")]
    Truncated {
        /// The structure concerned.
        what: &'static str,
        /// Byte offset in the block or fork.
        at: usize,
        /// Bytes needed.
        need: usize,
        /// Bytes available.
        have: usize,
    },
    /// Block is `have` bytes, the directory block size is `expected`.
    #[error("block is {have} bytes, the directory block size is {expected}")]
    BlockSize {
        /// Bytes available.
        have: usize,
        /// The value expected.
        expected: u32,
    },
    /// Unknown directory block magic `magic32` / `magic16`.
    #[error("unknown directory block magic {magic32:#010x} / {magic16:#06x}")]
    UnknownMagic {
        /// The 32-bit word at offset 0.
        magic32: u32,
        /// The 16-bit word at offset 8 (da blocks).
        magic16: u16,
    },
    /// Magic `found` is a `found_version` magic on a v`fs_version` filesystem.
    #[error("magic {found:#x} is a {found_version} magic on a v{fs_version} filesystem")]
    WrongVersionMagic {
        /// The value found.
        found: u32,
        /// The version of the magic (4 or 5).
        found_version: u8,
        /// The filesystem's version (4 or 5).
        fs_version: u8,
    },
    /// Magic `found` not expected here (`expected`).
    #[error("magic {found:#x} not expected here ({expected})")]
    UnexpectedMagic {
        /// The value found.
        found: u32,
        /// The value expected.
        expected: &'static str,
    },
    /// Bad CRC.
    #[error("bad CRC")]
    BadCrc,
    /// `blkno` is `found`, expected `expected` (the daddr the block was read from).
    #[error("blkno {found}, expected {expected}")]
    BadBlkno {
        /// The value found.
        found: u64,
        /// The value expected.
        expected: u64,
    },
    /// The owner is `found`, expected `expected` (the directory inode).
    #[error("owner {found}, expected {expected}")]
    BadOwner {
        /// The value found.
        found: u64,
        /// The value expected.
        expected: u64,
    },
    /// The uuid does not match the filesystem.
    #[error("uuid does not match the filesystem")]
    BadUuid,
    /// Entry at `at`: zero name length.
    #[error("entry at {at}: zero name length")]
    ZeroNameLen {
        /// Byte offset in the block or fork.
        at: usize,
    },
    /// Entry at `at`: name contains '/' or NUL.
    #[error("entry at {at}: name contains '/' or NUL")]
    BadName {
        /// Byte offset in the block or fork.
        at: usize,
    },
    /// Entry at `at`: `len` bytes run past the end of the area at `end`.
    #[error("entry at {at}: {len} bytes run past the end of the area at {end}")]
    EntryOverrun {
        /// Byte offset in the block or fork.
        at: usize,
        /// Length in bytes.
        len: usize,
        /// Byte offset where the area ends.
        end: usize,
    },
    /// Entry at `at`: tag `found` does not point back to it.
    #[error("entry at {at}: tag {found:#x} does not point back to it")]
    BadTag {
        /// Byte offset in the block or fork.
        at: usize,
        /// The value found.
        found: u16,
    },
    /// Unused region at `at`: bad length `length`.
    #[error("unused region at {at}: bad length {length:#x}")]
    BadFreeLength {
        /// Byte offset in the block or fork.
        at: usize,
        /// The region's length in bytes.
        length: u16,
    },
    /// Entry at `at`: file type `ftype` out of range.
    #[error("entry at {at}: file type {ftype} out of range")]
    BadFtype {
        /// Byte offset in the block or fork.
        at: usize,
        /// The file type byte.
        ftype: u8,
    },
    /// Entry at `at`: inode number `inumber` is not valid.
    #[error("entry at {at}: inode number {inumber} is not valid")]
    BadInumber {
        /// Byte offset in the block or fork.
        at: usize,
        /// The inode number.
        inumber: u64,
    },
    /// `what`: count `count`, at most `max` fit.
    #[error("{what}: count {count}, at most {max} fit")]
    CountTooLarge {
        /// The structure concerned.
        what: &'static str,
        /// The count claimed.
        count: u64,
        /// How many fit.
        max: u64,
    },
    /// `what`: stale `stale` exceeds count `count`.
    #[error("{what}: stale {stale} exceeds count {count}")]
    StaleTooLarge {
        /// The structure concerned.
        what: &'static str,
        /// The stale count claimed.
        stale: u64,
        /// The count claimed.
        count: u64,
    },
    /// Leaf entry `index`: hash `hash` below the previous one.
    #[error("leaf entry {index}: hash {hash:#x} below the previous one")]
    HashOrder {
        /// Index of the entry.
        index: usize,
        /// The entry's hash.
        hash: u32,
    },
    /// Node level `level` out of range 1..`max`.
    #[error("node level {level} out of range 1..{max}", max = XFS_DA_NODE_MAXDEPTH)]
    BadLevel {
        /// The level claimed.
        level: u16,
    },
    /// Free block: firstdb `found`, expected `expected`.
    #[error("free block: firstdb {found}, expected {expected}")]
    BadFirstDb {
        /// The value found.
        found: i64,
        /// The value expected.
        expected: i64,
    },
    /// Free block: nused `nused` exceeds nvalid `nvalid`.
    #[error("free block: nused {nused} exceeds nvalid {nvalid}")]
    BadNused {
        /// The header's `nused`.
        nused: i64,
        /// The header's `nvalid`.
        nvalid: i64,
    },
    /// Shortform entry `index`: offset `offset` not above the previous `prev`.
    #[error("shortform entry {index}: offset {offset:#x} not above the previous {prev:#x}")]
    OffsetOrder {
        /// Index of the entry.
        index: usize,
        /// The entry's stored offset.
        offset: u16,
        /// The previous entry's offset.
        prev: u16,
    },
    /// Shortform: i8count `i8count`, but `actual` entries need 8-byte inode numbers.
    #[error("shortform: i8count {i8count}, but {actual} entries need 8-byte inode numbers")]
    I8Count {
        /// The header's `i8count`.
        i8count: u8,
        /// Entries whose inode number needs 8 bytes.
        actual: usize,
    },
    /// `bestfree[index]` (`offset`, `length`) does not describe an unused region.
    #[error("bestfree[{index}] ({offset:#x}, {length:#x}) does not describe an unused region")]
    BadBestFree {
        /// Index of the entry.
        index: usize,
        /// The entry's stored offset.
        offset: u16,
        /// The region's length in bytes.
        length: u16,
    },
    /// Directory block `dblock`: could not be read: `error`.
    #[error("directory block {dblock}: could not be read: {error}")]
    ReadFailed {
        /// Logical directory block number.
        dblock: u32,
        /// Why the read failed.
        error: String,
    },
    /// Directory block `dblock` listed twice.
    #[error("directory block {dblock} listed twice")]
    Revisited {
        /// Logical directory block number.
        dblock: u32,
    },
    /// Block limit of `max` reached; remaining blocks not scanned.
    #[error("block limit of {max} reached; remaining blocks not scanned")]
    BlockCap {
        /// How many fit.
        max: usize,
    },
    /// A finding of the da-btree walk.
    #[error("{0}")]
    DaWalk(crate::da_btree::DaWalkFinding),
    /// Directory block `dblock`: `finding`.
    #[error("directory block {dblock}: {finding}")]
    InBlock {
        /// Logical directory block number.
        dblock: u32,
        #[source]
        /// The finding.
        finding: Box<DirFinding>,
    },
}

/// Where a directory block came from, for the v5 self-describing checks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct BlockCtx {
    /// Logical directory block number.
    pub dblock: u32,
    /// Disk address (512-byte sectors) the block was read from, for the `blkno` check.
    pub daddr: Option<u64>,
    /// Inode owning the directory, for the `owner` check.
    pub owner: Option<u64>,
}

/// Checks done on one block, as data. `None` when not applicable (v4, or no expectation
/// given in the [`BlockCtx`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DirChecks {
    /// The magic is one of this filesystem version's directory magics.
    pub magic_ok: bool,
    /// The state of the v5 CRC.
    pub crc: CrcState,
    /// `blkno` is the block's address.
    pub blkno_ok: Option<bool>,
    /// The owner is the directory inode.
    pub owner_ok: Option<bool>,
    /// The uuid is the filesystem's metadata uuid.
    pub uuid_ok: Option<bool>,
}

impl DirChecks {
    /// Every check that was run passed (an unchecked CRC counts as passed).
    pub fn all_ok(&self) -> bool {
        self.magic_ok
            && self.crc != CrcState::Bad
            && self.blkno_ok != Some(false)
            && self.owner_ok != Some(false)
            && self.uuid_ok != Some(false)
    }
}

/// The v5 identification fields shared by every directory block header
/// (`struct xfs_dir3_blk_hdr` minus the magic, or the tail of `struct xfs_da3_blkinfo`).
pub type V5Ident = crate::da_btree::Da3Info;

/// Checks not run yet.
pub(crate) fn empty_checks() -> DirChecks {
    DirChecks {
        magic_ok: false,
        crc: CrcState::Unchecked,
        blkno_ok: None,
        owner_ok: None,
        uuid_ok: None,
    }
}

/// Runs the v5 checks common to all blocks through [`verify::verify`]: CRC, `blkno` and
/// `owner` when `ctx` gives them, and the uuid. Nothing is checked on v4 (`ident` `None`).
fn check_block(
    buf: &[u8],
    geo: &Geometry,
    ctx: &BlockCtx,
    magic_ok: bool,
    layout: &Layout,
    ident: Option<&V5Ident>,
    findings: &mut Vec<DirFinding>,
) -> DirChecks {
    let mut c = DirChecks {
        magic_ok,
        ..empty_checks()
    };
    let Some(id) = ident else {
        return c;
    };
    let h = crate::da_btree::verify_v5_ident(buf, layout, ctx.daddr, geo.meta_uuid, ctx.owner);
    c.crc = h.crc;
    if c.crc == CrcState::Bad {
        findings.push(DirFinding::BadCrc);
    }
    c.blkno_ok = expect(ctx.daddr, h.blkno_ok, findings, |expected| {
        DirFinding::BadBlkno {
            found: id.blkno,
            expected,
        }
    });
    c.owner_ok = expect(ctx.owner, h.owner_ok, findings, |expected| {
        DirFinding::BadOwner {
            found: id.owner,
            expected,
        }
    });
    c.uuid_ok = Some(h.uuid_ok);
    if !h.uuid_ok {
        findings.push(DirFinding::BadUuid);
    }
    c
}

/// One header expectation of the caller (`None`: not checked): its verdict, and the finding
/// `bad(expected)` when the header does not meet it.
fn expect(
    want: Option<u64>,
    ok: bool,
    findings: &mut Vec<DirFinding>,
    bad: impl FnOnce(u64) -> DirFinding,
) -> Option<bool> {
    let expected = want?;
    if !ok {
        findings.push(bad(expected));
    }
    Some(ok)
}

/// One line of `xfs_db print` output: the full field path (`bu[3].inumber`) and the field.
#[derive(Debug, Clone, PartialEq)]
pub struct DbField {
    /// The full field path.
    pub path: String,
    /// The field and its value.
    pub field: Field,
}

impl DbField {
    pub(crate) fn new(prefix: &str, field: Field) -> DbField {
        DbField {
            path: format!("{prefix}{}", field.name),
            field,
        }
    }

    /// The line as xfs_db prints it, without the newline: the field's value after the
    /// full path (for an array, the elements as [`Field::render_xfs_db`] prints them).
    pub fn render(&self) -> String {
        let value = match &self.field.value {
            Value::Array { .. } => {
                let line = self.field.render_xfs_db();
                line.split_once(" = ")
                    .map_or_else(String::new, |(_, v)| v.to_string())
            }
            _ => self.field.render_value(),
        };
        format!("{} = {}", self.path, value)
    }
}

/// A numeric array field with xfs_db's `name[lo-hi]` / `name[lo]` path.
pub(crate) fn array_field(
    name: &'static str,
    values: Vec<u64>,
    bits: u32,
    null: Null,
) -> Option<DbField> {
    let n = values.len();
    if n == 0 {
        return None;
    }
    let path = if n == 1 {
        format!("{name}[0]")
    } else {
        format!("{name}[0-{}]", n.saturating_sub(1))
    };
    Some(DbField {
        path,
        field: Field {
            name,
            value: Value::Array {
                values,
                bits,
                radix: Radix::Hex,
                null,
                base: 0,
            },
        },
    })
}

/// The `xfs_db print` lines of a da blkinfo under `prefix` (`lhdr.info.`, `nhdr.info.`).
pub(crate) fn blkinfo_fields(info: &DaBlkinfo, prefix: &str, crc: CrcState) -> Vec<DbField> {
    let nested = format!("{prefix}hdr.");
    info.fields(crc)
        .into_iter()
        .map(|(n, f)| DbField::new(if n { &nested } else { prefix }, f))
        .collect()
}

/// The header `parsed` from a da block, or, when the block is too short for it, an empty
/// header carrying the block's `magic` (in its blkinfo, which `info` reaches).
pub(crate) fn da_hdr_or_empty<H: Default>(
    parsed: Option<H>,
    magic: u16,
    info: impl FnOnce(&mut H) -> &mut DaBlkinfo,
) -> H {
    parsed.unwrap_or_else(|| {
        let mut h = H::default();
        info(&mut h).magic = magic;
        h
    })
}

/// [`DirFinding::Truncated`] for a block shorter than its `need`-byte header.
pub(crate) fn short_header(what: &'static str, buf: &[u8], need: usize) -> Option<DirFinding> {
    (buf.len() < need).then_some(DirFinding::Truncated {
        what,
        at: 0,
        need,
        have: buf.len(),
    })
}

/// A name holds neither `/` nor NUL.
pub(crate) fn name_ok(name: &[u8]) -> bool {
    !name.iter().any(|&b| b == b'/' || b == 0)
}

/// Renders a list of [`DbField`]s, one line each.
pub fn render_db_fields(fields: &[DbField]) -> String {
    crate::fields::render_lines(fields, DbField::render)
}

// ---------------------------------------------------------------------------------------
// Dispatch
// ---------------------------------------------------------------------------------------

/// Any directory block, by magic.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DirBlock {
    /// A data block or single-block directory.
    Data(DataBlock),
    /// A leaf1 or leafn block.
    Leaf(LeafBlock),
    /// A da-btree node block.
    Node(NodeBlock),
    /// A free-index block.
    Free(FreeBlock),
    /// No directory magic: nothing decoded.
    Unknown {
        /// Logical directory block number.
        dblock: u32,
        /// The 32-bit word at offset 0.
        magic32: u32,
        /// The 16-bit word at offset 8 (da blocks).
        magic16: u16,
        /// What is wrong with the block.
        findings: Vec<DirFinding>,
    },
}

/// Evaluates `$e` with `$b` bound to the decoded block of whichever known variant
/// `$block` is, or evaluates `$unknown` for [`DirBlock::Unknown`].
macro_rules! each_block {
    ($block:expr, $b:ident => $e:expr, Unknown { $($u:tt)* } => $unknown:expr) => {
        match $block {
            DirBlock::Data($b) => $e,
            DirBlock::Leaf($b) => $e,
            DirBlock::Node($b) => $e,
            DirBlock::Free($b) => $e,
            DirBlock::Unknown { $($u)* } => $unknown,
        }
    };
}

impl DirBlock {
    /// What is wrong with the block.
    pub fn findings(&self) -> &[DirFinding] {
        each_block!(self, b => &b.findings, Unknown { findings, .. } => findings)
    }

    /// The header checks (`None` for an unknown block).
    pub fn checks(&self) -> Option<&DirChecks> {
        each_block!(self, b => Some(&b.checks), Unknown { .. } => None)
    }

    /// xfs_db's `print` of the block (empty for an unknown block).
    pub fn render_xfs_db(&self) -> String {
        each_block!(self, b => b.render_xfs_db(), Unknown { .. } => String::new())
    }

    /// The fields `xfs_db print` shows, one per line (none for an unknown block).
    pub fn fields(&self) -> Vec<DbField> {
        each_block!(self, b => b.fields(), Unknown { .. } => Vec::new())
    }
}

/// Decodes one directory block (`geo.dir_block_size` bytes) by its magic and runs the
/// checks: magic against the filesystem version, and on v5 the CRC, uuid, and `blkno` and
/// `owner` when `ctx` gives them. Never fails and never panics.
pub fn parse_dir_block(buf: &[u8], geo: &Geometry, ctx: &BlockCtx) -> DirBlock {
    let dgeo = DirGeo::new(geo);
    let magic32 = be_u32(buf, 0).unwrap_or(0);
    let magic16 = be_u16(buf, 8).unwrap_or(0);
    let fs_v5 = geo.has_crc;
    let mut pre = Vec::new();
    if buf.len() != geo.dir_block_size as usize {
        pre.push(DirFinding::BlockSize {
            have: buf.len(),
            expected: geo.dir_block_size,
        });
    }
    // Which structure, whether its magic is a v5 one, and where its v5 header lies.
    let (v5, layout, found) = match magic32 {
        XFS_DIR3_BLOCK_MAGIC | XFS_DIR3_DATA_MAGIC | XFS_DIR3_FREE_MAGIC => {
            (true, Layout::DIR3_BLK_HDR, magic32)
        }
        XFS_DIR2_BLOCK_MAGIC | XFS_DIR2_DATA_MAGIC | XFS_DIR2_FREE_MAGIC => {
            (false, Layout::DIR3_BLK_HDR, magic32)
        }
        _ => match magic16 {
            XFS_DIR3_LEAF1_MAGIC | XFS_DIR3_LEAFN_MAGIC | XFS_DA3_NODE_MAGIC => {
                (true, Layout::DA3_BLKINFO, magic16.into())
            }
            _ => (false, Layout::DA3_BLKINFO, magic16.into()),
        },
    };
    let mut block = match magic32 {
        XFS_DIR2_BLOCK_MAGIC | XFS_DIR2_DATA_MAGIC | XFS_DIR3_BLOCK_MAGIC | XFS_DIR3_DATA_MAGIC => {
            DirBlock::Data(data::parse_data_block(buf, geo, ctx, magic32))
        }
        XFS_DIR2_FREE_MAGIC | XFS_DIR3_FREE_MAGIC => {
            DirBlock::Free(free::parse_free_block(buf, dgeo.as_ref(), ctx, magic32))
        }
        _ => match magic16 {
            XFS_DIR2_LEAF1_MAGIC | XFS_DIR2_LEAFN_MAGIC | XFS_DIR3_LEAF1_MAGIC
            | XFS_DIR3_LEAFN_MAGIC => DirBlock::Leaf(leaf::parse_leaf_block(buf, ctx, magic16)),
            XFS_DA_NODE_MAGIC | XFS_DA3_NODE_MAGIC => {
                DirBlock::Node(node::parse_node_block(buf, ctx, magic16))
            }
            _ => {
                pre.push(DirFinding::UnknownMagic { magic32, magic16 });
                DirBlock::Unknown {
                    dblock: ctx.dblock,
                    magic32,
                    magic16,
                    findings: Vec::new(),
                }
            }
        },
    };
    if !matches!(block, DirBlock::Unknown { .. }) {
        let ok = v5 == fs_v5;
        if !ok {
            pre.push(DirFinding::WrongVersionMagic {
                found,
                found_version: if v5 { 5 } else { 4 },
                fs_version: if fs_v5 { 5 } else { 4 },
            });
        }
        let ident = match &block {
            DirBlock::Data(b) => b.ident.clone(),
            DirBlock::Free(b) => b.ident.clone(),
            DirBlock::Leaf(b) => b.info.v5.clone(),
            DirBlock::Node(b) => b.hdr.info.v5.clone(),
            DirBlock::Unknown { .. } => None,
        };
        let checks = check_block(buf, geo, ctx, ok, &layout, ident.as_ref(), &mut pre);
        each_block!(&mut block, b => b.checks = checks, Unknown { .. } => {});
    }
    // Header-level findings first, then the structure's own.
    let list = each_block!(&mut block, b => &mut b.findings, Unknown { findings, .. } => findings);
    pre.append(list);
    *list = pre;
    block
}

// ---------------------------------------------------------------------------------------
// Format classification
// ---------------------------------------------------------------------------------------

/// The data fork format (`di_format`) of a directory inode: the one fork-format type of
/// the crate.
pub use crate::bmap::ForkFormat;

/// One mapping of the directory's data fork, in filesystem blocks (as `bmap` lists them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DirExtent {
    /// File offset in filesystem blocks.
    pub file_block: u64,
    /// First filesystem block (`startblock`).
    pub start_block: u64,
    /// Length in filesystem blocks (`blockcount`).
    pub count: u64,
}

/// The format of a directory.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum DirFormat {
    /// Entries packed in the inode's data fork.
    Shortform,
    /// One directory block at offset 0 holding entries, hash index and tail.
    Block,
    /// Data blocks and one leaf1 block.
    Leaf,
    /// Data blocks, a da btree of leafn blocks and free-index blocks.
    Node,
    /// The fork is a btree; the contents are a node directory in practice.
    Btree,
    /// The fork format is not one a directory can have, or the mapping fits no format
    /// (nothing mapped, data space beyond block 0 without a leaf, ...).
    Invalid,
}

/// Names a directory's format from its fork format and its extents (a pure function over
/// the mapping; the block magics are checked when the blocks are decoded). Like the
/// kernel: one directory block at offset 0 and nothing else is block format; a mapping
/// whose last directory block is the first one of the leaf space is leaf format; anything
/// else in the leaf or free space is node format.
pub fn classify(geo: &Geometry, fork: ForkFormat, extents: &[DirExtent]) -> DirFormat {
    match fork {
        ForkFormat::Local => return DirFormat::Shortform,
        ForkFormat::Btree => return DirFormat::Btree,
        ForkFormat::Extents => {}
        ForkFormat::Dev | ForkFormat::Uuid | ForkFormat::Unknown(_) => return DirFormat::Invalid,
    }
    let Some(dg) = DirGeo::new(geo) else {
        return DirFormat::Invalid;
    };
    let leaf_fsb = dg.db_to_fsb(dg.leaf_db);
    let mut data_blocks = 0u64;
    let mut beyond_zero = false;
    let mut leaf_space_blocks = 0u64;
    let mut last_end = 0u64;
    for e in extents {
        if e.count == 0 {
            continue;
        }
        let end = e.file_block.saturating_add(e.count);
        last_end = last_end.max(end);
        if e.file_block < leaf_fsb {
            let d_end = end.min(leaf_fsb);
            data_blocks = data_blocks.saturating_add(d_end.saturating_sub(e.file_block));
            if d_end > u64::from(dg.fsbcount) {
                beyond_zero = true;
            }
        }
        if end > leaf_fsb {
            leaf_space_blocks =
                leaf_space_blocks.saturating_add(end.saturating_sub(e.file_block.max(leaf_fsb)));
        }
    }
    if data_blocks == 0 {
        return DirFormat::Invalid;
    }
    if leaf_space_blocks == 0 {
        return if !beyond_zero && data_blocks == u64::from(dg.fsbcount) {
            DirFormat::Block
        } else {
            DirFormat::Invalid
        };
    }
    if last_end == leaf_fsb.saturating_add(u64::from(dg.fsbcount))
        && leaf_space_blocks == u64::from(dg.fsbcount)
    {
        DirFormat::Leaf
    } else {
        DirFormat::Node
    }
}

/// The directory blocks of the data space (below the leaf space) that `extents` map, in
/// order, at most `max` of them.
pub fn data_dblocks(geo: &Geometry, extents: &[DirExtent], max: usize) -> Vec<u32> {
    let Some(dg) = DirGeo::new(geo) else {
        return Vec::new();
    };
    let mut set = BTreeSet::new();
    for e in extents {
        let first = dg.fsb_to_db(e.file_block);
        let last = dg.fsb_to_db(e.file_block.saturating_add(e.count).saturating_sub(1));
        if e.count == 0 {
            continue;
        }
        let mut db = first;
        while db <= last && db < u64::from(dg.leaf_db) && set.len() < max {
            set.insert(db as u32);
            db = db.saturating_add(1);
        }
        if set.len() >= max {
            break;
        }
    }
    set.into_iter().collect()
}

// ---------------------------------------------------------------------------------------
// Entries
// ---------------------------------------------------------------------------------------

/// Reads logical directory blocks for [`entries`].
pub trait DirBlockReader {
    /// The `dir_block_size` bytes of directory block `dblock`.
    fn read_dir_block(&mut self, dblock: u32) -> Result<Cow<'_, [u8]>>;

    /// Disk address (512-byte sectors) of `dblock`, when known, for the v5 `blkno` check.
    fn daddr(&self, _dblock: u32) -> Option<u64> {
        None
    }
}

impl<F> DirBlockReader for F
where
    F: FnMut(u32) -> Result<Vec<u8>>,
{
    fn read_dir_block(&mut self, dblock: u32) -> Result<Cow<'_, [u8]>> {
        self(dblock).map(Cow::Owned)
    }
}

/// One directory entry.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DirEntry {
    /// The entry name.
    pub name: Vec<u8>,
    /// The inode number.
    pub inumber: u64,
    /// File type byte, when the filesystem has them.
    pub ftype: Option<u8>,
    /// Data block holding the entry (0 for shortform).
    pub dblock: u32,
    /// Byte offset in the data block (for shortform, the stored offset).
    pub offset: u16,
    /// The dataptr (leaf `address`, readdir cookie): directory byte offset / 8.
    pub cookie: u32,
}

/// Result of [`entries`].
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DirListing {
    /// The entries of the data blocks, in block order.
    pub entries: Vec<DirEntry>,
    /// Data blocks scanned, with their checks.
    pub blocks: Vec<(u32, DirChecks)>,
    /// Findings, each wrapped with its block in [`DirFinding::InBlock`].
    pub findings: Vec<DirFinding>,
}

/// Limits of [`entries`].
#[derive(Debug, Clone, Copy)]
pub struct EntriesOptions {
    /// Most data blocks scanned.
    pub max_blocks: usize,
    /// Inode owning the directory, for the v5 owner check.
    pub owner: Option<u64>,
}

impl Default for EntriesOptions {
    fn default() -> Self {
        EntriesOptions {
            max_blocks: 1 << 20,
            owner: None,
        }
    }
}

/// Lists the entries of a block, leaf or node directory by decoding the data blocks
/// `dblocks` (from [`data_dblocks`]; blocks in the leaf space and repeats are skipped).
/// Unreadable blocks and blocks that are not data blocks are reported and skipped.
pub fn entries<R: DirBlockReader + ?Sized>(
    geo: &Geometry,
    dblocks: &[u32],
    reader: &mut R,
    opts: EntriesOptions,
) -> DirListing {
    let mut out = DirListing::default();
    let Some(dg) = DirGeo::new(geo) else {
        return out;
    };
    let mut seen = BTreeSet::new();
    for &db in dblocks {
        if db >= dg.leaf_db {
            continue;
        }
        if !seen.insert(db) {
            out.findings.push(DirFinding::Revisited { dblock: db });
            continue;
        }
        if seen.len() > opts.max_blocks {
            out.findings.push(DirFinding::BlockCap {
                max: opts.max_blocks,
            });
            break;
        }
        let ctx = BlockCtx {
            dblock: db,
            daddr: reader.daddr(db),
            owner: opts.owner,
        };
        let block = match reader.read_dir_block(db) {
            Ok(b) => parse_dir_block(&b, geo, &ctx),
            Err(e) => {
                out.findings.push(DirFinding::ReadFailed {
                    dblock: db,
                    error: e.to_string(),
                });
                continue;
            }
        };
        let wrap = |f: &DirFinding| DirFinding::InBlock {
            dblock: db,
            finding: Box::new(f.clone()),
        };
        out.findings.extend(block.findings().iter().map(wrap));
        match block {
            DirBlock::Data(b) => {
                if b.is_block && db != 0 {
                    out.findings.push(wrap(&DirFinding::UnexpectedMagic {
                        found: b.magic,
                        expected: "data block (block format only at block 0)",
                    }));
                }
                out.blocks.push((db, b.checks));
                for e in b.entries() {
                    out.entries.push(DirEntry {
                        name: e.name.clone(),
                        inumber: e.inumber,
                        ftype: e.ftype,
                        dblock: db,
                        offset: e.pos,
                        cookie: dg.dataptr(db, e.pos),
                    });
                }
            }
            other => {
                let found = match &other {
                    DirBlock::Leaf(b) => b.info.magic.into(),
                    DirBlock::Node(b) => b.hdr.info.magic.into(),
                    DirBlock::Free(b) => b.magic,
                    DirBlock::Unknown { magic32, .. } => *magic32,
                    DirBlock::Data(b) => b.magic,
                };
                if !matches!(other, DirBlock::Unknown { .. }) {
                    out.findings.push(wrap(&DirFinding::UnexpectedMagic {
                        found,
                        expected: "data block",
                    }));
                }
            }
        }
    }
    out
}
