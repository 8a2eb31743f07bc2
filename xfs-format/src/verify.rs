//! The one verifier of the v5 self-describing metadata header.
//!
//! Every v5 metadata block starts (or, for da-btree blocks, nearly starts) with the same
//! facts about itself: a magic number, a CRC32c of the block, the block's own disk address
//! (`blkno`, in 512-byte sectors), the filesystem's metadata uuid, an owner (AG number or
//! inode number) and the LSN of its last write. Only the offsets differ from structure to
//! structure; [`Layout`] records them once per structure and [`verify`] checks a block
//! against what the caller expects, so that no structure re-implements the check.
//!
//! ```
//! use xfs_format::verify::{self, Expected, Layout};
//! // A v5 short-form btree block (bnobt) that claims to be at sector 8 of AG 0.
//! let mut b = vec![0u8; 512];
//! b[..4].copy_from_slice(b"AB3B");
//! b[16..24].copy_from_slice(&8u64.to_be_bytes());
//! let c = xfs_format::crc::xfs_cksum(&b, 52).unwrap();
//! b[52..56].copy_from_slice(&c.to_le_bytes());
//! let want = Expected { magic: Some(u32::from_be_bytes(*b"AB3B")), blkno: Some(8), uuid: Some([0; 16]), owner: Some(0) };
//! let got = verify::verify(&b, &Layout::SBLOCK, &want);
//! assert!(got.all_ok());
//! ```

use crate::bytes::{be_u16, be_u32, be_u64, put_be64, put_le32};
use crate::crc;
use crate::fields::CrcState;

/// Width of an on-disk integer field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Width {
    /// 16 bits.
    U16,
    /// 32 bits.
    U32,
    /// 64 bits.
    U64,
}

impl Width {
    fn read(self, b: &[u8], off: usize) -> Option<u64> {
        match self {
            Width::U16 => be_u16(b, off).map(u64::from),
            Width::U32 => be_u32(b, off).map(u64::from),
            Width::U64 => be_u64(b, off),
        }
    }
}

/// Where one structure keeps the fields of its self-describing header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// Offset and width of the magic number.
    pub magic: (usize, Width),
    /// Offset of the little-endian CRC32c.
    pub crc: usize,
    /// Offset of the 64-bit `blkno` (daddr of the block itself).
    pub blkno: Option<usize>,
    /// Offset of the 16-byte uuid.
    pub uuid: usize,
    /// Offset and width of the owner.
    pub owner: Option<(usize, Width)>,
    /// Offset of the 64-bit LSN of the last write.
    pub lsn: Option<usize>,
}

impl Layout {
    /// A layout from its offsets: magic, crc, blkno, uuid, owner, lsn.
    const fn new(
        magic: (usize, Width),
        crc: usize,
        blkno: Option<usize>,
        uuid: usize,
        owner: Option<(usize, Width)>,
        lsn: Option<usize>,
    ) -> Layout {
        Layout {
            magic,
            crc,
            blkno,
            uuid,
            owner,
            lsn,
        }
    }

    /// `struct xfs_btree_block` short form (`bb_*`, per-AG btrees).
    #[rustfmt::skip]
    pub const SBLOCK: Layout = Layout::new((0, Width::U32), 52, Some(16), 32, Some((48, Width::U32)), Some(24));
    /// `struct xfs_btree_block` long form (BMBT).
    #[rustfmt::skip]
    pub const LBLOCK: Layout = Layout::new((0, Width::U32), 64, Some(24), 40, Some((56, Width::U64)), Some(32));
    /// `struct xfs_da3_blkinfo` (da node, dir leaf1/leafn, attr leaf).
    #[rustfmt::skip]
    pub const DA3_BLKINFO: Layout = Layout::new((8, Width::U16), 12, Some(16), 32, Some((48, Width::U64)), Some(24));
    /// `struct xfs_dir3_blk_hdr` (dir block, data and free blocks).
    #[rustfmt::skip]
    pub const DIR3_BLK_HDR: Layout = Layout::new((0, Width::U32), 4, Some(8), 24, Some((40, Width::U64)), Some(16));
    /// `struct xfs_attr3_rmt_hdr` (remote attribute value block).
    #[rustfmt::skip]
    pub const ATTR3_RMT_HDR: Layout = Layout::new((0, Width::U32), 12, Some(40), 16, Some((32, Width::U64)), Some(48));
    /// `struct xfs_dsymlink_hdr` (remote symlink block); same shape as the remote
    /// attribute header.
    pub const DSYMLINK_HDR: Layout = Layout::ATTR3_RMT_HDR;
    /// `struct xfs_agfl` (v5).
    #[rustfmt::skip]
    pub const AGFL: Layout = Layout::new((0, Width::U32), 32, None, 8, Some((4, Width::U32)), Some(24));
    /// `struct xfs_agf`.
    #[rustfmt::skip]
    pub const AGF: Layout = Layout::new((0, Width::U32), 216, None, 64, Some((8, Width::U32)), Some(208));
    /// `struct xfs_agi`.
    #[rustfmt::skip]
    pub const AGI: Layout = Layout::new((0, Width::U32), 312, None, 296, Some((8, Width::U32)), Some(320));

