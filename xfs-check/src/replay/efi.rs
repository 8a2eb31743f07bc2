//! Finishing extent-free intents (EFIs without EFDs) after replay, as the kernel's recovery
//! does (`xfs_efi_item_recover`, which frees each extent with `xfs_free_extent`): the extent
//! goes back into the AG's free-space btrees, merged with a free neighbour on either side
//! (by-block tree: the neighbours' records; by-size tree: their records removed, the merged
//! one inserted), and the AGF's `freeblks` and `longest` grow. The superblock's free-block
//! counter is recomputed afterwards from the AGFs (lazy counters).
//!
//! Only the cases that stay inside existing blocks are done: a leaf with room for an insert,
//! a full leaf whose right or left sibling has room (the kernel's `xfs_btree_make_block_unfull`
//! shifts one record there before it would split: log-efi-4k's EFI goes into AG 0's full
//! first bnobt and cntbt leaves and is finished this way, no AGFL block taken), a non-root
//! leaf that keeps its minimum after a delete, and neighbours in the same leaf (a neighbour
//! in a sibling leaf would need records moved across blocks). A split (both siblings full or
//! absent: a block from the AGFL, a parent entry or a new root) is not done. Anything else,
//! and any block that does not look right (magic, level, counts), leaves the whole intent
//! undone and reported: a tree the kernel would have split or joined is not guessed at.
//!
//! With a reverse-mapping btree, the free also goes through `xfs_rmap_unmap` with the
//! unknown owner: no record overlapping the extent (the RUI logged before the EFI removed it)
//! leaves the rmapbt alone, a record covering exactly the extent is deleted; a partial
//! overlap is not done. RUIs without RUD (`finish_rui` in replay.rs, in log order before the
//! EFI that follows them) are done for unmaps of a whole record only; the leaf's low/high
//! keys are carried up the overlapping tree (`__xfs_btree_updkeys`) while they change.
//!
//! Not modelled: the AGFL refill/trim `xfs_alloc_fix_freelist` does before each free and
//! each rmap update (it would also add or remove rmapbt records owned by the AG). The
//! kernel's results recorded in testdata/log-efi-4k.freesp.txt and
//! log-efi-rmap-4k.freesp.txt show none, although by the replayed AGFs the minimum list
//! (levels + 1 per btree: 6 and 7) differs from the AGFL's count (4 and 8); by the AGFs on
//! disk before replay (all levels 1: 4 and 6) it would not. The kernel apparently sized it
//! by per-AG data read before the replay; that is not verified, so neither rule is applied.

use std::collections::BTreeMap;

use xfs_format::ag::Agf;
use xfs_format::btree::{self, BlockHeader, BtreeKind, PtrFormat};
use xfs_format::btrees::{AllocBtree, AllocBy, RmapBtree};
use xfs_format::log::items::Extent;
use xfs_format::sb::Geometry;

const NULLAGBLOCK: u32 = u32::MAX;
/// Byte offsets of the AGF counters a free updates (`agf_freeblks`, `agf_longest`).
const AGF_FREEBLKS_OFF: usize = 52;
const AGF_LONGEST_OFF: usize = 56;
/// Deeper than any allocation btree of a real AG.
const MAX_LEVELS: u32 = 10;

/// Reads a filesystem block (by byte offset) from the image as replayed so far.
pub(super) trait BlockReader {
    fn read_block(&self, off: u64, len: usize) -> Option<Vec<u8>>;
}

/// Blocks changed by the intents finished so far, by byte offset; the caller writes them
/// into the overlay (with LSN and CRC) only when a whole intent succeeded.
pub(super) struct Staged<'a, R> {
    reader: &'a R,
    geo: &'a Geometry,
    pub(super) blocks: BTreeMap<u64, Vec<u8>>,
}

/// Which free-space tree: by block (bnobt) or by size (cntbt).
#[derive(Clone, Copy, PartialEq, Eq)]
enum Tree {
    Bno,
    Cnt,
}

impl Tree {
    fn kind(self) -> AllocBtree {
        AllocBtree(match self {
            Tree::Bno => AllocBy::Block,
            Tree::Cnt => AllocBy::Count,
        })
    }
}

