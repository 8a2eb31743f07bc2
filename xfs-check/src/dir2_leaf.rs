//! Phase 6 checks of the leaf and free-index blocks of leaf- and node-format directories
//! (xfs_repair's longform_dir2_check_leaf and longform_dir2_check_node, with the name hash
//! table check dir_hash_see_all / dir_hash_check).

use std::collections::BTreeMap;

use xfs_format::bmap::BmbtRec;
use xfs_format::da_btree::da_magic;
use xfs_format::dir2::free::free_best;
use xfs_format::dir2::leaf::{leaf_ents, XFS_DIR2_NULL_DATAOFF as NULLDATAOFF};
use xfs_format::dir2::{
    da_hashname, dir_hdr_size, DataHdr, DataItemView, DirGeo, FreeHdr, Leaf1Tail, LeafEntry,
    LeafHdr, V5Ident, XFS_DA3_NODE_MAGIC as DA3_NODE_MAGIC, XFS_DA_NODE_MAGIC as DA_NODE_MAGIC,
    XFS_DIR2_FREE_MAGIC as DIR2_FREE_MAGIC, XFS_DIR2_LEAF1_MAGIC as DIR2_LEAF1_MAGIC,
    XFS_DIR2_LEAFN_MAGIC as DIR2_LEAFN_MAGIC, XFS_DIR3_FREE_MAGIC as DIR3_FREE_MAGIC,
    XFS_DIR3_LEAF1_MAGIC as DIR3_LEAF1_MAGIC, XFS_DIR3_LEAFN_MAGIC as DIR3_LEAFN_MAGIC,
};
use xfs_format::dir2::{
    XFS_DIR2_BLOCK_MAGIC as DIR2_BLOCK_MAGIC, XFS_DIR2_DATA_MAGIC as DIR2_DATA_MAGIC,
    XFS_DIR3_BLOCK_MAGIC as DIR3_BLOCK_MAGIC, XFS_DIR3_DATA_MAGIC as DIR3_DATA_MAGIC,
};
use xfs_format::fields::CrcState;
use xfs_format::verify::{self, Expected, HeaderChecks, Layout};
use xfs_format::{ByteSource, Filesystem};

use crate::finding::verifier_error;
use crate::finding::{Kind, Val};
/// Most directory blocks looked at per directory.
const MAX_BLOCKS: u64 = 1 << 20;