    /// `struct xfs_dsb` (v5): magic, `sb_crc`, `sb_lsn`, and as uuid `sb_meta_uuid` when
    /// the filesystem has the meta-uuid feature (`has_meta_uuid`), else `sb_uuid`. The
    /// superblock has neither `blkno` nor owner.
    pub const fn superblock(has_meta_uuid: bool) -> Layout {
        let uuid = if has_meta_uuid { 248 } else { 32 };
        Layout::new((0, Width::U32), 224, None, uuid, None, Some(240))
    }

    /// [`Layout::of_block`], the superblock included ([`Layout::superblock`] with
    /// `has_meta_uuid`).
    pub fn of_block_in(b: &[u8], has_meta_uuid: bool) -> Option<Layout> {
        if be_u32(b, 0)?.to_be_bytes() == *b"XFSB" {
            return Some(Layout::superblock(has_meta_uuid));
        }
        Layout::of_block(b)
    }

    /// The layout of a v5 metadata block, recognized by its magic; `None` for blocks that
    /// are not self-describing (or not v5). The superblock is not listed: its uuid is
    /// `sb_uuid` or `sb_meta_uuid` depending on a feature bit (see [`Layout::of_block_in`]).
    pub fn of_block(b: &[u8]) -> Option<Layout> {
        let m32 = be_u32(b, 0)?.to_be_bytes();
        Some(match &m32 {
            b"XAGF" => Layout::AGF,
            b"XAGI" => Layout::AGI,
            b"XAFL" => Layout::AGFL,
            b"AB3B" | b"AB3C" | b"IAB3" | b"FIB3" | b"RMB3" | b"R3FC" => Layout::SBLOCK,
            b"BMA3" => Layout::LBLOCK,
            b"XDB3" | b"XDD3" | b"XDF3" => Layout::DIR3_BLK_HDR,
            b"XSLM" | b"XARM" => Layout::ATTR3_RMT_HDR,
            _ => match be_u16(b, 8)? {
                0x3df1 | 0x3dff | 0x3ebe | 0x3bee => Layout::DA3_BLKINFO,
                _ => return None,
            },
        })
    }

    /// The LSN the block carries, when its layout has one.
    pub fn read_lsn(&self, b: &[u8]) -> Option<u64> {
        be_u64(b, self.lsn?)
    }

    /// The uuid the block carries.
    pub fn read_uuid(&self, b: &[u8]) -> Option<[u8; 16]> {
        b.get(self.uuid..self.uuid.checked_add(16)?)?
            .try_into()
            .ok()
    }

    /// The magic the block carries.
    pub fn read_magic(&self, b: &[u8]) -> Option<u64> {
        self.magic.1.read(b, self.magic.0)
    }

    /// The owner the block carries.
    pub fn read_owner(&self, b: &[u8]) -> Option<u64> {
        let (o, w) = self.owner?;
        w.read(b, o)
    }

    /// The `blkno` the block carries.
    pub fn read_blkno(&self, b: &[u8]) -> Option<u64> {
        be_u64(b, self.blkno?)
    }

    /// Stores `lsn` as the block's LSN, when its layout has one and `b` holds it.
    pub fn write_lsn(&self, b: &mut [u8], lsn: u64) {
        if let Some(o) = self.lsn {
            put_be64(b, o, lsn);
        }
    }

    /// Recomputes and stores the block's CRC32c over the whole of `b` (as the write
    /// verifiers do); nothing when `b` does not hold the CRC field.
    pub fn write_crc(&self, b: &mut [u8]) {
        if let Some(c) = crc::xfs_cksum(b, self.crc) {
            put_le32(b, self.crc, c);
        }
    }
}