/// A free-space record or key: (startblock, blockcount).
type Rec = (u32, u32);

/// A sibling pointer of a short-form block as an AG block number.
fn agbno(ptr: u64) -> u32 {
    u32::try_from(ptr).unwrap_or(NULLAGBLOCK)
}

fn put_rec(b: &mut [u8], off: usize, r: Rec) -> Option<()> {
    b.get_mut(off..off.checked_add(4)?)?
        .copy_from_slice(&r.0.to_be_bytes());
    b.get_mut(off.checked_add(4)?..off.checked_add(8)?)?
        .copy_from_slice(&r.1.to_be_bytes());
    Some(())
}

fn order(t: Tree, r: Rec) -> (u32, u32) {
    match t {
        Tree::Bno => (r.0, 0),
        Tree::Cnt => (r.1, r.0),
    }
}

impl<'a, R: BlockReader> Staged<'a, R> {
    pub(super) fn new(reader: &'a R, geo: &'a Geometry) -> Self {
        Staged {
            reader,
            geo,
            blocks: BTreeMap::new(),
        }
    }

    fn bs(&self) -> usize {
        usize::try_from(self.geo.block_size).unwrap_or(0)
    }

    fn sect(&self) -> usize {
        usize::try_from(self.geo.sect_size).unwrap_or(512).max(512)
    }

    fn crc(&self) -> bool {
        self.geo.has_crc
    }

    /// The decoded header of a short-form btree block.
    fn header(&self, b: &[u8]) -> Option<BlockHeader> {
        BlockHeader::parse(b, PtrFormat::Short, self.crc())
    }

    /// The AGF of AG `ag` as replayed so far, decoded.
    fn agf(&self, ag: u32) -> Option<Agf> {
        let off = self.agf_off(ag)?;
        Agf::parse(&self.get(off, self.sect())?, ag, self.geo, off).ok()
    }

    fn ag_off(&self, ag: u32, agbno: u32) -> Option<u64> {
        u64::from(ag)
            .checked_mul(u64::from(self.geo.ag_blocks))?
            .checked_add(u64::from(agbno))?
            .checked_mul(u64::from(self.geo.block_size))
    }

    fn agf_off(&self, ag: u32) -> Option<u64> {
        self.ag_off(ag, 0)?
            .checked_add(u64::from(self.geo.sect_size))
    }

    fn get(&self, off: u64, len: usize) -> Option<Vec<u8>> {
        match self.blocks.get(&off) {
            Some(b) => Some(b.clone()),
            None => self.reader.read_block(off, len),
        }
    }

    fn get_btree_block(&self, ag: u32, agbno: u32, tree: Tree, level: u32) -> Option<Vec<u8>> {
        if agbno == 0 || agbno >= self.geo.ag_blocks {
            return None;
        }
        let b = self.get(self.ag_off(ag, agbno)?, self.bs())?;
        let h = self.header(&b)?;
        let want = tree.kind().magic(self.crc())?;
        (h.bb_magic == want && u32::from(h.bb_level) == level).then_some(b)
    }

    fn numrecs(&self, b: &[u8]) -> usize {
        self.header(b).map_or(0, |h| usize::from(h.bb_numrecs))
    }

    /// The (left, right) sibling pointers of a block.
    fn siblings(&self, b: &[u8]) -> Option<(u32, u32)> {
        let h = self.header(b)?;
        Some((agbno(h.bb_leftsib), agbno(h.bb_rightsib)))
    }

    fn set_numrecs(b: &mut [u8], n: usize) -> Option<()> {
        let v = u16::try_from(n).ok()?;
        b.get_mut(6..8)?.copy_from_slice(&v.to_be_bytes());
        Some(())
    }

    fn leaf_max(&self) -> usize {
        btree::max_recs(&Tree::Bno.kind(), self.bs(), self.crc(), true)
    }

    fn node_max(&self) -> usize {
        btree::max_recs(&Tree::Bno.kind(), self.bs(), self.crc(), false)
    }

