//! Inode forks: their formats, packed extent records, the in-inode BMBT root and the long-pointer
//! BMBT blocks below it.
//!
//! Everything here works on byte slices and bounds every count by the bytes it lives in, so a
//! hostile `di_nextents` or `bb_numrecs` can never make a decoder read or allocate past its
//! buffer. The BMBT walk ([`Filesystem::bmbt_records`]) caps its depth, refuses to visit a block
//! twice and records what it finds wrong as data.

use std::collections::HashSet;

use crate::btree::{
    self, BtreeItem, Descend, FsbAddressing, PtrFormat, RecordRef, Root, VisitedBlock, Visitor,
    WalkOptions,
};
use crate::error::Result;
use crate::fields::Field;
use crate::fs::Filesystem;
use crate::sb::Geometry;
use crate::source::ByteSource;

/// `BMAP`: v4 BMBT block.
pub const XFS_BMAP_MAGIC: u32 = 0x424d_4150;
/// `BMA3`: v5 BMBT block.
pub const XFS_BMAP_CRC_MAGIC: u32 = 0x424d_4133;
pub use crate::btree::{XFS_BTREE_LBLOCK_CRC_LEN, XFS_BTREE_LBLOCK_CRC_OFF, XFS_BTREE_LBLOCK_LEN};
/// Size of one packed extent record (`xfs_bmbt_rec`).
pub const BMBT_REC_SIZE: usize = 16;
/// Size of `xfs_bmdr_block` (level, numrecs).
pub const BMDR_HDR_SIZE: usize = 4;
/// NULLFSBLOCK.
pub const NULL_FSBLOCK: u64 = crate::btree::NULLFSBLOCK;
/// Deepest BMBT the walk descends into (XFS needs far fewer levels for 2^54 blocks).
pub const BMBT_MAX_DEPTH: u16 = 16;

pub(crate) use crate::bytes::{be16, be32, be64};

/// `di_format` / `di_aformat` (`enum xfs_dinode_fmt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ForkFormat {
    /// `XFS_DINODE_FMT_DEV` (0): a device number.
    Dev,
    /// `XFS_DINODE_FMT_LOCAL` (1): the data is in the inode.
    Local,
    /// `XFS_DINODE_FMT_EXTENTS` (2): packed extent records in the inode.
    Extents,
    /// `XFS_DINODE_FMT_BTREE` (3): the root of a BMBT in the inode.
    Btree,
    /// `XFS_DINODE_FMT_UUID` (4): unused by Linux.
    Uuid,
    /// Any other value, as found.
    Unknown(u8),
}

impl ForkFormat {
    /// The format of a raw `di_format` / `di_aformat` byte.
    pub fn from_raw(v: u8) -> ForkFormat {
        match v {
            0 => ForkFormat::Dev,
            1 => ForkFormat::Local,
            2 => ForkFormat::Extents,
            3 => ForkFormat::Btree,
            4 => ForkFormat::Uuid,
            x => ForkFormat::Unknown(x),
        }
    }

    /// The name xfs_db prints after the number, if the value is known.
    pub fn name(self) -> Option<&'static str> {
        match self {
            ForkFormat::Dev => Some("dev"),
            ForkFormat::Local => Some("local"),
            ForkFormat::Extents => Some("extents"),
            ForkFormat::Btree => Some("btree"),
            ForkFormat::Uuid => Some("uuid"),
            ForkFormat::Unknown(_) => None,
        }
    }
}

/// Which fork of an inode.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum WhichFork {
    /// `XFS_DATA_FORK`: file data, directory blocks, symlink target.
    Data,
    /// `XFS_ATTR_FORK`: extended attributes.
    Attr,
}

/// One unpacked extent record (`xfs_bmbt_irec`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BmbtRec {
    /// First file block (54 bits).
    pub startoff: u64,
    /// First filesystem block (52 bits, `agno << agblklog | agbno`).
    pub startblock: u64,
    /// Length in blocks (21 bits).
    pub blockcount: u32,
    /// Bit 127: the extent is preallocated and unwritten.
    pub unwritten: bool,
}

impl BmbtRec {
    /// Unpacks a 16-byte big-endian record: bit 127 flag, 54-bit startoff, 52-bit startblock,
    /// 21-bit blockcount.
    pub fn unpack(rec: &[u8; 16]) -> BmbtRec {
        let l0 = be64(rec, 0);
        let l1 = be64(rec, 8);
        BmbtRec {
            startoff: (l0 >> 9) & ((1u64 << 54) - 1),
            startblock: ((l0 & 0x1ff) << 43) | (l1 >> 21),
            blockcount: u32::try_from(l1 & ((1u64 << 21) - 1)).unwrap_or(0),
            unwritten: l0 >> 63 != 0,
        }
    }