pub(crate) type Out = Vec<(Kind, Vec<(&'static str, Val)>)>;

struct Ctx<'a, S> {
    fs: &'a Filesystem<S>,
    dg: DirGeo,
    recs: Vec<BmbtRec>,
    ino: u64,
    out: Out,
    /// A block failed its read verifier (dir_read_buf's crc_error): rebuild.
    fixit: bool,
    /// Data blocks (first file block) whose entries the phase 6 walk skipped.
    skip: std::collections::BTreeSet<u32>,
}

/// What the data-block pass of phase 6 tells the entry walk.
#[derive(Default)]
pub(crate) struct DataPass {
    /// Findings, in order.
    pub(crate) out: Out,
    /// Data blocks (by their first file block) whose entries are not walked: junked,
    /// unreadable, or with a bad v5 header.
    pub(crate) skip: std::collections::BTreeSet<u32>,
    /// Empty data blocks (num_illegal).
    pub(crate) num_illegal: usize,
    /// A block directory's block has a bad v5 header: no hash check.
    pub(crate) stop: bool,
    /// A block failed its verifier or header check: rebuild.
    pub(crate) fixit: bool,
    /// The entries of the blocks walked, in block order.
    pub(crate) entries: Vec<xfs_format::Entry>,
}

/// The name hash table of the data blocks: address -> (hash, seen).
type HashTab = BTreeMap<u32, (u32, bool)>;

#[derive(PartialEq, Eq, Clone, Copy)]
enum See {
    Ok,
    DupLeaf,
    BadHash,
    NoData,
    BadStale,
}

impl<S: ByteSource> Ctx<'_, S> {
    fn fblk(&self, db: u64) -> u64 {
        db.saturating_mul(u64::from(self.dg.fsbcount))
    }

    fn read(&self, db: u64) -> Option<(Vec<u8>, u64)> {
        let f = self.fblk(db);
        let (fsb, _) = xfs_format::bmap::lookup(&self.recs, f)?;
        let buf = self
            .fs
            .read_logical(&self.recs, f, u64::from(self.dg.fsbcount))
            .ok()?;
        let daddr = self.fs.fsb_to_offset(fsb)? / 512;
        Some((buf, daddr))
    }

    fn verifier(&mut self, corrupt: bool, ops: &str, daddr: u64) {
        self.fixit = true;
        let f = verifier_error(corrupt, ops, daddr, self.dg.blksize.into());
        self.out.push((Kind::VerifierError, f));
    }

    /// The v5 header of `b` (`layout`) checked against its daddr and the filesystem uuid.
    fn v5_hdr(&self, b: &[u8], daddr: u64, layout: &Layout) -> HeaderChecks {
        verify::verify(
            b,
            layout,
            &Expected {
                blkno: Some(daddr),
                uuid: Some(self.fs.geo.meta_uuid),
                ..Expected::default()
            },
        )
    }

    /// __check_dir3_header of a v5 block read at `daddr` (`layout`: where its owner, blkno
    /// and uuid are): reports the first mismatch. True when the header is bad.
    fn dir3_header_bad(&mut self, b: &[u8], daddr: u64, layout: &Layout) -> bool {
        let id = V5Ident::read(b, layout).unwrap_or_default();
        let ino = self.ino;
        let f = if id.owner != ino {
            (
                Kind::DirHdrOwner,
                vec![
                    ("ino", ino.into()),
                    ("owner", id.owner.into()),
                    ("daddr", daddr.into()),
                ],
            )
        } else if id.blkno != daddr {
            (
                Kind::DirHdrBlkno,
                vec![
                    ("daddr", daddr.into()),
                    ("blkno", id.blkno.into()),
                    ("ino", ino.into()),
                ],
            )
        } else if id.uuid != self.fs.geo.meta_uuid {
            (
                Kind::DirHdrUuid,
                vec![("ino", ino.into()), ("daddr", daddr.into())],
            )
        } else {
            return false;
        };
        self.out.push(f);
        true
    }

    /// The data-block pass of longform_dir2_entry_check: each data block read through
    /// dir_read_buf (a verifier failure is reported and marks the directory for a rebuild),
    /// its v5 header checked (check_dir3_header), then the structure pass of
    /// longform_dir2_entry_check_data (a block that fails it would be junked) and its
    /// magic. Returns what the entry walk needs.
    fn check_data(&mut self, dir_ino_ok: &dyn Fn(u64) -> bool) -> DataPass {
        let v5 = self.dg.has_crc;
        let ftype = self.dg.has_ftype;
        let bs = self.dg.blksize as usize;
        let fc = u64::from(self.dg.fsbcount).max(1);
        let last = self.recs.iter().map(BmbtRec::end).max().unwrap_or(0);
        let isblock = last == fc;
        let leaf_f = self.fblk(self.dg.leaf_db.into());
        let mut dbs: Vec<u64> = Vec::new();
        for r in &self.recs {
            let mut f = r.startoff;
            while f < r.end() && f < leaf_f && dbs.len() < MAX_BLOCKS as usize {
                dbs.push(f.checked_div(fc).unwrap_or(f));
                f = f.saturating_add(1);
            }
        }
        dbs.sort_unstable();
        dbs.dedup();
        let mut pass = DataPass::default();
        let ino = self.ino;
        for db in dbs {
            let blk = u32::try_from(self.fblk(db)).unwrap_or(u32::MAX);
            let Some((b, daddr)) = self.read(db) else {
                pass.skip.insert(blk);
                continue;
            };
            let magic = DataHdr::parse(&b, v5).magic;
            let (want, ops) = match (isblock, v5) {
                (true, true) => (DIR3_BLOCK_MAGIC, "xfs_dir3_block"),
                (true, false) => (DIR2_BLOCK_MAGIC, "xfs_dir3_block"),
                (false, true) => (DIR3_DATA_MAGIC, "xfs_dir3_data"),
                (false, false) => (DIR2_DATA_MAGIC, "xfs_dir3_data"),
            };
            let h = self.v5_hdr(&b, daddr, &Layout::DIR3_BLK_HDR);
            if v5 && h.crc == CrcState::Bad {
                self.verifier(false, ops, daddr);
            } else if magic != want
                || (v5 && !(h.uuid_ok && h.blkno_ok))
                || !xfs_format::dir2::data::data_check(&b, &self.dg, dir_ino_ok)
            {
                self.verifier(true, ops, daddr);
            }
            if (magic == DIR3_BLOCK_MAGIC || magic == DIR3_DATA_MAGIC)
                && self.dir3_header_bad(&b, daddr, &Layout::DIR3_BLK_HDR)
            {
                self.fixit = true;
                pass.skip.insert(blk);
                if isblock {
                    pass.stop = true;
                    return pass;
                }
                continue;
            }
            // The structure pass of longform_dir2_entry_check_data.
            let first = dir_hdr_size(v5);
            let endptr = if isblock {
                let tail_at = xfs_format::dir2::BlockTail::offset(bs);
                xfs_format::dir2::BlockTail::parse(&b, bs)
                    .leaf_offset(bs)
                    .min(tail_at)
            } else {
                bs
            };
            let mut ptr = first;
            let mut junkit = false;
            let mut steps = 0usize;
            while ptr < endptr && steps <= bs {
                steps = steps.saturating_add(1);
                let it = DataItemView::at(&b, ptr);
                if it.is_unused() {
                    let len = usize::from(it.length());
                    if ptr.saturating_add(len) > endptr || len == 0 || len & 7 != 0 {
                        break;
                    }
                    if usize::from(it.unused_tag()) != ptr {
                        break;
                    }
                    if ptr == first && ptr.saturating_add(len) >= endptr {
                        junkit = true;
                        pass.num_illegal = pass.num_illegal.saturating_add(1);
                        break;
                    }
                    ptr = ptr.saturating_add(len);
                    if ptr >= endptr {
                        break;
                    }
                }
                let it = DataItemView::at(&b, ptr);
                let es = it.entsize(ftype);
                if ptr.saturating_add(es) > endptr || usize::from(it.entry_tag(ftype)) != ptr {
                    break;
                }
                ptr = ptr.saturating_add(es);
            }
            if ptr != endptr {
                let kind = if junkit {
                    Kind::DirP6EmptyBlock
                } else {
                    Kind::DirP6CorruptBlock
                };
                self.out
                    .push((kind, vec![("blk", blk.into()), ("ino", ino.into())]));
                pass.skip.insert(blk);
            } else {
                // The entry loop of longform_dir2_entry_check_data (the structure pass
                // proved the chain reaches the end).
                let mut p = first;
                let mut n = 0usize;
                while p < endptr && n <= bs {
                    n = n.saturating_add(1);
                    let it = DataItemView::at(&b, p);
                    if it.is_unused() {
                        p = p.saturating_add(usize::from(it.length()).max(8));
                        continue;
                    }
                    let nl = usize::from(it.namelen());
                    pass.entries.push(xfs_format::Entry {
                        name: it.name().unwrap_or(&[]).to_vec(),
                        ino: it.inumber(),
                        ftype: ftype.then(|| {
                            b.get(p.saturating_add(9).saturating_add(nl))
                                .copied()
                                .unwrap_or(0)
                        }),
                    });
                    p = p.saturating_add(it.entsize(ftype));
                }
            }
            if ptr == endptr && magic != want {
                self.out.push((
                    Kind::DirP6BadMagic,
                    vec![
                        ("found", magic.into()),
                        ("ino", ino.into()),
                        ("blk", blk.into()),
                        ("want", want.into()),
                    ],
                ));
            }
            if isblock {
                break;
            }
        }
        pass
    }

    /// The hash check of a block directory (dir_hash_see_all over the block's leaf, then
    /// dir_hash_check). True when the directory would be rebuilt.
    fn check_block(&mut self) -> bool {
        let bs = self.dg.blksize as usize;
        let Some((b, _)) = self.read(0) else {
            return false;
        };
        let tail = xfs_format::dir2::BlockTail::parse(&b, bs);
        let n = usize::try_from(tail.count).unwrap_or(0).min(bs / 8);
        let ents = xfs_format::dir2::leaf::read_leaf_entries(&b, tail.leaf_offset(bs), n);
        let (mut tab, _) = self.data();
        let see = Self::see_all(&mut tab, &ents, usize::try_from(tail.stale).unwrap_or(0));
        self.hash_check(&tab, see)
    }

    /// Data blocks: the hash table and the longest free space of each block.
    fn data(&self) -> (HashTab, BTreeMap<u64, u16>) {
        let mut tab = HashTab::new();
        let mut best = BTreeMap::new();
        let v5 = self.dg.has_crc;
        let hsize = dir_hdr_size(v5);
        let bs = self.dg.blksize as usize;
        let fc = u64::from(self.dg.fsbcount).max(1);
        let mut dbs: Vec<u64> = Vec::new();
        for r in &self.recs {
            let mut f = r.startoff;
            while f < r.end()
                && f < self.fblk(self.dg.leaf_db.into())
                && dbs.len() < MAX_BLOCKS as usize
            {
                dbs.push(f.checked_div(fc).unwrap_or(f));
                f = f.saturating_add(1);
            }
        }
        dbs.sort_unstable();
        dbs.dedup();
        for db in dbs {
            if self
                .skip
                .contains(&u32::try_from(self.fblk(db)).unwrap_or(u32::MAX))
            {
                continue;
            }
            let Some((b, _)) = self.read(db) else {
                continue;
            };
            best.insert(db, DataHdr::parse(&b, v5).bestfree[0].length);
            let mut off = hsize;
            let mut steps = 0usize;
            while off.saturating_add(8) <= bs && steps < bs {
                steps = steps.saturating_add(1);
                let it = DataItemView::at(&b, off);
                if it.is_unused() {
                    let len = usize::from(it.length());
                    if len == 0 {
                        break;
                    }
                    off = off.saturating_add(len);
                    continue;
                }
                if it.namelen() == 0 {
                    break;
                }
                let Some(name) = it.name() else {
                    break;
                };
                // A name starting with '/' was junked: not hashed.
                if name.first() == Some(&b'/') {
                    off = off.saturating_add(it.entsize(self.dg.has_ftype));
                    continue;
                }
                let addr = u32::try_from(
                    db.saturating_mul(u64::from(self.dg.blksize))
                        .saturating_add(off as u64)
                        >> 3,
                )
                .unwrap_or(u32::MAX);
                tab.insert(addr, (da_hashname(name), false));
                off = off.saturating_add(it.entsize(self.dg.has_ftype));
            }
        }
        (tab, best)
    }

    /// dir_hash_see_all over the leaf entries `ents`.
    fn see_all(tab: &mut HashTab, ents: &[LeafEntry], stale: usize) -> See {
        let mut j = 0usize;
        for e in ents {
            let (hash, addr) = (e.hashval, e.address);
            if addr == 0 {
                j = j.saturating_add(1);
                continue;
            }
            // dir_hash_see: looked up by address.
            match tab.get_mut(&addr) {
                None => return See::NoData,
                Some((_, true)) => return See::DupLeaf,
                Some((h, _)) if *h != hash => return See::BadHash,
                Some((_, seen)) => *seen = true,
            }
        }
        if j == stale {
            See::Ok
        } else {
            See::BadStale
        }
    }

    /// dir_hash_check: true when the table is bad.
    fn hash_check(&mut self, tab: &HashTab, see: See) -> bool {
        let reason = match see {
            See::Ok if tab.values().any(|(_, s)| !s) => "no leaf entry",
            See::Ok => return false,
            See::DupLeaf => "duplicate leaf",
            See::BadHash => "hash value mismatch",
            See::NoData => "no data entry",
            See::BadStale => "bad stale count",
        };
        self.out.push((
            Kind::DirBadHashTable,
            vec![("ino", self.ino.into()), ("reason", reason.into())],
        ));
        true
    }

    /// longform_dir2_check_leaf; true when the directory would be rebuilt.
    fn check_leaf(&mut self) -> bool {
        let v5 = self.dg.has_crc;
        let leafdb = u64::from(self.dg.leaf_db);
        let blk = ("blk", Val::U(self.fblk(leafdb)));
        let Some((b, daddr)) = self.read(leafdb) else {
            return false;
        };
        let bs = self.dg.blksize as usize;
        let hdr = LeafHdr::parse(&b, v5).unwrap_or_default();
        let magic = hdr.info.magic;
        let count = usize::from(hdr.count);
        let stale = usize::from(hdr.stale);
        let tail = Leaf1Tail::parse(&b, bs);
        let bestcount = tail.bestcount as usize;
        let bests = tail.bests_offset(bs);
        let max_ents = LeafHdr::max_entries(bs, v5);
        let ents_end = hdr.ents_end(v5);
        let h = self.v5_hdr(&b, daddr, &Layout::DA3_BLKINFO);
        // xfs_dir3_leaf1 read verifier
        let bad = if v5 && h.crc == CrcState::Bad {
            Some(false)
        } else {
            let want = if v5 {
                DIR3_LEAF1_MAGIC
            } else {
                DIR2_LEAF1_MAGIC
            };
            let mut ok = magic == want && (!v5 || (h.uuid_ok && h.blkno_ok));
            ok = ok && count <= max_ents && ents_end <= bests;
            if ok {
                let ents = leaf_ents(&b, v5, count);
                let st = ents.iter().filter(|e| e.address == 0).count();
                ok = ents
                    .windows(2)
                    .all(|w| matches!(w, [a, b] if a.hashval <= b.hashval))
                    && st == stale
                    && ents.iter().all(|e| {
                        u64::from(self.dg.dataptr_to_db_off(e.address).0) < bestcount as u64
                    });
            }
            (!ok).then_some(true)
        };
        if let Some(corrupt) = bad {
            self.verifier(corrupt, "xfs_dir3_leaf1", daddr);
            self.out
                .push((Kind::DirLeafBadCrc, vec![blk, ("ino", self.ino.into())]));
            return true;
        }
        if hdr.info.forw != 0
            || hdr.info.back != 0
            || count < stale
            || count > max_ents
            || ents_end > bests
        {
            self.out
                .push((Kind::DirLeafBadHeader, vec![blk, ("ino", self.ino.into())]));
            return true;
        }
        if magic == DIR3_LEAF1_MAGIC && self.dir3_header_bad(&b, daddr, &Layout::DA3_BLKINFO) {
            return true;
        }
        let (mut tab, best) = self.data();
        let see = Self::see_all(&mut tab, &leaf_ents(&b, v5, count), stale);
        if self.hash_check(&tab, see) {
            return true;
        }
        let nents = best.keys().next_back().map_or(0, |d| d.saturating_add(1));
        let mut badtail = nents != bestcount as u64;
        for i in 0..bestcount {
            if badtail {
                break;
            }
            let v = best.get(&(i as u64)).copied().unwrap_or(NULLDATAOFF);
            badtail = v != tail.best(&b, bs, i);
        }
        if badtail {
            self.out
                .push((Kind::DirLeafBadTail, vec![blk, ("ino", self.ino.into())]));
            return true;
        }
        false
    }

    /// longform_dir2_check_node; true when the directory would be rebuilt.
    fn check_node(&mut self) -> bool {
        let v5 = self.dg.has_crc;
        let bs = self.dg.blksize as usize;
        let (mut tab, best) = self.data();
        let mut see = See::Ok;
        let leaf_db = u64::from(self.dg.leaf_db);
        let free_db = u64::from(self.dg.free_db);
        let mapped: Vec<u64> = {
            let fc = u64::from(self.dg.fsbcount).max(1);
            let mut v: Vec<u64> = Vec::new();
            for r in &self.recs {
                let mut f = r.startoff;
                while f < r.end() && v.len() < MAX_BLOCKS as usize {
                    v.push(f.checked_div(fc).unwrap_or(f));
                    f = f.saturating_add(1);
                }
            }
            v.sort_unstable();
            v.dedup();
            v
        };
        for &db in mapped.iter().filter(|d| **d >= leaf_db && **d < free_db) {
            let blk = ("blk", Val::U(self.fblk(db)));
            let Some((b, daddr)) = self.read(db) else {
                return true;
            };
            let magic = da_magic(&b).unwrap_or(0);
            // dir_read_buf with xfs_da3_node_buf_ops (leafn blocks go to the leafn verifier)
            let (v, ops) = crate::da_util::da_verify(self.fs, &b, daddr, crate::da_util::Ops::Node);
            if v != crate::da_util::Verify::Ok {
                self.verifier(v == crate::da_util::Verify::Corrupt, ops, daddr);
            }
            if !matches!(
                magic,
                DIR2_LEAFN_MAGIC | DIR3_LEAFN_MAGIC | DA_NODE_MAGIC | DA3_NODE_MAGIC
            ) {
                self.out.push((
                    Kind::DirUnknownLeafMagic,
                    vec![("magic", magic.into()), blk, ("ino", self.ino.into())],
                ));
                return true;
            }
            if (magic == DIR3_LEAFN_MAGIC || magic == DA3_NODE_MAGIC)
                && self.dir3_header_bad(&b, daddr, &Layout::DA3_BLKINFO)
            {
                return true;
            }
            if magic == DA_NODE_MAGIC || magic == DA3_NODE_MAGIC {
                continue;
            }
            let hdr = LeafHdr::parse(&b, v5).unwrap_or_default();
            let count = usize::from(hdr.count);
            let stale = usize::from(hdr.stale);
            if count > LeafHdr::max_entries(bs, v5) || count < stale {
                self.out
                    .push((Kind::DirLeafBadHeader, vec![blk, ("ino", self.ino.into())]));
                return true;
            }
            see = Self::see_all(&mut tab, &leaf_ents(&b, v5, count), stale);
            if see != See::Ok {
                return true;
            }
        }
        if self.hash_check(&tab, see) {
            return true;
        }
        let nents = best.keys().next_back().map_or(0, |d| d.saturating_add(1));
        let mut seen = vec![false; usize::try_from(nents).unwrap_or(0).min(MAX_BLOCKS as usize)];
        let max_bests = FreeHdr::max_bests(bs, v5);
        for &db in mapped.iter().filter(|d| **d >= free_db) {
            let blk = ("blk", Val::U(self.fblk(db)));
            let Some((b, daddr)) = self.read(db) else {
                return true;
            };
            let fh = FreeHdr::parse(&b, v5);
            let magic = fh.magic;
            let want = if v5 { DIR3_FREE_MAGIC } else { DIR2_FREE_MAGIC };
            let h = self.v5_hdr(&b, daddr, &Layout::DIR3_BLK_HDR);
            if v5 && h.crc == CrcState::Bad {
                self.verifier(false, "xfs_dir3_free", daddr);
            } else if magic != want || (v5 && !(h.uuid_ok && h.blkno_ok)) {
                self.verifier(true, "xfs_dir3_free", daddr);
            }
            let firstdb = fh.firstdb as usize;
            let nvalid = fh.nvalid as usize;
            let nused = fh.nused as usize;
            let fdb = db.saturating_sub(free_db) as usize;
            if !(magic == DIR2_FREE_MAGIC || magic == DIR3_FREE_MAGIC)
                || firstdb != fdb.saturating_mul(max_bests)
                || nvalid < nused
            {
                self.out
                    .push((Kind::DirFreeBadHeader, vec![blk, ("ino", self.ino.into())]));
                return true;
            }
            if magic == DIR3_FREE_MAGIC && self.dir3_header_bad(&b, daddr, &Layout::DIR3_BLK_HDR) {
                return true;
            }
            let mut used = 0usize;
            for i in 0..nvalid.min(max_bests) {
                let bv = free_best(&b, v5, i);
                let d = i.saturating_add(firstdb);
                let v = best.get(&(d as u64)).copied().unwrap_or(NULLDATAOFF);
                if d >= seen.len() || v != bv {
                    self.out.push((
                        Kind::DirFreeBadEntry,
                        vec![blk, ("i", i.into()), ("ino", self.ino.into())],
                    ));
                    return true;
                }
                if bv != NULLDATAOFF {
                    used = used.saturating_add(1);
                }
                if let Some(s) = seen.get_mut(d) {
                    *s = true;
                }
            }
            if used != nused {
                self.out
                    .push((Kind::DirFreeBadNused, vec![blk, ("ino", self.ino.into())]));
                return true;
            }
        }
        for (i, s) in seen.iter().enumerate() {
            if !*s && best.contains_key(&(i as u64)) {
                self.out.push((
                    Kind::DirFreetabMissing,
                    vec![("i", i.into()), ("ino", self.ino.into())],
                ));
                return true;
            }
        }
        false
    }
}

