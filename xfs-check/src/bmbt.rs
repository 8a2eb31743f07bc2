//! Inode forks in btree format, as xfs_repair's `process_btinode` (dinode.c) and
//! `scan_lbtree` / `scan_bmapbt` (scan.c) check them: the root in the inode, then every BMBT
//! block top-down and left to right with a cursor per level (sibling pointers, first and
//! last keys), each leaf's records through `process_bmbt_reclist` as they are reached.
//!
//! Phase 3 runs every check and claims the blocks; phase 4 (`check_dups`) repeats the
//! header checks, the record list's duplicate checks and nothing else. A problem found
//! anywhere makes the fork bad (the inode would be cleared), as xfs_repair bails out.

use xfs_format::addr::Fsb;
use xfs_format::bmap::{
    bmbt_maxlevels, bmbt_maxrecs, bmbt_minrecs, bmdr_space, BmbtKind, BmbtRec, BmdrRoot, WhichFork,
    XFS_BMAP_CRC_MAGIC, XFS_BMAP_MAGIC,
};
use xfs_format::btree::{BlockHeader, BtreeKind, PtrFormat, NULLFSBLOCK};
use xfs_format::fields::CrcState;
use xfs_format::verify::{verify, Expected, Layout};
use xfs_format::ByteSource;

use crate::dinode::Type;
use crate::finding::{verifier_error, Kind, Val};
use crate::incore as bm;
use crate::state::Checker;

/// `NULLFILEOFF`: no key seen yet at a level.
const NULLFILEOFF: u64 = u64::MAX;
/// Blocks one fork's walk may visit before it is called bad (a guard against hostile
/// fan-out; real trees stop far earlier, at the first inconsistent sibling).
const MAX_BLOCKS: u64 = 1 << 22;

/// One level of `bmap_cursor_t`.
#[derive(Clone, Copy)]
struct Level {
    fsbno: u64,
    right: u64,
    first_key: u64,
    last_key: u64,
}

impl Default for Level {
    fn default() -> Self {
        Level {
            fsbno: NULLFSBLOCK,
            right: NULLFSBLOCK,
            first_key: NULLFILEOFF,
            last_key: NULLFILEOFF,
        }
    }
}

/// What a btree-format fork came to.
#[derive(Default)]
pub(crate) struct BtreeFork {
    /// A problem was found: the fork is bad.
    pub bad: bool,
    /// Blocks counted: BMBT blocks and the blocks of accepted extents (`*tot`).
    pub blocks: u64,
    /// Extent records in the leaves reached (`*nex`).
    pub extents: u64,
    /// The records of the leaves reached, in order.
    pub recs: Vec<BmbtRec>,
}

/// The walk of one fork.
struct Walk {
    ino: u64,
    ty: Type,
    fork: &'static str,
    check_dups: bool,
    cursor: Vec<Level>,
    out: BtreeFork,
    visited: u64,
}

impl Walk {
    /// Updates the cursor of `level` (levels are at most `bmbt_maxlevels`, a handful).
    fn update(&mut self, level: usize, f: impl FnOnce(&mut Level)) {
        if self.cursor.len() <= level {
            self.cursor
                .resize(level.saturating_add(1), Level::default());
        }
        if let Some(c) = self.cursor.get_mut(level) {
            f(c);
        }
    }

    fn level(&self, level: usize) -> Level {
        self.cursor.get(level).copied().unwrap_or_default()
    }

    fn fields(&self) -> Vec<(&'static str, Val)> {
        vec![("ino", self.ino.into()), ("fork", self.fork.into())]
    }
}