/// What the caller expects of a block; `None` skips that comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Expected {
    /// The magic (read with the layout's width).
    pub magic: Option<u32>,
    /// The block's own address in 512-byte sectors.
    pub blkno: Option<u64>,
    /// `sb_meta_uuid` (or `sb_uuid` without the meta-uuid feature).
    pub uuid: Option<[u8; 16]>,
    /// AG number or inode number.
    pub owner: Option<u64>,
}

/// The outcome of [`verify`], one flag per field, so that a caller can report each the
/// way its own xfs_repair message does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct HeaderChecks {
    /// The magic is the expected one.
    pub magic_ok: bool,
    /// The CRC over the block is right.
    pub crc: CrcState,
    /// `blkno` is the block's address.
    pub blkno_ok: bool,
    /// The uuid is the filesystem's.
    pub uuid_ok: bool,
    /// The owner is the expected one.
    pub owner_ok: bool,
}

impl HeaderChecks {
    /// Every check passed (an unchecked CRC counts as passed).
    pub fn all_ok(&self) -> bool {
        self.magic_ok && self.crc != CrcState::Bad && self.blkno_ok && self.uuid_ok && self.owner_ok
    }
}

/// Checks the self-describing header of `b` (the whole block: the CRC covers all of it).
/// A field that does not fit in `b` fails its check.
pub fn verify(b: &[u8], layout: &Layout, want: &Expected) -> HeaderChecks {
    let cmp = |got: Option<u64>, want: Option<u64>| want.is_none_or(|w| got == Some(w));
    HeaderChecks {
        magic_ok: cmp(layout.read_magic(b), want.magic.map(u64::from)),
        crc: crc::verify(b, layout.crc, true),
        blkno_ok: cmp(layout.read_blkno(b), want.blkno),
        uuid_ok: want.uuid.is_none_or(|u| layout.read_uuid(b) == Some(u)),
        owner_ok: cmp(layout.read_owner(b), want.owner),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_field_is_checked() {
        let mut b = vec![0u8; 4096];
        b[..4].copy_from_slice(b"BMA3");
        b[24..32].copy_from_slice(&77u64.to_be_bytes());
        b[40..56].copy_from_slice(&[7; 16]);
        b[56..64].copy_from_slice(&131u64.to_be_bytes());
        let c = crc::xfs_cksum(&b, 64).unwrap();
        b[64..68].copy_from_slice(&c.to_le_bytes());
        let l = Layout::of_block(&b).unwrap();
        assert_eq!(l, Layout::LBLOCK);
        let want = Expected {
            magic: Some(u32::from_be_bytes(*b"BMA3")),
            blkno: Some(77),
            uuid: Some([7; 16]),
            owner: Some(131),
        };
        assert!(verify(&b, &l, &want).all_ok());
        let bad = verify(
            &b,
            &l,
            &Expected {
                owner: Some(132),
                ..want
            },
        );
        assert!(!bad.owner_ok && bad.blkno_ok && bad.crc == CrcState::Correct);
        b[100] ^= 1;
        assert_eq!(verify(&b, &l, &want).crc, CrcState::Bad);
        assert!(!verify(&b[..30], &l, &want).uuid_ok);
    }

    #[test]
    fn superblock_layout_and_writers() {
        let mut b = vec![0u8; 512];
        b[..4].copy_from_slice(b"XFSB");
        b[32..48].copy_from_slice(&[1; 16]);
        b[248..264].copy_from_slice(&[2; 16]);
        assert!(Layout::of_block(&b).is_none());
        let l = Layout::of_block_in(&b, true).unwrap();
        assert_eq!(l.read_uuid(&b), Some([2; 16]));
        let l4 = Layout::of_block_in(&b, false).unwrap();
        assert_eq!(l4.read_uuid(&b), Some([1; 16]));
        l.write_lsn(&mut b, 0x1_0000_0002);
        l.write_crc(&mut b);
        assert_eq!(l.read_lsn(&b), Some(0x1_0000_0002));
        assert_eq!(crc::verify(&b, l.crc, true), CrcState::Correct);
        let mut short = vec![0u8; 230];
        l.write_lsn(&mut short, 5);
        assert!(short.iter().all(|&x| x == 0));
    }
}