    /// The path from the root to the leaf where `key` belongs: (agbno, index taken) per
    /// node, root first, then the leaf's agbno and block.
    #[allow(clippy::type_complexity)]
    fn descend(&self, ag: u32, tree: Tree, key: Rec) -> Option<(Vec<(u32, usize)>, u32, Vec<u8>)> {
        let agf = self.agf(ag)?.raw;
        let (mut agbno, levels) = match tree {
            Tree::Bno => (agf.agf_bno_root, agf.agf_bno_level),
            Tree::Cnt => (agf.agf_cnt_root, agf.agf_cnt_level),
        };
        if levels == 0 || levels > MAX_LEVELS {
            return None;
        }
        let mut path = Vec::new();
        let mut level = levels.checked_sub(1)?;
        loop {
            let b = self.get_btree_block(ag, agbno, tree, level)?;
            let n = self.numrecs(&b);
            if level == 0 {
                if n > self.leaf_max() {
                    return None;
                }
                return Some((path, agbno, b));
            }
            if n == 0 || n > self.node_max() {
                return None;
            }
            // The last key at or below `key` (the first child when there is none).
            let mut idx = 0usize;
            for i in 0..n {
                let k = tree.kind().key_at(&b, self.crc(), i)?;
                if order(tree, (k.ar_startblock, k.ar_blockcount)) <= order(tree, key) {
                    idx = i;
                } else {
                    break;
                }
            }
            path.push((agbno, idx));
            agbno = u32::try_from(tree.kind().ptr_at(&b, self.crc(), idx)?).ok()?;
            level = level.checked_sub(1)?;
        }
    }

    fn leaf_recs(&self, b: &[u8]) -> Option<Vec<Rec>> {
        let kind = Tree::Bno.kind();
        (0..self.numrecs(b))
            .map(|i| {
                let r = kind.rec_at(b, self.crc(), i)?;
                Some((r.ar_startblock, r.ar_blockcount))
            })
            .collect()
    }

    fn put_leaf(&mut self, ag: u32, agbno: u32, mut b: Vec<u8>, recs: &[Rec]) -> Option<()> {
        Self::set_numrecs(&mut b, recs.len())?;
        for (i, r) in recs.iter().enumerate() {
            put_rec(
                &mut b,
                btree::rec_offset(&Tree::Bno.kind(), self.crc(), i)?,
                *r,
            )?;
        }
        self.blocks.insert(self.ag_off(ag, agbno)?, b);
        Some(())
    }

    /// The parents' keys after the first record of a leaf changed to `first`.
    fn update_keys(
        &mut self,
        ag: u32,
        tree: Tree,
        path: &[(u32, usize)],
        first: Rec,
    ) -> Option<()> {
        let levels = u32::try_from(path.len()).ok()?;
        for (depth, (agbno, idx)) in path.iter().enumerate().rev() {
            let level = levels.checked_sub(u32::try_from(depth).ok()?)?;
            let mut b = self.get_btree_block(ag, *agbno, tree, level)?;
            let off = btree::key_offset(&tree.kind(), self.crc(), *idx)?;
            put_rec(&mut b, off, first)?;
            self.blocks.insert(self.ag_off(ag, *agbno)?, b);
            if *idx != 0 {
                break;
            }
        }
        Some(())
    }

    /// The record of the leaf's right sibling that comes first, if any.
    fn sibling_first(&self, ag: u32, tree: Tree, leaf: &[u8]) -> Option<Option<Rec>> {
        let (_, right) = self.siblings(leaf)?;
        if right == NULLAGBLOCK {
            return Some(None);
        }
        let b = self.get_btree_block(ag, right, tree, 0)?;
        Some(self.leaf_recs(&b)?.first().copied())
    }

    fn cnt_delete(&mut self, ag: u32, r: Rec) -> Option<()> {
        let (path, agbno, b) = self.descend(ag, Tree::Cnt, r)?;
        let mut recs = self.leaf_recs(&b)?;
        let i = recs.iter().position(|x| *x == r)?;
        recs.remove(i);
        if !path.is_empty() && recs.len() < self.leaf_max() / 2 {
            return None; // the kernel would join leaves
        }
        let first = recs.first().copied();
        self.put_leaf(ag, agbno, b, &recs)?;
        if i == 0 {
            self.update_keys(ag, Tree::Cnt, &path, first?)?;
        }
        Some(())
    }

