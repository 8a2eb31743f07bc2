//! Long-form attribute fork checks of phase 3 (xfs_repair's process_longform_attr,
//! process_leaf_attr_block and rmtval_get, with the libxfs read verifiers of the blocks they
//! read). Node-format forks get their root block verified; the da btree below it is not
//! walked yet.

use xfs_format::bmap::BmbtRec;
use xfs_format::bytes::{be16, be32, be64};
use xfs_format::dir2::da_hashname;
use xfs_format::fields::CrcState;
use xfs_format::ByteSource;

use crate::finding::{Kind, Val};
use crate::inodes::Checker;

const ATTR_LEAF_MAGIC: u16 = 0xfbee;
const ATTR3_LEAF_MAGIC: u16 = 0x3bee;
const DA_NODE_MAGIC: u16 = 0xfebe;
const DA3_NODE_MAGIC: u16 = 0x3ebe;
const ATTR3_RMT_MAGIC: u32 = 0x5841_524d;
const ATTR_LOCAL: u8 = 0x01;
const ATTR_INCOMPLETE: u8 = 0x80;
/// XFS_XATTR_SIZE_MAX.
const XATTR_SIZE_MAX: u64 = 1 << 16;
const FMT_EXTENTS: u8 = 2;

fn round4(n: usize) -> usize {
    n.saturating_add(3) & !3
}

/// Verifier outcome of one buffer read.
#[derive(PartialEq, Eq, Clone, Copy)]
enum Verify {
    Ok,
    BadCrc,
    Corrupt,
}

/// The decoded header of an attribute leaf block (xfs_attr3_icleaf_hdr).
struct LeafHdr {
    forw: u32,
    back: u32,
    count: usize,
    usedbytes: usize,
    firstused: usize,
    holes: u8,
    freemap: [(usize, usize); 3],
    hsize: usize,
}

fn leaf_hdr(b: &[u8], v5: bool, blksize: usize) -> LeafHdr {
    let (o, hsize): (usize, usize) = if v5 { (56, 80) } else { (12, 32) };
    let mut firstused = usize::from(be16(b, o.saturating_add(4)));
    if v5 && firstused == 0 {
        // XFS_ATTR3_LEAF_NULLOFF: an empty 64k block.
        firstused = blksize;
    }
    let fm = |i: usize| {
        let at = o.saturating_add(8).saturating_add(i.saturating_mul(4));
        (
            usize::from(be16(b, at)),
            usize::from(be16(b, at.saturating_add(2))),
        )
    };
    LeafHdr {
        forw: be32(b, 0),
        back: be32(b, 4),
        count: usize::from(be16(b, o)),
        usedbytes: usize::from(be16(b, o.saturating_add(2))),
        firstused,
        holes: b.get(o.saturating_add(6)).copied().unwrap_or(0),
        freemap: [fm(0), fm(1), fm(2)],
        hsize,
    }
}

/// xfs_attr_namecheck.
fn namecheck(name: &[u8]) -> bool {
    !name.is_empty() && name.len() < 256 && !name.contains(&0)
}

/// xfs_attr3_leaf_verify (after the magic/v5 header checks).
fn leaf_struct_ok(b: &[u8], h: &LeafHdr, blksize: usize) -> bool {
    if h.firstused > blksize || h.firstused < h.hsize {
        return false;
    }
    if h.hsize.saturating_add(h.count.saturating_mul(8)) > h.firstused {
        return false;
    }
    let mut last = 0u32;
    for i in 0..h.count {
        let e = h.hsize.saturating_add(i.saturating_mul(8));
        let hash = be32(b, e);
        if hash < last {
            return false;
        }
        last = hash;
        let nameidx = usize::from(be16(b, e.saturating_add(4)));
        let flags = b.get(e.saturating_add(6)).copied().unwrap_or(0);
        if nameidx < h.firstused || nameidx >= blksize {
            return false;
        }
        let end = if flags & ATTR_LOCAL != 0 {
            let valuelen = usize::from(be16(b, nameidx));
            let namelen = usize::from(b.get(nameidx.saturating_add(2)).copied().unwrap_or(0));
            if namelen == 0 {
                return false;
            }
            nameidx.saturating_add(round4(
                3usize.saturating_add(namelen).saturating_add(valuelen),
            ))
        } else {
            let namelen = usize::from(b.get(nameidx.saturating_add(8)).copied().unwrap_or(0));
            if namelen == 0 {
                return false;
            }
            if flags & ATTR_INCOMPLETE == 0 && be32(b, nameidx) == 0 {
                return false;
            }
            nameidx.saturating_add(round4(11usize.saturating_add(namelen)))
        };
        if end > blksize {
            return false;
        }
    }
    for &(base, size) in &h.freemap {
        if base > blksize || base & 3 != 0 || size > blksize || size & 3 != 0 {
            return false;
        }
        if base.saturating_add(size) > blksize {
            return false;
        }
    }
    true
}

