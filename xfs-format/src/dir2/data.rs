//! Directory data blocks (`struct xfs_dir2_data_hdr` / `xfs_dir3_data_hdr`, libxfs
//! `xfs_dir2_data.c`): entries and unused regions, in data blocks (`XD2D`/`XDD3`) and in
//! the data area of a single-block directory (`XD2B`/`XDB3`, see [`super::block`]).

use serde::Serialize;

use super::{
    block, dir_hdr_size, empty_checks, name_ok, render_db_fields, short_header, BlockCtx,
    BlockTail, DbField, DirChecks, DirFinding, LeafEntry, V5Ident, XFS_DIR2_BLOCK_MAGIC,
    XFS_DIR2_DATA_ALIGN, XFS_DIR2_DATA_FREE_TAG, XFS_DIR3_BLOCK_MAGIC, XFS_DIR3_DATA_MAGIC,
    XFS_DIR3_FT_MAX,
};
use crate::bytes::{be16, be32, be64, be_u16, be_u64};
use crate::fields::{Field, Value};
use crate::sb::Geometry;
use crate::verify::Layout;

/// Offset of `bestfree[0]` in the v4 and v5 data block headers.
const BESTFREE_V4: usize = 4;
const BESTFREE_V5: usize = 48;

/// Size in the data block of an entry with a name of `namelen` bytes:
/// inumber (8), namelen (1), name, ftype (when enabled), tag (2), rounded up to 8.
pub fn data_entsize(namelen: u8, has_ftype: bool) -> usize {
    let raw = 11usize
        .saturating_add(usize::from(namelen))
        .saturating_add(usize::from(has_ftype));
    raw.saturating_add(7) & !7
}

/// The header of a data or block-format block (`xfs_dir2_data_hdr` / `xfs_dir3_data_hdr`),
/// read leniently: fields beyond the buffer read as zero.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct DataHdr {
    /// `magic` (`XD2D`/`XDD3`, `XD2B`/`XDB3`).
    pub magic: u32,
    /// v5: the self-describing fields (`None` on v4 or when they do not fit).
    pub ident: Option<V5Ident>,
    /// `bestfree`: the three largest unused regions.
    pub bestfree: [DataFree; 3],
    /// v5 `pad`.
    pub pad: u32,
}

impl DataHdr {
    /// Decodes the header with the v5 layout when `v5`.
    pub fn parse(b: &[u8], v5: bool) -> DataHdr {
        let bf_at = if v5 { BESTFREE_V5 } else { BESTFREE_V4 };
        let mut bestfree = [DataFree::default(); 3];
        for (i, bf) in bestfree.iter_mut().enumerate() {
            let at = bf_at.saturating_add(i.saturating_mul(4));
            bf.offset = be16(b, at);
            bf.length = be16(b, at.saturating_add(2));
        }
        DataHdr {
            magic: be32(b, 0),
            ident: if v5 {
                V5Ident::read(b, &Layout::DIR3_BLK_HDR)
            } else {
                None
            },
            bestfree,
            pad: if v5 { be32(b, 60) } else { 0 },
        }
    }
}

/// A view of the item (entry or unused region) that starts at byte `off` of a data block,
/// for walks that follow the on-disk lengths themselves (as xfs_repair does). Fields beyond
/// the buffer read as zero.
#[derive(Debug, Clone, Copy)]
pub struct DataItemView<'a> {
    b: &'a [u8],
    off: usize,
}

