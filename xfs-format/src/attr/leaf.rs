//! Attribute leaf blocks (libxfs `xfs_attr_leaf.c`): a da block
//! ([`crate::da_btree::DaBlkinfo`]) with `count`, `usedbytes`, `firstused`, `holes` and a
//! three-entry freemap, then `count` entries (`struct xfs_attr_leaf_entry`: hash, name
//! index, flags) pointing at name/value structures packed from the end of the block
//! (`xfs_attr_leaf_name_local` with the value, `xfs_attr_leaf_name_remote` with the first
//! block of a remote value).

use serde::Serialize;

use super::{
    blkinfo_fields, chars, lines, AttrDaBlock, BlockContext, DaBlkinfo, Finding, Namespace,
    XFS_ATTR_INCOMPLETE, XFS_ATTR_LOCAL, XFS_ATTR_ROOT, XFS_ATTR_SECURE,
};
use crate::bytes::{be16, be32, be_u16, be_u32};
use crate::da_btree::{blkinfo_size, da_hashname, hashed_rows, struct_array};
use crate::fields::Field;

/// `sizeof(struct xfs_attr_leaf_hdr)` / `sizeof(struct xfs_attr3_leaf_hdr)`.
pub const ATTR_LEAF_HDR_SIZE: usize = 32;
/// `sizeof(struct xfs_attr3_leaf_hdr)`.
pub const ATTR3_LEAF_HDR_SIZE: usize = 80;
/// `sizeof(struct xfs_attr_leaf_entry)`.
pub const LEAF_ENTRY_SIZE: usize = 8;

/// Size of the leaf header, where the entries start.
pub fn leaf_hdr_size(v5: bool) -> usize {
    if v5 {
        ATTR3_LEAF_HDR_SIZE
    } else {
        ATTR_LEAF_HDR_SIZE
    }
}

/// Rounds up to a multiple of 4 (`XFS_ATTR_LEAF_NAME_ALIGN`).
fn round4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// `struct xfs_attr_leaf_hdr` / `struct xfs_attr3_leaf_hdr`.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LeafHdr {
    /// `info`: the da block header (v4 `xfs_da_blkinfo` or v5 `xfs_da3_blkinfo`).
    pub info: DaBlkinfo,
    /// `count`: number of entries.
    pub count: u16,
    /// `usedbytes`: bytes used by the name/value structures.
    pub usedbytes: u16,
    /// `firstused`: byte offset of the lowest name/value structure (0 on v5 means 64 KiB).
    pub firstused: u16,
    /// `holes`: non-zero when the name area may have holes.
    pub holes: u8,
    /// `pad1`.
    pub pad1: u8,
    /// `(base, size)` of the three largest free regions.
    pub freemap: [(u16, u16); 3],
}

impl LeafHdr {
    /// Decodes the header (v5 layout when `v5`); `None` when it does not fit.
    pub fn parse(b: &[u8], v5: bool) -> Option<LeafHdr> {
        let base = blkinfo_size(v5);
        let at = |o: usize| base.saturating_add(o);
        let fm = |i: usize| -> Option<(u16, u16)> {
            let o = at(8usize.saturating_add(i.saturating_mul(4)));
            Some((be_u16(b, o)?, be_u16(b, o.saturating_add(2))?))
        };
        Some(LeafHdr {
            info: DaBlkinfo::parse(b, v5)?,
            count: be_u16(b, at(0))?,
            usedbytes: be_u16(b, at(2))?,
            firstused: be_u16(b, at(4))?,
            holes: *b.get(at(6))?,
            pad1: *b.get(at(7))?,
            freemap: [fm(0)?, fm(1)?, fm(2)?],
        })
    }

    /// `firstused` in bytes: 0 on v5 stands for a 64 KiB block
    /// (`XFS_ATTR3_LEAF_NULLOFF`), i.e. the block size.
    pub fn firstused_bytes(&self, v5: bool, blksize: usize) -> usize {
        if v5 && self.firstused == 0 {
            blksize
        } else {
            usize::from(self.firstused)
        }
    }
}

