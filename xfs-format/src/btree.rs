//! One generic walker for XFS btrees.
//!
//! Every XFS btree block starts with the same header (`struct xfs_btree_block`) in a short
//! form (per-AG trees: 32-bit AG block pointers, owner = AG number) or a long form (BMBT:
//! 64-bit filesystem block pointers, owner = inode). What differs between trees is described
//! by two traits:
//!
//! * [`BtreeKind`]: magics, record and key sizes and how to decode them (see `btrees.rs`);
//! * [`Addressing`]: the pointer format and how a pointer becomes a byte offset
//!   ([`AgAddressing`] for per-AG trees, [`FsbAddressing`] for the BMBT, whose blocks are
//!   addressed by filesystem block number and owned by an inode).
//!
//! [`walk_visit`] visits every block reachable from a root (a root block, or a root kept in
//! an inode fork: [`Root::InInode`]) depth first, children in pointer order, so leaf records
//! come out in key order; a [`Visitor`] sees every block (and decides whether to descend),
//! every node's keys and pointers and every record. [`walk_with`] and [`walk`] are
//! conveniences over it. Header checks go through [`crate::verify`]. Everything wrong with a
//! block is returned as a [`Finding`]; the walk goes on wherever it still makes sense. It is
//! bounded on hostile input: the depth is capped, a block is entered at most once (cycles),
//! pointers are checked against the AG before reading, and no count read from disk sizes an
//! allocation beyond what fits in one block.

use std::collections::BTreeSet;
use std::fmt::Debug;

use serde::Serialize;

use crate::fields::{CrcState, Field, Null, Radix, Value};
use crate::sb::Geometry;
use crate::source::ByteSource;
use crate::verify;

/// NULLAGBLOCK: no sibling (short form).
pub const NULLAGBLOCK: u32 = u32::MAX;
/// NULLFSBLOCK: no sibling (long form).
pub const NULLFSBLOCK: u64 = u64::MAX;
/// `XFS_BTREE_SBLOCK_LEN`: v4 short-form header.
pub const XFS_BTREE_SBLOCK_LEN: usize = 16;
/// `XFS_BTREE_SBLOCK_CRC_LEN`: v5 short-form header.
pub const XFS_BTREE_SBLOCK_CRC_LEN: usize = 56;
/// `XFS_BTREE_LBLOCK_LEN`: v4 long-form header.
pub const XFS_BTREE_LBLOCK_LEN: usize = 24;
/// `XFS_BTREE_LBLOCK_CRC_LEN`: v5 long-form header.
pub const XFS_BTREE_LBLOCK_CRC_LEN: usize = 72;
/// Byte offset of `bb_crc` in a v5 short-form header.
pub const XFS_BTREE_SBLOCK_CRC_OFF: usize = 52;
/// Byte offset of `bb_crc` in a v5 long-form header.
pub const XFS_BTREE_LBLOCK_CRC_OFF: usize = 64;
/// Default depth cap: no XFS per-AG btree of a valid filesystem reaches 9 levels.
pub const DEFAULT_MAX_LEVELS: u16 = 9;

/// Short (per-AG, 32-bit) or long (BMBT, 64-bit) pointers and header.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum PtrFormat {
    /// Per-AG trees: 32-bit AG block pointers, `struct xfs_btree_block_shdr`.
    Short,
    /// The BMBT: 64-bit filesystem block pointers, `struct xfs_btree_block_lhdr`.
    Long,
}

impl PtrFormat {
    /// Size of one child pointer.
    pub fn ptr_len(self) -> usize {
        match self {
            PtrFormat::Short => 4,
            PtrFormat::Long => 8,
        }
    }

    /// Size of the block header.
    pub fn hdr_len(self, has_crc: bool) -> usize {
        match (self, has_crc) {
            (PtrFormat::Short, false) => XFS_BTREE_SBLOCK_LEN,
            (PtrFormat::Short, true) => XFS_BTREE_SBLOCK_CRC_LEN,
            (PtrFormat::Long, false) => XFS_BTREE_LBLOCK_LEN,
            (PtrFormat::Long, true) => XFS_BTREE_LBLOCK_CRC_LEN,
        }
    }

    /// Offset of `bb_crc` (v5 only).
    pub fn crc_off(self) -> usize {
        match self {
            PtrFormat::Short => XFS_BTREE_SBLOCK_CRC_OFF,
            PtrFormat::Long => XFS_BTREE_LBLOCK_CRC_OFF,
        }
    }

    /// The null pointer (widened to u64).
    pub fn null(self) -> u64 {
        match self {
            PtrFormat::Short => u64::from(NULLAGBLOCK),
            PtrFormat::Long => NULLFSBLOCK,
        }
    }

    /// Decodes one big-endian pointer from the start of `b`.
    pub fn read_ptr(self, b: &[u8]) -> Option<u64> {
        match self {
            PtrFormat::Short => be_u32(b, 0).map(u64::from),
            PtrFormat::Long => be_u64(b, 0),
        }
    }
}

pub(crate) use crate::bytes::{be_u16, be_u32, be_u64};

/// What distinguishes one btree from another: magics, layout and record decoding.
pub trait BtreeKind {
    /// A leaf record.
    type Rec: Clone + Debug + PartialEq;
    /// A node key (for overlapping trees such as the rmapbt, low and high key together).
    type Key: Clone + Debug + PartialEq;

