//! Inode forks: their formats, packed extent records, the in-inode BMBT root and the long-pointer
//! BMBT blocks below it.
//!
//! Everything here works on byte slices and bounds every count by the bytes it lives in, so a
//! hostile `di_nextents` or `bb_numrecs` can never make a decoder read or allocate past its
//! buffer. The BMBT walk ([`Filesystem::bmbt_records`]) caps its depth, refuses to visit a block
//! twice and records what it finds wrong as data.

use std::collections::HashSet;

use crate::crc;
use crate::error::Result;
use crate::fields::CrcState;
use crate::fs::Filesystem;
use crate::sb::Geometry;
use crate::source::ByteSource;

/// `BMAP`: v4 BMBT block.
pub const XFS_BMAP_MAGIC: u32 = 0x424d_4150;
/// `BMA3`: v5 BMBT block.
pub const XFS_BMAP_CRC_MAGIC: u32 = 0x424d_4133;
/// Long-pointer btree block header without CRC fields (v4).
pub const XFS_BTREE_LBLOCK_LEN: usize = 24;
/// Long-pointer btree block header with CRC fields (v5).
pub const XFS_BTREE_LBLOCK_CRC_LEN: usize = 72;
/// Byte offset of `bb_crc` in a long-pointer v5 block.
pub const XFS_BTREE_LBLOCK_CRC_OFF: usize = 64;
/// Size of one packed extent record (`xfs_bmbt_rec`).
pub const BMBT_REC_SIZE: usize = 16;
/// Size of `xfs_bmdr_block` (level, numrecs).
pub const BMDR_HDR_SIZE: usize = 4;
/// NULLFSBLOCK.
pub const NULL_FSBLOCK: u64 = u64::MAX;
/// Deepest BMBT the walk descends into (XFS needs far fewer levels for 2^54 blocks).
pub const BMBT_MAX_DEPTH: u16 = 16;

pub(crate) use crate::bytes::{be16, be32, be64};

/// `di_format` / `di_aformat` (`enum xfs_dinode_fmt`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub enum ForkFormat {
    Dev,
    Local,
    Extents,
    Btree,
    Uuid,
    Unknown(u8),
}

impl ForkFormat {
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
    Data,
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
        let b = buf.get(start..start.checked_add(BMBT_REC_SIZE)?)?;
        <[u8; 16]>::try_from(b).ok().map(|a| BmbtRec::unpack(&a))
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

/// The BMBT root stored in an inode fork (`xfs_bmdr_block` with keys and pointers).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BmdrRoot {
    pub bb_level: u16,
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
    Extents { claimed: u64, recs: Vec<BmbtRec> },
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
    pub which: WhichFork,
    pub format: ForkFormat,
    /// Byte offset of the fork in the inode.
    pub offset: usize,
    /// Size of the fork in bytes (`XFS_DFORK_DSIZE` / `XFS_DFORK_ASIZE`), clipped to the buffer.
    pub size: usize,
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
    Hole { startoff: u64, len: u64 },
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

/// Header of a long-pointer btree block (`xfs_btree_block` with `bb_u.l`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BmbtBlock {
    pub bb_magic: u32,
    pub bb_level: u16,
    pub bb_numrecs: u16,
    pub bb_leftsib: u64,
    pub bb_rightsib: u64,
    /// v5 only (zero on v4).
    pub bb_blkno: u64,
    pub bb_lsn: u64,
    pub bb_uuid: [u8; 16],
    pub bb_owner: u64,
    /// Big-endian reading of the stored checksum, as xfs_db prints it.
    pub bb_crc: u32,
    pub crc: CrcState,
    /// Header length (24 or 72).
    pub hdr_len: usize,
}

impl BmbtBlock {
    /// Decodes the header of a block of `block_size` bytes.
    pub fn parse(buf: &[u8], has_crc: bool) -> BmbtBlock {
        let mut uuid = [0u8; 16];
        if has_crc {
            if let Some(u) = buf.get(40..56) {
                uuid.copy_from_slice(u);
            }
        }
        let v5 = |off| if has_crc { be64(buf, off) } else { 0 };
        BmbtBlock {
            bb_magic: be32(buf, 0),
            bb_level: be16(buf, 4),
            bb_numrecs: be16(buf, 6),
            bb_leftsib: be64(buf, 8),
            bb_rightsib: be64(buf, 16),
            bb_blkno: v5(24),
            bb_lsn: v5(32),
            bb_uuid: uuid,
            bb_owner: v5(56),
            bb_crc: if has_crc {
                be32(buf, XFS_BTREE_LBLOCK_CRC_OFF)
            } else {
                0
            },
            crc: crc::verify(buf, XFS_BTREE_LBLOCK_CRC_OFF, has_crc),
            hdr_len: if has_crc {
                XFS_BTREE_LBLOCK_CRC_LEN
            } else {
                XFS_BTREE_LBLOCK_LEN
            },
        }
    }