/// The fixed part of the name structure an entry points at, read without requiring the
/// name and value to fit in the block (fields beyond it read as zero), for checks that
/// follow the on-disk lengths themselves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct LeafNameHdr {
    /// The name structure is `xfs_attr_leaf_name_local`.
    pub local: bool,
    /// Remote: the first logical block of the value (0 for local names).
    pub valueblk: u32,
    /// `valuelen`: value length in bytes.
    pub valuelen: u32,
    /// `namelen`: name length in bytes.
    pub namelen: u8,
    /// Offset of the name structure in the block.
    pub nameidx: usize,
}

impl LeafNameHdr {
    /// The name structure at `nameidx` of `b`.
    pub fn at(b: &[u8], nameidx: usize, local: bool) -> LeafNameHdr {
        if local {
            LeafNameHdr {
                local,
                valueblk: 0,
                valuelen: u32::from(be16(b, nameidx)),
                namelen: b.get(nameidx.saturating_add(2)).copied().unwrap_or(0),
                nameidx,
            }
        } else {
            LeafNameHdr {
                local,
                valueblk: be32(b, nameidx),
                valuelen: be32(b, nameidx.saturating_add(4)),
                namelen: b.get(nameidx.saturating_add(8)).copied().unwrap_or(0),
                nameidx,
            }
        }
    }

    /// The name bytes, as far as they lie in `b`.
    pub fn name<'a>(&self, b: &'a [u8]) -> &'a [u8] {
        let at = self.nameidx.saturating_add(if self.local { 3 } else { 9 });
        b.get(at..at.saturating_add(usize::from(self.namelen)))
            .unwrap_or(&[])
    }

    /// Bytes the structure takes in the block (`xfs_attr_leaf_entsize_local` /
    /// `xfs_attr_leaf_entsize_remote`).
    pub fn entsize(&self) -> usize {
        let n = usize::from(self.namelen);
        if self.local {
            round4(
                3usize
                    .saturating_add(n)
                    .saturating_add(usize::try_from(self.valuelen).unwrap_or(usize::MAX)),
            )
        } else {
            round4(11usize.saturating_add(n))
        }
    }
}

/// The name/value structure an entry points at.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum LeafName {
    /// `struct xfs_attr_leaf_name_local`.
    Local {
        /// `valuelen`: value length in bytes.
        valuelen: u16,
        /// `namelen`: name length in bytes.
        namelen: u8,
        /// `nameval[..namelen]`: the name.
        name: Vec<u8>,
        /// The value bytes after the name.
        value: Vec<u8>,
    },
    /// `struct xfs_attr_leaf_name_remote`.
    Remote {
        /// `valueblk`: first logical block of the value.
        valueblk: u32,
        /// `valuelen`: value length in bytes.
        valuelen: u32,
        /// `namelen`: name length in bytes.
        namelen: u8,
        /// `nameval[..namelen]`: the name.
        name: Vec<u8>,
    },
}

impl LeafName {
    /// The attribute name.
    pub fn name(&self) -> &[u8] {
        match self {
            LeafName::Local { name, .. } | LeafName::Remote { name, .. } => name,
        }
    }
}

/// `struct xfs_attr_leaf_entry` and what it points at (`None` when that lies outside the
/// block; a finding says why).
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize)]
pub struct LeafEntry {
    /// `hashval`: hash of the name ([`da_hashname`]).
    pub hashval: u32,
    /// `nameidx`: byte offset in the block of the name/value structure.
    pub nameidx: u16,
    /// `flags`: `XFS_ATTR_LOCAL`, namespace and `XFS_ATTR_INCOMPLETE` bits.
    pub flags: u8,
    /// `pad2`.
    pub pad2: u8,
    /// The name/value structure at `nameidx`.
    pub name: Option<LeafName>,
}

impl LeafEntry {
    /// The namespace the flags put the entry in.
    pub fn namespace(&self) -> Namespace {
        Namespace::from_flags(self.flags)
    }
    /// The value is stored in the leaf (`XFS_ATTR_LOCAL`).
    pub fn is_local(&self) -> bool {
        self.flags & XFS_ATTR_LOCAL != 0
    }
    /// The attribute is being created or removed (`XFS_ATTR_INCOMPLETE`).
    pub fn is_incomplete(&self) -> bool {
        self.flags & XFS_ATTR_INCOMPLETE != 0
    }
}

