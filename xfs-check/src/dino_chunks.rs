//! Inode chunks, as xfs_repair's dino_chunks.c walks them in phases 3 and 4: every inode of
//! every in-core chunk (read through the chunk's cluster buffers, buffer verifiers first),
//! then the chunks that directory entries name but no inode btree record covers.
//!
//! State is kept per inode chunk (64 slots) in [`crate::incore`], so memory grows with the
//! inodes in use.

use std::collections::BTreeMap;

use xfs_format::addr::{AgBno, AgIno, AgNo, Ino, NULLFSBLOCK, NULLFSINO};
use xfs_format::{ByteSource, Filesystem};

use crate::dinode::{dinode_core, mode_ftype};
use crate::finding::{Finding, Kind, Val};
use crate::incore::{self as bm, Bmap, ChunkState, Incore, Slot};
use crate::scan::AgResult;

/// On-disk inode `i` of the chunk starting at agino `start`, from the chunk's block buffers
/// (`ipb` inodes of `isz` bytes per block). With more than 64 inodes per block a chunk
/// starts inside its block.
fn chunk_dinode(
    bufs: &[Option<Vec<u8>>],
    start: u32,
    i: u32,
    ipb: u32,
    isz: usize,
) -> Option<&[u8]> {
    let j = start.checked_rem(ipb).unwrap_or(0).saturating_add(i);
    let blk = bufs
        .get(j.checked_div(ipb).unwrap_or(0) as usize)?
        .as_ref()?;
    let off = (j.checked_rem(ipb).unwrap_or(0) as usize).saturating_mul(isz);
    blk.get(off..off.saturating_add(isz))
}

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
    /// Directory buffers (daddr) already read once: the buffer cache hands them out again
    /// without running the verifier.
    pub(crate) dir_bufs_seen: std::collections::BTreeSet<u64>,
    /// Directories whose da btree is bad (dir2_add_badlist): rebuilt in phase 6.
    pub(crate) dir_badlist: std::collections::BTreeSet<u64>,
    /// Phase 4 data-fork mappings of regular files per AG (agbno, end, owner) on reflink
    /// filesystems: the observations refcounts are computed from.
    pub data_maps: Vec<Vec<(u32, u32, u64)>>,
}