    /// Unpacks record `idx` of an array starting at byte `off` of `buf`, if it fits.
    pub fn at(buf: &[u8], off: usize, idx: usize) -> Option<BmbtRec> {
        let start = idx.checked_mul(BMBT_REC_SIZE)?.checked_add(off)?;
        BmbtRec::decode(buf.get(start..)?)
    }

    /// One past the last file block (saturating).
    pub fn end(&self) -> u64 {
        self.startoff.saturating_add(self.blockcount.into())
    }

    /// The record as xfs_db's `[startoff,startblock,blockcount,extentflag]` row.
    pub fn row(&self) -> Vec<u64> {
        vec![
            self.startoff,
            self.startblock,
            self.blockcount.into(),
            u64::from(self.unwritten),
        ]
    }
}

/// Column names of an extent record as xfs_db prints them.
pub const BMBT_REC_COLUMNS: &[&str] = &["startoff", "startblock", "blockcount", "extentflag"];

/// Reads up to `count` records from byte `off` of `buf`, stopping where the buffer ends.
pub fn records_in(buf: &[u8], off: usize, count: u64) -> Vec<BmbtRec> {
    let fit = buf.len().saturating_sub(off) / BMBT_REC_SIZE;
    let n = usize::try_from(count).unwrap_or(usize::MAX).min(fit);
    (0..n).filter_map(|i| BmbtRec::at(buf, off, i)).collect()
}

/// `xfs_bmdr_maxrecs(len, 0)`: how many key/pointer pairs fit a root of `len` bytes.
pub fn bmdr_maxrecs(fork_len: usize) -> usize {
    fork_len.saturating_sub(BMDR_HDR_SIZE) / 16
}

/// `XFS_BMDR_SPACE_CALC`: bytes an in-inode BMBT root of `numrecs` key/pointer pairs takes.
pub fn bmdr_space(numrecs: usize) -> usize {
    numrecs.saturating_mul(16).saturating_add(BMDR_HDR_SIZE)
}

/// `m_bmap_dmxr[leaf ? 0 : 1]`: records per BMBT leaf block, or key/pointer pairs per node
/// block, of this geometry.
pub fn bmbt_maxrecs(geo: &Geometry, leaf: bool) -> usize {
    btree::max_recs(&BmbtKind, geo.block_size as usize, geo.has_crc, leaf)
}

/// `m_bmap_dmnr`: the fewest records (or pairs) a non-root BMBT block may hold, half the
/// maximum.
pub fn bmbt_minrecs(geo: &Geometry, leaf: bool) -> usize {
    bmbt_maxrecs(geo, leaf) / 2
}

/// `xfs_iext_max_nextents`: the most extents a fork can have (data: 2^31 - 1, or 2^48 - 1
/// with large extent counts; attr: 2^15 - 1, or 2^32 - 1).
pub fn max_extents(large: bool, which: WhichFork) -> u64 {
    match (which, large) {
        (WhichFork::Data, false) => (1 << 31) - 1,
        (WhichFork::Data, true) => (1 << 48) - 1,
        (WhichFork::Attr, false) => (1 << 15) - 1,
        (WhichFork::Attr, true) => (1 << 32) - 1,
    }
}

/// `m_bm_maxlevels[fork]` (`xfs_bmap_compute_maxlevels`): the tallest BMBT a fork can need,
/// the in-inode root counted: a root of the fewest pointers the fork must hold (3 for data,
/// 2 for attributes) over blocks each as empty as allowed.
pub fn bmbt_maxlevels(geo: &Geometry, which: WhichFork) -> u32 {
    let root_recs: u64 = match which {
        WhichFork::Data => 3,
        WhichFork::Attr => 2,
    };
    let leaf = bmbt_minrecs(geo, true).max(1) as u64;
    let node = bmbt_minrecs(geo, false).max(1) as u64;
    let mut blocks = max_extents(geo.has_nrext64, which).div_ceil(leaf);
    let mut level = 1u32;
    while blocks > 1 && level < 64 {
        blocks = if blocks <= root_recs {
            1
        } else {
            blocks.div_ceil(node)
        };
        level = level.saturating_add(1);
    }
    level
}

