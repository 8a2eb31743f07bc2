//! Phase 4 of `xfs_repair -n`: check for duplicate blocks. The block map is rebuilt from
//! the AG headers and the log, every inode's claims are replayed against it, and extents one
//! free space btree saw but the other did not are reported.

use xfs_format::addr::Fsb;
use xfs_format::ByteSource;

use crate::finding::{Finding, Kind};
use crate::incore::{self as bm, Bmap};
use crate::state::Checker;

/// Phase 4 after phase 3 left `ck`: extents only one free space btree saw, every inode's
/// claims again, then the reverse-mapping and reference-count cross-checks (`refc_btree`:
/// the refcount btree records phase 2 read, per AG).
pub(crate) fn phase4<S: ByteSource>(
    ck: &mut Checker<'_, S>,
    refc_btree: &[Vec<(u32, u32, u32)>],
    rmap_suspect: bool,
    refc_suspect: bool,
) -> Vec<Finding> {
    let geo = &ck.fs.geo;
    let mut p4 = ck.dup_extent_setup();
    p4.extend(ck.run_pass(4));
    // process_rmap_data: a suspect rmap / refcount btree is not cross-checked, only
    // reported once (from AG 0).
    if geo.has_rmapbt && rmap_suspect {
        p4.push(Finding::new(4, Kind::RmapbtWouldRebuild, vec![]));
    }
    if geo.has_reflink {
        p4.extend(crate::rmap::check_refcounts(ck, refc_btree, refc_suspect));
    }
    if geo.has_reflink && refc_suspect {
        p4.push(Finding::new(4, Kind::RefcountbtWouldRebuild, vec![]));
    }
    if ck.incore.bad_ino_btree {
        p4.push(Finding::new(4, Kind::InoBtreeTooCorrupt, vec![]));
    }
    p4
}

impl<S: ByteSource> Checker<'_, S> {
    /// Phase 4's first step: free extents only one free space btree saw (state FREE1),
    /// from the block map as phases 2 and 3 left it.
    pub fn dup_extent_setup(&mut self) -> Vec<Finding> {
        self.phase = 4;
        for agno in 0..self.fs.geo.ag_count {
            let ag_size = self.fs.geo.ag_size(agno).unwrap_or(0);
            let Some(m) = self.bmaps.get(agno as usize) else {
                continue;
            };
            let mut runs = Vec::new();
            let mut j = self.hdr_blocks;
            let mut guard = 0u32;
            while j < ag_size && guard < 1_000_000 {
                guard = guard.saturating_add(1);
                let (st, len) = m.get_ext(j, ag_size);
                if st == bm::FREE1 {
                    runs.push((j, j.saturating_add(len).saturating_sub(1)));
                }
                j = j.saturating_add(len.max(1));
            }
            // Merge adjacent runs (xfs_repair's map reports maximal runs).
            let mut merged: Vec<(u32, u32)> = Vec::new();
            for (a, b) in runs {
                match merged.last_mut() {
                    Some(l) if l.1.saturating_add(1) == a => l.1 = b,
                    _ => merged.push((a, b)),
                }
            }
            for (a, b) in merged {
                self.push(
                    Kind::FreeSpaceOneBtree,
                    vec![("ag", agno.into()), ("start", a.into()), ("end", b.into())],
                );
            }
        }
        std::mem::take(&mut self.out)
    }

    pub(crate) fn reset_bmaps(&mut self) {
        let geo = &self.fs.geo;
        for agno in 0..geo.ag_count {
            let ag_size = geo.ag_size(agno).unwrap_or(0);
            if let Some(m) = self.bmaps.get_mut(agno as usize) {
                *m = Bmap::new(self.hdr_blocks, ag_size);
            }
        }
        if geo.log_start != 0 {
            if let Some((ag, start)) = geo.fsb_split(Fsb(geo.log_start)) {
                if let Some(m) = self.bmaps.get_mut(ag.0 as usize) {
                    m.set_ext(start.0, geo.log_blocks, bm::INUSE_FS);
                }
            }
        }
    }
}