    fn cnt_insert(&mut self, ag: u32, r: Rec) -> Option<()> {
        self.insert_rec(ag, Tree::Cnt, r)
    }

    /// Inserts a record into the leaf where it belongs. A full leaf first tries what the
    /// kernel's `xfs_btree_make_block_unfull` tries before splitting: moving its last
    /// record to the right sibling (`xfs_btree_rshift`, not when the new record would go
    /// at or after that last record), then its first record to the left sibling
    /// (`xfs_btree_lshift`, not when the new record would go first). A split is not done.
    fn insert_rec(&mut self, ag: u32, tree: Tree, r: Rec) -> Option<()> {
        let (path, agbno, b) = self.descend(ag, tree, r)?;
        let mut recs = self.leaf_recs(&b)?;
        let mut i = recs
            .iter()
            .position(|x| order(tree, *x) > order(tree, r))
            .unwrap_or(recs.len());
        if recs.get(i.wrapping_sub(1)).is_some_and(|x| *x == r) {
            return None;
        }
        let max = self.leaf_max();
        if recs.len() > max {
            return None;
        }
        if recs.len() == max {
            let shifted_right = self.shift_right(ag, tree, &b, &mut recs, i)?;
            if !shifted_right {
                if !self.shift_left(ag, tree, &path, &b, &mut recs, i)? {
                    return None; // the kernel would split the leaf
                }
                i = i.checked_sub(1)?;
            }
        }
        recs.insert(i, r);
        self.put_leaf(ag, agbno, b, &recs)?;
        if i == 0 {
            self.update_keys(ag, tree, &path, r)?;
        }
        Some(())
    }

    /// `xfs_btree_rshift` on a leaf: its last record becomes the right sibling's first
    /// (and that sibling's key in its parents follows). `Some(false)`: not possible.
    fn shift_right(
        &mut self,
        ag: u32,
        tree: Tree,
        leaf: &[u8],
        recs: &mut Vec<Rec>,
        i: usize,
    ) -> Option<bool> {
        let (_, right) = self.siblings(leaf)?;
        // The kernel does not shift the record the cursor is on (1-based ptr >= numrecs).
        if right == NULLAGBLOCK || i.checked_add(1)? >= recs.len() {
            return Some(false);
        }
        let rb = self.get_btree_block(ag, right, tree, 0)?;
        let mut rrecs = self.leaf_recs(&rb)?;
        if rrecs.len() >= self.leaf_max() {
            return Some(false);
        }
        let rfirst = *rrecs.first()?;
        let (rpath, ragbno, _) = self.descend(ag, tree, rfirst)?;
        if ragbno != right || rpath.is_empty() {
            return None;
        }
        let moved = recs.pop()?;
        if order(tree, moved) >= order(tree, rfirst) {
            return None;
        }
        rrecs.insert(0, moved);
        self.put_leaf(ag, right, rb, &rrecs)?;
        self.update_keys(ag, tree, &rpath, moved)?;
        Some(true)
    }

    /// `xfs_btree_lshift` on a leaf: its first record becomes the left sibling's last (and
    /// this leaf's key in its parents follows). `Some(false)`: not possible.
    fn shift_left(
        &mut self,
        ag: u32,
        tree: Tree,
        path: &[(u32, usize)],
        leaf: &[u8],
        recs: &mut Vec<Rec>,
        i: usize,
    ) -> Option<bool> {
        let (left, _) = self.siblings(leaf)?;
        // The kernel does not shift when the new record would go first (ptr <= 1).
        if left == NULLAGBLOCK || i == 0 || path.is_empty() {
            return Some(false);
        }
        let lb = self.get_btree_block(ag, left, tree, 0)?;
        let mut lrecs = self.leaf_recs(&lb)?;
        if lrecs.len() >= self.leaf_max() {
            return Some(false);
        }
        if recs.is_empty() {
            return None;
        }
        let moved = recs.remove(0);
        if lrecs
            .last()
            .is_some_and(|l| order(tree, *l) >= order(tree, moved))
        {
            return None;
        }
        lrecs.push(moved);
        self.put_leaf(ag, left, lb, &lrecs)?;
        self.update_keys(ag, tree, path, *recs.first()?)?;
        Some(true)
    }