/// The last file block a mapping may reach (`fs_max_file_offset`: the largest signed 64-bit
/// byte offset, in blocks).
pub fn max_file_offset(geo: &Geometry) -> u64 {
    (i64::MAX as u64)
        .checked_shr(geo.block_log.into())
        .unwrap_or(0)
}

/// The BMBT root stored in an inode fork (`xfs_bmdr_block` with keys and pointers).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BmdrRoot {
    /// `bb_level`: level of the root (1 or more: its children are BMBT blocks).
    pub bb_level: u16,
    /// `bb_numrecs`: key/pointer pairs in the root, as stored (not clamped).
    pub bb_numrecs: u16,
    /// Key/pointer slots the fork has room for; pointers start after that many keys.
    pub maxrecs: usize,
    /// `br_startoff` of each child (at most `min(numrecs, maxrecs)`).
    pub keys: Vec<u64>,
    /// Filesystem block of each child.
    pub ptrs: Vec<u64>,
}

impl BmdrRoot {
    /// Decodes a root from the bytes of its fork (exactly the fork, so that the pointer array
    /// lands where the fork size puts it).
    pub fn parse(fork: &[u8]) -> BmdrRoot {
        let maxrecs = bmdr_maxrecs(fork.len());
        let numrecs = be16(fork, 2);
        let n = usize::from(numrecs).min(maxrecs);
        let keys = (0..n)
            .map(|i| be64(fork, BMDR_HDR_SIZE.saturating_add(i.saturating_mul(8))))
            .collect();
        let pbase = BMDR_HDR_SIZE.saturating_add(maxrecs.saturating_mul(8));
        let ptrs = (0..n)
            .map(|i| be64(fork, pbase.saturating_add(i.saturating_mul(8))))
            .collect();
        BmdrRoot {
            bb_level: be16(fork, 0),
            bb_numrecs: numrecs,
            maxrecs,
            keys,
            ptrs,
        }
    }
}

/// The decoded content of one fork.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum ForkData {
    /// Character or block device number (`xfs_dev_t`).
    Dev(u32),
    /// Inline bytes (short-form directory, symlink target, short-form attributes).
    Local(Vec<u8>),
    /// Extent records; `claimed` is the count the inode gives, `recs` what fits the fork.
    Extents {
        /// `di_nextents` / `di_anextents` (or their nrext64 forms).
        claimed: u64,
        /// The records that fit the fork, at most `claimed`.
        recs: Vec<BmbtRec>,
    },
    /// Root of a BMBT.
    Btree(BmdrRoot),
    /// `XFS_DINODE_FMT_UUID` (unused by Linux).
    Uuid([u8; 16]),
    /// A format value this decoder does not know.
    Unknown,
}

/// One fork of an inode: where it lies in the inode buffer and what it holds.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Fork {
    /// Data or attribute fork.
    pub which: WhichFork,
    /// `di_format` or `di_aformat`.
    pub format: ForkFormat,
    /// Byte offset of the fork in the inode.
    pub offset: usize,
    /// Size of the fork in bytes (`XFS_DFORK_DSIZE` / `XFS_DFORK_ASIZE`), clipped to the buffer.
    pub size: usize,
    /// What the fork holds, decoded by its format.
    pub data: ForkData,
}

impl Fork {
    /// Decodes a fork of `format` from `bytes` (the fork area). `local_len` is the number of
    /// inline bytes the inode claims (di_size for the data fork, the short-form header's
    /// total size for the attr fork); `nextents` the claimed extent count.
    pub fn parse(
        which: WhichFork,
        format: ForkFormat,
        offset: usize,
        bytes: &[u8],
        local_len: u64,
        nextents: u64,
    ) -> Fork {
        let data = match format {
            ForkFormat::Dev => ForkData::Dev(be32(bytes, 0)),
            ForkFormat::Local => {
                let n = usize::try_from(local_len)
                    .unwrap_or(usize::MAX)
                    .min(bytes.len());
                ForkData::Local(bytes.get(..n).unwrap_or_default().to_vec())
            }
            ForkFormat::Extents => ForkData::Extents {
                claimed: nextents,
                recs: records_in(bytes, 0, nextents),
            },
            ForkFormat::Btree => ForkData::Btree(BmdrRoot::parse(bytes)),
            ForkFormat::Uuid => ForkData::Uuid(
                bytes
                    .get(..16)
                    .and_then(|b| <[u8; 16]>::try_from(b).ok())
                    .unwrap_or_default(),
            ),
            ForkFormat::Unknown(_) => ForkData::Unknown,
        };
        Fork {
            which,
            format,
            offset,
            size: bytes.len(),
            data,
        }
    }
}

