//! Attribute fork checks of phase 3 (xfs_repair's attr_repair.c): shortform forks
//! (process_shortform_attr) and long-form forks (process_longform_attr,
//! process_leaf_attr_block and rmtval_get, with the libxfs read verifiers of the blocks they
//! read). Node-format forks get their root block verified; the da btree below it is not
//! walked yet.

use xfs_format::attr::{
    leaf::LEAF_ENTRY_SIZE, LeafNameHdr, RmtHdr, ATTR3_RMT_HDR_SIZE, XATTR_SIZE_MAX,
    XFS_ATTR3_LEAF_MAGIC as ATTR3_LEAF_MAGIC, XFS_ATTR3_RMT_MAGIC,
    XFS_ATTR_INCOMPLETE as ATTR_INCOMPLETE, XFS_ATTR_LEAF_MAGIC as ATTR_LEAF_MAGIC,
    XFS_ATTR_LOCAL as ATTR_LOCAL,
};
use xfs_format::bmap::{BmbtRec, ForkFormat};
use xfs_format::da_btree::{
    da_hashname, da_magic, DaBlkinfo, NodeHdr, XFS_DA3_NODE_MAGIC as DA3_NODE_MAGIC,
    XFS_DA_NODE_MAGIC as DA_NODE_MAGIC,
};
use xfs_format::fields::CrcState;
use xfs_format::verify::{self, Expected, HeaderChecks, Layout};
use xfs_format::ByteSource;

use crate::da_util::{da_verify, leaf_hdr, DaCursor, DaRead, Fork, Ops, Verify};
use crate::finding::verifier_error;
use crate::finding::{Kind, Val};
use crate::state::Checker;

/// xfs_attr_namecheck.
fn namecheck(name: &[u8]) -> bool {
    !name.is_empty() && name.len() < 256 && !name.contains(&0)
}

/// Most leaf blocks walked along an attribute fork's leaf level.
const MAX_ATTR_LEAVES: usize = 1 << 20;

