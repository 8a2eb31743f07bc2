//! Free-index blocks of node directories (`struct xfs_dir2_free_hdr` /
//! `xfs_dir3_free_hdr`, libxfs `xfs_dir2_node.c`): the best free length of each data block,
//! at [`super::XFS_DIR2_FREE_OFFSET`] and after.

use serde::Serialize;

use super::{
    array_field, dir_hdr_size, empty_checks, render_db_fields, short_header, BlockCtx, DbField,
    DirChecks, DirFinding, DirGeo, V5Ident, XFS_DIR3_FREE_MAGIC,
};
use crate::bytes::{be16, be32};
use crate::fields::{Field, Null, Radix};
use crate::verify::Layout;

/// Offset of `firstdb` in the v4 and v5 free block headers.
const FIRSTDB_V4: usize = 4;
const FIRSTDB_V5: usize = 48;

/// The header of a free-index block, read leniently (fields beyond the buffer read as
/// zero).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct FreeHdr {
    /// `magic` (`XD2F`/`XDF3`).
    pub magic: u32,
    /// v5: the self-describing fields (`None` on v4 or when they do not fit).
    pub ident: Option<V5Ident>,
    /// First data block this block describes.
    pub firstdb: u32,
    /// Entries of `bests` in use.
    pub nvalid: u32,
    /// Entries of `bests` that are not `NULLDATAOFF`.
    pub nused: u32,
    /// v5 `pad`.
    pub pad: u32,
}

impl FreeHdr {
    /// Decodes the header with the v5 layout when `v5`.
    pub fn parse(b: &[u8], v5: bool) -> FreeHdr {
        let f = if v5 { FIRSTDB_V5 } else { FIRSTDB_V4 };
        FreeHdr {
            magic: be32(b, 0),
            ident: if v5 {
                V5Ident::read(b, &Layout::DIR3_BLK_HDR)
            } else {
                None
            },
            firstdb: be32(b, f),
            nvalid: be32(b, f.saturating_add(4)),
            nused: be32(b, f.saturating_add(8)),
            pad: if v5 { be32(b, 60) } else { 0 },
        }
    }

    /// How many `bests` fit in a block of `blksize` bytes.
    pub fn max_bests(blksize: usize, v5: bool) -> usize {
        blksize.saturating_sub(dir_hdr_size(v5)) / 2
    }
}

/// `bests[i]` of a free-index block (zero when beyond the buffer).
pub fn free_best(b: &[u8], v5: bool, i: usize) -> u16 {
    be16(b, dir_hdr_size(v5).saturating_add(i.saturating_mul(2)))
}

/// A free-index block of a node directory.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FreeBlock {
    /// Logical directory block number.
    pub dblock: u32,
    /// `magic` (`XD2F`/`XDF3`).
    pub magic: u32,
    /// v5: the self-describing fields (`None` on v4).
    pub ident: Option<V5Ident>,
    /// First data block this block describes.
    pub firstdb: i32,
    /// `nvalid`: number of valid `bests` entries.
    pub nvalid: i32,
    /// `nused`: number of `bests` entries that are not holes.
    pub nused: i32,
    /// v5 `pad`.
    pub pad: u32,
    /// Best free length per data block, `0xffff` for a hole.
    pub bests: Vec<u16>,
    /// The header checks.
    pub checks: DirChecks,
    /// What is wrong with the block.
    pub findings: Vec<DirFinding>,
}

impl FreeBlock {
    /// The fields `xfs_db print` shows, one per line.
    pub fn fields(&self) -> Vec<DbField> {
        let mut out = Vec::new();
        let hp = if let Some(id) = &self.ident {
            out.push(DbField::new(
                "fhdr.hdr.",
                Field::hex("magic", self.magic, 32),
            ));
            for f in id.fields(self.checks.crc) {
                out.push(DbField::new("fhdr.hdr.", f));
            }
            "fhdr."
        } else {
            out.push(DbField::new("fhdr.", Field::hex("magic", self.magic, 32)));
            "fhdr."
        };
        let signed =
            |name, v: i32| Field::num(name, u64::from(v as u32), 32, Radix::Signed, Null::Plain);
        out.push(DbField::new(hp, signed("firstdb", self.firstdb)));
        out.push(DbField::new(hp, signed("nvalid", self.nvalid)));
        out.push(DbField::new(hp, signed("nused", self.nused)));
        let bests = self.bests.iter().map(|&b| u64::from(b)).collect();
        out.extend(array_field("fbests", bests, 16, Null::SkipZero));
        out
    }

    /// The block as `xfs_db -c 'dblock N' -c print` prints it.
    pub fn render_xfs_db(&self) -> String {
        render_db_fields(&self.fields())
    }
}

pub(crate) fn parse_free_block(
    buf: &[u8],
    dgeo: Option<&DirGeo>,
    ctx: &BlockCtx,
    magic: u32,
) -> FreeBlock {
    let v5 = magic == XFS_DIR3_FREE_MAGIC;
    let hdr_len = dir_hdr_size(v5);
    let mut findings = Vec::new();
    let h = FreeHdr::parse(buf, v5);
    let mut blk = FreeBlock {
        dblock: ctx.dblock,
        magic,
        ident: h.ident,
        firstdb: h.firstdb as i32,
        nvalid: h.nvalid as i32,
        nused: h.nused as i32,
        pad: h.pad,
        bests: Vec::new(),
        checks: empty_checks(),
        findings: Vec::new(),
    };
    if let Some(f) = short_header("free block header", buf, hdr_len) {
        blk.findings = vec![f];
        return blk;
    }
    let room = FreeHdr::max_bests(buf.len(), v5);
    let n = usize::try_from(blk.nvalid).unwrap_or(0);
    if blk.nvalid < 0 || n > room {
        findings.push(DirFinding::CountTooLarge {
            what: "free bests",
            count: u64::from(blk.nvalid as u32),
            max: room as u64,
        });
    }
    if blk.nused < 0 || blk.nused > blk.nvalid {
        findings.push(DirFinding::BadNused {
            nused: blk.nused.into(),
            nvalid: blk.nvalid.into(),
        });
    }
    if let Some(dg) = dgeo {
        if ctx.dblock >= dg.free_db {
            let expected =
                i64::from(ctx.dblock.saturating_sub(dg.free_db)).saturating_mul(room as i64);
            if i64::from(blk.firstdb) != expected {
                findings.push(DirFinding::BadFirstDb {
                    found: blk.firstdb.into(),
                    expected,
                });
            }
        }
    }
    blk.bests = (0..n.min(room))
        .filter_map(|i| crate::bytes::be_u16(buf, hdr_len.saturating_add(i.saturating_mul(2))))
        .collect();
    blk.findings = findings;
    blk
}