/// One piece of a file's logical block space.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum Mapping {
    /// File blocks `startoff..startoff+len` have no blocks behind them.
    Hole {
        /// First file block of the hole.
        startoff: u64,
        /// Length in filesystem blocks.
        len: u64,
    },
    /// File blocks mapped by an extent.
    Extent(BmbtRec),
}

/// The logical-to-physical map of an extent list, with the holes between extents made explicit.
/// Records are taken in order of `startoff`; overlapping records are kept as they are (the
/// checker reports them), and no hole is emitted for an overlap.
pub fn map_with_holes(recs: &[BmbtRec]) -> Vec<Mapping> {
    let mut sorted: Vec<BmbtRec> = recs.to_vec();
    sorted.sort_by_key(|r| r.startoff);
    let mut out = Vec::with_capacity(sorted.len().saturating_mul(2));
    let mut next = 0u64;
    for r in sorted {
        if r.startoff > next {
            out.push(Mapping::Hole {
                startoff: next,
                len: r.startoff.saturating_sub(next),
            });
        }
        next = next.max(r.end());
        out.push(Mapping::Extent(r));
    }
    out
}

/// Maps file block `fileoff` to its filesystem block and unwritten flag; `None` for a hole.
pub fn lookup(recs: &[BmbtRec], fileoff: u64) -> Option<(u64, bool)> {
    recs.iter()
        .find(|r| r.startoff <= fileoff && fileoff < r.end())
        .map(|r| {
            (
                r.startblock
                    .saturating_add(fileoff.saturating_sub(r.startoff)),
                r.unwritten,
            )
        })
}

/// The extents xfs_db's `bmap` command prints for a record list: repeatedly the first record
/// (in list order) that ends after the current offset, clipped to start there.
pub fn bmap_extents(recs: &[BmbtRec]) -> Vec<BmbtRec> {
    let mut out = Vec::new();
    let mut co = 0u64;
    // Records before `skip` end at or before `co`, and `co` never decreases.
    let mut skip = 0usize;
    loop {
        let mut found = None;
        for (i, r) in recs.iter().enumerate().skip(skip) {
            if r.end() <= co {
                if i == skip {
                    skip = skip.saturating_add(1);
                }
                continue;
            }
            found = Some(*r);
            break;
        }
        let Some(mut r) = found else { break };
        if r.startoff < co {
            let cut = co.saturating_sub(r.startoff);
            r.blockcount = r
                .blockcount
                .saturating_sub(u32::try_from(cut).unwrap_or(u32::MAX));
            r.startblock = r.startblock.saturating_add(cut);
            r.startoff = co;
        }
        let next = r.end();
        out.push(r);
        if next <= co {
            break;
        }
        co = next;
    }
    out
}

/// xfs_db's `bmap` lines for one fork: `data offset O startblock B (AG/AGBNO) count C flag F`.
pub fn bmap_lines(which: WhichFork, recs: &[BmbtRec], geo: &Geometry) -> Vec<String> {
    let name = match which {
        WhichFork::Data => "data",
        WhichFork::Attr => "attr",
    };
    bmap_extents(recs)
        .iter()
        .map(|r| {
            let (agno, agbno) = geo.fsb_to_agbno(r.startblock);
            format!(
                "{name} offset {} startblock {} ({}/{}) count {} flag {}",
                r.startoff,
                r.startblock,
                agno as u32,
                agbno as u32,
                r.blockcount,
                u8::from(r.unwritten)
            )
        })
        .collect()
}

/// `xfs_bmbt_key`: the first file block of a subtree.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct BmbtKey {
    /// First file block (`br_startoff`) mapped below this key.
    pub br_startoff: u64,
}

btree::fixed_btrees! {
    /// The BMBT as a [`btree::BtreeKind`]: long pointers (filesystem blocks), 16-byte packed
    /// extent records, 8-byte keys. Walked with [`btree::FsbAddressing`] from the root in the
    /// inode fork.
    BmbtKind: "bmapbt", BmbtRec, BmbtKey,
        [Some(XFS_BMAP_MAGIC), Some(XFS_BMAP_CRC_MAGIC)], PtrFormat::Long;
}

impl BtreeItem for BmbtRec {
    const LEN: usize = BMBT_REC_SIZE;
    const NAMES: &'static [&'static str] = BMBT_REC_COLUMNS;
    fn decode(b: &[u8]) -> Option<BmbtRec> {
        let rec = <[u8; BMBT_REC_SIZE]>::try_from(b.get(..BMBT_REC_SIZE)?).ok()?;
        Some(BmbtRec::unpack(&rec))
    }
    fn fields(&self) -> Vec<Field> {
        vec![
            Field::dec("startoff", self.startoff, 54),
            Field::dec("startblock", self.startblock, 52),
            Field::dec("blockcount", self.blockcount, 21),
            Field::dec("extentflag", u8::from(self.unwritten), 1),
        ]
    }
}