impl<S: ByteSource> Checker<'_, S> {
    /// Short-form attribute entries (process_shortform_attr, zero-length names).
    pub(crate) fn sf_attr_check(&mut self, ino: u64, sf: &xfs_format::attr::Shortform) {
        let totsize = u64::from(sf.hdr.totsize);
        let count = u64::from(sf.hdr.count);
        let mut size = 4u64;
        for (idx, e) in (0u64..).zip(&sf.entries) {
            if e.namelen == 0 {
                self.push(
                    Kind::AttrSfZeroNamelen,
                    vec![("ino", ino.into()), ("expected", idx.into())],
                );
                self.push_sf_fix(Kind::AttrSfCountFix, ino, count, idx);
                self.push_sf_fix(Kind::AttrSfTotsizeFix, ino, totsize, size);
                return;
            }
            let es = 3u64
                .saturating_add(e.namelen.into())
                .saturating_add(e.valuelen.into());
            size = size.saturating_add(es);
        }
    }

    fn attr_verifier_error(&mut self, v: Verify, ops: &str, daddr: u64) {
        let bytes = u64::from(self.fs.geo.block_size);
        self.push(
            Kind::VerifierError,
            verifier_error(v == Verify::Corrupt, ops, daddr, bytes),
        );
    }

    /// The v5 header of `b` (`layout`) checked against `magic`, its daddr and the
    /// filesystem uuid (xfs_da3_blkinfo_verify and the like).
    fn v5_hdr(&self, b: &[u8], daddr: u64, layout: &Layout, magic: Option<u32>) -> HeaderChecks {
        verify::verify(
            b,
            layout,
            &Expected {
                magic,
                blkno: Some(daddr),
                uuid: Some(self.fs.geo.meta_uuid),
                owner: None,
            },
        )
    }

    /// One block read with xfs_da3_node_buf_ops (which hands attr leaf blocks to the attr
    /// leaf verifier). Returns the verifier outcome after reporting it.
    fn da_node_read(&mut self, b: &[u8], daddr: u64) -> Verify {
        let (v, ops) = da_verify(self.fs, b, daddr, Ops::Node);
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
            if ForkFormat::from_raw(aformat) == ForkFormat::Extents && anex == 0 {
                return false;
            }
            self.push(Kind::AttrBlock0Missing, vec![i]);
            return true;
        };
        let Some(off) = self.fs.fsb_to_offset(fsb) else {
            self.push(Kind::AttrBlock0Invalid, vec![i]);
            return true;
        };
        let daddr = off / 512;
        let Ok(buf) = self.fs.read_fsb(fsb, 1).map(|c| c.into_owned()) else {
            self.push(Kind::AttrBlock0Unreadable, vec![i]);
            return true;
        };
        let v = self.da_node_read(&buf, daddr);
        if v == Verify::Corrupt {
            self.push(Kind::AttrBlock0Corrupt, vec![i]);
            return true;
        }
        let magic = da_magic(&buf).unwrap_or(0);
        // __check_attr_header
        if magic == ATTR3_LEAF_MAGIC || magic == DA3_NODE_MAGIC {
            let id = DaBlkinfo::parse(&buf, true)
                .and_then(|i| i.v5)
                .unwrap_or_default();
            let owner = id.owner;
            if owner != ino {
                self.push(
                    Kind::AttrHdrOwner,
                    vec![i, ("owner", owner.into()), ("daddr", daddr.into())],
                );
                return true;
            }
            let blkno = id.blkno;
            if blkno != daddr {
                self.push(
                    Kind::AttrHdrBlkno,
                    vec![("daddr", daddr.into()), ("blkno", blkno.into()), i],
                );
                return true;
            }
            if id.uuid != self.fs.geo.meta_uuid {
                self.push(Kind::AttrHdrUuid, vec![i, ("daddr", daddr.into())]);
                return true;
            }
        }
        match magic {
            ATTR_LEAF_MAGIC | ATTR3_LEAF_MAGIC => {
                let bs = self.fs.geo.block_size as usize;
                let h = leaf_hdr(&buf, self.fs.geo.has_crc, bs);
                if h.h.info.forw != 0 || h.h.info.back != 0 {
                    self.push(Kind::AttrWouldClearLinks, vec![i]);
                }
                self.leaf_attr_block(ino, recs, &buf, 0, 0).0
            }
            // process_longform_da_root
            DA_NODE_MAGIC | DA3_NODE_MAGIC => {
                let h = NodeHdr::parse(&buf, self.fs.geo.has_crc).unwrap_or_default();
                if h.info.forw != 0 || h.info.back != 0 {
                    self.push(Kind::AttrWouldClearLinks, vec![i]);
                }
                // Block 0 stays in the buffer cache: the descent reads it again unverified.
                self.dir_bufs_seen.insert(daddr);
                self.process_node_attr(ino, recs)
            }
            _ => {
                self.push(Kind::AttrBadRootMagic, vec![("magic", magic.into()), i]);
                true
            }
        }
    }

    /// set_da_freemap: claims [start, stop) of the block; true on a conflict.
    fn da_claim(&mut self, map: &mut [bool], start: usize, stop: usize) -> bool {
        if start > stop {
            self.push(
                Kind::DaBadRange,
                vec![("start", start.into()), ("stop", stop.into())],
            );
            return true;
        }
        if stop > map.len() {
            self.push(
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
                self.push(
                    Kind::DaMultiClaim,
                    vec![("b", start.saturating_add(n).into())],
                );
                return true;
            }
            *b = true;
        }
        false
    }

    /// process_node_attr: the da btree of a node-format attribute fork. True when the
    /// fork is bad.
    fn process_node_attr(&mut self, ino: u64, recs: &[BmbtRec]) -> bool {
        let mut cur = DaCursor::new(ino, Fork::Attr);
        if self.traverse_int_dablock(&mut cur, recs).is_none() {
            return true;
        }
        self.process_leaf_attr_level(&mut cur, recs)
    }

    /// process_leaf_attr_level: the attribute leaf blocks left to right from the cursor's
    /// leftmost leaf, each path checked up the tree. True when the fork is bad.
    fn process_leaf_attr_level(&mut self, cur: &mut DaCursor, recs: &[BmbtRec]) -> bool {
        let v5 = self.fs.geo.has_crc;
        let bs = self.fs.geo.block_size as usize;
        let ino = cur.ino();
        let i = || ("ino", Val::U(ino));
        let mut da_bno = cur.leaf_bno();
        if da_bno == 0 {
            self.push(Kind::AttrBtreeCycle, vec![i()]);
            return true;
        }
        let mut prev_bno = 0u32;
        let mut current = 0u32;
        for _ in 0..MAX_ATTR_LEAVES {
            let b = match self.da_read(recs, Fork::Attr, da_bno, Ops::AttrLeaf) {
                DaRead::Unmapped => {
                    self.push(Kind::AttrLeafCantMap, vec![("blk", da_bno.into()), i()]);
                    return true;
                }
                DaRead::Unreadable => {
                    let fsbno = xfs_format::bmap::lookup(recs, da_bno.into()).map_or(0, |l| l.0);
                    let f = vec![("blk", da_bno.into()), ("fsbno", fsbno.into()), i()];
                    self.push(Kind::AttrLeafCantRead, f);
                    return true;
                }
                DaRead::Buf(b, _) => b,
            };
            let h = leaf_hdr(&b, v5, bs);
            let magic = h.h.info.magic;
            if magic != ATTR_LEAF_MAGIC && magic != ATTR3_LEAF_MAGIC {
                self.push(Kind::AttrLeafBadMagic, vec![("magic", magic.into()), i()]);
                return true;
            }
            let (bad, greatest) = self.leaf_attr_block(ino, recs, &b, da_bno, current);
            if bad {
                return true;
            }
            cur.set_leaf(da_bno, greatest, h.count());
            if h.h.info.back != prev_bno {
                self.push(Kind::AttrLeafBadBack, vec![("blk", da_bno.into()), i()]);
                return true;
            }
            prev_bno = da_bno;
            da_bno = h.h.info.forw;
            if da_bno != 0 && self.verify_da_path(cur, recs, 0) {
                return true;
            }
            current = greatest;
            if da_bno == 0 {
                break;
            }
        }
        if self.verify_final_da_path(cur, 0) {
            self.push(Kind::AttrBadHashPath, vec![i()]);
            return true;
        }
        false
    }

    /// process_leaf_attr_block in no-modify mode (`last_hashval`: the previous leaf's last
    /// hash): whether the block is bad, and its last hash.
    fn leaf_attr_block(
        &mut self,
        ino: u64,
        recs: &[BmbtRec],
        b: &[u8],
        da_bno: u32,
        last_hashval: u32,
    ) -> (bool, u32) {
        let v5 = self.fs.geo.has_crc;
        let bs = self.fs.geo.block_size as usize;
        let h = leaf_hdr(b, v5, bs);
        let i = || ("ino", Val::U(ino));
        let blk = || ("blk", Val::U(da_bno.into()));
        let count = h.count();
        if count == 0 && da_bno == 0 {
            self.push(Kind::AttrEmptyLeaf0, vec![i()]);
            return (false, last_hashval);
        }
        if count == 0
            || count
                .saturating_mul(LEAF_ENTRY_SIZE)
                .saturating_add(h.hsize)
                > bs
        {
            self.push(
                Kind::AttrBadCount,
                vec![("count", count.into()), blk(), i()],
            );
            return (true, last_hashval);
        }
        let mut map = vec![false; bs];
        let _ = self.da_claim(&mut map, 0, h.hsize);
        let mut last_hash = last_hashval;
        let mut usedbs = 0usize;
        let mut firstb = bs;
        for n in 0..count {
            let e = h.hsize.saturating_add(n.saturating_mul(LEAF_ENTRY_SIZE));
            let ent_n = h.entry(b, n);
            let hash = ent_n.hashval;
            let nameidx = usize::from(ent_n.nameidx);
            let flags = ent_n.flags;
            let ent = ("i", Val::U(n as u64));
            if nameidx > bs {
                self.push(
                    Kind::AttrBadNameidx,
                    vec![("idx", nameidx.into()), blk(), i()],
                );
                return (true, last_hash);
            }
            if flags & ATTR_INCOMPLETE != 0 {
                self.push(Kind::AttrIncomplete, vec![ent, blk(), i()]);
                return (true, last_hash);
            }
            if self.da_claim(&mut map, e, e.saturating_add(LEAF_ENTRY_SIZE)) {
                self.push(Kind::AttrEntryOverlap, vec![ent, blk(), i()]);
                return (true, last_hash);
            }
            let nh = LeafNameHdr::at(b, nameidx, flags & ATTR_LOCAL != 0);
            let namelen = usize::from(nh.namelen);
            let name = nh.name(b);
            let size = if nh.local {
                if namelen == 0 || name.len() != namelen || !namecheck(name) {
                    self.push(
                        Kind::AttrBadName,
                        vec![ent, blk(), i(), ("namelen", namelen.into())],
                    );
                    return (true, last_hash);
                }
                if hash != da_hashname(name) || hash < last_hash {
                    self.push(Kind::AttrBadHash, vec![ent, blk(), i()]);
                    return (true, last_hash);
                }
                nh.entsize()
            } else {
                let (valueblk, valuelen) = (nh.valueblk, nh.valuelen);
                if namelen == 0
                    || name.len() != namelen
                    || !namecheck(name)
                    || hash != da_hashname(name)
                    || hash < last_hash
                    || valueblk == 0
                {
                    self.push(Kind::AttrRemoteInconsistent, vec![ent, blk(), i()]);
                    return (true, last_hash);
                }
                if self.rmtval_get(ino, recs, valueblk, valuelen) {
                    self.push(Kind::AttrRemoteGetFailed, vec![ent, i()]);
                    return (true, last_hash);
                }
                nh.entsize()
            };
            last_hash = hash;
            if self.da_claim(&mut map, nameidx, nameidx.saturating_add(size)) {
                self.push(Kind::AttrNameOverlap, vec![ent, blk(), i()]);
                return (true, last_hash);
            }
            usedbs = usedbs.saturating_add(size);
            firstb = firstb.min(nameidx);
        }
        if (h.h.holes == 0 && firstb != h.firstused) || h.firstused > firstb {
            self.push(
                Kind::AttrFirstusedFix,
                vec![
                    ("found", h.firstused.into()),
                    ("expected", firstb.into()),
                    blk(),
                    i(),
                ],
            );
        }
        if usedbs != usize::from(h.h.usedbytes) {
            self.push(
                Kind::AttrUsedbytesFix,
                vec![
                    ("found", usize::from(h.h.usedbytes).into()),
                    ("expected", usedbs.into()),
                    blk(),
                    i(),
                ],
            );
        }
        (false, last_hash)
    }

    /// rmtval_get: reads the remote value blocks one by one; true when one is missing or
    /// fails its verifier.
    fn rmtval_get(&mut self, ino: u64, recs: &[BmbtRec], valueblk: u32, valuelen: u32) -> bool {
        let v5 = self.fs.geo.has_crc;
        let bs = u64::from(self.fs.geo.block_size);
        let per = if v5 {
            bs.saturating_sub(ATTR3_RMT_HDR_SIZE as u64)
        } else {
            bs
        };
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
                self.push(Kind::AttrRemoteMissing, vec![i]);
                return true;
            };
            let (Some(off), Ok(buf)) = (self.fs.fsb_to_offset(fsb), self.fs.read_fsb(fsb, 1))
            else {
                self.push(Kind::AttrRemoteUnreadable, vec![i]);
                return true;
            };
            let daddr = off / 512;
            if v5 {
                let h = self.v5_hdr(
                    &buf,
                    daddr,
                    &Layout::ATTR3_RMT_HDR,
                    Some(XFS_ATTR3_RMT_MAGIC),
                );
                let v = if h.crc == CrcState::Bad {
                    Verify::BadCrc
                } else {
                    let rmt = RmtHdr::parse(&buf).unwrap_or_default();
                    let bytes = u64::from(rmt.bytes);
                    let ok = h.magic_ok
                        && h.uuid_ok
                        && h.blkno_ok
                        && bytes <= per
                        // 32-bit sum in xfs_attr3_rmt_verify: it wraps.
                        && u64::from(rmt.offset.wrapping_add(rmt.bytes))
                            <= u64::from(XATTR_SIZE_MAX)
                        && rmt.ident.owner != 0;
                    if ok {
                        Verify::Ok
                    } else {
                        Verify::Corrupt
                    }
                };
                if v != Verify::Ok {
                    self.attr_verifier_error(v, "xfs_attr3_rmt", daddr);
                    self.push(Kind::AttrRemoteCorrupt, vec![i]);
                    return true;
                }
            }
            done = done.saturating_add(per);
            n = n.saturating_add(1);
        }
        false
    }
}