/// xfs_da3_node_verify (after the magic/v5 header checks).
fn node_struct_ok(b: &[u8], v5: bool, blksize: usize) -> bool {
    let o = if v5 { 56 } else { 12 };
    let count = usize::from(be16(b, o));
    let level = be16(b, o.saturating_add(2));
    let hsize = if v5 { 64 } else { 16 };
    let node_ents = blksize.saturating_sub(hsize) / 8;
    level != 0 && level <= 5 && count != 0 && count <= node_ents
}

impl<S: ByteSource> Checker<'_, S> {
    fn attr_verifier_error(&mut self, v: Verify, ops: &str, daddr: u64) {
        let err = if v == Verify::Corrupt {
            "corruption"
        } else {
            "CRC error"
        };
        self.push_kind(
            Kind::VerifierError,
            vec![
                ("error", err.into()),
                ("addr", "<addr>".into()),
                ("ops", ops.into()),
                ("daddr", daddr.into()),
                ("bytes", u64::from(self.fs.geo.block_size).into()),
            ],
        );
    }

    /// The v5 da block header checks of xfs_da3_blkinfo_verify.
    fn da3_hdr_ok(&self, b: &[u8], daddr: u64) -> bool {
        b.get(32..48) == Some(&self.fs.geo.meta_uuid[..]) && be64(b, 16) == daddr
    }

    /// One block read with xfs_da3_node_buf_ops (which hands attr leaf blocks to the attr
    /// leaf verifier). Returns the verifier outcome after reporting it.
    fn da_node_read(&mut self, b: &[u8], daddr: u64) -> Verify {
        let v5 = self.fs.geo.has_crc;
        let bs = self.fs.geo.block_size as usize;
        let magic = be16(b, 8);
        let crc_bad = || v5 && xfs_format::crc::verify(b, 12, true) == CrcState::Bad;
        let (v, ops) = match magic {
            DA3_NODE_MAGIC | DA_NODE_MAGIC => {
                let want = if v5 { DA3_NODE_MAGIC } else { DA_NODE_MAGIC };
                if magic == DA3_NODE_MAGIC && crc_bad() {
                    (Verify::BadCrc, "xfs_da3_node")
                } else if magic != want
                    || (v5 && !self.da3_hdr_ok(b, daddr))
                    || !node_struct_ok(b, v5, bs)
                {
                    (Verify::Corrupt, "xfs_da3_node")
                } else {
                    (Verify::Ok, "")
                }
            }
            ATTR3_LEAF_MAGIC | ATTR_LEAF_MAGIC => {
                let want = if v5 {
                    ATTR3_LEAF_MAGIC
                } else {
                    ATTR_LEAF_MAGIC
                };
                if v5 && crc_bad() {
                    (Verify::BadCrc, "xfs_attr3_leaf")
                } else if magic != want
                    || (v5 && !self.da3_hdr_ok(b, daddr))
                    || !leaf_struct_ok(b, &leaf_hdr(b, v5, bs), bs)
                {
                    (Verify::Corrupt, "xfs_attr3_leaf")
                } else {
                    (Verify::Ok, "")
                }
            }
            // Directory leafn blocks in an attribute fork: not modelled, the magic check
            // below rejects them.
            _ => (Verify::Corrupt, "xfs_da3_node"),
        };
        if v != Verify::Ok {
            self.attr_verifier_error(v, ops, daddr);
        }
        v
    }

    /// process_attributes for extents/btree attribute forks (process_longform_attr).
    /// Returns true when the fork is bad (the caller prints "problem with attribute
    /// contents" and would clear the fork).
    pub(crate) fn lf_attr(&mut self, ino: u64, recs: &[BmbtRec], aformat: u8, anex: u64) -> bool {
        let i = ("ino", Val::U(ino));
        let Some((fsb, _)) = xfs_format::bmap::lookup(recs, 0) else {
            if aformat == FMT_EXTENTS && anex == 0 {
                return false;
            }
            self.push_kind(Kind::AttrBlock0Missing, vec![i]);
            return true;
        };
        let Some(off) = self.fs.fsb_to_offset(fsb) else {
            self.push_kind(Kind::AttrBlock0Invalid, vec![i]);
            return true;
        };
        let daddr = off / 512;
        let Ok(buf) = self.fs.read_fsb(fsb, 1).map(|c| c.into_owned()) else {
            self.push_kind(Kind::AttrBlock0Unreadable, vec![i]);
            return true;
        };
        let v = self.da_node_read(&buf, daddr);
        if v == Verify::Corrupt {
            self.push_kind(Kind::AttrBlock0Corrupt, vec![i]);
            return true;
        }
        let magic = be16(&buf, 8);
        // __check_attr_header
        if magic == ATTR3_LEAF_MAGIC || magic == DA3_NODE_MAGIC {
            let owner = be64(&buf, 48);
            if owner != ino {
                self.push_kind(
                    Kind::AttrHdrOwner,
                    vec![i, ("owner", owner.into()), ("daddr", daddr.into())],
                );
                return true;
            }
            let blkno = be64(&buf, 16);
            if blkno != daddr {
                self.push_kind(
                    Kind::AttrHdrBlkno,
                    vec![("daddr", daddr.into()), ("blkno", blkno.into()), i],
                );
                return true;
            }
            if buf.get(32..48) != Some(&self.fs.geo.meta_uuid[..]) {
                self.push_kind(Kind::AttrHdrUuid, vec![i, ("daddr", daddr.into())]);
                return true;
            }
        }
        match magic {
            ATTR_LEAF_MAGIC | ATTR3_LEAF_MAGIC => {
                let bs = self.fs.geo.block_size as usize;
                let h = leaf_hdr(&buf, self.fs.geo.has_crc, bs);
                if h.forw != 0 || h.back != 0 {
                    self.push_kind(Kind::AttrWouldClearLinks, vec![i]);
                }
                self.leaf_attr_block(ino, recs, &buf, 0)
            }
            // The da btree below a node root is not walked yet.
            DA_NODE_MAGIC | DA3_NODE_MAGIC => false,
            _ => {
                self.push_kind(Kind::AttrBadRootMagic, vec![("magic", magic.into()), i]);
                true
            }
        }
    }

    /// set_da_freemap: claims [start, stop) of the block; true on a conflict.
    fn da_claim(&mut self, map: &mut [bool], start: usize, stop: usize) -> bool {
        if start > stop {
            self.push_kind(
                Kind::DaBadRange,
                vec![("start", start.into()), ("stop", stop.into())],
            );
            return true;
        }
        if stop > map.len() {
            self.push_kind(
                Kind::DaRangeEnd,
                vec![
                    ("start", start.into()),
                    ("stop", stop.into()),
                    ("bs", map.len().into()),
                ],
            );
            return true;
        }
        for (n, b) in map
            .get_mut(start..stop)
            .unwrap_or(&mut [])
            .iter_mut()
            .enumerate()
        {
            if *b {
                self.push_kind(
                    Kind::DaMultiClaim,
                    vec![("b", start.saturating_add(n).into())],
                );
                return true;
            }
            *b = true;
        }
        false
    }

    /// process_leaf_attr_block in no-modify mode; true when the block is bad.
    fn leaf_attr_block(&mut self, ino: u64, recs: &[BmbtRec], b: &[u8], da_bno: u32) -> bool {
        let v5 = self.fs.geo.has_crc;
        let bs = self.fs.geo.block_size as usize;
        let h = leaf_hdr(b, v5, bs);
        let i = || ("ino", Val::U(ino));
        let blk = || ("blk", Val::U(da_bno.into()));
        if h.count == 0 && da_bno == 0 {
            self.push_kind(Kind::AttrEmptyLeaf0, vec![i()]);
            return false;
        }
        if h.count == 0 || h.count.saturating_mul(8).saturating_add(h.hsize) > bs {
            self.push_kind(
                Kind::AttrBadCount,
                vec![("count", h.count.into()), blk(), i()],
            );
            return true;
        }
        let mut map = vec![false; bs];
        let _ = self.da_claim(&mut map, 0, h.hsize);
        let mut last_hash = 0u32;
        let mut usedbs = 0usize;
        let mut firstb = bs;
        for n in 0..h.count {
            let e = h.hsize.saturating_add(n.saturating_mul(8));
            let hash = be32(b, e);
            let nameidx = usize::from(be16(b, e.saturating_add(4)));
            let flags = b.get(e.saturating_add(6)).copied().unwrap_or(0);
            let ent = ("i", Val::U(n as u64));
            if nameidx > bs {
                self.push_kind(
                    Kind::AttrBadNameidx,
                    vec![("idx", nameidx.into()), blk(), i()],
                );
                return true;
            }
            if flags & ATTR_INCOMPLETE != 0 {
                self.push_kind(Kind::AttrIncomplete, vec![ent, blk(), i()]);
                return true;
            }
            if self.da_claim(&mut map, e, e.saturating_add(8)) {
                self.push_kind(Kind::AttrEntryOverlap, vec![ent, blk(), i()]);
                return true;
            }
            let size = if flags & ATTR_LOCAL != 0 {
                let valuelen = usize::from(be16(b, nameidx));
                let namelen = usize::from(b.get(nameidx.saturating_add(2)).copied().unwrap_or(0));
                let ns = nameidx.saturating_add(3);
                let name = b.get(ns..ns.saturating_add(namelen)).unwrap_or(&[]);
                if namelen == 0 || name.len() != namelen || !namecheck(name) {
                    self.push_kind(
                        Kind::AttrBadName,
                        vec![ent, blk(), i(), ("namelen", namelen.into())],
                    );
                    return true;
                }
                if hash != da_hashname(name) || hash < last_hash {
                    self.push_kind(Kind::AttrBadHash, vec![ent, blk(), i()]);
                    return true;
                }
                round4(3usize.saturating_add(namelen).saturating_add(valuelen))
            } else {
                let valueblk = be32(b, nameidx);
                let valuelen = be32(b, nameidx.saturating_add(4));
                let namelen = usize::from(b.get(nameidx.saturating_add(8)).copied().unwrap_or(0));
                let ns = nameidx.saturating_add(9);
                let name = b.get(ns..ns.saturating_add(namelen)).unwrap_or(&[]);
                if namelen == 0
                    || name.len() != namelen
                    || !namecheck(name)
                    || hash != da_hashname(name)
                    || hash < last_hash
                    || valueblk == 0
                {
                    self.push_kind(Kind::AttrRemoteInconsistent, vec![ent, blk(), i()]);
                    return true;
                }
                if self.rmtval_get(ino, recs, valueblk, valuelen) {
                    self.push_kind(Kind::AttrRemoteGetFailed, vec![ent, i()]);
                    return true;
                }
                round4(11usize.saturating_add(namelen))
            };
            last_hash = hash;
            if self.da_claim(&mut map, nameidx, nameidx.saturating_add(size)) {
                self.push_kind(Kind::AttrNameOverlap, vec![ent, blk(), i()]);
                return true;
            }
            usedbs = usedbs.saturating_add(size);
            firstb = firstb.min(nameidx);
        }
        if (h.holes == 0 && firstb != h.firstused) || h.firstused > firstb {
            self.push_kind(
                Kind::AttrFirstusedFix,
                vec![
                    ("found", h.firstused.into()),
                    ("expected", firstb.into()),
                    blk(),
                    i(),
                ],
            );
        }
        if usedbs != h.usedbytes {
            self.push_kind(
                Kind::AttrUsedbytesFix,
                vec![
                    ("found", h.usedbytes.into()),
                    ("expected", usedbs.into()),
                    blk(),
                    i(),
                ],
            );
        }
        false
    }

    /// rmtval_get: reads the remote value blocks one by one; true when one is missing or
    /// fails its verifier.
    fn rmtval_get(&mut self, ino: u64, recs: &[BmbtRec], valueblk: u32, valuelen: u32) -> bool {
        let v5 = self.fs.geo.has_crc;
        let bs = u64::from(self.fs.geo.block_size);
        let per = if v5 { bs.saturating_sub(56) } else { bs };
        if per == 0 {
            return true;
        }
        let mut done = 0u64;
        let mut n = 0u64;
        while done < u64::from(valuelen) && n < 1 << 17 {
            let i = ("ino", Val::U(ino));
            let Some((fsb, _)) =
                xfs_format::bmap::lookup(recs, u64::from(valueblk).saturating_add(n))
            else {
                self.push_kind(Kind::AttrRemoteMissing, vec![i]);
                return true;
            };
            let (Some(off), Ok(buf)) = (self.fs.fsb_to_offset(fsb), self.fs.read_fsb(fsb, 1))
            else {
                self.push_kind(Kind::AttrRemoteUnreadable, vec![i]);
                return true;
            };
            let daddr = off / 512;
            if v5 {
                let v = if xfs_format::crc::verify(&buf, 12, true) == CrcState::Bad {
                    Verify::BadCrc
                } else {
                    let bytes = u64::from(be32(&buf, 8));
                    let offset = u64::from(be32(&buf, 4));
                    let ok = be32(&buf, 0) == ATTR3_RMT_MAGIC
                        && buf.get(16..32) == Some(&self.fs.geo.meta_uuid[..])
                        && be64(&buf, 40) == daddr
                        && bytes <= per
                        && offset.saturating_add(bytes) <= XATTR_SIZE_MAX
                        && be64(&buf, 32) != 0;
                    if ok {
                        Verify::Ok
                    } else {
                        Verify::Corrupt
                    }
                };
                if v != Verify::Ok {
                    self.attr_verifier_error(v, "xfs_attr3_rmt", daddr);
                    self.push_kind(Kind::AttrRemoteCorrupt, vec![i]);
                    return true;
                }
            }
            done = done.saturating_add(per);
            n = n.saturating_add(1);
        }
        false
    }
}