    /// The xfs_db type name (`bnobt`, `inobt`, ...), used in btdump headers.
    fn name(&self) -> &'static str;
    /// The type xfs_db switches to after `addr rightsib` (finobt blocks declare their
    /// siblings as inobt blocks).
    fn sibling_name(&self) -> &'static str {
        self.name()
    }
    /// The expected magic on a v4 (`has_crc == false`) or v5 filesystem; `None` when the
    /// tree does not exist in that format.
    fn magic(&self, has_crc: bool) -> Option<u32>;
    /// Whether blocks use the short or long header.
    fn ptr_format(&self) -> PtrFormat {
        PtrFormat::Short
    }
    /// Size of one leaf record.
    fn rec_len(&self) -> usize;
    /// Size of one node key (both halves for overlapping trees).
    fn key_len(&self) -> usize;
    /// Decodes a record from exactly `rec_len` bytes.
    fn decode_rec(&self, b: &[u8]) -> Option<Self::Rec>;
    /// Decodes a key from exactly `key_len` bytes.
    fn decode_key(&self, b: &[u8]) -> Option<Self::Key>;
    /// Field names of a record, in xfs_db order.
    fn rec_names(&self) -> &'static [&'static str];
    /// Field names of a key, in xfs_db order.
    fn key_names(&self) -> &'static [&'static str];
    /// The fields of a record, in xfs_db order.
    fn rec_fields(&self, rec: &Self::Rec) -> Vec<Field>;
    /// The fields of a key, in xfs_db order.
    fn key_fields(&self, key: &Self::Key) -> Vec<Field>;

    /// Record `i` (0-based) of the leaf block `buf`; `None` when it does not fit the block.
    /// `i` is not checked against `bb_numrecs` (xfs_repair reads a clamped count).
    fn rec_at(&self, buf: &[u8], has_crc: bool, i: usize) -> Option<Self::Rec> {
        self.decode_rec(slot(self, buf, has_crc, Slot::Rec, i)?)
    }
    /// Key `i` (0-based) of the node block `buf`.
    fn key_at(&self, buf: &[u8], has_crc: bool, i: usize) -> Option<Self::Key> {
        self.decode_key(slot(self, buf, has_crc, Slot::Key, i)?)
    }
    /// Child pointer `i` (0-based) of the node block `buf` (the whole block: the pointer
    /// array starts after as many keys as the block size allows).
    fn ptr_at(&self, buf: &[u8], has_crc: bool, i: usize) -> Option<u64> {
        self.ptr_format()
            .read_ptr(slot(self, buf, has_crc, Slot::Ptr, i)?)
    }
}

/// A record or key with one fixed on-disk layout (`struct xfs_rmap_rec`, ...): what a
/// [`FixedBtree`] needs of its record and key types.
pub trait BtreeItem: Sized {
    /// Size on disk in bytes.
    const LEN: usize;
    /// Field names, in xfs_db order.
    const NAMES: &'static [&'static str];
    /// Decodes from the first [`Self::LEN`] bytes of `b`; `None` when `b` is shorter.
    fn decode(b: &[u8]) -> Option<Self>;
    /// The fields, in xfs_db order.
    fn fields(&self) -> Vec<Field>;
}

/// A tree whose records and keys each have one layout (rmapbt, refcountbt, BMBT): its
/// [`BtreeKind`] follows from [`BtreeItem`] (the free space and inode btrees, whose layout
/// depends on the tree or on the filesystem, implement [`BtreeKind`] themselves).
pub trait FixedBtree {
    /// The leaf record.
    type Rec: BtreeItem + Clone + Debug + PartialEq;
    /// The node key.
    type Key: BtreeItem + Clone + Debug + PartialEq;
    /// The xfs_db type name (see [`BtreeKind::name`]).
    const NAME: &'static str;
    /// The magic on v4 and on v5 (`[v4, v5]`; `None` where the tree does not exist).
    const MAGIC: [Option<u32>; 2];
    /// Short or long pointers and header.
    const PTR_FORMAT: PtrFormat = PtrFormat::Short;
}

/// Declares unit structs that are [`FixedBtree`]s, one a line:
/// `/// doc` `Name: "xfs_db name", Rec, Key, [v4 magic, v5 magic] $(, PtrFormat)?;`.
macro_rules! fixed_btrees {
    ($(
        $(#[$doc:meta])*
        $kind:ident: $name:literal, $rec:ty, $key:ty, $magic:expr $(, $ptr:expr)?;
    )*) => {
        $(
            $(#[$doc])*
            #[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
            pub struct $kind;

            impl $crate::btree::FixedBtree for $kind {
                type Rec = $rec;
                type Key = $key;
                const NAME: &'static str = $name;
                const MAGIC: [Option<u32>; 2] = $magic;
                $(const PTR_FORMAT: $crate::btree::PtrFormat = $ptr;)?
            }
        )*
    };
}
pub(crate) use fixed_btrees;

impl<T: FixedBtree> BtreeKind for T {
    type Rec = T::Rec;
    type Key = T::Key;

    fn name(&self) -> &'static str {
        T::NAME
    }
    fn magic(&self, has_crc: bool) -> Option<u32> {
        let [v4, v5] = T::MAGIC;
        if has_crc {
            v5
        } else {
            v4
        }
    }
    fn ptr_format(&self) -> PtrFormat {
        T::PTR_FORMAT
    }
    fn rec_len(&self) -> usize {
        T::Rec::LEN
    }
    fn key_len(&self) -> usize {
        T::Key::LEN
    }
    fn decode_rec(&self, b: &[u8]) -> Option<T::Rec> {
        T::Rec::decode(b)
    }
    fn decode_key(&self, b: &[u8]) -> Option<T::Key> {
        T::Key::decode(b)
    }
    fn rec_names(&self) -> &'static [&'static str] {
        T::Rec::NAMES
    }
    fn key_names(&self) -> &'static [&'static str] {
        T::Key::NAMES
    }
    fn rec_fields(&self, rec: &T::Rec) -> Vec<Field> {
        rec.fields()
    }
    fn key_fields(&self, key: &T::Key) -> Vec<Field> {
        key.fields()
    }
}

/// Where the blocks of one tree live: the pointer format and how a pointer maps to bytes.
pub trait Addressing {
    /// The filesystem the tree belongs to.
    fn geo(&self) -> &Geometry;
    /// Whether the filesystem is v5 (blocks carry the CRC header).
    fn has_crc(&self) -> bool {
        self.geo().has_crc
    }
    /// Filesystem block size in bytes.
    fn block_size(&self) -> usize {
        self.geo().block_size as usize
    }
    /// Byte offset of the block `ptr` points to, `None` when the pointer is out of range
    /// (null, in the AG headers, past the end of the AG or filesystem).
    fn byte_offset(&self, ptr: u64) -> Option<u64>;
    /// The value `bb_owner` must have on v5 (AG number, inode number).
    fn expected_owner(&self) -> u64;
    /// The uuid v5 blocks must carry.
    fn meta_uuid(&self) -> [u8; 16] {
        self.geo().meta_uuid
    }
}