impl<'a> DataItemView<'a> {
    /// The entry or unused region at byte `off` of block `b`.
    pub fn at(b: &'a [u8], off: usize) -> DataItemView<'a> {
        DataItemView { b, off }
    }

    /// `freetag` (the first 16 bits; [`XFS_DIR2_DATA_FREE_TAG`] for an unused region).
    pub fn freetag(&self) -> u16 {
        be16(self.b, self.off)
    }

    /// The item is an unused region (`xfs_dir2_data_unused`).
    pub fn is_unused(&self) -> bool {
        self.freetag() == XFS_DIR2_DATA_FREE_TAG
    }

    /// `length` of an unused region.
    pub fn length(&self) -> u16 {
        be16(self.b, self.off.saturating_add(2))
    }

    /// The `tag` of an unused region (its last 16 bits, given its `length`).
    pub fn unused_tag(&self) -> u16 {
        be16(
            self.b,
            self.off
                .saturating_add(usize::from(self.length()))
                .saturating_sub(2),
        )
    }

    /// `inumber` of an entry.
    pub fn inumber(&self) -> u64 {
        be64(self.b, self.off)
    }

    /// `namelen` of an entry.
    pub fn namelen(&self) -> u8 {
        self.b.get(self.off.saturating_add(8)).copied().unwrap_or(0)
    }

    /// The name of an entry, `None` when it runs past the buffer.
    pub fn name(&self) -> Option<&'a [u8]> {
        let at = self.off.saturating_add(9);
        self.b
            .get(at..at.saturating_add(usize::from(self.namelen())))
    }

    /// Size of an entry ([`data_entsize`] of its `namelen`).
    pub fn entsize(&self, has_ftype: bool) -> usize {
        data_entsize(self.namelen(), has_ftype)
    }

    /// The `tag` of an entry (its last 16 bits, given its size).
    pub fn entry_tag(&self, has_ftype: bool) -> u16 {
        be16(
            self.b,
            self.off
                .saturating_add(self.entsize(has_ftype))
                .saturating_sub(2),
        )
    }
}

/// `struct xfs_dir2_data_free`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
pub struct DataFree {
    /// `offset`: byte offset of the unused region in the block (0: none).
    pub offset: u16,
    /// `length`: its length in bytes.
    pub length: u16,
}

/// A live entry (`struct xfs_dir2_data_entry`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataEntry {
    /// Byte offset in the block.
    pub pos: u16,
    /// `inumber`: the inode number.
    pub inumber: u64,
    /// `namelen`: name length in bytes.
    pub namelen: u8,
    /// `name`.
    pub name: Vec<u8>,
    /// `ftype`: file type byte (`XFS_DIR3_FT_*`), when the filesystem has them.
    pub ftype: Option<u8>,
    /// `tag`: byte offset of the entry (points back to it).
    pub tag: u16,
}

/// An unused region (`struct xfs_dir2_data_unused`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataUnused {
    /// Byte offset in the block.
    pub pos: u16,
    /// `freetag`: `XFS_DIR2_DATA_FREE_TAG`.
    pub freetag: u16,
    /// `length`: length of the region in bytes.
    pub length: u16,
    /// `tag`: byte offset of the region (points back to it).
    pub tag: u16,
}

/// One item of a data area: an entry or an unused region.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum DataItem {
    /// A live entry.
    Entry(DataEntry),
    /// An unused region.
    Unused(DataUnused),
}

/// A data block (`XD2D`/`XDD3`) or single-block directory (`XD2B`/`XDB3`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DataBlock {
    /// Logical directory block number.
    pub dblock: u32,
    /// `magic`.
    pub magic: u32,
    /// Block format (data, leaf and tail in one block).
    pub is_block: bool,
    /// v5 layout (by magic).
    pub v5: bool,
    /// v5: the self-describing fields (`None` on v4).
    pub ident: Option<V5Ident>,
    /// `bestfree`: the three largest unused regions.
    pub bestfree: [DataFree; 3],
    /// v5 `pad`.
    pub pad: u32,
    /// The entries and unused regions of the data area, in block order.
    pub items: Vec<DataItem>,
    /// Block format: the hash index.
    pub leaf: Vec<LeafEntry>,
    /// Block format: `struct xfs_dir2_block_tail`.
    pub tail: Option<BlockTail>,
    /// The filesystem has ftype bytes in entries.
    pub has_ftype: bool,
    /// The header checks.
    pub checks: DirChecks,
    /// What is wrong with the block.
    pub findings: Vec<DirFinding>,
    /// Raw bytes needed for xfs_db's rendering of unused regions (`filetype` of a v5 free
    /// region is the byte at its tag): (pos of unused region, byte).
    unused_ft: Vec<(u16, u8)>,
}

