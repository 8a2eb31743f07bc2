//! In-core maps, as xfs_repair's incore.c and incore_ino.c keep them: the per-AG block state
//! map (stored as runs, so that memory grows with the metadata read, not with the size of the
//! AG) and the per-chunk inode state map.

use std::collections::BTreeMap;

pub const UNKNOWN: u8 = 0;
pub const FREE1: u8 = 1;
pub const FREE: u8 = 2;
pub const INUSE: u8 = 3;
pub const INUSE_FS: u8 = 4;
pub const MULT: u8 = 5;
pub const INO: u8 = 6;
pub const FS_MAP: u8 = 7;
pub const INUSE1: u8 = 8;
pub const INUSE_FS1: u8 = 9;
pub const INO1: u8 = 10;
pub const FS_MAP1: u8 = 11;
pub const REFC: u8 = 12;
pub const COW: u8 = 13;
pub const BAD_STATE: u8 = 14;

/// Block states of one AG: a run starts at each key and lasts until the next key.
#[derive(Debug, Clone)]
pub struct Bmap {
    runs: BTreeMap<u32, u8>,
}

impl Bmap {
    /// Blocks below `hdr_blocks` are AG headers, blocks from `ag_size` on do not exist.
    pub fn new(hdr_blocks: u32, ag_size: u32) -> Bmap {
        let mut runs = BTreeMap::new();
        runs.insert(0, INUSE_FS);
        runs.insert(hdr_blocks.min(ag_size), UNKNOWN);
        runs.insert(ag_size, BAD_STATE);
        Bmap { runs }
    }

    pub fn get(&self, b: u32) -> u8 {
        self.runs
            .range(..=b)
            .next_back()
            .map_or(UNKNOWN, |(_, s)| *s)
    }

    /// State at `b` and how many blocks from `b` (up to `end`) share it.
    pub fn get_ext(&self, b: u32, end: u32) -> (u8, u32) {
        let state = self.get(b);
        let next = self
            .runs
            .range(b.saturating_add(1)..)
            .next()
            .map_or(end, |(k, _)| *k)
            .min(end);
        (state, next.saturating_sub(b).max(1))
    }

    pub fn set_ext(&mut self, b: u32, len: u32, state: u8) {
        if len == 0 {
            return;
        }
        let end = b.saturating_add(len);
        let after = self.get(end);
        let inner: Vec<u32> = self.runs.range(b..end).map(|(k, _)| *k).collect();
        for k in inner {
            self.runs.remove(&k);
        }
        self.runs.insert(b, state);
        if end != u32::MAX {
            self.runs.entry(end).or_insert(after);
        }
    }

    pub fn set(&mut self, b: u32, state: u8) {
        self.set_ext(b, 1, state);
    }
}

/// In-core state of one inode.
#[derive(Debug, Clone, Copy, Default)]
pub struct Slot {
    pub used: bool,
    pub isdir: bool,
    pub ftype: u8,
    pub nlink: u32,
    /// The on-disk reflink flag (XFS_DIFLAG2_REFLINK).
    pub reflink: bool,
}

/// In-core state of one inode chunk.
#[derive(Debug, Clone)]
pub struct ChunkState {
    pub sparse: u64,
    pub slots: [Slot; 64],
}

/// The in-core inode map of the whole filesystem: AG -> chunk start agino -> state.
#[derive(Debug, Default)]
pub struct Incore {
    pub ags: Vec<BTreeMap<u32, ChunkState>>,
    pub skipped: Vec<bool>,
    pub bad_ino_btree: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs() {
        let mut m = Bmap::new(1, 100);
        assert_eq!(m.get(0), INUSE_FS);
        assert_eq!(m.get(5), UNKNOWN);
        m.set_ext(10, 5, FREE1);
        assert_eq!(m.get_ext(8, 50), (UNKNOWN, 2));
        assert_eq!(m.get_ext(10, 50), (FREE1, 5));
        assert_eq!(m.get_ext(12, 13), (FREE1, 1));
        assert_eq!(m.get(15), UNKNOWN);
        m.set(12, FS_MAP);
        assert_eq!(m.get(11), FREE1);
        assert_eq!(m.get(12), FS_MAP);
        assert_eq!(m.get(13), FREE1);
        assert_eq!(m.get(100), BAD_STATE);
    }
}