/// Addressing of a per-AG (short pointer) btree: a pointer is an AG block number.
#[derive(Debug, Clone)]
pub struct AgAddressing<'g> {
    /// The filesystem.
    pub geo: &'g Geometry,
    /// The AG the tree belongs to (`bb_owner` on v5).
    pub agno: u32,
    /// Blocks in this AG.
    pub ag_size: u32,
    /// First block after the AG headers that a btree block may occupy.
    pub first_block: u32,
}

impl<'g> AgAddressing<'g> {
    /// `None` when `agno` is not an AG of `geo`.
    pub fn new(geo: &'g Geometry, agno: u32) -> Option<Self> {
        let ag_size = geo.ag_size(agno)?;
        // The four header sectors (sb, agf, agi, agfl) end in this block.
        let agfl_block = geo.sect_size.checked_mul(3)?.checked_div(geo.block_size)?;
        Some(AgAddressing {
            geo,
            agno,
            ag_size,
            first_block: agfl_block.checked_add(1)?,
        })
    }
}

impl Addressing for AgAddressing<'_> {
    fn geo(&self) -> &Geometry {
        self.geo
    }
    fn byte_offset(&self, ptr: u64) -> Option<u64> {
        if ptr >= u64::from(self.ag_size) || ptr < u64::from(self.first_block) {
            return None;
        }
        self.geo.agbno_to_offset(self.agno, ptr)
    }
    fn expected_owner(&self) -> u64 {
        self.agno.into()
    }
}

/// Addressing of a long-pointer btree whose blocks may lie in any AG (the BMBT): a pointer is
/// a filesystem block number (`agno << agblklog | agbno`) and v5 blocks are owned by an inode.
#[derive(Debug, Clone)]
pub struct FsbAddressing<'g> {
    /// The filesystem.
    pub geo: &'g Geometry,
    /// The inode the tree belongs to (`bb_owner` on v5).
    pub owner: u64,
}

impl Addressing for FsbAddressing<'_> {
    fn geo(&self) -> &Geometry {
        self.geo
    }
    fn byte_offset(&self, ptr: u64) -> Option<u64> {
        self.geo.fsb_byte_offset(crate::addr::Fsb(ptr))
    }
    fn expected_owner(&self) -> u64 {
        self.owner
    }
}

/// The v5 part of a block header.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CrcHeader {
    /// `bb_blkno`: the block's own address in 512-byte sectors.
    pub bb_blkno: u64,
    /// `bb_lsn`: log sequence number of the last write.
    pub bb_lsn: u64,
    /// `bb_uuid`: the filesystem's metadata uuid.
    pub bb_uuid: [u8; 16],
    /// `bb_owner`: AG number (short form) or inode number (long form).
    pub bb_owner: u64,
    /// Big-endian reading of the stored (little-endian) checksum, as xfs_db prints it.
    pub bb_crc: u32,
}

/// `struct xfs_btree_block`, short or long form, pointers widened to u64.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockHeader {
    /// Short or long form (which the tree, not the block, decides).
    pub format: PtrFormat,
    /// `bb_magic`.
    pub bb_magic: u32,
    /// `bb_level`: 0 for leaves.
    pub bb_level: u16,
    /// `bb_numrecs`: records (leaf) or key/pointer pairs (node).
    pub bb_numrecs: u16,
    /// `bb_leftsib`: the block to the left on the same level, NULLAGBLOCK/NULLFSBLOCK if none.
    pub bb_leftsib: u64,
    /// `bb_rightsib`: the block to the right on the same level.
    pub bb_rightsib: u64,
    /// The v5 fields (`None` on v4).
    pub crc: Option<CrcHeader>,
}

impl BlockHeader {
    /// Decodes the header at the start of `b`; `None` when `b` is too short.
    pub fn parse(b: &[u8], format: PtrFormat, has_crc: bool) -> Option<BlockHeader> {
        let pl = format.ptr_len();
        let left_at = 8usize;
        let right_at = left_at.checked_add(pl)?;
        let v5_at = right_at.checked_add(pl)?;
        let crc = if has_crc {
            let owner_at = v5_at.checked_add(32)?;
            let (owner, crc_at) = match format {
                PtrFormat::Short => (u64::from(be_u32(b, owner_at)?), owner_at.checked_add(4)?),
                PtrFormat::Long => (be_u64(b, owner_at)?, owner_at.checked_add(8)?),
            };
            let uuid_b = b.get(v5_at.checked_add(16)?..owner_at)?;
            Some(CrcHeader {
                bb_blkno: be_u64(b, v5_at)?,
                bb_lsn: be_u64(b, v5_at.checked_add(8)?)?,
                bb_uuid: <[u8; 16]>::try_from(uuid_b).ok()?,
                bb_owner: owner,
                bb_crc: be_u32(b, crc_at)?,
            })
        } else {
            None
        };
        Some(BlockHeader {
            format,
            bb_magic: be_u32(b, 0)?,
            bb_level: be_u16(b, 4)?,
            bb_numrecs: be_u16(b, 6)?,
            bb_leftsib: format.read_ptr(b.get(left_at..)?)?,
            bb_rightsib: format.read_ptr(b.get(right_at..)?)?,
            crc,
        })
    }