impl DataBlock {
    /// Live entries.
    pub fn entries(&self) -> impl Iterator<Item = &DataEntry> {
        self.items.iter().filter_map(|i| match i {
            DataItem::Entry(e) => Some(e),
            DataItem::Unused(_) => None,
        })
    }

    /// The fields in `xfs_db print` order (bhdr/bu/bleaf/btail or dhdr/du).
    pub fn fields(&self) -> Vec<DbField> {
        let (h, u) = if self.is_block {
            ("bhdr.", "bu")
        } else {
            ("dhdr.", "du")
        };
        let mut out = Vec::new();
        if let Some(id) = &self.ident {
            let hp = format!("{h}hdr.");
            out.push(DbField::new(&hp, Field::hex("magic", self.magic, 32)));
            for f in id.fields(self.checks.crc) {
                out.push(DbField::new(&hp, f));
            }
        } else {
            out.push(DbField::new(h, Field::hex("magic", self.magic, 32)));
        }
        for (i, bf) in self.bestfree.iter().enumerate() {
            let p = format!("{h}bestfree[{i}].");
            out.push(DbField::new(&p, Field::hex("offset", bf.offset, 16)));
            out.push(DbField::new(&p, Field::hex("length", bf.length, 16)));
        }
        for (i, item) in self.items.iter().enumerate() {
            let p = format!("{u}[{i}].");
            match item {
                DataItem::Entry(e) => {
                    out.push(DbField::new(&p, Field::nullable("inumber", e.inumber, 64)));
                    out.push(DbField::new(&p, Field::dec("namelen", e.namelen, 8)));
                    out.push(DbField::new(
                        &p,
                        Field {
                            name: "name",
                            value: Value::Chars(e.name.clone()),
                        },
                    ));
                    if self.v5 {
                        out.push(DbField::new(
                            &p,
                            Field::dec("filetype", e.ftype.unwrap_or(0), 8),
                        ));
                    }
                    out.push(DbField::new(&p, Field::hex("tag", e.tag, 16)));
                }
                DataItem::Unused(d) => {
                    out.push(DbField::new(&p, Field::hex("freetag", d.freetag, 16)));
                    out.push(DbField::new(&p, Field::hex("length", d.length, 16)));
                    if self.v5 {
                        let ft = self
                            .unused_ft
                            .iter()
                            .find(|(pos, _)| *pos == d.pos)
                            .map_or(0, |(_, b)| *b);
                        out.push(DbField::new(&p, Field::dec("filetype", ft, 8)));
                    }
                    out.push(DbField::new(&p, Field::hex("tag", d.tag, 16)));
                }
            }
        }
        for (i, l) in self.leaf.iter().enumerate() {
            let p = format!("bleaf[{i}].");
            for f in l.fields() {
                out.push(DbField::new(&p, f));
            }
        }
        if let Some(t) = &self.tail {
            out.push(DbField::new("btail.", Field::dec("count", t.count, 32)));
            out.push(DbField::new("btail.", Field::dec("stale", t.stale, 32)));
        }
        out
    }

    /// The block as `xfs_db -c 'dblock N' -c print` prints it.
    pub fn render_xfs_db(&self) -> String {
        render_db_fields(&self.fields())
    }
}