impl BtreeItem for BmbtKey {
    const LEN: usize = 8;
    const NAMES: &'static [&'static str] = &["startoff"];
    fn decode(b: &[u8]) -> Option<BmbtKey> {
        crate::bytes::be_u64(b, 0).map(|br_startoff| BmbtKey { br_startoff })
    }
    fn fields(&self) -> Vec<Field> {
        vec![Field::dec("startoff", self.br_startoff, 54)]
    }
}

/// What can be wrong with a BMBT block found during a walk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum BmbtProblem {
    /// `bb_magic` is not `BMAP` (v4) / `BMA3` (v5).
    BadMagic {
        /// The magic found.
        found: u32,
    },
    /// `bb_level` is not the level the parent implies.
    BadLevel {
        /// The level the parent implies.
        expected: u16,
        /// `bb_level` as found.
        found: u16,
    },
    /// `bb_numrecs` is more than a block holds.
    TooManyRecs {
        /// `bb_numrecs` as found.
        numrecs: u16,
        /// Records (leaf) or key/pointer pairs (node) a block holds.
        max: usize,
    },
    /// v5: `bb_crc` does not match the block.
    BadCrc,
    /// v5: `bb_blkno` is not the block's own address.
    BadBlkno {
        /// `bb_blkno` as found (512-byte sectors).
        found: u64,
    },
    /// v5: `bb_owner` is not the inode.
    BadOwner {
        /// `bb_owner` as found.
        found: u64,
    },
    /// v5: `bb_uuid` is not the filesystem's metadata uuid.
    BadUuid,
    /// The block was already visited (a cycle or a shared block).
    Revisited,
    /// The pointer does not address a block of the filesystem, or reading it failed.
    Unreadable {
        /// Why, in words.
        reason: String,
    },
    /// The tree is deeper than [`BMBT_MAX_DEPTH`].
    TooDeep,
    /// A sibling pointer does not name the neighbouring block of the same level.
    BadSibling {
        /// The sibling pointer found.
        found: u64,
        /// The neighbour's block (NULLFSBLOCK at the ends of a level).
        expected: u64,
    },
    /// A non-root block holds no records.
    Empty,
}

/// A problem and the filesystem block it was found in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BmbtFinding {
    /// The filesystem block the problem is in.
    pub fsb: u64,
    /// What is wrong with it.
    pub problem: BmbtProblem,
}

impl BmbtFinding {
    /// The BMBT view of a generic walk finding.
    fn from_walk(f: &btree::Finding) -> Option<BmbtFinding> {
        use btree::Finding as F;
        let (fsb, problem) = match f {
            F::TooDeep { ptr, .. } => (*ptr, BmbtProblem::TooDeep),
            F::PtrOutOfRange { ptr, .. } => (
                *ptr,
                BmbtProblem::Unreadable {
                    reason: f.to_string(),
                },
            ),
            F::ReadFailed { ptr, error } => (
                *ptr,
                BmbtProblem::Unreadable {
                    reason: error.clone(),
                },
            ),
            F::Revisited { ptr } => (*ptr, BmbtProblem::Revisited),
            F::BadMagic { ptr, found, .. } => (*ptr, BmbtProblem::BadMagic { found: *found }),
            F::BadLevel {
                ptr,
                found,
                expected,
            } => (
                *ptr,
                BmbtProblem::BadLevel {
                    expected: *expected,
                    found: *found,
                },
            ),
            F::TooManyRecs { ptr, numrecs, max } => (
                *ptr,
                BmbtProblem::TooManyRecs {
                    numrecs: *numrecs,
                    max: *max,
                },
            ),
            F::Empty { ptr } => (*ptr, BmbtProblem::Empty),
            F::BadBlkno { ptr, found, .. } => (*ptr, BmbtProblem::BadBlkno { found: *found }),
            F::BadUuid { ptr } => (*ptr, BmbtProblem::BadUuid),
            F::BadOwner { ptr, found, .. } => (*ptr, BmbtProblem::BadOwner { found: *found }),
            F::BadCrc { ptr } => (*ptr, BmbtProblem::BadCrc),
            F::BadSibling {
                ptr,
                found,
                expected,
                ..
            } => (
                *ptr,
                BmbtProblem::BadSibling {
                    found: *found,
                    expected: *expected,
                },
            ),
            F::NoSuchTree => return None,
        };
        Some(BmbtFinding { fsb, problem })
    }
}

