//! Deleted entries still recorded in directory data blocks (data blocks `XD2D`/`XDD3` and the
//! data area of single-block directories `XD2B`/`XDB3`), for forensics.
//!
//! Removing an entry turns its bytes into an unused region: only the first four bytes
//! (`freetag` 0xffff and `length`, the high half of the 64-bit inode number) and the last
//! two (the region's `tag`) are written, or nothing at all but the tag when the region is
//! merged into an unused region before it. Name, `namelen`, `ftype` and the low 32 bits of
//! the inode number stay until a new entry is written there. An unused region can hold
//! several such entries back to back, and stale bytes of regions reused in part.
//!
//! A candidate at an 8-byte aligned offset of an unused region is an entry when its
//! `namelen` is not zero, the whole entry fits in the region, the name has no `/` or NUL
//! and is not `.` or `..`, the `ftype` is a known one, its `tag` still points at it (or
//! lies where the region's own tag was written), and the inode number is one the caller
//! accepts. Where the high half was overwritten it is taken as zero (inode numbers below
//! 2^32), and [`StaleEntry::high_known`] says so.

use serde::Serialize;

use super::data::{data_entsize, DataItemView};
use super::{
    block, dir_hdr_size, name_ok, V5Ident, XFS_DIR2_BLOCK_MAGIC, XFS_DIR2_DATA_ALIGN,
    XFS_DIR2_DATA_MAGIC, XFS_DIR3_BLOCK_MAGIC, XFS_DIR3_DATA_MAGIC, XFS_DIR3_FT_MAX,
};
use crate::bytes::{be16, be32, be64};
use crate::verify::Layout;

/// `XFS_DIR3_FT_DIR`: the `ftype` of a directory.
pub const XFS_DIR3_FT_DIR: u8 = 2;

/// An entry recovered from a directory data block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StaleEntry {
    /// Byte offset in the block.
    pub pos: u16,
    /// The name.
    pub name: Vec<u8>,
    /// The inode number (the low 32 bits only, high half taken as 0, unless `high_known`).
    pub inumber: u64,
    /// All 64 bits of the inode number were still there.
    pub high_known: bool,
    /// `ftype`, when the filesystem has them.
    pub ftype: Option<u8>,
    /// The entry's own `tag` still points at it.
    pub tag_ok: bool,
    /// A live entry (of a block that is itself no longer in use), not one in an unused
    /// region.
    pub live: bool,
}

/// What a scan of one directory data block found.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct DataScan {
    /// The block has a data or block-format magic.
    pub is_data: bool,
    /// Block format (`XD2B`/`XDB3`).
    pub is_block: bool,
    /// v5: the self-describing header (owner, blkno, lsn).
    pub ident: Option<V5Ident>,
    /// Live entries, in block order.
    pub live: Vec<StaleEntry>,
    /// Entries found in unused regions, in block order.
    pub stale: Vec<StaleEntry>,
}

/// Whether `b` starts with a directory data or block-format magic.
pub fn is_data_magic(b: &[u8]) -> bool {
    matches!(
        be32(b, 0),
        XFS_DIR2_BLOCK_MAGIC | XFS_DIR2_DATA_MAGIC | XFS_DIR3_BLOCK_MAGIC | XFS_DIR3_DATA_MAGIC
    )
}

/// Scans the directory data block `b` (one directory block) for live entries and for
/// entries left in its unused regions. `valid_ino` decides whether a number is an inode
/// number of the filesystem. Not a data block: an empty scan.
pub fn scan_data_block(b: &[u8], has_ftype: bool, valid_ino: &dyn Fn(u64) -> bool) -> DataScan {
    let magic = be32(b, 0);
    let (v5, is_block) = match magic {
        XFS_DIR2_BLOCK_MAGIC => (false, true),
        XFS_DIR3_BLOCK_MAGIC => (true, true),
        XFS_DIR2_DATA_MAGIC => (false, false),
        XFS_DIR3_DATA_MAGIC => (true, false),
        _ => return DataScan::default(),
    };
    let mut out = DataScan {
        is_data: true,
        is_block,
        ident: if v5 {
            V5Ident::read(b, &Layout::DIR3_BLK_HDR)
        } else {
            None
        },
        ..DataScan::default()
    };
    let start = dir_hdr_size(v5);
    let end = if is_block {
        let mut ignored = Vec::new();
        block::parse_block_leaf(b, start, &mut ignored).2
    } else {
        b.len()
    };
    let mut pos = start;
    let max_items = (b.len() / XFS_DIR2_DATA_ALIGN).saturating_add(1);
    for _ in 0..max_items {
        if pos >= end {
            break;
        }
        let v = DataItemView::at(b, pos);
        if v.is_unused() {
            let len = usize::from(v.length());
            if len < XFS_DIR2_DATA_ALIGN
                || len % XFS_DIR2_DATA_ALIGN != 0
                || pos.saturating_add(len) > end
            {
                // A damaged region: what follows is searched as one region.
                scan_region(b, pos, end, has_ftype, valid_ino, &mut out.stale);
                break;
            }
            scan_region(
                b,
                pos,
                pos.saturating_add(len),
                has_ftype,
                valid_ino,
                &mut out.stale,
            );
            pos = pos.saturating_add(len);
        } else {
            let len = v.entsize(has_ftype);
            let entry = (v.namelen() != 0 && pos.saturating_add(len) <= end)
                .then(|| entry_at(b, pos, end, has_ftype, valid_ino, false))
                .flatten();
            match entry {
                Some(e) => {
                    out.live.push(StaleEntry { live: true, ..e });
                    pos = pos.saturating_add(len);
                }
                None => {
                    scan_region(b, pos, end, has_ftype, valid_ino, &mut out.stale);
                    break;
                }
            }
        }
    }
    out
}