/// Leaf/free block checks of a leaf- or node-format directory (`recs`: its data fork).
/// Returns the findings and whether the directory would be rebuilt.
/// Phase 6 checks of a long-form directory (`recs`: its data fork) after its entries: the
/// hash check of a block directory (when `skip`, the data blocks [`data_pass`] left out, is
/// given) or the leaf/free block checks of a leaf or node directory. Returns the findings
/// and whether the directory would be rebuilt.
pub(crate) fn check_with<S: ByteSource>(
    fs: &Filesystem<S>,
    ino: u64,
    recs: Vec<BmbtRec>,
    skip: Option<&std::collections::BTreeSet<u32>>,
) -> (Out, bool) {
    let Some(dg) = DirGeo::new(&fs.geo) else {
        return (Vec::new(), false);
    };
    let fc = u64::from(dg.fsbcount).max(1);
    let leafblk = u64::from(dg.leaf_db).saturating_mul(fc);
    let last = recs.iter().map(BmbtRec::end).max().unwrap_or(0);
    let mut c = Ctx {
        fs,
        dg,
        recs,
        ino,
        out: Vec::new(),
        fixit: false,
        skip: std::collections::BTreeSet::new(),
    };
    if let Some(sk) = skip {
        c.skip = sk.clone();
    }
    // xfs_dir2_isleaf: the last block is the single leaf block.
    let bad = if last == fc {
        skip.is_some() && c.check_block()
    } else if last == leafblk.saturating_add(fc) {
        c.check_leaf()
    } else if last > leafblk.saturating_add(fc) {
        c.check_node()
    } else {
        false
    };
    let fixit = c.fixit;
    (c.out, bad || fixit)
}

/// The data-block pass of phase 6 over a long-form directory (`recs`: its data fork;
/// `dir_ino_ok`: xfs_verify_dir_ino), run before its entries are walked.
pub(crate) fn data_pass<S: ByteSource>(
    fs: &Filesystem<S>,
    ino: u64,
    recs: Vec<BmbtRec>,
    dir_ino_ok: &dyn Fn(u64) -> bool,
) -> DataPass {
    let Some(dg) = DirGeo::new(&fs.geo) else {
        return DataPass::default();
    };
    let mut c = Ctx {
        fs,
        dg,
        recs,
        ino,
        out: Vec::new(),
        fixit: false,
        skip: std::collections::BTreeSet::new(),
    };
    let mut pass = c.check_data(dir_ino_ok);
    pass.out = c.out;
    pass.fixit = c.fixit;
    pass
}
