//! Directory leaf blocks (libxfs `xfs_dir2_leaf.c` and the leafn part of
//! `xfs_dir2_node.c`): a da block (`struct xfs_da_blkinfo`, see [`crate::da_btree`]) with
//! `count`/`stale` and the hash index (`struct xfs_dir2_leaf_entry`). A `leaf1` block (leaf
//! format) also holds the best free length of each data block (`bests`) and a tail
//! (`struct xfs_dir2_leaf_tail`); `leafn` blocks (node format) sit below a da-btree node.

use serde::Serialize;

use super::{
    array_field, blkinfo_fields, da_hdr_or_empty, dir_hdr_size, empty_checks, render_db_fields,
    short_header, BlockCtx, DaBlkinfo, DbField, DirChecks, DirFinding, XFS_DIR2_LEAF1_MAGIC,
    XFS_DIR3_LEAF1_MAGIC, XFS_DIR3_LEAFN_MAGIC,
};
use crate::bytes::{be16, be32, be_u16, be_u32};
use crate::da_btree::{da_hdr_words, hash_disorder};
use crate::fields::{Field, Null};

/// `sizeof(struct xfs_dir2_leaf_entry)`.
pub const XFS_DIR2_LEAF_ENTRY_SIZE: usize = 8;
/// `sizeof(struct xfs_dir2_leaf_tail)`.
pub const XFS_DIR2_LEAF_TAIL_SIZE: usize = 4;
/// `bests` value of a data block that does not exist (`NULLDATAOFF`).
pub const XFS_DIR2_NULL_DATAOFF: u16 = 0xffff;

/// `struct xfs_dir2_leaf_hdr` / `struct xfs_dir3_leaf_hdr`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LeafHdr {
    /// `info`: the da block header.
    pub info: DaBlkinfo,
    /// `count`: number of leaf entries.
    pub count: u16,
    /// `stale`: number of stale leaf entries.
    pub stale: u16,
    /// v5 `pad`.
    pub pad: u32,
}

impl LeafHdr {
    /// Decodes the header (v5 layout when `v5`); `None` when it does not fit.
    pub fn parse(b: &[u8], v5: bool) -> Option<LeafHdr> {
        let (info, count, stale, pad) = da_hdr_words(b, v5)?;
        Some(LeafHdr {
            info,
            count,
            stale,
            pad: pad.unwrap_or(0),
        })
    }

    /// How many leaf entries fit after the header of a block of `blksize` bytes.
    pub fn max_entries(blksize: usize, v5: bool) -> usize {
        blksize.saturating_sub(dir_hdr_size(v5)) / XFS_DIR2_LEAF_ENTRY_SIZE
    }

    /// Where the entries end (`ents[count]`).
    pub fn ents_end(&self, v5: bool) -> usize {
        dir_hdr_size(v5)
            .saturating_add(usize::from(self.count).saturating_mul(XFS_DIR2_LEAF_ENTRY_SIZE))
    }
}

/// `struct xfs_dir2_leaf_tail` of a leaf1 block, with access to the `bests` array that
/// precedes it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct Leaf1Tail {
    /// `bestcount`: number of `bests` entries.
    pub bestcount: u32,
}

impl Leaf1Tail {
    /// The tail at the end of the block `b` of `blksize` bytes (zero when beyond the
    /// buffer).
    pub fn parse(b: &[u8], blksize: usize) -> Leaf1Tail {
        Leaf1Tail {
            bestcount: be32(b, blksize.saturating_sub(XFS_DIR2_LEAF_TAIL_SIZE)),
        }
    }

    /// Where `bests[0]` is in a block of `blksize` bytes (`xfs_dir2_leaf_bests_p`),
    /// saturating at 0 when `bestcount` is too large.
    pub fn bests_offset(&self, blksize: usize) -> usize {
        let n = usize::try_from(self.bestcount).unwrap_or(usize::MAX);
        blksize
            .saturating_sub(XFS_DIR2_LEAF_TAIL_SIZE)
            .saturating_sub(n.saturating_mul(2))
    }

    /// `bests[i]` of the leaf1 block `b` of `blksize` bytes (zero when beyond the buffer).
    pub fn best(&self, b: &[u8], blksize: usize, i: usize) -> u16 {
        be16(
            b,
            self.bests_offset(blksize)
                .saturating_add(i.saturating_mul(2)),
        )
    }
}

/// `struct xfs_dir2_leaf_entry`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LeafEntry {
    /// `hashval`: hash of the entry's name.
    pub hashval: u32,
    /// `address`: the entry's dataptr (directory byte offset / 8; 0 when stale).
    pub address: u32,
}

impl LeafEntry {
    /// The entry at byte `at`.
    pub fn parse(b: &[u8], at: usize) -> Option<LeafEntry> {
        Some(LeafEntry {
            hashval: be_u32(b, at)?,
            address: be_u32(b, at.checked_add(4)?)?,
        })
    }

    pub(crate) fn fields(&self) -> [Field; 2] {
        [
            Field::hex("hashval", self.hashval, 32),
            Field::hex("address", self.address, 32),
        ]
    }
}

/// The `n` leaf entries from byte `at` (fewer when the buffer ends first), with a finding
/// for each hash lower than its predecessor's.
pub(crate) fn leaf_entries(
    buf: &[u8],
    at: usize,
    n: usize,
    findings: &mut Vec<DirFinding>,
) -> Vec<LeafEntry> {
    let out = read_leaf_entries(buf, at, n);
    for (index, hash) in hash_disorder(out.iter().map(|e| e.hashval)) {
        findings.push(DirFinding::HashOrder { index, hash });
    }
    out
}