pub(crate) fn parse_data_block(
    buf: &[u8],
    geo: &Geometry,
    ctx: &BlockCtx,
    magic: u32,
) -> DataBlock {
    let v5 = matches!(magic, XFS_DIR3_BLOCK_MAGIC | XFS_DIR3_DATA_MAGIC);
    let is_block = matches!(magic, XFS_DIR2_BLOCK_MAGIC | XFS_DIR3_BLOCK_MAGIC);
    let has_ftype = geo.has_ftype;
    let mut findings = Vec::new();
    let hdr_len = dir_hdr_size(v5);
    let DataHdr {
        ident,
        bestfree,
        pad,
        ..
    } = DataHdr::parse(buf, v5);
    let mut blk = DataBlock {
        dblock: ctx.dblock,
        magic,
        is_block,
        v5,
        ident,
        bestfree,
        pad,
        items: Vec::new(),
        leaf: Vec::new(),
        tail: None,
        has_ftype,
        checks: empty_checks(),
        findings: Vec::new(),
        unused_ft: Vec::new(),
    };
    if let Some(f) = short_header("data block header", buf, hdr_len) {
        blk.findings = vec![f];
        return blk;
    }
    let end = buf.len();
    // Where the entries stop: the leaf of a block-format block, or the block's end.
    let mut data_end = end;
    if is_block {
        let (tail, leaf, leaf_at) = block::parse_block_leaf(buf, hdr_len, &mut findings);
        blk.tail = Some(tail);
        blk.leaf = leaf;
        data_end = leaf_at;
    }
    parse_data_items(buf, hdr_len, data_end, has_ftype, &mut blk, &mut findings);
    check_bestfree(&blk, &mut findings);
    blk.findings = findings;
    blk
}

fn parse_data_items(
    buf: &[u8],
    start: usize,
    data_end: usize,
    has_ftype: bool,
    blk: &mut DataBlock,
    findings: &mut Vec<DirFinding>,
) {
    let mut pos = start;
    // Every item is at least 8 bytes, so this bounds the loop even if a bug slipped in.
    let max_items = (buf.len() / XFS_DIR2_DATA_ALIGN).saturating_add(1);
    for _ in 0..max_items {
        if pos >= data_end {
            break;
        }
        let Ok(pos16) = u16::try_from(pos) else {
            break;
        };
        let truncated = |need| DirFinding::Truncated {
            what: "data entry",
            at: pos,
            need,
            have: data_end.saturating_sub(pos),
        };
        let Some(freetag) = be_u16(buf, pos) else {
            findings.push(truncated(2));
            break;
        };
        if freetag == XFS_DIR2_DATA_FREE_TAG {
            let length = be_u16(buf, pos.saturating_add(2)).unwrap_or(0);
            let len = usize::from(length);
            if len < XFS_DIR2_DATA_ALIGN
                || len % XFS_DIR2_DATA_ALIGN != 0
                || pos.saturating_add(len) > data_end
            {
                findings.push(DirFinding::BadFreeLength { at: pos, length });
                break;
            }
            let tag_at = pos.saturating_add(len).saturating_sub(2);
            let tag = be_u16(buf, tag_at).unwrap_or(0);
            if usize::from(tag) != pos {
                findings.push(DirFinding::BadTag {
                    at: pos,
                    found: tag,
                });
            }
            blk.unused_ft
                .push((pos16, buf.get(tag_at).copied().unwrap_or(0)));
            blk.items.push(DataItem::Unused(DataUnused {
                pos: pos16,
                freetag,
                length,
                tag,
            }));
            pos = pos.saturating_add(len);
        } else {
            let (Some(inumber), Some(namelen)) =
                (be_u64(buf, pos), buf.get(pos.saturating_add(8)).copied())
            else {
                findings.push(truncated(9));
                break;
            };
            if namelen == 0 {
                findings.push(DirFinding::ZeroNameLen { at: pos });
                break;
            }
            let len = data_entsize(namelen, has_ftype);
            if pos.saturating_add(len) > data_end {
                findings.push(DirFinding::EntryOverrun {
                    at: pos,
                    len,
                    end: data_end,
                });
                break;
            }
            let name_at = pos.saturating_add(9);
            let name_end = name_at.saturating_add(usize::from(namelen));
            let name = buf.get(name_at..name_end).unwrap_or_default().to_vec();
            if !name_ok(&name) {
                findings.push(DirFinding::BadName { at: pos });
            }
            let ftype = if has_ftype {
                buf.get(name_end).copied()
            } else {
                None
            };
            if let Some(ft) = ftype.filter(|&f| f >= XFS_DIR3_FT_MAX) {
                findings.push(DirFinding::BadFtype { at: pos, ftype: ft });
            }
            if inumber == 0 || inumber == u64::MAX {
                findings.push(DirFinding::BadInumber { at: pos, inumber });
            }
            let tag = be_u16(buf, pos.saturating_add(len).saturating_sub(2)).unwrap_or(0);
            if usize::from(tag) != pos {
                findings.push(DirFinding::BadTag {
                    at: pos,
                    found: tag,
                });
            }
            blk.items.push(DataItem::Entry(DataEntry {
                pos: pos16,
                inumber,
                namelen,
                name,
                ftype,
                tag,
            }));
            pos = pos.saturating_add(len);
        }
    }
}