    /// The header fields in `xfs_db print` order.
    pub fn fields(&self, crc_state: CrcState) -> Vec<Field> {
        let (sib_bits, owner_bits) = match self.format {
            PtrFormat::Short => (32, 32),
            PtrFormat::Long => (64, 64),
        };
        let mut f = vec![
            Field::hex("magic", self.bb_magic, 32),
            Field::dec("level", self.bb_level, 16),
            Field::dec("numrecs", self.bb_numrecs, 16),
            Field::nullable("leftsib", self.bb_leftsib, sib_bits),
            Field::nullable("rightsib", self.bb_rightsib, sib_bits),
        ];
        if let Some(c) = &self.crc {
            f.push(Field::nullable("bno", c.bb_blkno, 64));
            f.push(Field::num("lsn", c.bb_lsn, 64, Radix::Hex, Null::Plain));
            f.push(Field {
                name: "uuid",
                value: Value::Uuid(c.bb_uuid),
            });
            f.push(Field::nullable("owner", c.bb_owner, owner_bits));
            f.push(Field {
                name: "crc",
                value: Value::Crc {
                    value: c.bb_crc,
                    state: crc_state,
                },
            });
        }
        f
    }
}

/// Records per leaf and keys per node of a tree with this layout and block size.
pub fn max_recs<K: BtreeKind + ?Sized>(
    kind: &K,
    block_size: usize,
    has_crc: bool,
    leaf: bool,
) -> usize {
    let space = block_size.saturating_sub(kind.ptr_format().hdr_len(has_crc));
    let per = if leaf {
        kind.rec_len()
    } else {
        kind.key_len().saturating_add(kind.ptr_format().ptr_len())
    };
    space.checked_div(per).unwrap_or(0)
}

/// The verifications done on one block, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct BlockChecks {
    /// `bb_magic` is this tree's magic for the filesystem version.
    pub magic_ok: bool,
    /// Level equals the level the parent (or the AG header) implies.
    pub level_ok: bool,
    /// numrecs is within maxrecs (and not zero, except in a root leaf).
    pub numrecs_ok: bool,
    /// v5: `bb_blkno` is the block's own daddr (true on v4).
    pub blkno_ok: bool,
    /// v5: uuid is the filesystem's metadata uuid (true on v4).
    pub uuid_ok: bool,
    /// v5: owner is the AG number / inode (true on v4).
    pub owner_ok: bool,
    /// v5: the CRC verdict (unchecked on v4).
    pub crc: CrcState,
}

impl BlockChecks {
    /// Every check passed (an unchecked CRC counts as passed).
    pub fn all_ok(&self) -> bool {
        self.magic_ok
            && self.level_ok
            && self.numrecs_ok
            && self.blkno_ok
            && self.uuid_ok
            && self.owner_ok
            && self.crc != CrcState::Bad
    }
}

/// One block the walk entered.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct VisitedBlock {
    /// The pointer that led here (AG block number for per-AG trees).
    pub ptr: u64,
    /// The level the parent implies (the header's level may differ; see `checks`).
    pub level: u16,
    /// Address in 512-byte sectors.
    pub daddr: u64,
    /// The decoded block header.
    pub header: BlockHeader,
    /// What the verifier and the walker found of it.
    pub checks: BlockChecks,
}

/// Which sibling pointer a finding is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Sibling {
    /// `bb_leftsib`.
    Left,
    /// `bb_rightsib`.
    Right,
}

/// A problem found in a tree. Each names the block (`ptr`) it concerns.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub enum Finding {
    /// The root level is beyond the walk's depth cap.
    #[error("root level {level} exceeds the maximum of {max} levels")]
    TooDeep {
        /// The root block.
        ptr: u64,
        /// The root's level.
        level: u16,
        /// The cap ([`WalkOptions::max_levels`]).
        max: u16,
    },
    /// A pointer outside the AG (or the filesystem), or into the AG headers.
    #[error("pointer {ptr} (level {level}) is outside the AG or the filesystem")]
    PtrOutOfRange {
        /// The pointer.
        ptr: u64,
        /// The level the block would be at.
        level: u16,
    },
    /// Reading the block failed (or it is shorter than a header).
    #[error("block {ptr} could not be read: {error}")]
    ReadFailed {
        /// The block.
        ptr: u64,
        /// Why, in words.
        error: String,
    },
    /// The block was already entered in this walk.
    #[error("block {ptr} is reached twice (cycle or shared block)")]
    Revisited {
        /// The block.
        ptr: u64,
    },
    /// `bb_magic` is not this tree's.
    #[error("block {ptr}: magic {found:#010x}, expected {expected:#010x}")]
    BadMagic {
        /// The block.
        ptr: u64,
        /// `bb_magic` as found.
        found: u32,
        /// This tree's magic.
        expected: u32,
    },
    /// `bb_level` is not the level the parent (or AG header) implies.
    #[error("block {ptr}: level {found}, expected {expected}")]
    BadLevel {
        /// The block.
        ptr: u64,
        /// `bb_level` as found.
        found: u16,
        /// The implied level.
        expected: u16,
    },
    /// `bb_numrecs` is more than a block holds.
    #[error("block {ptr}: {numrecs} records, at most {max} fit")]
    TooManyRecs {
        /// The block.
        ptr: u64,
        /// `bb_numrecs` as found.
        numrecs: u16,
        /// Records or key/pointer pairs a block holds.
        max: usize,
    },
    /// `bb_numrecs` is 0 in a node or a non-root leaf.
    #[error("block {ptr}: no records in a non-root block or a node")]
    Empty {
        /// The block.
        ptr: u64,
    },
    /// v5: `bb_blkno` is not the block's own address.
    #[error("block {ptr}: bb_blkno {found}, expected {expected}")]
    BadBlkno {
        /// The block.
        ptr: u64,
        /// `bb_blkno` as found (512-byte sectors).
        found: u64,
        /// The block's address (512-byte sectors).
        expected: u64,
    },
    /// v5: `bb_uuid` is not the filesystem's metadata uuid.
    #[error("block {ptr}: uuid does not match the filesystem")]
    BadUuid {
        /// The block.
        ptr: u64,
    },
    /// v5: `bb_owner` is not the AG (short form) or the inode (long form).
    #[error("block {ptr}: owner {found}, expected {expected}")]
    BadOwner {
        /// The block.
        ptr: u64,
        /// `bb_owner` as found.
        found: u64,
        /// The owner the addressing expects.
        expected: u64,
    },
    /// v5: `bb_crc` does not match the block.
    #[error("block {ptr}: bad CRC")]
    BadCrc {
        /// The block.
        ptr: u64,
    },
    /// A sibling pointer does not name the neighbouring block of the same level.
    #[error("block {ptr}: {which:?} sibling {found}, expected {expected}")]
    BadSibling {
        /// The block.
        ptr: u64,
        /// Which sibling pointer.
        which: Sibling,
        /// The pointer found.
        found: u64,
        /// The neighbour (the null pointer at the ends of a level).
        expected: u64,
    },
    /// The tree does not exist in this filesystem version (rmapbt, refcountbt on v4).
    #[error("the tree has no magic for this filesystem version")]
    NoSuchTree,
}