/// The `n` leaf entries starting at byte `at` of `buf` (fewer when the buffer ends first).
pub fn read_leaf_entries(buf: &[u8], at: usize, n: usize) -> Vec<LeafEntry> {
    let mut out = Vec::with_capacity(n.min(buf.len() / XFS_DIR2_LEAF_ENTRY_SIZE));
    for i in 0..n {
        let Some(e) = LeafEntry::parse(
            buf,
            at.saturating_add(i.saturating_mul(XFS_DIR2_LEAF_ENTRY_SIZE)),
        ) else {
            break;
        };
        out.push(e);
    }
    out
}

/// The first `n` entries of a leaf1 or leafn block (after its header; fewer when the block
/// ends first).
pub fn leaf_ents(b: &[u8], v5: bool, n: usize) -> Vec<LeafEntry> {
    read_leaf_entries(b, dir_hdr_size(v5), n)
}

/// A leaf block: `leaf1` (leaf format, with bests and tail) or `leafn` (node format).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LeafBlock {
    /// Logical directory block number.
    pub dblock: u32,
    /// `info`: the da block header.
    pub info: DaBlkinfo,
    /// The block is a `leaf1` block (else `leafn`).
    pub is_leaf1: bool,
    /// `count`: number of leaf entries.
    pub count: u16,
    /// `stale`: number of stale leaf entries.
    pub stale: u16,
    /// v5 `pad`.
    pub pad: u32,
    /// `ents`: the entries that fit, at most `count`.
    pub ents: Vec<LeafEntry>,
    /// leaf1: `struct xfs_dir2_leaf_tail`.
    pub bestcount: Option<u32>,
    /// leaf1: best free length per data block.
    pub bests: Vec<u16>,
    /// The header checks.
    pub checks: DirChecks,
    /// What is wrong with the block.
    pub findings: Vec<DirFinding>,
}

impl LeafBlock {
    /// The fields `xfs_db print` shows, one per line.
    pub fn fields(&self) -> Vec<DbField> {
        let mut out = blkinfo_fields(&self.info, "lhdr.info.", self.checks.crc);
        out.push(DbField::new("lhdr.", Field::dec("count", self.count, 16)));
        out.push(DbField::new("lhdr.", Field::dec("stale", self.stale, 16)));
        let bests = self.bests.iter().map(|&b| u64::from(b)).collect();
        out.extend(array_field("lbests", bests, 16, Null::Plain));
        for (i, l) in self.ents.iter().enumerate() {
            let p = format!("lents[{i}].");
            for f in l.fields() {
                out.push(DbField::new(&p, f));
            }
        }
        if let Some(bc) = self.bestcount {
            out.push(DbField::new("ltail.", Field::dec("bestcount", bc, 32)));
        }
        out
    }

    /// The block as `xfs_db -c 'dblock N' -c print` prints it.
    pub fn render_xfs_db(&self) -> String {
        render_db_fields(&self.fields())
    }
}

pub(crate) fn parse_leaf_block(buf: &[u8], ctx: &BlockCtx, magic: u16) -> LeafBlock {
    let v5 = matches!(magic, XFS_DIR3_LEAF1_MAGIC | XFS_DIR3_LEAFN_MAGIC);
    let is_leaf1 = matches!(magic, XFS_DIR2_LEAF1_MAGIC | XFS_DIR3_LEAF1_MAGIC);
    let hdr_len = dir_hdr_size(v5);
    let mut findings = Vec::new();
    let hdr = da_hdr_or_empty(LeafHdr::parse(buf, v5), magic, |h| &mut h.info);
    let mut blk = LeafBlock {
        dblock: ctx.dblock,
        info: hdr.info,
        is_leaf1,
        count: hdr.count,
        stale: hdr.stale,
        pad: hdr.pad,
        ents: Vec::new(),
        bestcount: None,
        bests: Vec::new(),
        checks: empty_checks(),
        findings: Vec::new(),
    };
    if let Some(f) = short_header("leaf block header", buf, hdr_len) {
        blk.findings = vec![f];
        return blk;
    }
    let end = buf.len();
    let mut ents_end = end;
    if is_leaf1 {
        let tail_at = end.saturating_sub(XFS_DIR2_LEAF_TAIL_SIZE);
        let bc = Leaf1Tail::parse(buf, buf.len()).bestcount;
        blk.bestcount = Some(bc);
        let room = tail_at.saturating_sub(hdr_len) / 2;
        let n = usize::try_from(bc).unwrap_or(usize::MAX);
        if n > room {
            findings.push(DirFinding::CountTooLarge {
                what: "leaf bests",
                count: bc.into(),
                max: room as u64,
            });
        } else {
            let bests_at = tail_at.saturating_sub(n.saturating_mul(2));
            blk.bests = (0..n)
                .filter_map(|i| be_u16(buf, bests_at.saturating_add(i.saturating_mul(2))))
                .collect();
            ents_end = bests_at;
        }
        if n <= room {
            ents_end = ents_end.min(tail_at);
        } else {
            ents_end = tail_at;
        }
    }
    let room = ents_end.saturating_sub(hdr_len) / 8;
    let n = usize::from(blk.count);
    if n > room {
        findings.push(DirFinding::CountTooLarge {
            what: "leaf entries",
            count: n as u64,
            max: room as u64,
        });
    }
    if blk.stale > blk.count {
        findings.push(DirFinding::StaleTooLarge {
            what: "leaf header",
            stale: blk.stale.into(),
            count: blk.count.into(),
        });
    }
    blk.ents = leaf_entries(buf, hdr_len, n.min(room), &mut findings);
    blk.findings = findings;
    blk
}