/// Result of walking a BMBT: the leaf records in key order, the blocks read, and findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BmbtWalk {
    /// The leaf records, in key order.
    pub records: Vec<BmbtRec>,
    /// Every block of the tree (nodes and leaves, each once), in depth-first order; a
    /// pointer that could not be read is listed too (the inode claims it).
    pub blocks: Vec<u64>,
    /// What was found wrong, in walk order.
    pub findings: Vec<BmbtFinding>,
}

/// The visitor behind [`Filesystem::bmbt_records`].
#[derive(Default)]
struct BmbtCollect {
    walk: BmbtWalk,
    listed: HashSet<u64>,
}

impl BmbtCollect {
    fn list(&mut self, fsb: u64) {
        if self.listed.insert(fsb) {
            self.walk.blocks.push(fsb);
        }
    }
}

impl Visitor<BmbtKind> for BmbtCollect {
    fn block(&mut self, blk: &VisitedBlock, _buf: &[u8]) -> Descend {
        self.list(blk.ptr);
        // A block of another type is not used; one at the wrong level is not either
        // (xfs_repair gives up on the fork in both cases).
        if blk.checks.magic_ok && blk.checks.level_ok {
            Descend::Into
        } else {
            Descend::Skip
        }
    }
    fn record(&mut self, rec: RecordRef<'_, BmbtRec>) {
        self.walk.records.push(*rec.rec);
    }
    fn finding(&mut self, f: &btree::Finding) {
        if let btree::Finding::PtrOutOfRange { ptr, .. } | btree::Finding::ReadFailed { ptr, .. } =
            f
        {
            self.list(*ptr);
        }
        if let Some(b) = BmbtFinding::from_walk(f) {
            self.walk.findings.push(b);
        }
    }
}

/// Walks the whole BMBT below `root` (as xfs_repair's scan_bmapbt does: every block,
/// through every pointer of every node, depth first), collecting the leaf records in key
/// order and every block. `owner` is the inode number (checked against `bb_owner` on v5).
/// Unreadable or bad blocks are skipped and reported in [`BmbtWalk::findings`]; revisited
/// blocks (cycles, shared blocks) are reported and not entered again, and the depth is capped
/// at [`BMBT_MAX_DEPTH`].
pub fn walk_bmbt<S: ByteSource>(src: &S, geo: &Geometry, root: &BmdrRoot, owner: u64) -> BmbtWalk {
    let addr = FsbAddressing { geo, owner };
    let mut v = BmbtCollect::default();
    if root.ptrs.is_empty() {
        return v.walk;
    }
    let opts = WalkOptions {
        root_level: None,
        max_levels: BMBT_MAX_DEPTH,
    };
    let _ = btree::walk_visit(
        src,
        &addr,
        &BmbtKind,
        Root::InInode {
            level: root.bb_level,
            ptrs: &root.ptrs,
        },
        opts,
        &mut v,
    );
    v.walk
}

impl<S: ByteSource> Filesystem<S> {
    /// [`walk_bmbt`] over this filesystem. Never fails.
    pub fn bmbt_records(&self, root: &BmdrRoot, owner: u64) -> Result<BmbtWalk> {
        Ok(walk_bmbt(self.source(), &self.geo, root, owner))
    }
}

#[cfg(test)]
#[allow(clippy::arithmetic_side_effects)]
mod tests {
    use super::*;
    use crate::btree::Addressing;

    /// An extent record: `startoff`, `startblock`, `blockcount`, unwritten or not.
    fn ext(startoff: u64, startblock: u64, blockcount: u32, unwritten: bool) -> BmbtRec {
        BmbtRec {
            startoff,
            startblock,
            blockcount,
            unwritten,
        }
    }

    fn pack(r: &BmbtRec) -> [u8; 16] {
        let l0 = (u64::from(r.unwritten) << 63) | (r.startoff << 9) | (r.startblock >> 43);
        let l1 = ((r.startblock & ((1 << 43) - 1)) << 21) | u64::from(r.blockcount);
        let mut b = [0u8; 16];
        b[..8].copy_from_slice(&l0.to_be_bytes());
        b[8..].copy_from_slice(&l1.to_be_bytes());
        b
    }