/// bestfree entries must each be zero or describe an unused region of this block.
fn check_bestfree(blk: &DataBlock, findings: &mut Vec<DirFinding>) {
    for (index, bf) in blk.bestfree.iter().enumerate() {
        if bf.length == 0 {
            continue;
        }
        let ok = blk.items.iter().any(
            |i| matches!(i, DataItem::Unused(u) if u.pos == bf.offset && u.length == bf.length),
        );
        if !ok {
            findings.push(DirFinding::BadBestFree {
                index,
                offset: bf.offset,
                length: bf.length,
            });
        }
    }
}

/// The bestfree slot describing the unused region at `off` of length `len`
/// (`xfs_dir2_data_freefind_verify`): `Err(())` when the table is inconsistent with the
/// region, `Ok(slot)` otherwise (`None`: not in the table).
fn freefind_verify(bf: &[DataFree; 3], off: usize, len: usize) -> Result<Option<usize>, ()> {
    let mut matched = false;
    let mut seenzero = false;
    let mut prev_len: Option<u16> = None;
    for f in bf {
        let (o, l) = (usize::from(f.offset), usize::from(f.length));
        if o == 0 {
            if l != 0 {
                return Err(());
            }
            seenzero = true;
            prev_len = Some(f.length);
            continue;
        }
        if seenzero {
            return Err(());
        }
        if o == off {
            matched = true;
            if l != len {
                return Err(());
            }
        } else if o > off {
            if off.saturating_add(len) > o {
                return Err(());
            }
        } else if o.saturating_add(l) > off {
            return Err(());
        }
        if !matched && l < len {
            return Err(());
        }
        if prev_len.is_some_and(|p| p < f.length) {
            return Err(());
        }
        prev_len = Some(f.length);
    }
    // xfs_dir2_data_freefind
    if len < usize::from(bf[2].length) {
        return Ok(None);
    }
    for (i, f) in bf.iter().enumerate() {
        if f.offset == 0 {
            return Ok(None);
        }
        if usize::from(f.offset) == off {
            return Ok(Some(i));
        }
    }
    Ok(None)
}

