//! Allocation group headers: AGF (free space), AGI (inodes) and AGFL (free list).
//!
//! Each lives in one sector at the start of its AG (sector 1, 2 and 3). Decoding never fails
//! once the sector is long enough: magic, version, sequence number, uuid and CRC are checked
//! and returned as [`HeaderChecks`], so a damaged header can still be shown.

use std::io::Cursor;

use binrw::BinRead;
use serde::Serialize;

use crate::error::{CorruptKind, Error, Result};
use crate::fields::{CrcState, Field, Null, Radix};
use crate::geometry::Geometry;
pub use crate::geometry::XFS_AGFL_HDR_SIZE;
use crate::verify::{self, Expected, Layout};

/// `XFS_AGF_MAGIC` (`XAGF`).
pub const XFS_AGF_MAGIC: u32 = u32::from_be_bytes(*b"XAGF");
/// `XFS_AGI_MAGIC` (`XAGI`).
pub const XFS_AGI_MAGIC: u32 = u32::from_be_bytes(*b"XAGI");
/// `XFS_AGFL_MAGIC` (`XAFL`).
pub const XFS_AGFL_MAGIC: u32 = u32::from_be_bytes(*b"XAFL");
/// `XFS_AGF_VERSION`: the only `agf_versionnum`.
pub const XFS_AGF_VERSION: u32 = 1;
/// `XFS_AGI_VERSION`: the only `agi_versionnum`.
pub const XFS_AGI_VERSION: u32 = 1;
/// Byte offset of `agf_crc` (`XFS_AGF_CRC_OFF`).
pub const XFS_AGF_CRC_OFF: usize = Layout::AGF.crc;
/// Byte offset of `agi_crc` (`XFS_AGI_CRC_OFF`).
pub const XFS_AGI_CRC_OFF: usize = Layout::AGI.crc;
/// Byte offset of `agfl_crc` (`XFS_AGFL_CRC_OFF`).
pub const XFS_AGFL_CRC_OFF: usize = Layout::AGFL.crc;
/// `XFS_AGI_UNLINKED_BUCKETS`: hash buckets of the unlinked-inode lists.
pub const XFS_AGI_UNLINKED_BUCKETS: usize = 64;
/// `NULLAGBLOCK` / `NULLAGINO`.
pub const NULL_AG: u32 = u32::MAX;

/// Sector index of each header within its AG.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum AgHeader {
    /// The superblock (copy), sector 0.
    Sb = 0,
    /// The AGF, sector 1.
    Agf = 1,
    /// The AGI, sector 2.
    Agi = 2,
    /// The AGFL, sector 3.
    Agfl = 3,
}

impl AgHeader {
    /// Byte offset of this header in AG `agno`.
    pub fn offset(self, geo: &Geometry, agno: u32) -> Option<u64> {
        geo.ag_offset(agno)?
            .checked_add(u64::from(geo.sect_size).checked_mul(self as u64)?)
    }
}

/// The verifications done on a header, as data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HeaderChecks {
    /// The magic number is the structure's.
    pub magic_ok: bool,
    /// Version field is the expected one (AGF/AGI only; always true for the AGFL).
    pub version_ok: bool,
    /// Sequence number equals the AG number.
    pub seqno_ok: bool,
    /// uuid equals the filesystem's metadata uuid (v5; true on v4).
    pub uuid_ok: bool,
    /// The CRC32c over the sector (v5), `Unchecked` on v4.
    pub crc: CrcState,
}

impl HeaderChecks {
    /// The checks of an AG header: magic, `seqno` (the header's owner) and, on v5, uuid and
    /// CRC, through [`verify::verify`]; `version_ok` is the caller's.
    fn of(
        sector: &[u8],
        layout: &Layout,
        magic: u32,
        agno: u32,
        geo: &Geometry,
        version_ok: bool,
    ) -> Self {
        let v = verify::verify(
            sector,
            layout,
            &Expected {
                magic: Some(magic),
                blkno: None,
                uuid: geo.has_crc.then_some(geo.meta_uuid),
                owner: Some(agno.into()),
            },
        );
        HeaderChecks {
            magic_ok: v.magic_ok,
            version_ok,
            seqno_ok: v.owner_ok,
            uuid_ok: v.uuid_ok,
            crc: if geo.has_crc {
                v.crc
            } else {
                CrcState::Unchecked
            },
        }
    }