    #[test]
    fn unpack_roundtrips_extremes() {
        for r in [
            ext((1 << 54) - 1, (1 << 52) - 1, (1 << 21) - 1, true),
            ext(0, 12, 1, false),
            ext(33554432, 1 << 43, 7, false),
        ] {
            assert_eq!(BmbtRec::unpack(&pack(&r)), r);
        }
    }

    #[test]
    fn holes_and_lookup() {
        let a = ext(2, 100, 3, false);
        let b = ext(10, 50, 1, true);
        let m = map_with_holes(&[b, a]);
        assert_eq!(
            m,
            vec![
                Mapping::Hole {
                    startoff: 0,
                    len: 2
                },
                Mapping::Extent(a),
                Mapping::Hole {
                    startoff: 5,
                    len: 5
                },
                Mapping::Extent(b)
            ]
        );
        assert_eq!(lookup(&[a, b], 4), Some((102, false)));
        assert_eq!(lookup(&[a, b], 5), None);
        assert_eq!(lookup(&[a, b], 10), Some((50, true)));
    }

    #[test]
    fn bmap_clips_overlaps_like_xfs_db() {
        let a = ext(0, 100, 4, false);
        let b = ext(2, 200, 4, false);
        let out = bmap_extents(&[a, b, a]);
        assert_eq!(out.len(), 2);
        assert_eq!(out[1].startoff, 4);
        assert_eq!(out[1].startblock, 202);
        assert_eq!(out[1].blockcount, 2);
    }

    #[test]
    fn root_pointer_array_follows_fork_size() {
        let mut fork = vec![0u8; 36];
        fork[1] = 1; // level 1
        fork[3] = 2; // numrecs 2
                     // maxrecs = (36-4)/16 = 2: keys at 4, 12; ptrs at 20, 28.
        fork[11] = 0;
        fork[19] = 9;
        fork[27] = 77;
        fork[35] = 78;
        let r = BmdrRoot::parse(&fork);
        assert_eq!(r.maxrecs, 2);
        assert_eq!(r.keys, vec![0, 9]);
        assert_eq!(r.ptrs, vec![77, 78]);
        fork[3] = 200;
        assert_eq!(BmdrRoot::parse(&fork).keys.len(), 2);
    }
    /// A v5 geometry of 512-byte blocks, 2 AGs of 64 blocks: sample-v5's, shrunk.
    fn geo5() -> Geometry {
        use std::io::Read;
        let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../testdata/sample-v5.img.zst");
        let mut sector = vec![0u8; 512];
        zstd::stream::read::Decoder::new(std::fs::File::open(path).unwrap())
            .unwrap()
            .read_exact(&mut sector)
            .unwrap();
        let sb = crate::sb::Superblock::parse(&sector, 0).unwrap();
        let mut geo = Geometry::from_sb(&sb.raw).unwrap();
        assert!(geo.has_crc);
        (geo.block_size, geo.block_log) = (512, 9);
        (geo.ag_blocks, geo.ag_blk_log, geo.ag_count) = (64, 6, 2);
        geo.data_blocks = 128;
        geo
    }

    /// Writes a v5 BMBT block at `fsb` of `img`: `items` are keys+pointers (node) or records
    /// (leaf).
    #[allow(clippy::too_many_arguments)]
    fn put_block(
        img: &mut [u8],
        geo: &Geometry,
        fsb: u64,
        level: u16,
        (left, right): (u64, u64),
        owner: u64,
        node: &[(u64, u64)],
        leaf: &[BmbtRec],
    ) {
        let off = FsbAddressing { geo, owner }.byte_offset(fsb).unwrap() as usize;
        let b = &mut img[off..off + 512];
        b[..4].copy_from_slice(&XFS_BMAP_CRC_MAGIC.to_be_bytes());
        b[4..6].copy_from_slice(&level.to_be_bytes());
        let n = if level == 0 { leaf.len() } else { node.len() } as u16;
        b[6..8].copy_from_slice(&n.to_be_bytes());
        b[8..16].copy_from_slice(&left.to_be_bytes());
        b[16..24].copy_from_slice(&right.to_be_bytes());
        b[24..32].copy_from_slice(&((off / 512) as u64).to_be_bytes());
        b[40..56].copy_from_slice(&geo.meta_uuid);
        b[56..64].copy_from_slice(&owner.to_be_bytes());
        let max = (512 - XFS_BTREE_LBLOCK_CRC_LEN) / 16;
        for (i, (k, p)) in node.iter().enumerate() {
            let ko = XFS_BTREE_LBLOCK_CRC_LEN + 8 * i;
            b[ko..ko + 8].copy_from_slice(&k.to_be_bytes());
            let po = XFS_BTREE_LBLOCK_CRC_LEN + 8 * max + 8 * i;
            b[po..po + 8].copy_from_slice(&p.to_be_bytes());
        }
        for (i, r) in leaf.iter().enumerate() {
            let o = XFS_BTREE_LBLOCK_CRC_LEN + 16 * i;
            b[o..o + 16].copy_from_slice(&pack(r));
        }
        let c = crate::crc::xfs_cksum(b, XFS_BTREE_LBLOCK_CRC_OFF).unwrap();
        b[64..68].copy_from_slice(&c.to_le_bytes());
    }