/// Limits of a walk.
#[derive(Debug, Clone, Copy)]
pub struct WalkOptions {
    /// The root's level as the AG header says (levels - 1), checked against the root block.
    pub root_level: Option<u16>,
    /// Highest root level accepted.
    pub max_levels: u16,
}

impl Default for WalkOptions {
    fn default() -> Self {
        WalkOptions {
            root_level: None,
            max_levels: DEFAULT_MAX_LEVELS,
        }
    }
}

/// Everything a walk learnt about the tree's blocks.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct WalkResult {
    /// Every block entered, in depth-first (key) order.
    pub blocks: Vec<VisitedBlock>,
    /// What was found wrong, in walk order.
    pub findings: Vec<Finding>,
    /// Number of leaf records delivered.
    pub records: u64,
}

impl WalkResult {
    /// (pointer, level) of every block entered: what the tree occupies.
    pub fn block_ptrs(&self) -> impl Iterator<Item = (u64, u16)> + '_ {
        self.blocks.iter().map(|b| (b.ptr, b.level))
    }

    /// Number of blocks entered.
    pub fn block_count(&self) -> usize {
        self.blocks.len()
    }

    /// Tree height seen (root level + 1), 0 when no block was read.
    pub fn height(&self) -> u16 {
        self.blocks
            .iter()
            .map(|b| b.level.saturating_add(1))
            .max()
            .unwrap_or(0)
    }
}

/// A leaf record as handed to a visitor.
#[derive(Debug, Clone, Copy)]
pub struct RecordRef<'a, R> {
    /// The leaf block holding it.
    pub ptr: u64,
    /// 1-based index in the leaf, as xfs_db numbers them.
    pub index: usize,
    /// The decoded record.
    pub rec: &'a R,
}

/// What a visitor wants done with a block it has seen.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Descend {
    /// Use the block: deliver its records (leaf) or enter its children (node).
    Into,
    /// Leave its contents alone.
    Skip,
}

/// Hooks called during a walk. Every hook has a default, so a visitor implements only what it
/// needs; the walker keeps its own bounds (depth, cycles, pointer ranges) whatever a visitor
/// answers.
pub trait Visitor<K: BtreeKind + ?Sized> {
    /// Called for every block entered, with its decoded header, the verifier's verdict and
    /// its bytes, before its contents are used. The default descends into blocks that have
    /// this tree's magic at the level the parent implies.
    fn block(&mut self, blk: &VisitedBlock, buf: &[u8]) -> Descend {
        let _ = buf;
        if blk.checks.magic_ok && blk.checks.level_ok {
            Descend::Into
        } else {
            Descend::Skip
        }
    }
    /// The keys and child pointers of a node the walk descends into, in order.
    fn node(&mut self, blk: &VisitedBlock, keys: &[K::Key], ptrs: &[u64]) {
        let _ = (blk, keys, ptrs);
    }
    /// One leaf record (in key order over the whole walk).
    fn record(&mut self, rec: RecordRef<'_, K::Rec>) {
        let _ = rec;
    }
    /// A finding, when it is made (they are also collected in [`WalkResult::findings`]).
    fn finding(&mut self, f: &Finding) {
        let _ = f;
    }
}

/// A visitor that only sees records, through a closure (what [`walk_with`] uses).
pub struct OnRecord<F>(pub F);

impl<K, F> Visitor<K> for OnRecord<F>
where
    K: BtreeKind + ?Sized,
    F: FnMut(RecordRef<'_, K::Rec>),
{
    fn record(&mut self, rec: RecordRef<'_, K::Rec>) {
        (self.0)(rec)
    }
}

/// Offset of record `i` (0-based) in a leaf, key `i` in a node or pointer `i` in a node of
/// `block_size` bytes.
fn slot_offset<K: BtreeKind + ?Sized>(
    kind: &K,
    block_size: usize,
    has_crc: bool,
    what: Slot,
    i: usize,
) -> Option<usize> {
    let format = kind.ptr_format();
    let hdr_len = format.hdr_len(has_crc);
    match what {
        Slot::Rec => i.checked_mul(kind.rec_len())?.checked_add(hdr_len),
        Slot::Key => i.checked_mul(kind.key_len())?.checked_add(hdr_len),
        Slot::Ptr => {
            // Pointers start after maxrecs keys.
            let max = max_recs(kind, block_size, has_crc, false);
            max.checked_mul(kind.key_len())?
                .checked_add(hdr_len)?
                .checked_add(i.checked_mul(format.ptr_len())?)
        }
    }
}

#[derive(Clone, Copy)]
enum Slot {
    Rec,
    Key,
    Ptr,
}

/// The bytes of slot `i` (record, key or pointer) of block `buf`.
fn slot<'b, K: BtreeKind + ?Sized>(
    kind: &K,
    buf: &'b [u8],
    has_crc: bool,
    what: Slot,
    i: usize,
) -> Option<&'b [u8]> {
    let at = slot_offset(kind, buf.len(), has_crc, what, i)?;
    let len = match what {
        Slot::Rec => kind.rec_len(),
        Slot::Key => kind.key_len(),
        Slot::Ptr => kind.ptr_format().ptr_len(),
    };
    buf.get(at..at.checked_add(len)?)
}

/// Byte offset of record `i` (0-based) in a leaf of `kind` (for writers that put a record
/// back where [`BtreeKind::rec_at`] reads it).
pub fn rec_offset<K: BtreeKind + ?Sized>(kind: &K, has_crc: bool, i: usize) -> Option<usize> {
    slot_offset(kind, 0, has_crc, Slot::Rec, i)
}