    /// Records (leaf) or key/pointer pairs (node) a block of `len` bytes holds.
    pub fn maxrecs(&self, len: usize) -> usize {
        len.saturating_sub(self.hdr_len) / 16
    }

    /// Leaf records, bounded by the block.
    pub fn leaf_recs(&self, buf: &[u8]) -> Vec<BmbtRec> {
        let n = usize::from(self.bb_numrecs).min(self.maxrecs(buf.len()));
        records_in(buf, self.hdr_len, n as u64)
    }

    /// Node pointers, bounded by the block.
    pub fn node_ptrs(&self, buf: &[u8]) -> Vec<u64> {
        let max = self.maxrecs(buf.len());
        let n = usize::from(self.bb_numrecs).min(max);
        let base = self.hdr_len.saturating_add(max.saturating_mul(8));
        (0..n)
            .map(|i| be64(buf, base.saturating_add(i.saturating_mul(8))))
            .collect()
    }

    /// Node keys (`br_startoff`), bounded by the block.
    pub fn node_keys(&self, buf: &[u8]) -> Vec<u64> {
        let n = usize::from(self.bb_numrecs).min(self.maxrecs(buf.len()));
        (0..n)
            .map(|i| be64(buf, self.hdr_len.saturating_add(i.saturating_mul(8))))
            .collect()
    }
}

/// What can be wrong with a BMBT block found during a walk.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub enum BmbtProblem {
    BadMagic {
        found: u32,
    },
    BadLevel {
        expected: u16,
        found: u16,
    },
    TooManyRecs {
        numrecs: u16,
        max: usize,
    },
    BadCrc,
    BadBlkno {
        found: u64,
    },
    BadOwner {
        found: u64,
    },
    BadUuid,
    /// The block was already visited (a cycle or a shared block).
    Revisited,
    /// The pointer does not address a block of the filesystem, or reading it failed.
    Unreadable {
        reason: String,
    },
    /// The tree is deeper than [`BMBT_MAX_DEPTH`].
    TooDeep,
}

/// A problem and the filesystem block it was found in.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct BmbtFinding {
    pub fsb: u64,
    pub problem: BmbtProblem,
}

/// Result of walking a BMBT: the leaf records in sibling order, the blocks read, and findings.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize)]
pub struct BmbtWalk {
    pub records: Vec<BmbtRec>,
    /// Every block visited (nodes and leaves), in visiting order.
    pub blocks: Vec<u64>,
    pub findings: Vec<BmbtFinding>,
}