/// Searches the unused region `rs..re` of `b` for entries, back to back where they are.
fn scan_region(
    b: &[u8],
    rs: usize,
    re: usize,
    has_ftype: bool,
    valid_ino: &dyn Fn(u64) -> bool,
    out: &mut Vec<StaleEntry>,
) {
    let mut off = rs;
    // The smallest entry is 16 bytes.
    while off.saturating_add(16) <= re {
        match entry_at(b, off, re, has_ftype, valid_ino, true)
            .filter(|e| e.tag_ok || off.saturating_add(e_size(e, has_ftype)) == re)
        {
            Some(e) => {
                off = off.saturating_add(e_size(&e, has_ftype));
                out.push(e);
            }
            None => off = off.saturating_add(XFS_DIR2_DATA_ALIGN),
        }
    }
}

fn e_size(e: &StaleEntry, has_ftype: bool) -> usize {
    data_entsize(u8::try_from(e.name.len()).unwrap_or(u8::MAX), has_ftype)
}

/// The entry at `off` if it is one (see the module documentation); `stale` allows the high
/// half of the inode number to have been overwritten by a freetag.
fn entry_at(
    b: &[u8],
    off: usize,
    end: usize,
    has_ftype: bool,
    valid_ino: &dyn Fn(u64) -> bool,
    stale: bool,
) -> Option<StaleEntry> {
    let v = DataItemView::at(b, off);
    let namelen = v.namelen();
    if namelen == 0 {
        return None;
    }
    let size = data_entsize(namelen, has_ftype);
    if off.saturating_add(size) > end {
        return None;
    }
    let name = v.name()?;
    if !name_ok(name) || (stale && (name == b"." || name == b"..")) {
        return None;
    }
    let ftype = if has_ftype {
        let at = off.saturating_add(9).saturating_add(usize::from(namelen));
        let ft = b.get(at).copied()?;
        if ft >= XFS_DIR3_FT_MAX {
            return None;
        }
        Some(ft)
    } else {
        None
    };
    let full = be64(b, off);
    let low = u64::from(be32(b, off.saturating_add(4)));
    let (inumber, high_known) = if valid_ino(full) {
        (full, true)
    } else if stale && be16(b, off) == super::XFS_DIR2_DATA_FREE_TAG && valid_ino(low) {
        (low, false)
    } else {
        return None;
    };
    let tag = be16(b, off.saturating_add(size).saturating_sub(2));
    Some(StaleEntry {
        pos: u16::try_from(off).ok()?,
        name: name.to_vec(),
        inumber,
        high_known,
        ftype,
        tag_ok: usize::from(tag) == off,
        live: false,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn put_entry(b: &mut [u8], off: usize, ino: u64, name: &[u8], ft: u8) -> usize {
        let size = data_entsize(name.len() as u8, true);
        b[off..off + 8].copy_from_slice(&ino.to_be_bytes());
        b[off + 8] = name.len() as u8;
        b[off + 9..off + 9 + name.len()].copy_from_slice(name);
        b[off + 9 + name.len()] = ft;
        b[off + size - 2..off + size].copy_from_slice(&(off as u16).to_be_bytes());
        size
    }

    #[test]
    fn freed_entries_in_one_region_are_found_back_to_back() {
        let mut b = vec![0u8; 4096];
        b[0..4].copy_from_slice(&XFS_DIR3_DATA_MAGIC.to_be_bytes());
        let mut off = 64;
        off += put_entry(&mut b, off, 128, b"live", 1);
        let region = off;
        off += put_entry(&mut b, off, 131, b"deleted-one", 1);
        off += put_entry(&mut b, off, 132, b"deleted-two", 2);
        // The freed region covers both entries and the rest of the block.
        let len = 4096 - region;
        b[region..region + 2].copy_from_slice(&0xffffu16.to_be_bytes());
        b[region + 2..region + 4].copy_from_slice(&(len as u16).to_be_bytes());
        b[4094..4096].copy_from_slice(&(region as u16).to_be_bytes());
        assert!(off < 4096);
        let valid = |i: u64| (128..1 << 20).contains(&i);
        let s = scan_data_block(&b, true, &valid);
        assert_eq!(s.live.len(), 1);
        let names: Vec<_> = s
            .stale
            .iter()
            .map(|e| (e.name.clone(), e.inumber))
            .collect();
        assert_eq!(
            names,
            vec![
                (b"deleted-one".to_vec(), 131),
                (b"deleted-two".to_vec(), 132)
            ]
        );
        assert!(!s.stale[0].high_known && s.stale[1].high_known);
        // Garbage never panics.
        for cut in [0, 10, 63, 100, 4095] {
            let _ = scan_data_block(&b[..cut], true, &valid);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_blocks_never_panic(
            mut b in proptest::collection::vec(proptest::prelude::any::<u8>(), 0..4200),
            magic in 0usize..4,
        ) {
            let m = [XFS_DIR3_DATA_MAGIC, XFS_DIR3_BLOCK_MAGIC, XFS_DIR2_DATA_MAGIC, XFS_DIR2_BLOCK_MAGIC][magic];
            if b.len() >= 4 {
                b[0..4].copy_from_slice(&m.to_be_bytes());
            }
            let valid = |i: u64| i > 64 && i < 1 << 40;
            let s = scan_data_block(&b, true, &valid);
            for e in s.stale.iter().chain(&s.live) {
                proptest::prop_assert!(usize::from(e.pos) < b.len());
            }
        }
    }
}