    /// A 4-level BMBT (root in the inode, then 2 + 4 interior blocks and 8 leaves spread over
    /// both AGs): every block is listed once and the records come in key order. The old walk
    /// (leftmost path, then leaf siblings) listed 3 + 7 of the 14 blocks.
    #[test]
    fn every_block_of_a_deep_bmbt_is_listed() {
        let geo = geo5();
        let mut img = vec![0u8; 128 * 512];
        let owner = 131;
        // fsb numbers: AG 0 blocks 10.., AG 1 blocks (1 << 6) | 10...
        let fsb = |i: u64| {
            if i.is_multiple_of(2) {
                10 + i
            } else {
                (1 << 6) | (10 + i)
            }
        };
        // levels[0] = 8 leaves, levels[1] = 4 nodes, levels[2] = 2 nodes.
        let levels: Vec<Vec<u64>> = [6..14, 2..6, 0..2]
            .into_iter()
            .map(|r| r.map(fsb).collect())
            .collect();
        let (l2, l1, l0) = (&levels[2], &levels[1], &levels[0]);
        let rec = |i: usize| ext(100 * i as u64, 1000 + i as u64, 3, false);
        for (level, blocks) in levels.iter().enumerate() {
            let span = 2usize << level; // records below one block of this level
            for (i, &b) in blocks.iter().enumerate() {
                let left = if i == 0 { NULL_FSBLOCK } else { blocks[i - 1] };
                let right = blocks.get(i + 1).copied().unwrap_or(NULL_FSBLOCK);
                let recs: Vec<BmbtRec> = (span * i..span * (i + 1)).map(rec).collect();
                let kids: Vec<(u64, u64)> = if level == 0 {
                    Vec::new()
                } else {
                    let below = &levels[level - 1];
                    (0..2)
                        .map(|k| (rec(span * i + k * span / 2).startoff, below[2 * i + k]))
                        .collect()
                };
                let leaf = if level == 0 { &recs[..] } else { &[] };
                put_block(
                    &mut img,
                    &geo,
                    b,
                    level as u16,
                    (left, right),
                    owner,
                    &kids,
                    leaf,
                );
            }
        }
        let root = BmdrRoot {
            bb_level: 3,
            bb_numrecs: 2,
            maxrecs: 2,
            keys: vec![0, 800],
            ptrs: l2.clone(),
        };
        let src = crate::source::SliceSource(img);
        let w = walk_bmbt(&src, &geo, &root, owner);
        assert!(w.findings.is_empty(), "{:?}", w.findings);
        let mut all: Vec<u64> = levels.iter().flatten().copied().collect();
        let mut got = w.blocks.clone();
        all.sort_unstable();
        got.sort_unstable();
        assert_eq!(got, all);
        assert_eq!(w.records, (0..16).map(rec).collect::<Vec<_>>());
        // Depth first: root's first child, its first child, its two leaves, ...
        assert_eq!(&w.blocks[..4], &[l2[0], l1[0], l0[0], l0[1]]);

        // A cycle (a leaf pointer back to an interior block) is reported, not followed again.
        let mut img = src.0;
        put_block(
            &mut img,
            &geo,
            l1[3],
            1,
            (l1[2], NULL_FSBLOCK),
            owner,
            &[(1200, l0[6]), (1400, l2[0])],
            &[],
        );
        let src = crate::source::SliceSource(img);
        let w = walk_bmbt(&src, &geo, &root, owner);
        assert!(w
            .findings
            .iter()
            .any(|f| f.fsb == l2[0] && f.problem == BmbtProblem::Revisited));
        assert_eq!(w.blocks.len(), 13);
        // A wrong owner is reported for every block.
        let w = walk_bmbt(&src, &geo, &root, owner + 1);
        assert!(
            w.findings
                .iter()
                .filter(|f| matches!(f.problem, BmbtProblem::BadOwner { .. }))
                .count()
                >= 13
        );
    }
}