/// Byte offset of key `i` (0-based) in a node of `kind` (where [`BtreeKind::key_at`] reads it).
pub fn key_offset<K: BtreeKind + ?Sized>(kind: &K, has_crc: bool, i: usize) -> Option<usize> {
    slot_offset(kind, 0, has_crc, Slot::Key, i)
}

/// The verifier layout of a btree block header.
pub fn layout(format: PtrFormat) -> verify::Layout {
    match format {
        PtrFormat::Short => verify::Layout::SBLOCK,
        PtrFormat::Long => verify::Layout::LBLOCK,
    }
}

struct Walker<'a, K: BtreeKind, A, S, V> {
    kind: &'a K,
    addr: &'a A,
    src: &'a S,
    visit: &'a mut V,
    magic: u32,
    visited: BTreeSet<u64>,
    out: WalkResult,
    /// Per level, blocks in visiting order with their sibling pointers.
    levels: Vec<Vec<(u64, u64, u64)>>,
}

impl<K, A, S, V> Walker<'_, K, A, S, V>
where
    K: BtreeKind,
    A: Addressing,
    S: ByteSource,
    V: Visitor<K>,
{
    fn find(&mut self, f: Finding) {
        self.visit.finding(&f);
        self.out.findings.push(f);
    }

    fn block(&mut self, ptr: u64, level: u16, is_root: bool) {
        let Some(off) = self.addr.byte_offset(ptr) else {
            self.find(Finding::PtrOutOfRange { ptr, level });
            return;
        };
        if !self.visited.insert(ptr) {
            self.find(Finding::Revisited { ptr });
            return;
        }
        let bs = self.addr.block_size();
        let buf = match self.src.read_at(off, bs) {
            Ok(b) => b,
            Err(e) => {
                self.find(Finding::ReadFailed {
                    ptr,
                    error: e.to_string(),
                });
                return;
            }
        };
        let has_crc = self.addr.has_crc();
        let format = self.kind.ptr_format();
        let Some(hdr) = BlockHeader::parse(&buf, format, has_crc) else {
            self.find(Finding::ReadFailed {
                ptr,
                error: format!(
                    "block of {} bytes is shorter than a btree header",
                    buf.len()
                ),
            });
            return;
        };
        let daddr = off.checked_div(512).unwrap_or(0);
        let leaf = level == 0;
        let max = max_recs(self.kind, bs, has_crc, leaf);
        let numrecs = usize::from(hdr.bb_numrecs);
        let want = verify::Expected {
            magic: Some(self.magic),
            blkno: Some(daddr),
            uuid: Some(self.addr.meta_uuid()),
            owner: Some(self.addr.expected_owner()),
        };
        let v = if has_crc {
            verify::verify(&buf, &layout(format), &want)
        } else {
            // v4 blocks carry only the magic.
            let m = verify::verify(
                &buf,
                &layout(format),
                &verify::Expected {
                    magic: want.magic,
                    ..verify::Expected::default()
                },
            );
            verify::HeaderChecks {
                crc: CrcState::Unchecked,
                ..m
            }
        };
        let checks = BlockChecks {
            magic_ok: v.magic_ok,
            level_ok: hdr.bb_level == level,
            numrecs_ok: numrecs <= max && (numrecs > 0 || (is_root && leaf)),
            blkno_ok: v.blkno_ok,
            uuid_ok: v.uuid_ok,
            owner_ok: v.owner_ok,
            crc: v.crc,
        };
        // What failed, in xfs_repair's order; the v5 fields only where the block has them.
        let v5 = hdr.crc.as_ref();
        let failed = [
            (!checks.magic_ok).then_some(Finding::BadMagic {
                ptr,
                found: hdr.bb_magic,
                expected: self.magic,
            }),
            (!checks.level_ok).then_some(Finding::BadLevel {
                ptr,
                found: hdr.bb_level,
                expected: level,
            }),
            (numrecs > max).then_some(Finding::TooManyRecs {
                ptr,
                numrecs: hdr.bb_numrecs,
                max,
            }),
            (numrecs <= max && !checks.numrecs_ok).then_some(Finding::Empty { ptr }),
            v5.filter(|_| !checks.blkno_ok).map(|c| Finding::BadBlkno {
                ptr,
                found: c.bb_blkno,
                expected: daddr,
            }),
            v5.filter(|_| !checks.uuid_ok)
                .map(|_| Finding::BadUuid { ptr }),
            v5.filter(|_| !checks.owner_ok).map(|c| Finding::BadOwner {
                ptr,
                found: c.bb_owner,
                expected: self.addr.expected_owner(),
            }),
            v5.filter(|_| checks.crc == CrcState::Bad)
                .map(|_| Finding::BadCrc { ptr }),
        ];
        for f in failed.into_iter().flatten() {
            self.find(f);
        }
        let (left, right) = (hdr.bb_leftsib, hdr.bb_rightsib);
        let visited = VisitedBlock {
            ptr,
            level,
            daddr,
            header: hdr,
            checks,
        };
        let go = self.visit.block(&visited, &buf);
        self.out.blocks.push(visited);
        if go == Descend::Skip {
            return;
        }
        if let Some(l) = self.levels.get_mut(usize::from(level)) {
            l.push((ptr, left, right));
        }
        let count = numrecs.min(max);
        if leaf {
            for i in 0..count {
                let Some(rec) = self.kind.rec_at(&buf, has_crc, i) else {
                    break;
                };
                self.out.records = self.out.records.saturating_add(1);
                self.visit.record(RecordRef {
                    ptr,
                    index: i.saturating_add(1),
                    rec: &rec,
                });
            }
        } else {
            let children: Vec<u64> = (0..count)
                .map_while(|i| self.kind.ptr_at(&buf, has_crc, i))
                .collect();
            let keys: Vec<K::Key> = (0..children.len())
                .map_while(|i| self.kind.key_at(&buf, has_crc, i))
                .collect();
            drop(buf);
            if let Some(blk) = self.out.blocks.last() {
                self.visit.node(blk, &keys, &children);
            }
            let child_level = level.saturating_sub(1);
            for c in children {
                self.block(c, child_level, false);
            }
        }
    }

    fn check_siblings(&mut self) {
        let null = self.kind.ptr_format().null();
        let mut found = Vec::new();
        for blocks in &self.levels {
            let lefts = blocks.iter().map(|&(ptr, left, _)| (ptr, left));
            found.extend(sibling_chain(null, lefts, Sibling::Left));
            let rights = blocks.iter().rev().map(|&(ptr, _, right)| (ptr, right));
            found.extend(sibling_chain(null, rights, Sibling::Right));
        }
        for f in found {
            self.find(f);
        }
    }
}