impl<S: ByteSource> Filesystem<S> {
    /// Walks the BMBT below `root` the way xfs_db's `bmap` does: down the leftmost path to the
    /// leaves, then along the right-sibling chain, collecting leaf records. `owner` is the
    /// inode number (checked against `bb_owner` on v5). Never fails: unreadable or bad blocks
    /// end the walk and are reported in [`BmbtWalk::findings`].
    pub fn bmbt_records(&self, root: &BmdrRoot, owner: u64) -> Result<BmbtWalk> {
        let geo = &self.geo;
        let magic = if geo.has_crc {
            XFS_BMAP_CRC_MAGIC
        } else {
            XFS_BMAP_MAGIC
        };
        let mut walk = BmbtWalk::default();
        let mut seen: HashSet<u64> = HashSet::new();
        let Some(&first) = root.ptrs.first() else {
            return Ok(walk);
        };
        let mut fsb = first;
        let mut expect = root.bb_level.saturating_sub(1);
        let mut depth = 0u16;
        let note =
            |walk: &mut BmbtWalk, fsb, problem| walk.findings.push(BmbtFinding { fsb, problem });
        // Checks a block; returns it when the walk may use it.
        let check = |walk: &mut BmbtWalk, seen: &mut HashSet<u64>, fsb: u64, expect: u16| {
            if !seen.insert(fsb) {
                note(walk, fsb, BmbtProblem::Revisited);
                return None;
            }
            walk.blocks.push(fsb);
            let buf = match self.read_fsb(fsb, 1).map_err(|e| e.to_string()) {
                Ok(b) => b,
                Err(reason) => {
                    note(walk, fsb, BmbtProblem::Unreadable { reason });
                    return None;
                }
            };
            let blk = BmbtBlock::parse(&buf, geo.has_crc);
            if blk.bb_magic != magic {
                note(
                    walk,
                    fsb,
                    BmbtProblem::BadMagic {
                        found: blk.bb_magic,
                    },
                );
                return None;
            }
            if blk.bb_level != expect {
                note(
                    walk,
                    fsb,
                    BmbtProblem::BadLevel {
                        expected: expect,
                        found: blk.bb_level,
                    },
                );
            }
            let max = blk.maxrecs(buf.len());
            if usize::from(blk.bb_numrecs) > max {
                note(
                    walk,
                    fsb,
                    BmbtProblem::TooManyRecs {
                        numrecs: blk.bb_numrecs,
                        max,
                    },
                );
            }
            if geo.has_crc {
                if blk.crc == CrcState::Bad {
                    note(walk, fsb, BmbtProblem::BadCrc);
                }
                let daddr = self.fsb_to_offset(fsb).map_or(0, |o| o >> 9);
                if blk.bb_blkno != daddr {
                    note(
                        walk,
                        fsb,
                        BmbtProblem::BadBlkno {
                            found: blk.bb_blkno,
                        },
                    );
                }
                if blk.bb_owner != owner {
                    note(
                        walk,
                        fsb,
                        BmbtProblem::BadOwner {
                            found: blk.bb_owner,
                        },
                    );
                }
                if blk.bb_uuid != geo.meta_uuid {
                    note(walk, fsb, BmbtProblem::BadUuid);
                }
            }
            Some((blk, buf))
        };
        // Descend the leftmost path.
        let (mut blk, mut buf) = loop {
            let Some((blk, buf)) = check(&mut walk, &mut seen, fsb, expect) else {
                return Ok(walk);
            };
            if blk.bb_level == 0 {
                break (blk, buf);
            }
            depth = depth.saturating_add(1);
            if depth > BMBT_MAX_DEPTH {
                note(&mut walk, fsb, BmbtProblem::TooDeep);
                return Ok(walk);
            }
            let Some(&child) = blk.node_ptrs(&buf).first() else {
                return Ok(walk);
            };
            fsb = child;
            expect = blk.bb_level.saturating_sub(1);
        };
        // Follow the leaves to the right.
        loop {
            walk.records.extend(blk.leaf_recs(&buf));
            let next = blk.bb_rightsib;
            if next == NULL_FSBLOCK {
                break;
            }
            let Some((b, d)) = check(&mut walk, &mut seen, next, 0) else {
                break;
            };
            blk = b;
            buf = d;
        }
        Ok(walk)
    }
}

#[cfg(test)]
#[allow(
    clippy::indexing_slicing,
    clippy::unwrap_used,
    clippy::arithmetic_side_effects
)]
mod tests {
    use super::*;

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
            BmbtRec {
                startoff: (1 << 54) - 1,
                startblock: (1 << 52) - 1,
                blockcount: (1 << 21) - 1,
                unwritten: true,
            },
            BmbtRec {
                startoff: 0,
                startblock: 12,
                blockcount: 1,
                unwritten: false,
            },
            BmbtRec {
                startoff: 33554432,
                startblock: 1 << 43,
                blockcount: 7,
                unwritten: false,
            },
        ] {
            assert_eq!(BmbtRec::unpack(&pack(&r)), r);
        }
    }

    #[test]
    fn holes_and_lookup() {
        let a = BmbtRec {
            startoff: 2,
            startblock: 100,
            blockcount: 3,
            unwritten: false,
        };
        let b = BmbtRec {
            startoff: 10,
            startblock: 50,
            blockcount: 1,
            unwritten: true,
        };
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
        let a = BmbtRec {
            startoff: 0,
            startblock: 100,
            blockcount: 4,
            unwritten: false,
        };
        let b = BmbtRec {
            startoff: 2,
            startblock: 200,
            blockcount: 4,
            unwritten: false,
        };
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
}
