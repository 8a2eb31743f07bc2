//! The checker's state across phases, as xfsprogs' repair keeps it in globals and in-core
//! maps: the filesystem, the in-core inode and block maps phase 2 builds and later phases
//! update, and the findings of the running phase.

use std::collections::BTreeMap;

use xfs_format::addr::{AgBno, AgIno, AgNo, Ino, NULLFSBLOCK, NULLFSINO};
use xfs_format::{ByteSource, Filesystem};

use crate::finding::{Finding, Kind, Val};
use crate::incore::{self as bm, Bmap, ChunkState, Incore, Slot};
use crate::scan::AgResult;

pub struct Checker<'a, S> {
    pub fs: &'a Filesystem<S>,
    pub incore: Incore,
    pub(crate) bmaps: Vec<Bmap>,
    pub(crate) hdr_blocks: u32,
    pub(crate) out: Vec<Finding>,
    pub(crate) phase: u8,
    /// Bad inode clusters (daddr, bytes) seen in phase 3, reported again in phase 6.
    pub bad_clusters: BTreeMap<u64, u64>,
    /// Inodes named by directory entries that no chunk holds (phase 3 discovery).
    pub(crate) uncertain: Vec<u64>,
    /// Short-form directories libxfs would refuse to load in phases 6 and 7.
    pub unmappable: std::collections::BTreeSet<u64>,
    /// Directory and symlink buffers (daddr) already read once: the buffer cache hands them out again
    /// without running the verifier.
    pub(crate) dir_bufs_seen: std::collections::BTreeSet<u64>,
    /// Directories whose da btree is bad (dir2_add_badlist): rebuilt in phase 6.
    pub(crate) dir_badlist: std::collections::BTreeSet<u64>,
    /// The parent each long-form directory's `..` named in phases 3 and 4 (`None`:
    /// NULLFSINO, no usable `..`), for phase 6 (set by dir2.rs).
    pub(crate) dir_parents: BTreeMap<u64, Option<u64>>,
    /// Phase 4 data-fork mappings of regular files per AG (agbno, end, owner) on reflink
    /// filesystems: the observations refcounts are computed from.
    pub data_maps: Vec<Vec<(u32, u32, u64)>>,
    /// Where failed reads are noted, told which inode is being processed.
    pub(crate) reads: Option<std::sync::Arc<crate::readerr::ReadLog>>,
}

impl<'a, S: ByteSource> Checker<'a, S> {
    /// Tells the read log which inode the reads that follow are for (None: no inode).
    pub(crate) fn reading_for(&self, ino: Option<u64>) {
        if let Some(r) = &self.reads {
            r.set_owner(ino);
        }
    }

    pub fn new(fs: &'a Filesystem<S>, ags: &mut [AgResult]) -> Self {
        let geo = &fs.geo;
        let hdr_blocks = geo.ag_header_blocks();
        let mut incore = Incore::default();
        let mut bmaps = Vec::new();
        for (agno, r) in (0u32..).zip(ags.iter_mut()) {
            let mut m = BTreeMap::new();
            for (k, ch) in &r.chunks {
                let mut slots = [Slot::default(); 64];
                for (i, s) in (0u32..).zip(slots.iter_mut()) {
                    s.used = ch.free.checked_shr(i).unwrap_or(0) & 1 == 0;
                }
                m.insert(
                    *k,
                    ChunkState {
                        sparse: ch.sparse,
                        slots,
                    },
                );
            }
            incore.ags.push(m);
            incore.skipped.push(r.skipped);
            incore.bad_ino_btree |= r.bad_ino_btree;
            let ag_size = geo.ag_size(agno).unwrap_or(0);
            bmaps.push(
                r.bmap
                    .take()
                    .unwrap_or_else(|| Bmap::new(hdr_blocks, ag_size)),
            );
        }
        // Phase 2 corrects a root (and rt bitmap/summary) inode marked free in-core.
        let sb = &fs.sb.raw;
        let root = geo
            .ino_split(Ino(sb.sb_rootino))
            .map_or(u32::MAX, |(_, agino)| agino.0);
        // Root chunk not found: phase 2 adds a record at the root inode with the first three
        // inodes used and the rest free, and marks its blocks as inode blocks.
        if let Some(m) = incore.ags.get_mut(0) {
            let covered = m
                .range(..=root)
                .next_back()
                .is_some_and(|(k, _)| k.saturating_add(64) > root);
            if !covered && root != u32::MAX {
                let mut slots = [Slot::default(); 64];
                for s in slots.iter_mut().take(3) {
                    s.used = true;
                }
                m.insert(root, ChunkState { sparse: 0, slots });
                let agbno0 = geo.agino_to_agbno(AgIno(root)).0;
                if let Some(b) = bmaps.get_mut(0) {
                    for k in 0..geo.blocks_per_chunk() {
                        b.set(agbno0.saturating_add(k), bm::INO);
                    }
                }
            }
        }
        if let Some(m) = incore.ags.get_mut(0) {
            if let Some((start, ch)) = m.range_mut(..=root).next_back() {
                let off = root.saturating_sub(*start);
                for k in 0..3u32 {
                    if let Some(s) = ch.slots.get_mut(off.saturating_add(k) as usize) {
                        s.used = true;
                    }
                }
            }
        }
        Checker {
            fs,
            uncertain: Vec::new(),
            unmappable: std::collections::BTreeSet::new(),
            dir_bufs_seen: std::collections::BTreeSet::new(),
            dir_badlist: std::collections::BTreeSet::new(),
            dir_parents: BTreeMap::new(),
            data_maps: vec![Vec::new(); geo.ag_count as usize],
            reads: None,
            incore,
            bmaps,
            hdr_blocks,
            out: Vec::new(),
            phase: 3,
            bad_clusters: BTreeMap::new(),
        }
    }