/// A decoded attribute leaf block.
pub type LeafBlock = AttrDaBlock<LeafHdr, LeafEntry>;

/// The entry `index` of a leaf block (v5 layout when `v5`), without its name (`name`
/// `None`); `None` when it does not fit.
pub fn leaf_entry(b: &[u8], v5: bool, index: usize) -> Option<LeafEntry> {
    let eo = index
        .checked_mul(LEAF_ENTRY_SIZE)?
        .checked_add(leaf_hdr_size(v5))?;
    Some(LeafEntry {
        hashval: be_u32(b, eo)?,
        nameidx: be_u16(b, eo.checked_add(4)?)?,
        flags: *b.get(eo.checked_add(6)?)?,
        pad2: *b.get(eo.checked_add(7)?)?,
        name: None,
    })
}

fn parse_leaf_name(buf: &[u8], at: usize, local: bool) -> Option<LeafName> {
    if local {
        let valuelen = be_u16(buf, at)?;
        let namelen = *buf.get(at.checked_add(2)?)?;
        let name_at = at.checked_add(3)?;
        let value_at = name_at.checked_add(usize::from(namelen))?;
        let end = value_at.checked_add(usize::from(valuelen))?;
        Some(LeafName::Local {
            valuelen,
            namelen,
            name: buf.get(name_at..value_at)?.to_vec(),
            value: buf.get(value_at..end)?.to_vec(),
        })
    } else {
        let valueblk = be_u32(buf, at)?;
        let valuelen = be_u32(buf, at.checked_add(4)?)?;
        let namelen = *buf.get(at.checked_add(8)?)?;
        let name_at = at.checked_add(9)?;
        let end = name_at.checked_add(usize::from(namelen))?;
        Some(LeafName::Remote {
            valueblk,
            valuelen,
            namelen,
            name: buf.get(name_at..end)?.to_vec(),
        })
    }
}

/// Decodes one attribute leaf block (`buf`: one filesystem block). The layout (v4 or v5) is
/// the filesystem's; a wrong magic is a finding and then no entries are decoded. `Err` only
/// when the block is shorter than the header.
pub fn decode_leaf(buf: &[u8], ctx: &BlockContext<'_>) -> Result<LeafBlock, Finding> {
    let v5 = ctx.geo.has_crc;
    let block = ctx.lblk;
    let hs = leaf_hdr_size(v5);
    let (mut blk, magic_ok) = LeafBlock::start(buf, ctx, hs, LeafHdr::parse, |h| &h.info, true)?;
    if !magic_ok {
        return Ok(blk);
    }
    let (hdr, findings) = (&blk.hdr, &mut blk.findings);
    let bs = buf.len();
    let firstused = hdr.firstused_bytes(v5, bs);
    let max_entries = bs.saturating_sub(hs) / LEAF_ENTRY_SIZE;
    let count = usize::from(hdr.count);
    let entries_end = count.saturating_mul(LEAF_ENTRY_SIZE).saturating_add(hs);
    if count > max_entries {
        findings.push(Finding::LeafTooManyEntries {
            block,
            count: hdr.count,
            max: max_entries,
        });
    }
    if firstused > bs || firstused < entries_end.min(bs) {
        findings.push(Finding::LeafBadFirstused {
            block,
            firstused: u32::try_from(firstused).unwrap_or(u32::MAX),
            min: entries_end,
            max: bs,
        });
    }
    // Names may lie no lower than the end of the entry table.
    let name_floor = entries_end.min(bs);
    let local_max = u32::try_from(bs.saturating_mul(3) / 4).unwrap_or(u32::MAX);
    let mut entries = Vec::new();
    let mut prev_hash = 0u32;
    for index in 0..count.min(max_entries) {
        let Some(mut e) = leaf_entry(buf, v5, index) else {
            break;
        };
        let (hashval, nameidx, flags) = (e.hashval, e.nameidx, e.flags);
        if hashval < prev_hash {
            findings.push(Finding::LeafHashOrder {
                block,
                index,
                hashval,
            });
        }
        prev_hash = hashval;
        if e.namespace() == Namespace::Invalid {
            findings.push(Finding::LeafBadNamespace {
                block,
                index,
                flags,
            });
        }
        if e.is_incomplete() {
            findings.push(Finding::Incomplete { block, index });
        }
        let ni = usize::from(nameidx);
        if ni < name_floor || ni >= bs {
            findings.push(Finding::LeafBadNameidx {
                block,
                index,
                nameidx,
            });
        } else {
            match parse_leaf_name(buf, ni, e.is_local()) {
                None => findings.push(Finding::LeafNameOverrun {
                    block,
                    index,
                    nameidx,
                }),
                Some(n) => {
                    if n.name().is_empty() {
                        findings.push(Finding::LeafEmptyName { block, index });
                    }
                    let computed = da_hashname(n.name());
                    if computed != hashval {
                        findings.push(Finding::LeafBadHash {
                            block,
                            index,
                            stored: hashval,
                            computed,
                        });
                    }
                    if let LeafName::Local { valuelen, .. } = &n {
                        if u32::from(*valuelen) > local_max {
                            findings.push(Finding::LeafValueTooLong {
                                block,
                                index,
                                valuelen: u32::from(*valuelen),
                                max: local_max,
                            });
                        }
                    }
                    e.name = Some(n);
                }
            }
        }
        entries.push(e);
    }
    blk.entries = entries;
    Ok(blk)
}

