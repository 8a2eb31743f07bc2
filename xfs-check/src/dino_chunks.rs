//! Inode chunks, as xfs_repair's dino_chunks.c walks them in phases 3 and 4: every inode of
//! every in-core chunk (read through the chunk's cluster buffers, buffer verifiers first),
//! then the chunks that directory entries name but no inode btree record covers.
//!
//! State is kept per inode chunk (64 slots) in [`crate::incore`], so memory grows with the
//! inodes in use.

use xfs_format::addr::AgIno;
use xfs_format::inode::RawDinode;
use xfs_format::ByteSource;

use crate::dinode::{dinode_core, mode_ftype};
use crate::finding::{Finding, Kind};
use crate::incore::{self as bm, ChunkState, Slot};
use crate::state::Checker;

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

impl<S: ByteSource> Checker<'_, S> {
    /// The inode number of an AG inode of a chunk the checker holds (`NULLFSINO` for one
    /// the geometry cannot have, which no lookup matches).
    /// In-core slot of an inode: None when no chunk holds it.
    /// xfs_verify_agino
    /// xfs_verify_ino
    /// The filesystem block of an AG block (`NULLFSBLOCK`, which reads fail on, for one
    /// the geometry cannot have).
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
        let per_cluster = self.inodes_per_cluster();
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
                // Each inode's core, decoded once for the passes below.
                let cores: Vec<Option<RawDinode>> =
                    (0..64u32).map(|i| dino(i).map(dinode_core)).collect();
                let core = |i: u32| cores.get(i as usize).and_then(Option::as_ref);
                // Buffer verifier of each cluster (phase 3 reads them).
                if phase == 3 {
                    let mut i = 0u32;
                    while i < 64 {
                        let bad = (i..i.saturating_add(per_cluster).min(64)).any(|j| {
                            sparse.checked_shr(j).unwrap_or(0) & 1 == 0
                                && core(j).is_some_and(|di| !self.buf_inode_ok(agno, di))
                        });
                        if bad {
                            let agbno = agbno0.saturating_add(i.checked_div(ipb).unwrap_or(0));
                            let daddr =
                                self.fs.fsb_to_offset(self.fsb(agno, agbno)).unwrap_or(0) / 512;
                            self.bad_clusters.insert(daddr, cl_bytes);
                            self.push(
                                Kind::VerifierError,
                                crate::finding::verifier_error(true, "xfs_inode", daddr, cl_bytes),
                            );
                        }
                        i = i.saturating_add(per_cluster);
                    }
                    // Verify pass (inode discovery).
                    for i in 0..64u32 {
                        if sparse.checked_shr(i).unwrap_or(0) & 1 != 0 {
                            continue;
                        }
                        if let (Some(d), Some(di)) = (dino(i), core(i)) {
                            let ino = self.ino_of(agno, start.saturating_add(i));
                            self.verify_dinode(agno, ino, d, di);
                        }
                    }
                }
                let _ = bs;
                for i in 0..64u32 {
                    if sparse.checked_shr(i).unwrap_or(0) & 1 != 0 {
                        continue;
                    }
                    let (Some(d), Some(di)) = (dino(i), core(i)) else {
                        continue;
                    };
                    self.process_chunk_inode(agno, start, i, d, di);
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
    pub(crate) fn process_chunk_inode(
        &mut self,
        agno: u32,
        start: u32,
        i: u32,
        d: &[u8],
        di: &RawDinode,
    ) {
        let ino = self.ino_of(agno, start.saturating_add(i));
        let was_free = !self.slot(ino).is_some_and(|s| s.used);
        self.reading_for(Some(ino));
        let o = self.dinode(agno, ino, (d, di), was_free);
        self.reading_for(None);
        if o.used && was_free {
            self.push(Kind::ImapInuseMarkedFree, vec![("ino", ino.into())]);
        }
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
        let per_cluster = self.inodes_per_cluster();
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
                let Some(d) = chunk_dinode(&bufs, start, i, ipb, isz) else {
                    continue;
                };
                self.process_chunk_inode(agno, start, i, d, &dinode_core(d));
            }
            self.push(Kind::FoundInodesNotInTree, vec![]);
        }
    }
}