impl<'a, S: ByteSource> Checker<'a, S> {
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
            data_maps: vec![Vec::new(); geo.ag_count as usize],
            incore,
            bmaps,
            hdr_blocks,
            out: Vec::new(),
            phase: 3,
            bad_clusters: BTreeMap::new(),
        }
    }

    pub(crate) fn push_kind(&mut self, kind: Kind, fields: Vec<(&'static str, Val)>) {
        self.push(kind, fields);
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

    /// The inode number of an AG inode of a chunk the checker holds (`NULLFSINO` for one
    /// the geometry cannot have, which no lookup matches).
    pub(crate) fn ino_of(&self, agno: u32, agino: u32) -> u64 {
        self.fs
            .geo
            .ino_make(AgNo(agno), AgIno(agino))
            .map_or(NULLFSINO, |i| i.0)
    }

    pub(crate) fn split_ino(&self, ino: u64) -> Option<(u32, u32)> {
        self.fs.geo.ino_split(Ino(ino)).map(|(a, i)| (a.0, i.0))
    }

    /// In-core slot of an inode: None when no chunk holds it.
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

    /// xfs_verify_agino
    pub(crate) fn valid_agino(&self, agno: u32, agino: u32) -> bool {
        self.fs.geo.verify_agino(AgNo(agno), AgIno(agino))
    }

    /// xfs_verify_ino
    pub fn valid_ino(&self, ino: u64) -> bool {
        self.fs.geo.verify_ino(Ino(ino))
    }

    pub(crate) fn cluster_bytes(&self) -> u64 {
        self.fs.geo.inode_cluster_bytes()
    }

    /// The filesystem block of an AG block (`NULLFSBLOCK`, which reads fail on, for one
    /// the geometry cannot have).
    pub(crate) fn fsb(&self, agno: u32, agbno: u32) -> u64 {
        self.fs
            .geo
            .fsb_make(AgNo(agno), AgBno(agbno))
            .map_or(NULLFSBLOCK, |f| f.0)
    }

    /// Runs phase 3 (`phase == 3`) or phase 4 (`phase == 4`) over all inode chunks.
    pub fn run_pass(&mut self, phase: u8) -> Vec<Finding> {
        self.phase = phase;
        if phase == 4 {
            self.reset_bmaps();
        }
        let geo = &self.fs.geo;
        let ipb = geo.inodes_per_block();
        let isz = geo.inode_size as usize;
        let bs = u64::from(geo.block_size);
        let cl_bytes = self.cluster_bytes();
        let per_cluster = u32::try_from(
            cl_bytes
                .checked_div(u64::from(geo.inode_size))
                .unwrap_or(64),
        )
        .unwrap_or(64)
        .max(1);
        for agno in 0..geo.ag_count {
            let starts: Vec<u32> = self
                .incore
                .ags
                .get(agno as usize)
                .map(|m| m.keys().copied().collect())
                .unwrap_or_default();
            for start in starts {
                let sparse = self
                    .incore
                    .ags
                    .get(agno as usize)
                    .and_then(|m| m.get(&start))
                    .map_or(0, |c| c.sparse);
                // Read the chunk's blocks.
                let nblocks = geo.blocks_per_chunk();
                let agbno0 = geo.agino_to_agbno(AgIno(start)).0;
                let mut bufs: Vec<Option<Vec<u8>>> = Vec::new();
                for b in 0..nblocks {
                    let agbno = agbno0.saturating_add(b);
                    bufs.push(
                        self.fs
                            .read_fsb(self.fsb(agno, agbno), 1)
                            .ok()
                            .map(|c| c.into_owned()),
                    );
                    if phase == 4 {
                        if let Some(m) = self.bmaps.get_mut(agno as usize) {
                            m.set(agbno, bm::INO);
                        }
                    }
                }
                let dino = |i: u32| chunk_dinode(&bufs, start, i, ipb, isz);
                // Buffer verifier of each cluster (phase 3 reads them).
                if phase == 3 {
                    let mut i = 0u32;
                    while i < 64 {
                        let bad = (i..i.saturating_add(per_cluster).min(64)).any(|j| {
                            sparse.checked_shr(j).unwrap_or(0) & 1 == 0
                                && dino(j).is_some_and(|d| !self.buf_inode_ok(agno, d))
                        });
                        if bad {
                            let agbno = agbno0.saturating_add(i.checked_div(ipb).unwrap_or(0));
                            let daddr =
                                self.fs.fsb_to_offset(self.fsb(agno, agbno)).unwrap_or(0) / 512;
                            self.bad_clusters.insert(daddr, cl_bytes);
                            self.push(
                                Kind::VerifierError,
                                vec![
                                    ("error", "corruption".into()),
                                    ("addr", "<addr>".into()),
                                    ("ops", "xfs_inode".into()),
                                    ("daddr", daddr.into()),
                                    ("bytes", cl_bytes.into()),
                                ],
                            );
                        }
                        i = i.saturating_add(per_cluster);
                    }
                    // Verify pass (inode discovery).
                    for i in 0..64u32 {
                        if sparse.checked_shr(i).unwrap_or(0) & 1 != 0 {
                            continue;
                        }
                        if let Some(d) = dino(i) {
                            let ino = self.ino_of(agno, start.saturating_add(i));
                            self.verify_dinode(agno, ino, d);
                        }
                    }
                }
                let _ = bs;
                for i in 0..64u32 {
                    if sparse.checked_shr(i).unwrap_or(0) & 1 != 0 {
                        continue;
                    }
                    let Some(d) = dino(i) else { continue };
                    let d = d.to_vec();
                    self.process_chunk_inode(agno, start, i, &d);
                }
            }
        }
        if phase == 3 {
            self.discover();
        }
        std::mem::take(&mut self.out)
    }

    /// process_dinode for inode `i` of the chunk at `start`, then its in-core state: used,
    /// directory, file type, link count and reflink flag, as both the chunk pass and the
    /// newly-discovered-inode pass record them.
    pub(crate) fn process_chunk_inode(&mut self, agno: u32, start: u32, i: u32, d: &[u8]) {
        let ino = self.ino_of(agno, start.saturating_add(i));
        let was_free = !self.slot(ino).is_some_and(|s| s.used);
        let o = self.dinode(agno, ino, d, was_free);
        if o.used && was_free {
            self.push(Kind::ImapInuseMarkedFree, vec![("ino", ino.into())]);
        }
        let di = dinode_core(d);
        if let Some(s) = self.slot_mut(agno, start, i) {
            s.used = o.used;
            s.isdir = o.isdir;
            if o.used {
                s.ftype = mode_ftype(di.di_mode);
                s.nlink = di.link_count();
                s.reflink = di.is_reflink();
            }
        }
        if o.status {
            if ino == self.fs.sb.raw.sb_rootino {
                self.push(Kind::WouldClearRoot, vec![("ino", ino.into())]);
            } else {
                self.push(Kind::WouldClearInode, vec![("ino", ino.into())]);
            }
        }
    }

    /// Phase 3's "process newly discovered inodes": chunks of inodes that directories name
    /// but no inode btree record covers.
    pub(crate) fn discover(&mut self) {
        let list = std::mem::take(&mut self.uncertain);
        let geo = &self.fs.geo;
        let isz = geo.inode_size as usize;
        let ipb = geo.inodes_per_block();
        let cl_bytes = self.cluster_bytes();
        let per_cluster = u32::try_from(
            cl_bytes
                .checked_div(u64::from(geo.inode_size))
                .unwrap_or(64),
        )
        .unwrap_or(64)
        .max(1);
        for t in list.into_iter().take(1_000_000) {
            if self.slot(t).is_some() {
                continue;
            }
            let Some((agno, agino)) = self.split_ino(t) else {
                continue;
            };
            // Chunk start: the lowest aligned start covering agino whose first inode looks
            // like an inode.
            let align = self
                .fs
                .sb
                .raw
                .sb_inoalignmt
                .saturating_mul(ipb)
                .clamp(1, 64);
            let mut start = agino & !63;
            while start < agino {
                let first = self.ino_of(agno, start);
                if self.fs.read_inode(first).is_ok_and(|x| x.checks.magic_ok) {
                    break;
                }
                start = start.saturating_add(align);
            }
            // The named inode must look like an inode.
            let Ok(raw) = self.fs.read_inode(t) else {
                continue;
            };
            if !(raw.checks.magic_ok && raw.checks.version_ok) {
                continue;
            }
            let Some(m) = self.incore.ags.get_mut(agno as usize) else {
                continue;
            };
            if m.range(start.saturating_sub(63)..start.saturating_add(64))
                .next()
                .is_some()
            {
                continue;
            }
            let mut slots = [Slot::default(); 64];
            if let Some(s) = slots.get_mut(agino.saturating_sub(start) as usize) {
                s.used = true;
            }
            m.insert(start, ChunkState { sparse: 0, slots });
            let agbno0 = geo.agino_to_agbno(AgIno(start)).0;
            let mut i = 0u32;
            while i < 64 {
                let agbno = agbno0.saturating_add(i.checked_div(ipb).unwrap_or(0));
                let daddr = self.fs.fsb_to_offset(self.fsb(agno, agbno)).unwrap_or(0) / 512;
                self.push(
                    Kind::CacheKeyBadness,
                    vec![
                        ("tid", "<tid>".into()),
                        ("daddr", daddr.into()),
                        ("bytes", u64::from(geo.block_size).into()),
                        ("daddr2", daddr.into()),
                        ("bytes2", cl_bytes.into()),
                    ],
                );
                i = i.saturating_add(per_cluster);
            }
            let mut bufs: Vec<Option<Vec<u8>>> = Vec::new();
            for b in 0..geo.blocks_per_chunk() {
                bufs.push(
                    self.fs
                        .read_fsb(self.fsb(agno, agbno0.saturating_add(b)), 1)
                        .ok()
                        .map(|c| c.into_owned()),
                );
                if let Some(m) = self.bmaps.get_mut(agno as usize) {
                    m.set(agbno0.saturating_add(b), bm::INO);
                }
            }
            for i in 0..64u32 {
                let Some(d) = chunk_dinode(&bufs, start, i, ipb, isz).map(<[u8]>::to_vec) else {
                    continue;
                };
                self.process_chunk_inode(agno, start, i, &d);
            }
            self.push(Kind::FoundInodesNotInTree, vec![]);
        }
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