    pub(crate) fn phase(&self) -> u8 {
        self.phase
    }

    pub(crate) fn note_uncertain(&mut self, ino: u64) {
        self.uncertain.push(ino);
    }

    pub(crate) fn push(&mut self, kind: Kind, fields: Vec<(&'static str, Val)>) {
        self.out.push(Finding::new(self.phase, kind, fields));
    }

    pub(crate) fn ino_of(&self, agno: u32, agino: u32) -> u64 {
        self.fs
            .geo
            .ino_make(AgNo(agno), AgIno(agino))
            .map_or(NULLFSINO, |i| i.0)
    }

    pub(crate) fn split_ino(&self, ino: u64) -> Option<(u32, u32)> {
        self.fs.geo.ino_split(Ino(ino)).map(|(a, i)| (a.0, i.0))
    }

    /// Why `libxfs_iget` of `ino` would fail in phases 6 and 7, as the verifier line it
    /// prints: the inode fails `xfs_dinode_verify` (CRC, fork formats, hints ...), or (a
    /// short-form directory) its data fork cannot be loaded. `None`: it loads.
    pub(crate) fn iget_error(&self, ino: u64) -> Option<Kind> {
        self.iget_error_of(ino, self.fs.read_inode(ino).ok().as_ref())
    }

    /// [`Checker::iget_error`] of an inode already read (`None`: it could not be read).
    pub(crate) fn iget_error_of(
        &self,
        ino: u64,
        inode: Option<&xfs_format::inode::Inode>,
    ) -> Option<Kind> {
        if inode.is_some_and(|i| i.raw.verify_dinode(&i.buf, ino, &self.fs.geo).is_some()) {
            return Some(Kind::InodeDinodeVerifierError);
        }
        self.unmappable
            .contains(&ino)
            .then_some(Kind::InodeVerifierError)
    }

    pub fn slot(&self, ino: u64) -> Option<Slot> {
        let (agno, agino) = self.split_ino(ino)?;
        let m = self.incore.ags.get(agno as usize)?;
        let (start, ch) = m.range(..=agino).next_back()?;
        let off = agino.checked_sub(*start)?;
        if off >= 64 || ch.sparse.checked_shr(off).unwrap_or(0) & 1 != 0 {
            return None;
        }
        ch.slots.get(off as usize).copied()
    }

    pub(crate) fn valid_agino(&self, agno: u32, agino: u32) -> bool {
        self.fs.geo.verify_agino(AgNo(agno), AgIno(agino))
    }

    pub fn valid_ino(&self, ino: u64) -> bool {
        self.fs.geo.verify_ino(Ino(ino))
    }

    pub(crate) fn cluster_bytes(&self) -> u64 {
        self.fs.geo.inode_cluster_bytes()
    }

    /// Inodes per inode cluster (at least 1).
    pub(crate) fn inodes_per_cluster(&self) -> u32 {
        u32::try_from(
            self.cluster_bytes()
                .checked_div(u64::from(self.fs.geo.inode_size))
                .unwrap_or(64),
        )
        .unwrap_or(64)
        .max(1)
    }

    pub(crate) fn fsb(&self, agno: u32, agbno: u32) -> u64 {
        self.fs
            .geo
            .fsb_make(AgNo(agno), AgBno(agbno))
            .map_or(NULLFSBLOCK, |f| f.0)
    }

    pub(crate) fn slot_mut(&mut self, agno: u32, start: u32, i: u32) -> Option<&mut Slot> {
        self.incore
            .ags
            .get_mut(agno as usize)?
            .get_mut(&start)?
            .slots
            .get_mut(i as usize)
    }
}