    /// Every check passed (an unchecked CRC counts as passed).
    pub fn all_ok(&self) -> bool {
        self.magic_ok
            && self.version_ok
            && self.seqno_ok
            && self.uuid_ok
            && self.crc != CrcState::Bad
    }
}

fn short(what: &'static str, need: usize, have: usize, offset: u64) -> Error {
    Error::Corrupt {
        offset,
        kind: CorruptKind::Short { what, need, have },
    }
}

/// `struct xfs_agf`.
#[derive(BinRead, Debug, Clone, PartialEq, Eq, Serialize)]
#[br(big)]
pub struct RawAgf {
    /// `agf_magicnum`: [`XFS_AGF_MAGIC`].
    pub agf_magicnum: u32,
    /// `agf_versionnum`: [`XFS_AGF_VERSION`].
    pub agf_versionnum: u32,
    /// `agf_seqno`: the AG number.
    pub agf_seqno: u32,
    /// `agf_length`: size of this AG in blocks.
    pub agf_length: u32,
    /// `agf_bno_root` (`agf_roots[XFS_BTNUM_BNO]`): root block of the by-block free-space btree.
    pub agf_bno_root: u32,
    /// `agf_cnt_root`: root block of the by-size free-space btree.
    pub agf_cnt_root: u32,
    /// `agf_rmap_root`: root block of the reverse-mapping btree (rmapbt).
    pub agf_rmap_root: u32,
    /// `agf_bno_level` (`agf_levels[]`): levels of the bnobt.
    pub agf_bno_level: u32,
    /// `agf_cnt_level`: levels of the cntbt.
    pub agf_cnt_level: u32,
    /// `agf_rmap_level`: levels of the rmapbt.
    pub agf_rmap_level: u32,
    /// `agf_flfirst`: AGFL slot of the first free-list block.
    pub agf_flfirst: u32,
    /// `agf_fllast`: AGFL slot of the last free-list block.
    pub agf_fllast: u32,
    /// `agf_flcount`: blocks on the free list.
    pub agf_flcount: u32,
    /// `agf_freeblks`: free blocks in the AG.
    pub agf_freeblks: u32,
    /// `agf_longest`: longest free extent, in blocks.
    pub agf_longest: u32,
    /// `agf_btreeblks`: blocks held by the free-space btrees (and rmapbt) beyond their roots.
    pub agf_btreeblks: u32,
    /// `agf_uuid`: the filesystem's metadata uuid (v5).
    pub agf_uuid: [u8; 16],
    /// `agf_rmap_blocks`: blocks of the rmapbt.
    pub agf_rmap_blocks: u32,
    /// `agf_refcount_blocks`: blocks of the refcount btree.
    pub agf_refcount_blocks: u32,
    /// `agf_refcount_root`: root block of the refcount btree.
    pub agf_refcount_root: u32,
    /// `agf_refcount_level`: levels of the refcount btree.
    pub agf_refcount_level: u32,
    /// `agf_spare64`: reserved, zero.
    pub agf_spare64: [u64; 14],
    /// `agf_lsn`: LSN of the last write (v5).
    pub agf_lsn: u64,
    /// Big-endian reading of the stored (little-endian) checksum, as xfs_db prints it.
    pub agf_crc: u32,
    /// `agf_spare2`: padding.
    pub agf_spare2: u32,
}

/// A decoded AGF or AGI ([`Agf`], [`Agi`]) with its checks.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AgHeaderBlock<R> {
    /// The AG the header was read for.
    pub agno: u32,
    /// The header, field for field.
    pub raw: R,
    /// What was verified.
    pub checks: HeaderChecks,
}

/// A decoded AGF with its checks.
pub type Agf = AgHeaderBlock<RawAgf>;
/// A decoded AGI with its checks.
pub type Agi = AgHeaderBlock<RawAgi>;

