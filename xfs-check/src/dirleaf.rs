//! Phase 6 checks of the leaf and free-index blocks of leaf- and node-format directories
//! (xfs_repair's longform_dir2_check_leaf and longform_dir2_check_node, with the name hash
//! table check dir_hash_see_all / dir_hash_check).

use std::collections::BTreeMap;
use xfs_format::bytes::{be16, be32, be64};

use xfs_format::bmap::BmbtRec;
use xfs_format::dir2::{da_hashname, DirGeo};
use xfs_format::fields::CrcState;
use xfs_format::{ByteSource, Filesystem};

use crate::finding::{Kind, Val};

const DIR2_LEAF1_MAGIC: u16 = 0xd2f1;
const DIR3_LEAF1_MAGIC: u16 = 0x3df1;
const DIR2_LEAFN_MAGIC: u16 = 0xd2ff;
const DIR3_LEAFN_MAGIC: u16 = 0x3dff;
const DA_NODE_MAGIC: u16 = 0xfebe;
const DA3_NODE_MAGIC: u16 = 0x3ebe;
const DIR2_FREE_MAGIC: u32 = 0x5844_3246;
const DIR3_FREE_MAGIC: u32 = 0x5844_4633;
const NULLDATAOFF: u16 = 0xffff;
/// Most directory blocks looked at per directory.
const MAX_BLOCKS: u64 = 1 << 20;