impl<S: ByteSource> Checker<'_, S> {
    /// `process_btinode`: the fork `fork` (exactly the fork's bytes in the inode) of inode
    /// `ino`, in btree format.
    pub(crate) fn process_btinode(
        &mut self,
        fork: &[u8],
        ino: u64,
        ty: Type,
        which: WhichFork,
    ) -> BtreeFork {
        let geo = &self.fs.geo;
        let fork_name = match which {
            WhichFork::Data => "data",
            WhichFork::Attr => "attr",
        };
        let root = BmdrRoot::parse(fork);
        let level = root.bb_level;
        let numrecs = usize::from(root.bb_numrecs);
        let mut w = Walk {
            ino,
            ty,
            fork: fork_name,
            check_dups: self.phase == 4,
            cursor: Vec::new(),
            out: BtreeFork::default(),
            visited: 0,
        };
        let i = ("ino", Val::from(ino));
        if level == 0 || u32::from(level) > bmbt_maxlevels(geo, which) {
            self.push(
                Kind::BmbtRootBadLevel,
                vec![("level", i64::from(level).into()), i],
            );
            return BtreeFork { bad: true, ..w.out };
        }
        if numrecs == 0 {
            self.push(Kind::BmbtRootNumrecs0, vec![i]);
            return BtreeFork { bad: true, ..w.out };
        }
        if bmdr_space(numrecs) > fork.len() {
            self.push(
                Kind::BmbtRootTooBig,
                vec![
                    ("fork", fork_name.into()),
                    ("bytes", (bmdr_space(numrecs) as i64).into()),
                    i,
                ],
            );
            return BtreeFork { bad: true, ..w.out };
        }
        let child = usize::from(level).saturating_sub(1);
        let mut last_key = NULLFILEOFF;
        for (key, ptr) in root.keys.iter().zip(root.ptrs.iter()) {
            if !geo.verify_fsbno(Fsb(*ptr)) {
                self.push(Kind::BmbtBadPtr, vec![("ptr", (*ptr).into()), i.clone()]);
                return BtreeFork { bad: true, ..w.out };
            }
            if self.scan_lbtree(&mut w, *ptr, level, true) {
                return BtreeFork { bad: true, ..w.out };
            }
            let first = w.level(child).first_key;
            if !w.check_dups && first != *key {
                let mut f = vec![("is", (*key).into()), ("to", first.into())];
                f.extend(w.fields());
                self.push(Kind::BmbtRootBadKey, f);
            }
            if !w.check_dups {
                if last_key != NULLFILEOFF && last_key >= first {
                    // xfs_repair prints its never-set first_key here: always 0.
                    let mut f = vec![("key", 0u64.into())];
                    f.extend(w.fields());
                    self.push(Kind::BmbtRootKeyOrder, f);
                    return BtreeFork { bad: true, ..w.out };
                }
                last_key = first;
            }
        }
        let fits = (fork.len() / xfs_format::bmap::BMBT_REC_SIZE) as u64;
        if w.out.extents <= fits {
            let mut f = w.fields();
            f.push(("nex", w.out.extents.into()));
            self.push(Kind::BmbtTooFewExtents, f);
            return BtreeFork { bad: true, ..w.out };
        }
        let l0 = w.level(0);
        if !w.check_dups && l0.right != NULLFSBLOCK {
            let mut f = vec![("saw", l0.right.into()), ("fsbno", l0.fsbno.into())];
            f.extend(w.fields());
            self.push(Kind::BmbtRightSibNotNull, f);
            return BtreeFork { bad: true, ..w.out };
        }
        w.out
    }

    /// `scan_lbtree`: reads block `bno` (with the BMBT read verifier) and checks it as a
    /// child of a block at `parent_level`. Returns true when the fork is bad.
    fn scan_lbtree(&mut self, w: &mut Walk, bno: u64, parent_level: u16, isroot: bool) -> bool {
        w.visited = w.visited.saturating_add(1);
        if w.visited > MAX_BLOCKS {
            return true;
        }
        let geo = &self.fs.geo;
        // The block libxfs reads for this pointer (its AG number truncated as libxfs does).
        let (a, b) = geo.fsb_split_lossy(Fsb(bno));
        let Some(daddr) = geo.agbno_to_daddr(a, b) else {
            return true;
        };
        let Ok(buf) = self.fs.read_fsb(geo.fsb_make(a, b).map_or(bno, |f| f.0), 1) else {
            return true;
        };
        let buf = buf.into_owned();
        let daddr = daddr.0;
        let (crc_bad, corrupt) = self.bmbt_verifier(&buf, bno, daddr);
        if crc_bad || corrupt {
            self.push(
                Kind::VerifierError,
                verifier_error(corrupt && !crc_bad, "xfs_bmbt", daddr, buf.len() as u64),
            );
        }
        if crc_bad && self.phase == 3 {
            self.push(
                Kind::BtreeBlockSuspect,
                vec![
                    ("ag", a.0.into()),
                    ("agbno", b.0.into()),
                    ("error", (-74i64).into()),
                ],
            );
        }
        self.scan_bmapbt(w, &buf, parent_level.saturating_sub(1), bno, isroot)
    }

    /// The BMBT read verifier (`xfs_bmbt_read_verify`): (bad CRC, structure rejected).
    fn bmbt_verifier(&self, buf: &[u8], bno: u64, daddr: u64) -> (bool, bool) {
        let geo = &self.fs.geo;
        let magic = if geo.has_crc {
            XFS_BMAP_CRC_MAGIC
        } else {
            XFS_BMAP_MAGIC
        };
        let hc = geo.has_crc.then(|| {
            verify(
                buf,
                &Layout::LBLOCK,
                &Expected {
                    magic: Some(magic),
                    blkno: Some(daddr),
                    uuid: Some(geo.meta_uuid),
                    owner: None,
                },
            )
        });
        if hc.as_ref().is_some_and(|h| h.crc == CrcState::Bad) {
            return (true, false);
        }
        let Some(h) = BlockHeader::parse(buf, PtrFormat::Long, geo.has_crc) else {
            return (false, true);
        };
        let hdr_ok = h.bb_magic == magic && hc.is_none_or(|c| c.blkno_ok && c.uuid_ok);
        let max_level =
            bmbt_maxlevels(geo, WhichFork::Data).max(bmbt_maxlevels(geo, WhichFork::Attr));
        let level_ok = u32::from(h.bb_level) <= max_level;
        let recs_ok = usize::from(h.bb_numrecs) <= bmbt_maxrecs(geo, h.bb_level == 0);
        let sib_ok = |s: u64| s == NULLFSBLOCK || (s != bno && geo.verify_fsbno(Fsb(s)));
        let ok = hdr_ok && level_ok && recs_ok && sib_ok(h.bb_leftsib) && sib_ok(h.bb_rightsib);
        (false, !ok)
    }

    /// `scan_bmapbt`: block `bno` (its bytes `buf`) expected at `level`.
    fn scan_bmapbt(
        &mut self,
        w: &mut Walk,
        buf: &[u8],
        level: u16,
        bno: u64,
        isroot: bool,
    ) -> bool {
        let geo = &self.fs.geo;
        let magic = if geo.has_crc {
            XFS_BMAP_CRC_MAGIC
        } else {
            XFS_BMAP_MAGIC
        };
        let Some(h) = BlockHeader::parse(buf, PtrFormat::Long, geo.has_crc) else {
            return true;
        };
        let at = ("fsbno", Val::from(bno));
        if h.bb_magic != magic {
            let mut f = vec![("magic", u64::from(h.bb_magic).into())];
            f.extend(w.fields());
            f.push(at);
            self.push(Kind::BmbtBadMagic, f);
            return true;
        }
        if h.bb_level != level {
            let mut f = vec![
                ("expected", i64::from(level).into()),
                ("found", i64::from(h.bb_level).into()),
            ];
            f.extend(w.fields());
            f.push(at);
            self.push(Kind::BmbtBadLevel, f);
            return true;
        }
        if let Some(c) = &h.crc {
            if c.bb_owner != w.ino {
                let f = vec![("ino", w.ino.into()), ("owner", c.bb_owner.into()), at];
                self.push(Kind::BmbtBadOwner, f);
                return true;
            }
            let (a, b) = geo.fsb_split_lossy(Fsb(bno));
            let daddr = geo.agbno_to_daddr(a, b).map_or(0, |d| d.0);
            if c.bb_blkno != daddr {
                let f = vec![("expected", daddr.into()), ("found", c.bb_blkno.into()), at];
                self.push(Kind::BmbtBadBlkno, f);
                return true;
            }
            if c.bb_uuid != geo.meta_uuid {
                self.push(Kind::BmbtBadUuid, vec![at]);
                return true;
            }
        }
        let lvl = usize::from(level);
        if !w.check_dups {
            let cur = w.level(lvl);
            let sib = |saw: u64, says: u64, fsbno: u64| {
                vec![
                    ("saw", Val::from(saw)),
                    ("says", says.into()),
                    ("ino", w.ino.into()),
                    ("fork", w.fork.into()),
                    ("fsbno", fsbno.into()),
                ]
            };
            if cur.fsbno != NULLFSBLOCK {
                if bno != cur.right {
                    self.push(Kind::BmbtBadRightSib, sib(cur.right, bno, cur.fsbno));
                    return true;
                }
                if h.bb_leftsib != cur.fsbno {
                    self.push(Kind::BmbtBadLeftSib, sib(h.bb_leftsib, cur.fsbno, bno));
                    return true;
                }
            } else if h.bb_leftsib != NULLFSBLOCK {
                let mut f = vec![("saw", h.bb_leftsib.into())];
                f.extend(w.fields());
                f.push(at.clone());
                self.push(Kind::BmbtLeftSibNotNull, f);
                return true;
            }
            w.update(lvl, |c| {
                c.fsbno = bno;
                c.right = h.bb_rightsib;
            });
            self.claim_bmbt_block(w.ino, bno);
        } else if self.bmbt_block_dup(bno) {
            return true;
        }
        w.out.blocks = w.out.blocks.saturating_add(1);
        let numrecs = usize::from(h.bb_numrecs);
        let leaf = level == 0;
        let (max, min) = (bmbt_maxrecs(geo, leaf), bmbt_minrecs(geo, leaf));
        if numrecs > max || (!isroot && numrecs < min) {
            let f = vec![
                ("ino", w.ino.into()),
                ("n", numrecs.into()),
                ("min", min.into()),
                ("max", max.into()),
            ];
            self.push(Kind::BmbtBadNumrecs, f);
            return true;
        }
        if leaf {
            let recs: Vec<BmbtRec> = (0..numrecs)
                .map_while(|i| BmbtKind.rec_at(buf, geo.has_crc, i))
                .collect();
            w.out.extents = w.out.extents.saturating_add(numrecs as u64);
            let (err, tot, _) = self.reclist(&recs, w.ty, w.ino, w.fork);
            w.out.blocks = w.out.blocks.saturating_add(tot);
            if err {
                return true;
            }
            if !w.check_dups {
                let first = recs.first().map_or(0, |r| r.startoff);
                let last = recs.last().map_or(0, |r| r.startoff);
                let cur = w.level(0);
                if first <= cur.last_key && cur.last_key != NULLFILEOFF {
                    let mut f = w.fields();
                    f.push(at);
                    self.push(Kind::BmbtKeyOrder, f);
                    return true;
                }
                w.update(0, |c| {
                    c.first_key = first;
                    c.last_key = last;
                });
            }
            w.out.recs.extend(recs);
            return false;
        }
        for i in 0..numrecs {
            let Some(ptr) = BmbtKind.ptr_at(buf, geo.has_crc, i) else {
                return true;
            };
            if !geo.verify_fsbno(Fsb(ptr)) {
                self.push(
                    Kind::BmbtBadPtr,
                    vec![("ptr", ptr.into()), ("ino", w.ino.into())],
                );
                return true;
            }
            if self.scan_lbtree(w, ptr, level, false) {
                return true;
            }
            let key = BmbtKind
                .key_at(buf, geo.has_crc, i)
                .map_or(0, |k| k.br_startoff);
            let first = w.level(lvl.saturating_sub(1)).first_key;
            if !w.check_dups && key != first {
                let f = vec![
                    ("is", key.into()),
                    ("should", first.into()),
                    ("ino", w.ino.into()),
                    ("fork", w.fork.into()),
                    at.clone(),
                ];
                self.push(Kind::BmbtBadKey, f);
            }
        }
        let (cur, below) = (w.level(lvl), w.level(lvl.saturating_sub(1)));
        if !w.check_dups && cur.right == NULLFSBLOCK && below.right != NULLFSBLOCK {
            let mut f = vec![("saw", below.right.into()), ("fsbno", below.fsbno.into())];
            f.extend(w.fields());
            self.push(Kind::BmbtRightSibNotNull, f);
            return true;
        }
        if !w.check_dups {
            let key = |i: usize| {
                BmbtKind
                    .key_at(buf, geo.has_crc, i)
                    .map_or(0, |k| k.br_startoff)
            };
            let (first, last) = (key(0), key(numrecs.saturating_sub(1)));
            w.update(lvl, |c| {
                c.first_key = first;
                c.last_key = last;
            });
        }
        false
    }

    /// Phase 3's claim of a BMBT block in the block map, with xfs_repair's reports of a block
    /// something else holds.
    fn claim_bmbt_block(&mut self, ino: u64, bno: u64) {
        let (a, b) = self.fs.geo.fsb_split_lossy(Fsb(bno));
        let Some(m) = self.bmaps.get_mut(a.0 as usize) else {
            return;
        };
        let state = m.get(b.0);
        let report = match state {
            bm::INUSE1 | bm::UNKNOWN | bm::FREE1 | bm::FREE => {
                m.set(b.0, bm::INUSE);
                None
            }
            bm::FS_MAP | bm::INUSE => {
                m.set(b.0, bm::MULT);
                Some(Kind::BmbtBlockClaimed)
            }
            bm::MULT | bm::INUSE_FS => {
                m.set(b.0, bm::MULT);
                Some(Kind::BmbtBlockClaimedMult)
            }
            _ => Some(Kind::BmbtBadState),
        };
        if let Some(k) = report {
            let f = vec![
                ("ino", Val::from(ino)),
                ("fsbno", bno.into()),
                ("state", u64::from(state).into()),
            ];
            self.push(k, f);
        }
    }

    /// Phase 4's `search_dup_extent` for a BMBT block: the block is claimed a second time in
    /// this pass (the block map is rebuilt for phase 4).
    fn bmbt_block_dup(&mut self, bno: u64) -> bool {
        let (a, b) = self.fs.geo.fsb_split_lossy(Fsb(bno));
        let Some(m) = self.bmaps.get_mut(a.0 as usize) else {
            return true;
        };
        let dup = matches!(m.get(b.0), bm::INUSE | bm::MULT);
        m.set(b.0, if dup { bm::MULT } else { bm::INUSE });
        dup
    }
}