/// What tells the AGF and the AGI apart when they are decoded and checked.
pub trait RawAgHeader: Sized {
    /// The header's name in errors.
    const NAME: &'static str;
    /// Bytes of the header (`sizeof(struct xfs_agf)`, ...).
    const SIZE: usize;
    /// Its magic number.
    const MAGIC: u32;
    /// Its only version number.
    const VERSION: u32;
    /// Where its self-describing fields are.
    const LAYOUT: Layout;
    /// The header's version field.
    fn versionnum(&self) -> u32;
    /// Decodes the header from the start of its sector; `None` when the sector is short.
    fn read_sector(sector: &[u8]) -> Option<Self>;
}

/// Implements [`RawAgHeader`]: type, name, size in bytes, magic, version, [`Layout`], version field.
macro_rules! raw_ag_header {
    ($raw:ty, $name:literal, $size:literal, $magic:ident, $version:ident, $layout:ident, $vfield:ident) => {
        impl RawAgHeader for $raw {
            const NAME: &'static str = $name;
            const SIZE: usize = $size;
            const MAGIC: u32 = $magic;
            const VERSION: u32 = $version;
            const LAYOUT: Layout = Layout::$layout;
            fn versionnum(&self) -> u32 {
                self.$vfield
            }
            fn read_sector(sector: &[u8]) -> Option<Self> {
                Self::read(&mut Cursor::new(sector)).ok()
            }
        }
    };
}

raw_ag_header! { RawAgf, "AGF", 224, XFS_AGF_MAGIC, XFS_AGF_VERSION, AGF, agf_versionnum }
raw_ag_header! { RawAgi, "AGI", 344, XFS_AGI_MAGIC, XFS_AGI_VERSION, AGI, agi_versionnum }

impl<R: RawAgHeader> AgHeaderBlock<R> {
    /// Bytes of the header.
    pub const SIZE: usize = R::SIZE;

    /// Decodes the header of AG `agno` from its sector.
    pub fn parse(sector: &[u8], agno: u32, geo: &Geometry, offset: u64) -> Result<Self> {
        let raw =
            R::read_sector(sector).ok_or_else(|| short(R::NAME, R::SIZE, sector.len(), offset))?;
        let version_ok = raw.versionnum() == R::VERSION;
        let checks = HeaderChecks::of(sector, &R::LAYOUT, R::MAGIC, agno, geo, version_ok);
        Ok(AgHeaderBlock { agno, raw, checks })
    }
}

impl Agf {
    /// Every field in `xfs_db print` order.
    pub fn fields(&self) -> Vec<Field> {
        let r = &self.raw;
        let nz = |name, v: u32| Field::num(name, v.into(), 32, Radix::Dec, Null::NullSkipZero);
        vec![
            Field::hex("magicnum", r.agf_magicnum, 32),
            Field::dec("versionnum", r.agf_versionnum, 32),
            Field::nullable("seqno", r.agf_seqno, 32),
            Field::nullable("length", r.agf_length, 32),
            Field::nullable("bnoroot", r.agf_bno_root, 32),
            Field::nullable("cntroot", r.agf_cnt_root, 32),
            nz("rmaproot", r.agf_rmap_root),
            nz("refcntroot", r.agf_refcount_root),
            Field::dec("bnolevel", r.agf_bno_level, 32),
            Field::dec("cntlevel", r.agf_cnt_level, 32),
            Field::dec("rmaplevel", r.agf_rmap_level, 32),
            Field::dec("refcntlevel", r.agf_refcount_level, 32),
            Field::dec("rmapblocks", r.agf_rmap_blocks, 32),
            Field::dec("refcntblocks", r.agf_refcount_blocks, 32),
            Field::dec("flfirst", r.agf_flfirst, 32),
            Field::dec("fllast", r.agf_fllast, 32),
            Field::dec("flcount", r.agf_flcount, 32),
            Field::dec("freeblks", r.agf_freeblks, 32),
            Field::dec("longest", r.agf_longest, 32),
            Field::dec("btreeblks", r.agf_btreeblks, 32),
            Field::uuid("uuid", r.agf_uuid),
            Field::hex("lsn", r.agf_lsn, 64),
            Field::crc("crc", r.agf_crc, self.checks.crc),
        ]
    }
}