pub(crate) type Out = Vec<(Kind, Vec<(&'static str, Val)>)>;

struct Ctx<'a, S> {
    fs: &'a Filesystem<S>,
    dg: DirGeo,
    recs: Vec<BmbtRec>,
    ino: u64,
    out: Out,
}

/// The name hash table of the data blocks: address -> (hash, seen).
type HashTab = BTreeMap<u32, (u32, bool)>;

#[derive(PartialEq, Eq, Clone, Copy)]
enum See {
    Ok,
    DupLeaf,
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
        self.out.push((
            Kind::VerifierError,
            vec![
                (
                    "error",
                    if corrupt { "corruption" } else { "CRC error" }.into(),
                ),
                ("addr", "<addr>".into()),
                ("ops", ops.into()),
                ("daddr", daddr.into()),
                ("bytes", u64::from(self.dg.blksize).into()),
            ],
        ));
    }

    fn v5_hdr_ok(&self, b: &[u8], daddr: u64, uuid_at: usize, blkno_at: usize) -> bool {
        b.get(uuid_at..uuid_at.saturating_add(16)) == Some(&self.fs.geo.meta_uuid[..])
            && be64(b, blkno_at) == daddr
    }

    /// Data blocks: the hash table and the longest free space of each block.
    fn data(&self) -> (HashTab, BTreeMap<u64, u16>) {
        let mut tab = HashTab::new();
        let mut best = BTreeMap::new();
        let v5 = self.dg.has_crc;
        let (hsize, bf0) = if v5 { (64usize, 50usize) } else { (16, 6) };
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
            let Some((b, _)) = self.read(db) else {
                continue;
            };
            best.insert(db, be16(&b, bf0));
            let mut off = hsize;
            let mut steps = 0usize;
            while off.saturating_add(8) <= bs && steps < bs {
                steps = steps.saturating_add(1);
                if be16(&b, off) == 0xffff {
                    let len = usize::from(be16(&b, off.saturating_add(2)));
                    if len == 0 {
                        break;
                    }
                    off = off.saturating_add(len);
                    continue;
                }
                let namelen = usize::from(b.get(off.saturating_add(8)).copied().unwrap_or(0));
                if namelen == 0 {
                    break;
                }
                let ns = off.saturating_add(9);
                let Some(name) = b.get(ns..ns.saturating_add(namelen)) else {
                    break;
                };
                let addr = u32::try_from(
                    db.saturating_mul(u64::from(self.dg.blksize))
                        .saturating_add(off as u64)
                        >> 3,
                )
                .unwrap_or(u32::MAX);
                tab.insert(addr, (da_hashname(name), false));
                let fixed = 9usize
                    .saturating_add(namelen)
                    .saturating_add(usize::from(self.dg.has_ftype))
                    .saturating_add(2);
                off = off.saturating_add(fixed.saturating_add(7) & !7);
            }
        }
        (tab, best)
    }

    /// dir_hash_see_all over `count` leaf entries at `ents`.
    fn see_all(tab: &mut HashTab, b: &[u8], ents: usize, count: usize, stale: usize) -> See {
        let mut j = 0usize;
        for i in 0..count {
            let e = ents.saturating_add(i.saturating_mul(8));
            let hash = be32(b, e);
            let addr = be32(b, e.saturating_add(4));
            if addr == 0 {
                j = j.saturating_add(1);
                continue;
            }
            match tab.get_mut(&addr) {
                Some((h, seen)) if *h == hash => {
                    if *seen {
                        return See::DupLeaf;
                    }
                    *seen = true;
                }
                _ => return See::NoData,
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
        let hsize = if v5 { 64usize } else { 16 };
        let magic = be16(&b, 8);
        let count = usize::from(be16(&b, if v5 { 56 } else { 12 }));
        let stale = usize::from(be16(&b, if v5 { 58 } else { 14 }));
        let bestcount = be32(&b, bs.saturating_sub(4)) as usize;
        let bests = bs
            .saturating_sub(4)
            .saturating_sub(bestcount.saturating_mul(2));
        let max_ents = bs.saturating_sub(hsize) / 8;
        let ents_end = hsize.saturating_add(count.saturating_mul(8));
        // xfs_dir3_leaf1 read verifier
        let bad = if v5 && xfs_format::crc::verify(&b, 12, true) == CrcState::Bad {
            Some(false)
        } else {
            let want = if v5 {
                DIR3_LEAF1_MAGIC
            } else {
                DIR2_LEAF1_MAGIC
            };
            let mut ok = magic == want && (!v5 || self.v5_hdr_ok(&b, daddr, 32, 16));
            ok = ok && count <= max_ents && ents_end <= bests;
            if ok {
                let mut st = 0usize;
                let mut prev = 0u32;
                for i in 0..count {
                    let e = hsize.saturating_add(i.saturating_mul(8));
                    let h = be32(&b, e);
                    if i > 0 && prev > h {
                        ok = false;
                    }
                    prev = h;
                    if be32(&b, e.saturating_add(4)) == 0 {
                        st = st.saturating_add(1);
                    }
                }
                ok = ok && st == stale;
            }
            (!ok).then_some(true)
        };
        if let Some(corrupt) = bad {
            self.verifier(corrupt, "xfs_dir3_leaf1", daddr);
            self.out
                .push((Kind::DirLeafBadCrc, vec![blk, ("ino", self.ino.into())]));
            return true;
        }
        if be32(&b, 0) != 0
            || be32(&b, 4) != 0
            || count < stale
            || count > max_ents
            || ents_end > bests
        {
            self.out
                .push((Kind::DirLeafBadHeader, vec![blk, ("ino", self.ino.into())]));
            return true;
        }
        if v5 && be64(&b, 48) != self.ino {
            return true;
        }
        let (mut tab, best) = self.data();
        let see = Self::see_all(&mut tab, &b, hsize, count, stale);
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
            badtail = v != be16(&b, bests.saturating_add(i.saturating_mul(2)));
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
        let hsize = if v5 { 64usize } else { 16 };
        for &db in mapped.iter().filter(|d| **d >= leaf_db && **d < free_db) {
            let blk = ("blk", Val::U(self.fblk(db)));
            let Some((b, daddr)) = self.read(db) else {
                return true;
            };
            let magic = be16(&b, 8);
            // xfs_da3_node read verifier (leafn blocks go to the leafn verifier)
            match magic {
                DA3_NODE_MAGIC | DA_NODE_MAGIC | DIR3_LEAFN_MAGIC | DIR2_LEAFN_MAGIC => {
                    let crc_bad = (magic == DA3_NODE_MAGIC || magic == DIR3_LEAFN_MAGIC)
                        && xfs_format::crc::verify(&b, 12, true) == CrcState::Bad;
                    let node = magic == DA3_NODE_MAGIC || magic == DA_NODE_MAGIC;
                    let ops = if node {
                        "xfs_da3_node"
                    } else {
                        "xfs_dir3_leafn"
                    };
                    if crc_bad {
                        self.verifier(false, ops, daddr);
                    } else if v5 != (magic == DA3_NODE_MAGIC || magic == DIR3_LEAFN_MAGIC)
                        || (v5 && !self.v5_hdr_ok(&b, daddr, 32, 16))
                    {
                        self.verifier(true, ops, daddr);
                    }
                }
                _ => self.verifier(true, "xfs_da3_node", daddr),
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
            if (magic == DIR3_LEAFN_MAGIC || magic == DA3_NODE_MAGIC) && be64(&b, 48) != self.ino {
                return true;
            }
            if magic == DA_NODE_MAGIC || magic == DA3_NODE_MAGIC {
                continue;
            }
            let count = usize::from(be16(&b, if v5 { 56 } else { 12 }));
            let stale = usize::from(be16(&b, if v5 { 58 } else { 14 }));
            if count > bs.saturating_sub(hsize) / 8 || count < stale {
                self.out
                    .push((Kind::DirLeafBadHeader, vec![blk, ("ino", self.ino.into())]));
                return true;
            }
            see = Self::see_all(&mut tab, &b, hsize, count, stale);
            if see != See::Ok {
                return true;
            }
        }
        if self.hash_check(&tab, see) {
            return true;
        }
        let nents = best.keys().next_back().map_or(0, |d| d.saturating_add(1));
        let mut seen = vec![false; usize::try_from(nents).unwrap_or(0).min(MAX_BLOCKS as usize)];
        let max_bests = bs.saturating_sub(hsize) / 2;
        for &db in mapped.iter().filter(|d| **d >= free_db) {
            let blk = ("blk", Val::U(self.fblk(db)));
            let Some((b, daddr)) = self.read(db) else {
                return true;
            };
            let magic = be32(&b, 0);
            let want = if v5 { DIR3_FREE_MAGIC } else { DIR2_FREE_MAGIC };
            if v5 && xfs_format::crc::verify(&b, 4, true) == CrcState::Bad {
                self.verifier(false, "xfs_dir3_free", daddr);
            } else if magic != want || (v5 && !self.v5_hdr_ok(&b, daddr, 24, 8)) {
                self.verifier(true, "xfs_dir3_free", daddr);
            }
            let o = if v5 { 48 } else { 4 };
            let firstdb = be32(&b, o) as usize;
            let nvalid = be32(&b, o.saturating_add(4)) as usize;
            let nused = be32(&b, o.saturating_add(8)) as usize;
            let fdb = db.saturating_sub(free_db) as usize;
            if !(magic == DIR2_FREE_MAGIC || magic == DIR3_FREE_MAGIC)
                || firstdb != fdb.saturating_mul(max_bests)
                || nvalid < nused
            {
                self.out
                    .push((Kind::DirFreeBadHeader, vec![blk, ("ino", self.ino.into())]));
                return true;
            }
            if magic == DIR3_FREE_MAGIC && be64(&b, 40) != self.ino {
                return true;
            }
            let mut used = 0usize;
            for i in 0..nvalid.min(max_bests) {
                let bv = be16(&b, hsize.saturating_add(i.saturating_mul(2)));
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
pub(crate) fn check<S: ByteSource>(
    fs: &Filesystem<S>,
    ino: u64,
    recs: Vec<BmbtRec>,
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
    };
    // xfs_dir2_isleaf: the last block is the single leaf block.
    let bad = if last == leafblk.saturating_add(fc) {
        c.check_leaf()
    } else if last > leafblk.saturating_add(fc) {
        c.check_node()
    } else {
        false
    };
    (c.out, bad)
}