    /// Frees one extent (filesystem block number, length). `None`: not done (the staged
    /// blocks are then to be dropped by the caller).
    pub(super) fn free(&mut self, ext: &Extent) -> Option<()> {
        let ag = u32::try_from(ext.start >> self.geo.ag_blk_log).ok()?;
        let mask = 1u64
            .checked_shl(u32::from(self.geo.ag_blk_log))?
            .checked_sub(1)?;
        let bno = u32::try_from(ext.start & mask).ok()?;
        let len = ext.len;
        let end = bno.checked_add(len)?;
        if ag >= self.geo.ag_count || len == 0 || end > self.geo.ag_blocks {
            return None;
        }
        if self.geo.has_rmapbt {
            self.rmap_free_any(ag, bno, len)?;
        }
        // By-block tree: neighbours and the merged record.
        let (path, agbno, b) = self.descend(ag, Tree::Bno, (bno, len))?;
        let mut recs = self.leaf_recs(&b)?;
        let i = recs.iter().position(|x| x.0 > bno).unwrap_or(recs.len());
        let left = i.checked_sub(1).and_then(|j| recs.get(j).copied());
        let right = match recs.get(i) {
            Some(r) => Some(*r),
            None => self.sibling_first(ag, Tree::Bno, &b)?,
        };
        if left.is_none() && self.siblings(&b)?.0 != NULLAGBLOCK {
            return None; // the left neighbour would be in another leaf
        }
        if let Some(l) = left {
            if l.0.checked_add(l.1)? > bno {
                return None; // already free: the kernel would fail too
            }
        }
        if let Some(r) = right {
            if r.0 < end {
                return None;
            }
        }
        let lmerge = left.filter(|l| l.0.checked_add(l.1) == Some(bno));
        let rmerge = right.filter(|r| r.0 == end);
        if rmerge.is_some() && i >= recs.len() {
            return None; // right neighbour in the next leaf
        }
        let new = (
            lmerge.map_or(bno, |l| l.0),
            len.checked_add(lmerge.map_or(0, |l| l.1))?
                .checked_add(rmerge.map_or(0, |r| r.1))?,
        );
        let mut first_changed = false;
        match (lmerge, rmerge) {
            (Some(_), Some(_)) => {
                let j = i.checked_sub(1)?;
                *recs.get_mut(j)? = new;
                recs.remove(i);
                if !path.is_empty() && recs.len() < self.leaf_max() / 2 {
                    return None;
                }
                first_changed = j == 0;
            }
            (Some(_), None) => {
                let j = i.checked_sub(1)?;
                *recs.get_mut(j)? = new;
                first_changed = j == 0;
            }
            (None, Some(_)) => {
                *recs.get_mut(i)? = new;
                first_changed = i == 0;
            }
            // A record of its own: inserted below, shifting to a sibling when full.
            (None, None) => {}
        }
        if lmerge.is_none() && rmerge.is_none() {
            self.insert_rec(ag, Tree::Bno, new)?;
        } else {
            let first = recs.first().copied();
            self.put_leaf(ag, agbno, b, &recs)?;
            if first_changed {
                self.update_keys(ag, Tree::Bno, &path, first?)?;
            }
        }
        // By-size tree.
        if let Some(l) = lmerge {
            self.cnt_delete(ag, l)?;
        }
        if let Some(r) = rmerge {
            self.cnt_delete(ag, r)?;
        }
        self.cnt_insert(ag, new)?;
        // AGF counters.
        let agf_off = self.agf_off(ag)?;
        let parsed = self.agf(ag)?;
        if !parsed.checks.magic_ok {
            return None;
        }
        let mut agf = self.get(agf_off, self.sect())?;
        let freeblks = parsed.raw.agf_freeblks.checked_add(len)?;
        let longest = parsed.raw.agf_longest.max(new.1);
        for (off, v) in [(AGF_FREEBLKS_OFF, freeblks), (AGF_LONGEST_OFF, longest)] {
            agf.get_mut(off..off.checked_add(4)?)?
                .copy_from_slice(&v.to_be_bytes());
        }
        self.blocks.insert(agf_off, agf);
        Some(())
    }
}