/// The structural check of a data or block-format directory block that libxfs's read
/// verifiers run (`__xfs_dir3_data_check`), after the magic and v5 header: the bestfree
/// table, the chain of entries and unused regions, and for a block-format block its hash
/// index. `dir_ino_ok` is `xfs_verify_dir_ino` (a valid, non-metadata inode number).
/// True when the block passes.
pub fn data_check(b: &[u8], geo: &super::DirGeo, dir_ino_ok: impl Fn(u64) -> bool) -> bool {
    let v5 = geo.has_crc;
    let ftype = geo.has_ftype;
    let bs = geo.blksize as usize;
    let hdr = DataHdr::parse(b, v5);
    let is_block = matches!(hdr.magic, XFS_DIR2_BLOCK_MAGIC | XFS_DIR3_BLOCK_MAGIC);
    let mut offset = dir_hdr_size(v5);
    let tail = BlockTail::parse(b, bs);
    let end = if is_block {
        let max_leaf = bs
            .saturating_sub(block::XFS_DIR2_BLOCK_TAIL_SIZE)
            .saturating_sub(offset)
            / 8;
        if usize::try_from(tail.count).unwrap_or(usize::MAX) >= max_leaf {
            return false;
        }
        tail.leaf_offset(bs)
    } else if matches!(hdr.magic, super::XFS_DIR2_DATA_MAGIC | XFS_DIR3_DATA_MAGIC) {
        bs
    } else {
        return false;
    };
    if end == 0 {
        return false;
    }
    let bf = hdr.bestfree;
    let mut freeseen = 0u32;
    for (i, f) in bf.iter().enumerate() {
        if f.length == 0 {
            if f.offset != 0 {
                return false;
            }
            freeseen |= 1u32 << i;
        }
    }
    if bf[0].length < bf[1].length || bf[1].length < bf[2].length {
        return false;
    }
    let leaf_at = tail.leaf_offset(bs);
    let nleaf = if is_block {
        usize::try_from(tail.count).unwrap_or(0)
    } else {
        0
    };
    let leaf = super::leaf::read_leaf_entries(b, leaf_at, nleaf);
    let mut lastfree = false;
    let mut count = 0usize;
    let mut steps = 0usize;
    while offset < end {
        steps = steps.saturating_add(1);
        if steps > bs {
            return false;
        }
        let it = DataItemView::at(b, offset);
        if it.is_unused() {
            let len = usize::from(it.length());
            if lastfree
                || offset.saturating_add(len) > end
                || usize::from(it.unused_tag()) != offset
            {
                return false;
            }
            let Ok(slot) = freefind_verify(&bf, offset, len) else {
                return false;
            };
            match slot {
                Some(i) => {
                    let bit = 1u32 << i;
                    if freeseen & bit != 0 {
                        return false;
                    }
                    freeseen |= bit;
                }
                None => {
                    if len > usize::from(bf[2].length) {
                        return false;
                    }
                }
            }
            if len == 0 {
                return false;
            }
            offset = offset.saturating_add(len);
            lastfree = true;
            continue;
        }
        let nl = it.namelen();
        if nl == 0 || !dir_ino_ok(it.inumber()) {
            return false;
        }
        let es = it.entsize(ftype);
        if offset.saturating_add(es) > end || usize::from(it.entry_tag(ftype)) != offset {
            return false;
        }
        // (xfs_dir2_data_get_ftype reads a type past XFS_DIR3_FT_MAX as unknown, so the
        // verifier's type check never fails.)
        count = count.saturating_add(1);
        lastfree = false;
        if is_block {
            let addr = geo.dataptr(0, u16::try_from(offset).unwrap_or(u16::MAX));
            let hash = super::da_hashname(it.name().unwrap_or(&[]));
            if !leaf.iter().any(|e| e.address == addr && e.hashval == hash) {
                return false;
            }
        }
        offset = offset.saturating_add(es);
    }
    if freeseen != 7 {
        return false;
    }
    if is_block {
        let stale = leaf.iter().filter(|e| e.address == 0).count();
        let ordered = leaf
            .windows(2)
            .all(|w| matches!(w, [a, c] if a.hashval <= c.hashval));
        let live = u64::from(tail.count).saturating_sub(u64::from(tail.stale));
        if !ordered
            || tail.stale > tail.count
            || count as u64 != live
            || stale != usize::try_from(tail.stale).unwrap_or(usize::MAX)
        {
            return false;
        }
    }
    true
}