impl LeafBlock {
    /// The header fields in `xfs_db print` order (`hdr.info...`, `hdr.count`, ...; the
    /// freemap is rendered by [`LeafBlock::render_xfs_db`]).
    pub fn header_fields(&self) -> Vec<(&'static str, Field)> {
        let h = &self.hdr;
        let mut f = blkinfo_fields(&h.info, self.crc);
        f.push(("hdr.", Field::dec("count", h.count, 16)));
        f.push(("hdr.", Field::dec("usedbytes", h.usedbytes, 16)));
        f.push(("hdr.", Field::dec("firstused", h.firstused, 16)));
        f.push(("hdr.", Field::dec("holes", h.holes, 8)));
        f
    }

    /// The block as `xfs_db -c 'inode N' -c 'ablock B' -c print` prints it.
    pub fn render_xfs_db(&self) -> String {
        let mut out = lines(&self.header_fields());
        let fm: Vec<Vec<String>> = self
            .hdr
            .freemap
            .iter()
            .map(|(b, s)| vec![b.to_string(), s.to_string()])
            .collect();
        struct_array(&mut out, "hdr.freemap", &["base", "size"], &fm);
        if self
            .findings
            .iter()
            .any(|f| matches!(f, Finding::BadMagic { .. }))
        {
            return out;
        }
        let bit = |e: &LeafEntry, m: u8| u8::from(e.flags & m != 0).to_string();
        let columns = [
            "hashval",
            "nameidx",
            "incomplete",
            "root",
            "secure",
            "local",
        ];
        let rows = hashed_rows(
            &self.entries,
            |e| e.hashval,
            |e| {
                vec![
                    e.nameidx.to_string(),
                    bit(e, XFS_ATTR_INCOMPLETE),
                    bit(e, XFS_ATTR_ROOT),
                    bit(e, XFS_ATTR_SECURE),
                    bit(e, XFS_ATTR_LOCAL),
                ]
            },
        );
        struct_array(&mut out, "entries", &columns, &rows);
        for (i, e) in self.entries.iter().enumerate() {
            let p = format!("nvlist[{i}].");
            match &e.name {
                Some(LeafName::Local {
                    valuelen,
                    namelen,
                    name,
                    value,
                }) => {
                    out.push_str(&format!("{p}valuelen = {valuelen}\n"));
                    out.push_str(&format!("{p}namelen = {namelen}\n"));
                    out.push_str(&format!("{p}name = {}\n", chars(name)));
                    out.push_str(&format!("{p}value = {}\n", chars(value)));
                }
                Some(LeafName::Remote {
                    valueblk,
                    valuelen,
                    namelen,
                    name,
                }) => {
                    let vb = Field::hex("", *valueblk, 32).render_value();
                    out.push_str(&format!("{p}valueblk = {vb}\n"));
                    out.push_str(&format!("{p}valuelen = {valuelen}\n"));
                    out.push_str(&format!("{p}namelen = {namelen}\n"));
                    out.push_str(&format!("{p}name = {}\n", chars(name)));
                }
                None => {}
            }
        }
        out
    }
}