/// An rmapbt record: startblock, blockcount, owner, offset (with its flag bits).
type RmapRec = (u32, u32, u64, u64);
/// An rmapbt key: startblock, owner, offset (flag bits but the unwritten one).
type RmapKey = (u32, u64, u64);

use xfs_format::btrees::{
    XFS_RMAP_CRC_MAGIC, XFS_RMAP_OFF_ATTR_FORK, XFS_RMAP_OFF_BMBT_BLOCK as RMAP_OFF_BMBT,
    XFS_RMAP_OFF_MASK as RMAP_OFF_MASK, XFS_RMAP_OFF_UNWRITTEN as RMAP_OFF_UNWRITTEN,
};
/// `XFS_RMAP_OWN_UNKNOWN`: the owner EFI recovery passes (any owner).
const RMAP_OWN_UNKNOWN: u64 = xfs_format::btrees::rmap_owner::UNKNOWN as u64;
/// Size of one half (low or high) of an rmapbt node key.
const RMAP_KEY: usize = 20;

/// The order of rmapbt keys (`xfs_rmapbt_diff_two_keys`: the offset without flag bits).
fn rkey_order(k: RmapKey) -> (u32, u64, u64) {
    (k.0, k.1, k.2 & RMAP_OFF_MASK)
}

fn rlow(r: RmapRec) -> RmapKey {
    (r.0, r.2, r.3 & !RMAP_OFF_UNWRITTEN)
}

/// `xfs_rmapbt_init_high_key_from_rec`: the last block and, for inode data, last offset.
fn rhigh(r: RmapRec) -> Option<RmapKey> {
    let adj = r.1.checked_sub(1)?;
    let off = r.3 & !RMAP_OFF_UNWRITTEN;
    let off = if r.2 & XFS_RMAP_OFF_ATTR_FORK != 0 || off & RMAP_OFF_BMBT != 0 {
        off
    } else {
        ((off & RMAP_OFF_MASK).checked_add(u64::from(adj))? & RMAP_OFF_MASK)
            | (off & !RMAP_OFF_MASK)
    };
    Some((r.0.checked_add(adj)?, r.2, off))
}

/// The first greatest key (the kernel keeps the first of equal maxima).
fn max_key(keys: impl Iterator<Item = RmapKey>) -> Option<RmapKey> {
    let mut best: Option<RmapKey> = None;
    for k in keys {
        if best.is_none_or(|b| rkey_order(k) > rkey_order(b)) {
            best = Some(k);
        }
    }
    best
}

/// The low and high keys `i` of an rmapbt node.
fn rkeys_at(b: &[u8], has_crc: bool, i: usize) -> Option<(RmapKey, RmapKey)> {
    let k = RmapBtree.key_at(b, has_crc, i)?;
    let half = |h: xfs_format::btrees::RmapKeyHalf| (h.rm_startblock, h.rm_owner, h.rm_offset);
    Some((half(k.low), half(k.high)))
}

fn put_rkey(b: &mut [u8], off: usize, k: RmapKey) -> Option<()> {
    b.get_mut(off..off.checked_add(4)?)?
        .copy_from_slice(&k.0.to_be_bytes());
    b.get_mut(off.checked_add(4)?..off.checked_add(12)?)?
        .copy_from_slice(&k.1.to_be_bytes());
    b.get_mut(off.checked_add(12)?..off.checked_add(20)?)?
        .copy_from_slice(&k.2.to_be_bytes());
    Some(())
}