/// `struct xfs_agi`.
#[derive(BinRead, Debug, Clone, PartialEq, Eq)]
#[br(big)]
pub struct RawAgi {
    /// `agi_magicnum`: [`XFS_AGI_MAGIC`].
    pub agi_magicnum: u32,
    /// `agi_versionnum`: [`XFS_AGI_VERSION`].
    pub agi_versionnum: u32,
    /// `agi_seqno`: the AG number.
    pub agi_seqno: u32,
    /// `agi_length`: size of this AG in blocks.
    pub agi_length: u32,
    /// `agi_count`: allocated inodes in the AG.
    pub agi_count: u32,
    /// `agi_root`: root block of the inode btree.
    pub agi_root: u32,
    /// `agi_level`: levels of the inode btree.
    pub agi_level: u32,
    /// `agi_freecount`: free inodes among the allocated ones.
    pub agi_freecount: u32,
    /// `agi_newino`: AG inode number of the most recently allocated chunk.
    pub agi_newino: u32,
    /// `agi_dirino`: unused (`NULLAGINO`).
    pub agi_dirino: u32,
    /// `agi_unlinked`: heads of the unlinked-inode lists, hashed by AG inode number.
    pub agi_unlinked: [u32; XFS_AGI_UNLINKED_BUCKETS],
    /// `agi_uuid`: the filesystem's metadata uuid (v5).
    pub agi_uuid: [u8; 16],
    /// `agi_crc`: big-endian reading of the stored (little-endian) checksum.
    pub agi_crc: u32,
    /// `agi_pad32`: padding.
    pub agi_pad32: u32,
    /// `agi_lsn`: LSN of the last write (v5).
    pub agi_lsn: u64,
    /// `agi_free_root`: root block of the free inode btree (finobt).
    pub agi_free_root: u32,
    /// `agi_free_level`: levels of the finobt.
    pub agi_free_level: u32,
    /// `agi_iblocks`: blocks of the inode btree (inobtcount).
    pub agi_iblocks: u32,
    /// `agi_fblocks`: blocks of the finobt (inobtcount).
    pub agi_fblocks: u32,
}

impl Agi {
    /// The unlinked-list buckets that are in use: (bucket, first agino).
    pub fn unlinked_heads(&self) -> impl Iterator<Item = (usize, u32)> + '_ {
        self.raw
            .agi_unlinked
            .iter()
            .copied()
            .enumerate()
            .filter(|(_, v)| *v != NULL_AG)
    }

    /// Every field in `xfs_db print` order.
    pub fn fields(&self) -> Vec<Field> {
        let r = &self.raw;
        vec![
            Field::hex("magicnum", r.agi_magicnum, 32),
            Field::dec("versionnum", r.agi_versionnum, 32),
            Field::nullable("seqno", r.agi_seqno, 32),
            Field::nullable("length", r.agi_length, 32),
            Field::nullable("count", r.agi_count, 32),
            Field::nullable("root", r.agi_root, 32),
            Field::dec("level", r.agi_level, 32),
            Field::nullable("freecount", r.agi_freecount, 32),
            Field::nullable("newino", r.agi_newino, 32),
            Field::nullable("dirino", r.agi_dirino, 32),
            ag_array("unlinked", &r.agi_unlinked, Null::SkipNull),
            Field::uuid("uuid", r.agi_uuid),
            Field::crc("crc", r.agi_crc, self.checks.crc),
            Field::hex("lsn", r.agi_lsn, 64),
            Field::nullable("free_root", r.agi_free_root, 32),
            Field::dec("free_level", r.agi_free_level, 32),
            Field::dec("ino_blocks", r.agi_iblocks, 32),
            Field::dec("fino_blocks", r.agi_fblocks, 32),
        ]
    }
}

/// The v5 AGFL header (`struct xfs_agfl`); v4 AGFLs have no header.
#[derive(BinRead, Debug, Clone, PartialEq, Eq, Serialize)]
#[br(big)]
pub struct RawAgflHdr {
    /// `agfl_magicnum`: [`XFS_AGFL_MAGIC`].
    pub agfl_magicnum: u32,
    /// `agfl_seqno`: the AG number.
    pub agfl_seqno: u32,
    /// `agfl_uuid`: the filesystem's metadata uuid.
    pub agfl_uuid: [u8; 16],
    /// `agfl_lsn`: LSN of the last write.
    pub agfl_lsn: u64,
    /// `agfl_crc`: big-endian reading of the stored (little-endian) checksum.
    pub agfl_crc: u32,
}