/// The sibling findings of one level walked in one direction: each block's `which` sibling
/// (`(ptr, sibling)` in walking order) must be the block before it, the first one null.
fn sibling_chain(
    null: u64,
    blocks: impl Iterator<Item = (u64, u64)>,
    which: Sibling,
) -> Vec<Finding> {
    let mut prev: Option<u64> = None;
    let mut out = Vec::new();
    for (ptr, found) in blocks {
        let expected = prev.unwrap_or(null);
        if found != expected {
            out.push(Finding::BadSibling {
                ptr,
                which,
                found,
                expected,
            });
        }
        prev = Some(ptr);
    }
    out
}

/// Where a walk starts.
#[derive(Debug, Clone, Copy)]
pub enum Root<'r> {
    /// A root block (per-AG trees: the AG header's root pointer).
    Block(u64),
    /// A root held outside any block, as the BMBT root in an inode fork (`xfs_bmdr_block`):
    /// its level and its child pointers. The walk starts at the children, one level down.
    InInode {
        /// The root's level (`bb_level` of `xfs_bmdr_block`).
        level: u16,
        /// Its child pointers.
        ptrs: &'r [u64],
    },
}

/// Walks the tree from `root`, depth first, children in pointer order (so leaf records come
/// in key order), calling the hooks of `visitor`.
///
/// Without `opts.root_level` a root block's own level is trusted (up to
/// `opts.max_levels - 1`).
pub fn walk_visit<K, A, S, V>(
    src: &S,
    addr: &A,
    kind: &K,
    root: Root<'_>,
    opts: WalkOptions,
    visitor: &mut V,
) -> WalkResult
where
    K: BtreeKind,
    A: Addressing,
    S: ByteSource,
    V: Visitor<K>,
{
    let mut out = WalkResult::default();
    let report = |out: &mut WalkResult, visitor: &mut V, f: Finding| {
        visitor.finding(&f);
        out.findings.push(f);
    };
    let Some(magic) = kind.magic(addr.has_crc()) else {
        report(&mut out, visitor, Finding::NoSuchTree);
        return out;
    };
    let root_ptr = match root {
        Root::Block(p) => p,
        Root::InInode { ptrs, .. } => ptrs.first().copied().unwrap_or(kind.ptr_format().null()),
    };
    let root_level = match (root, opts.root_level) {
        (Root::InInode { level, .. }, _) => level,
        (Root::Block(_), Some(l)) => l,
        (Root::Block(ptr), None) => {
            // Peek at the root's own level.
            let lvl = addr
                .byte_offset(ptr)
                .and_then(|off| src.read_at(off, addr.block_size()).ok())
                .and_then(|b| be_u16(&b, 4));
            match lvl {
                Some(l) => l,
                None => {
                    report(&mut out, visitor, Finding::PtrOutOfRange { ptr, level: 0 });
                    return out;
                }
            }
        }
    };
    if root_level >= opts.max_levels {
        report(
            &mut out,
            visitor,
            Finding::TooDeep {
                ptr: root_ptr,
                level: root_level,
                max: opts.max_levels,
            },
        );
        return out;
    }
    let mut w = Walker {
        kind,
        addr,
        src,
        visit: visitor,
        magic,
        visited: BTreeSet::new(),
        out,
        levels: vec![Vec::new(); usize::from(root_level).saturating_add(1)],
    };
    match root {
        Root::Block(ptr) => w.block(ptr, root_level, true),
        Root::InInode { ptrs, .. } => {
            let child_level = root_level.saturating_sub(1);
            for &p in ptrs {
                w.block(p, child_level, false);
            }
        }
    }
    w.check_siblings();
    w.out
}

/// Walks the tree rooted at `root`, calling `visit` for every leaf record in key order.
///
/// Without `opts.root_level` the root block's own level is trusted (up to
/// `opts.max_levels - 1`).
pub fn walk_with<K, A, S, F>(
    src: &S,
    addr: &A,
    kind: &K,
    root: u64,
    opts: WalkOptions,
    visit: F,
) -> WalkResult
where
    K: BtreeKind,
    A: Addressing,
    S: ByteSource,
    F: FnMut(RecordRef<'_, K::Rec>),
{
    walk_visit(
        src,
        addr,
        kind,
        Root::Block(root),
        opts,
        &mut OnRecord(visit),
    )
}

/// Walks the tree and collects its leaf records in key order.
pub fn walk<K, A, S>(
    src: &S,
    addr: &A,
    kind: &K,
    root: u64,
    opts: WalkOptions,
) -> (WalkResult, Vec<K::Rec>)
where
    K: BtreeKind,
    A: Addressing,
    S: ByteSource,
{
    let mut recs = Vec::new();
    let res = walk_with(src, addr, kind, root, opts, |r| recs.push(r.rec.clone()));
    (res, recs)
}

/// Renders the tree rooted at `root` exactly as `xfs_db btdump` (or `btdump -i` when
/// `include_nodes`) prints it after `addr` to the root: xfs_db's traversal (down the first
/// pointers, along the right siblings of each level), its header lines and its `print keys`,
/// `print ptrs` and `print recs` output. Loops are cut where xfs_db would loop forever.
pub fn render_btdump<K, A, S>(src: &S, addr: &A, kind: &K, root: u64, include_nodes: bool) -> String
where
    K: BtreeKind,
    A: Addressing,
    S: ByteSource,
{
    let mut out = String::new();
    let Some(root_blk) = read_block(src, addr, kind, root) else {
        return out;
    };
    let mut level = i32::from(root_blk.hdr.bb_level);
    let mut cur = root_blk;
    let mut name = kind.name();
    // Each step moves to a new block; the visited set bounds the walk.
    let mut visited = BTreeSet::new();
    let _ = visited.insert(root);
    loop {
        if level > 0 {
            if include_nodes {
                dump_level(src, addr, kind, &cur, name, level, &mut out);
            }
            let first = if cur.hdr.bb_level == 0 {
                None
            } else {
                cur.ptr_at(kind, addr, 0)
            };
            let Some(child) = first else {
                out.push_str("field ptrs not found\n");
                break;
            };
            let Some(next) = read_block(src, addr, kind, child) else {
                break;
            };
            name = kind.name();
            if !visited.insert(child) {
                break;
            }
            cur = next;
        } else {
            dump_level(src, addr, kind, &cur, name, level, &mut out);
            break;
        }
        level = level.saturating_sub(1);
        if level < 0 {
            break;
        }
    }
    out
}

/// A raw block as read for rendering.
struct RawBlock<'a> {
    ptr: u64,
    daddr: u64,
    hdr: BlockHeader,
    buf: std::borrow::Cow<'a, [u8]>,
}