impl<R: BlockReader> Staged<'_, R> {
    fn rmap_block(&self, ag: u32, agbno: u32, level: u32) -> Option<Vec<u8>> {
        if !self.geo.has_crc || agbno == 0 || agbno >= self.geo.ag_blocks {
            return None;
        }
        let b = self.get(self.ag_off(ag, agbno)?, self.bs())?;
        let h = self.header(&b)?;
        (h.bb_magic == XFS_RMAP_CRC_MAGIC && u32::from(h.bb_level) == level).then_some(b)
    }

    fn rmap_leaf_max(&self) -> usize {
        btree::max_recs(&RmapBtree, self.bs(), self.crc(), true)
    }

    fn rmap_node_max(&self) -> usize {
        btree::max_recs(&RmapBtree, self.bs(), self.crc(), false)
    }

    fn rmap_recs(&self, b: &[u8]) -> Option<Vec<RmapRec>> {
        let n = self.numrecs(b);
        if n > self.rmap_leaf_max() {
            return None;
        }
        (0..n)
            .map(|i| {
                let r = RmapBtree.rec_at(b, self.crc(), i)?;
                Some((r.rm_startblock, r.rm_blockcount, r.rm_owner, r.rm_offset))
            })
            .collect()
    }

    /// Root-to-leaf path for `key` (the last entry whose low key is at or below it), as
    /// `xfs_btree_lookup` walks an overlapping btree; then the leaf's agbno and block.
    #[allow(clippy::type_complexity)]
    fn rmap_descend(&self, ag: u32, key: RmapKey) -> Option<(Vec<(u32, usize)>, u32, Vec<u8>)> {
        let agf = self.agf(ag)?.raw;
        let (mut agbno, levels) = (agf.agf_rmap_root, agf.agf_rmap_level);
        if levels == 0 || levels > MAX_LEVELS {
            return None;
        }
        let mut path = Vec::new();
        let mut level = levels.checked_sub(1)?;
        loop {
            let b = self.rmap_block(ag, agbno, level)?;
            let n = self.numrecs(&b);
            if level == 0 {
                return Some((path, agbno, b));
            }
            if n == 0 || n > self.rmap_node_max() {
                return None;
            }
            let mut idx = 0usize;
            for i in 0..n {
                let (k, _) = rkeys_at(&b, self.crc(), i)?;
                if rkey_order(k) <= rkey_order(key) {
                    idx = i;
                } else {
                    break;
                }
            }
            path.push((agbno, idx));
            agbno = u32::try_from(RmapBtree.ptr_at(&b, self.crc(), idx)?).ok()?;
            level = level.checked_sub(1)?;
        }
    }

    /// Deletes record `i` of the leaf and updates the low/high keys above it, stopping where
    /// they no longer change (`xfs_btree_delrec` with `__xfs_btree_updkeys`). A non-root leaf
    /// left below its minimum (the kernel would join leaves) is refused.
    fn rmap_delete(
        &mut self,
        ag: u32,
        path: &[(u32, usize)],
        agbno: u32,
        mut b: Vec<u8>,
        i: usize,
    ) -> Option<()> {
        let mut recs = self.rmap_recs(&b)?;
        if i >= recs.len() {
            return None;
        }
        recs.remove(i);
        if !path.is_empty() && recs.len() < self.rmap_leaf_max() / 2 {
            return None;
        }
        let crc = self.crc();
        Self::set_numrecs(&mut b, recs.len())?;
        for (j, r) in recs.iter().enumerate() {
            let o = btree::rec_offset(&RmapBtree, crc, j)?;
            let mut bytes = [0u8; 24];
            bytes[..4].copy_from_slice(&r.0.to_be_bytes());
            bytes[4..8].copy_from_slice(&r.1.to_be_bytes());
            bytes[8..16].copy_from_slice(&r.2.to_be_bytes());
            bytes[16..].copy_from_slice(&r.3.to_be_bytes());
            b.get_mut(o..o.checked_add(24)?)?.copy_from_slice(&bytes);
        }
        // The vacated last slot keeps its old bytes, as after the kernel's memmove.
        self.blocks.insert(self.ag_off(ag, agbno)?, b);
        if recs.is_empty() {
            return if path.is_empty() { Some(()) } else { None };
        }
        let mut low = rlow(*recs.first()?);
        let mut high = max_key(recs.iter().filter_map(|r| rhigh(*r)))?;
        let levels = u32::try_from(path.len()).ok()?;
        for (depth, (pbno, idx)) in path.iter().enumerate().rev() {
            let level = levels.checked_sub(u32::try_from(depth).ok()?)?;
            let mut pb = self.rmap_block(ag, *pbno, level)?;
            let n = self.numrecs(&pb);
            if *idx >= n || n > self.rmap_node_max() {
                return None;
            }
            if rkeys_at(&pb, crc, *idx)? == (low, high) {
                break;
            }
            let off = btree::key_offset(&RmapBtree, crc, *idx)?;
            put_rkey(&mut pb, off, low)?;
            put_rkey(&mut pb, off.checked_add(RMAP_KEY)?, high)?;
            let keys = (0..n)
                .map(|j| rkeys_at(&pb, crc, j))
                .collect::<Option<Vec<_>>>()?;
            low = keys.first()?.0;
            high = max_key(keys.iter().map(|k| k.1))?;
            self.blocks.insert(self.ag_off(ag, *pbno)?, pb);
        }
        Some(())
    }

    /// An RUI's unmap (`xfs_rmap_unmap` of a known owner): only the removal of a whole
    /// record that matches exactly (block, length, owner, offset and flags) is done.
    pub(super) fn rmap_unmap(&mut self, fsbno: u64, len: u32, owner: u64, off: u64) -> Option<()> {
        let (ag, bno) = self.split_fsbno(fsbno, len)?;
        let want = (bno, len, owner, off);
        let (path, agbno, b) = self.rmap_descend(ag, rlow(want))?;
        let recs = self.rmap_recs(&b)?;
        let i = recs.iter().position(|r| *r == want)?;
        self.rmap_delete(ag, &path, agbno, b, i)
    }

    /// The rmapbt side of an EFI's free in recovery (`xfs_rmap_unmap` with the unknown
    /// owner): nothing when no record overlaps the extent (an RUI already removed it), the
    /// record removed when one covers exactly the extent; anything else is not done.
    fn rmap_free_any(&mut self, ag: u32, bno: u32, len: u32) -> Option<()> {
        let end = bno.checked_add(len)?;
        let key = (bno, RMAP_OWN_UNKNOWN, 0);
        let (path, agbno, b) = self.rmap_descend(ag, key)?;
        let recs = self.rmap_recs(&b)?;
        let lt = recs
            .iter()
            .rposition(|r| rkey_order(rlow(*r)) <= rkey_order(key));
        let Some(lt) = lt else {
            return None; // the record at or before would be in another leaf
        };
        let l = *recs.get(lt)?;
        if l.0.checked_add(l.1)? <= bno {
            let next = match recs.get(lt.checked_add(1)?) {
                Some(r) => Some(*r),
                None => {
                    let (_, right) = self.siblings(&b)?;
                    if right == NULLAGBLOCK {
                        None
                    } else {
                        let rb = self.rmap_block(ag, right, 0)?;
                        self.rmap_recs(&rb)?.first().copied()
                    }
                }
            };
            return match next {
                Some(r) if r.0 < end => None,
                _ => Some(()),
            };
        }
        if l.0 != bno || l.1 != len {
            return None;
        }
        self.rmap_delete(ag, &path, agbno, b, lt)
    }

    fn split_fsbno(&self, fsbno: u64, len: u32) -> Option<(u32, u32)> {
        let ag = u32::try_from(fsbno >> self.geo.ag_blk_log).ok()?;
        let mask = 1u64
            .checked_shl(u32::from(self.geo.ag_blk_log))?
            .checked_sub(1)?;
        let bno = u32::try_from(fsbno & mask).ok()?;
        let end = bno.checked_add(len)?;
        if ag >= self.geo.ag_count || len == 0 || end > self.geo.ag_blocks {
            return None;
        }
        Some((ag, bno))
    }
}