/// A decoded AGFL: the header (v5) and every slot of the block array.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Agfl {
    /// The AG the AGFL was read for.
    pub agno: u32,
    /// The v5 header; `None` on v4, whose AGFL is only the block array.
    pub hdr: Option<RawAgflHdr>,
    /// All slots, used or not (`NULL_AG` or garbage outside flfirst..fllast).
    pub bno: Vec<u32>,
    /// What was verified (all true and `Unchecked` on v4).
    pub checks: HeaderChecks,
}

impl Agfl {
    /// Decodes the AGFL of AG `agno` from its sector.
    pub fn parse(sector: &[u8], agno: u32, geo: &Geometry, offset: u64) -> Result<Agfl> {
        let slots = geo.agfl_size() as usize;
        let hdr_len = if geo.has_crc {
            XFS_AGFL_HDR_SIZE as usize
        } else {
            0
        };
        let need = hdr_len.saturating_add(slots.saturating_mul(4));
        let body = sector
            .get(hdr_len..need)
            .ok_or_else(|| short("AGFL", need, sector.len(), offset))?;
        let bno = body
            .chunks_exact(4)
            .map(|c| <[u8; 4]>::try_from(c).map_or(0, u32::from_be_bytes))
            .collect();
        let (hdr, checks) = if geo.has_crc {
            let hdr = RawAgflHdr::read(&mut Cursor::new(sector))
                .map_err(|_| short("AGFL", need, sector.len(), offset))?;
            let checks = HeaderChecks::of(sector, &Layout::AGFL, XFS_AGFL_MAGIC, agno, geo, true);
            (Some(hdr), checks)
        } else {
            let checks = HeaderChecks {
                magic_ok: true,
                version_ok: true,
                seqno_ok: true,
                uuid_ok: true,
                crc: CrcState::Unchecked,
            };
            (None, checks)
        };
        Ok(Agfl {
            agno,
            hdr,
            bno,
            checks,
        })
    }

    /// The blocks on the free list, walking from `flfirst` `flcount` slots with wrap-around
    /// (as the AGF says). Slot indexes past the array are reported, not followed.
    pub fn free_list(&self, agf: &RawAgf) -> Result<Vec<u32>, AgflWalkError> {
        let size = self.bno.len();
        let first = agf.agf_flfirst as usize;
        let count = agf.agf_flcount as usize;
        if size == 0 || first >= size {
            return Err(AgflWalkError::BadFirst(agf.agf_flfirst));
        }
        if count > size {
            return Err(AgflWalkError::BadCount(agf.agf_flcount));
        }
        Ok((0..count)
            .filter_map(|i| {
                first
                    .wrapping_add(i)
                    .checked_rem(size)
                    .and_then(|s| self.bno.get(s))
                    .copied()
            })
            .collect())
    }

    /// Every field in `xfs_db print` order.
    pub fn fields(&self) -> Vec<Field> {
        let mut f = Vec::new();
        if let Some(h) = &self.hdr {
            f.push(Field::hex("magicnum", h.agfl_magicnum, 32));
            f.push(Field::nullable("seqno", h.agfl_seqno, 32));
            f.push(Field::uuid("uuid", h.agfl_uuid));
            f.push(Field::hex("lsn", h.agfl_lsn, 64));
            f.push(Field::crc("crc", h.agfl_crc, self.checks.crc));
        }
        f.push(ag_array("bno", &self.bno, Null::NullSkipZero));
        f
    }
}

/// An array of 32-bit AG block or inode numbers, printed in decimal from index 0.
fn ag_array(name: &'static str, v: &[u32], null: Null) -> Field {
    let values = v.iter().copied().map(u64::from).collect();
    Field::array(name, values, 32, Radix::Dec, null, 0)
}

/// Why the AGFL could not be walked.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AgflWalkError {
    #[error("agf_flfirst {0} is outside the AGFL")]
    /// `agf_flfirst` is not a slot of the AGFL.
    BadFirst(u32),
    #[error("agf_flcount {0} is larger than the AGFL")]
    /// `agf_flcount` is more than the AGFL holds.
    BadCount(u32),
}