impl RawBlock<'_> {
    fn ptr_at<K: BtreeKind, A: Addressing>(&self, kind: &K, addr: &A, i: usize) -> Option<u64> {
        if i >= usize::from(self.hdr.bb_numrecs) {
            return None;
        }
        kind.ptr_at(&self.buf, addr.has_crc(), i)
    }
}

fn read_block<'s, K: BtreeKind, A: Addressing, S: ByteSource>(
    src: &'s S,
    addr: &A,
    kind: &K,
    ptr: u64,
) -> Option<RawBlock<'s>> {
    let off = addr.byte_offset(ptr)?;
    let buf = src.read_at(off, addr.block_size()).ok()?;
    let hdr = BlockHeader::parse(&buf, kind.ptr_format(), addr.has_crc())?;
    Some(RawBlock {
        ptr,
        daddr: off.checked_div(512)?,
        hdr,
        buf,
    })
}

/// One level of `btdump`: the block and its right siblings.
fn dump_level<K: BtreeKind, A: Addressing, S: ByteSource>(
    src: &S,
    addr: &A,
    kind: &K,
    first: &RawBlock<'_>,
    first_name: &'static str,
    level: i32,
    out: &mut String,
) {
    let null = kind.ptr_format().null();
    let mut visited = BTreeSet::new();
    let _ = visited.insert(first.ptr);
    let mut nr: u64 = 1;
    let mut name = first_name;
    let mut owned: Option<RawBlock<'_>> = None;
    loop {
        let blk = owned.as_ref().unwrap_or(first);
        out.push_str(&format!(
            "{name} level {level} block {nr} daddr {}\n",
            blk.daddr
        ));
        print_block(kind, addr, blk, level > 0, out);
        let right = blk.hdr.bb_rightsib;
        if right == null || !visited.insert(right) {
            break;
        }
        let Some(next) = read_block(src, addr, kind, right) else {
            break;
        };
        owned = Some(next);
        name = kind.sibling_name();
        nr = nr.saturating_add(1);
    }
}

/// xfs_db's `print keys` + `print ptrs` (node) or `print recs` (leaf) of one block.
fn print_block<K: BtreeKind, A: Addressing>(
    kind: &K,
    addr: &A,
    blk: &RawBlock<'_>,
    node: bool,
    out: &mut String,
) {
    let has_crc = addr.has_crc();
    let buf = &blk.buf;
    let numrecs = usize::from(blk.hdr.bb_numrecs);
    let block_is_leaf = blk.hdr.bb_level == 0;
    // xfs_db stops arrays at the end of the buffer (the decoders return None past it).
    if node {
        let n = if block_is_leaf { 0 } else { numrecs };
        let keys = (0..n).map_while(|i| kind.key_at(buf, has_crc, i));
        let keys = keys.map(|k| kind.key_fields(&k)).collect();
        print_sarray("keys", kind.key_names(), keys, out);
        let ptrs: Vec<u64> = (0..n).map_while(|i| kind.ptr_at(buf, has_crc, i)).collect();
        if ptrs.is_empty() {
            out.push_str("field ptrs not found\n");
            return;
        }
        out.push_str(&array_prefix("ptrs", ptrs.len()));
        let many = ptrs.len() > 1;
        for (i, p) in ptrs.iter().enumerate() {
            if many {
                out.push_str(&format!("{}:", i.saturating_add(1)));
            }
            out.push_str(&p.to_string());
            if i.saturating_add(1) < ptrs.len() {
                out.push(' ');
            }
        }
        out.push('\n');
    } else {
        let n = if block_is_leaf { numrecs } else { 0 };
        let recs = (0..n).map_while(|i| kind.rec_at(buf, has_crc, i));
        let recs = recs.map(|r| kind.rec_fields(&r)).collect();
        print_sarray("recs", kind.rec_names(), recs, out);
    }
}

fn array_prefix(name: &str, count: usize) -> String {
    if count == 1 {
        format!("{name}[1] = ")
    } else {
        format!("{name}[1-{count}] = ")
    }
}

/// xfs_db's structure-array printing (`print_sarray`).
fn print_sarray(name: &str, names: &[&str], items: Vec<Vec<Field>>, out: &mut String) {
    if items.is_empty() {
        out.push_str(&format!("field {name} not found\n"));
        return;
    }
    out.push_str(&array_prefix(name, items.len()));
    out.push('[');
    out.push_str(&names.join(","));
    out.push_str("] ");
    let n = items.len();
    for (i, fields) in items.iter().enumerate() {
        out.push_str(&format!("\n{}:[", i.saturating_add(1)));
        let vals: Vec<String> = fields.iter().map(Field::render_value).collect();
        out.push_str(&vals.join(","));
        out.push(']');
        if i.saturating_add(1) < n {
            out.push(' ');
        }
    }
    out.push('\n');
}
