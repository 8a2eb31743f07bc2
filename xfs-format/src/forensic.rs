//! Deleted files, for forensics: what `rm` left behind and where to get it back from.
//!
//! Three sources of evidence, each read-only:
//! - directory data blocks: the freed entries of block, leaf and node directories keep
//!   their name and the low half of their inode number ([`crate::dir2::stale`]); so do the
//!   data blocks of directories that were themselves removed, when they are still in free
//!   space (v5 blocks name their owner);
//! - the log history: the whole log ring ([`crate::log::history`]) holds inode cores
//!   logged before the delete, with their data fork extent records, and directory buffers
//!   as they were logged;
//! - free inodes: the inode btrees say free but the core left traces (times, a residual
//!   data fork on older kernels).
//!
//! Each result has a verdict from the free space btrees: recoverable when every block the
//! file had is free now, partly when some are, overwritten when none are (or the inode
//! number is in use by a newer file), unknown without extent records.

use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};

use serde::Serialize;

use crate::addr::{AgIno, AgNo};
use crate::bmap::{BmbtRec, ForkFormat, WhichFork};
use crate::btree::{walk_with, AgAddressing, WalkOptions};
use crate::btrees::{AllocBtree, AllocBy, InoBtree};
use crate::dir2::stale::{is_data_magic, scan_data_block, DataScan, StaleEntry, XFS_DIR3_FT_DIR};
use crate::dir2::{DirFormat, DirGeo};
use crate::fs::Filesystem;
use crate::inode::{RawDinode, Timestamp, S_IFDIR, S_IFMT, XFS_DINODE_MAGIC};
use crate::log::history::{self, LoggedInode};
use crate::log::LogGeometry;
use crate::source::ByteSource;

/// Most directories walked, results kept, free blocks probed for directory magics.
const MAX_DIRS: usize = 1 << 20;
const MAX_RESULTS: usize = 1 << 22;
const MAX_FREE_PROBES: u64 = 1 << 22;
/// Deepest directory tree walked and longest chain of deleted parents followed.
const MAX_DEPTH: usize = 512;

/// How complete the content of a deleted file can be.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every block the file had is free now (or it had none).
    Recoverable,
    /// Some of its blocks are free, or its extent records do not cover its size.
    Partly,
    /// None of its blocks are free, or its inode belongs to a newer file now.
    Overwritten,
    /// Nothing says which blocks it had.
    Unknown,
}

impl Verdict {
    /// The verdict as printed.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Recoverable => "recoverable",
            Verdict::Partly => "partly",
            Verdict::Overwritten => "overwritten",
            Verdict::Unknown => "unknown",
        }
    }
}

/// Where a piece of evidence came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    /// A freed entry in a data block of a directory still in use.
    DirectoryBlock,
    /// An entry of a directory data block that is itself in free space now.
    FreeDirectoryBlock,
    /// An entry of a directory block as the log history holds it.
    LogDirectoryBlock,
    /// An entry of a shortform directory as a logged inode's data fork holds it.
    LogShortformDir,
    /// Inode cores in the log history.
    LogInode,
    /// The on-disk core of a free inode.
    FreeInode,
    /// Extent records left in the data fork of a free inode.
    ResidualFork,
}

impl Source {
    /// The name printed for it.
    pub fn as_str(self) -> &'static str {
        match self {
            Source::DirectoryBlock => "directory_block",
            Source::FreeDirectoryBlock => "free_directory_block",
            Source::LogDirectoryBlock => "log_directory_block",
            Source::LogShortformDir => "log_shortform_dir",
            Source::LogInode => "log_inode",
            Source::FreeInode => "free_inode",
            Source::ResidualFork => "residual_fork",
        }
    }
}

/// One extent of a deleted file, with how much of it is free now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DeletedExtent {
    /// The extent record.
    #[serde(flatten)]
    pub rec: BmbtRec,
    /// Blocks of it that are free now.
    pub free_blocks: u64,
    /// Blocks of it free now but taken since the file was deleted (by a deleted file whose
    /// extents were logged later, or by metadata that was freed again): not its content.
    pub reused_blocks: u64,
}

/// The state of a deleted inode as the best evidence has it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct InodeState {
    /// Where the core came from.
    pub source: Source,
    /// LSN (cycle, block) of the logged core used, for log evidence.
    pub lsn: Option<(u32, u32)>,
    /// `di_mode` before the delete.
    pub mode: u16,
    /// `di_uid`.
    pub uid: u32,
    /// `di_gid`.
    pub gid: u32,
    /// `di_size` before the delete.
    pub size: u64,
    /// `di_gen`.
    pub gen: u32,
    /// Last access.
    pub atime: Timestamp,
    /// Last modification.
    pub mtime: Timestamp,
    /// Last change before the delete.
    pub ctime: Timestamp,
    /// Creation (v3 inodes).
    pub crtime: Option<Timestamp>,
    /// The change time of the first logged core with no links left: when it was deleted.
    pub dtime: Option<Timestamp>,
    /// The data fork extents, from the newest logged core that had them (or the residual
    /// fork).
    pub extents: Vec<DeletedExtent>,
    /// LSN of the logged core the extents come from.
    pub extents_lsn: Option<(u32, u32)>,
    /// Free blocks of the extents that were taken since (see
    /// [`DeletedExtent::reused_blocks`]).
    #[serde(skip)]
    pub reused: BTreeSet<u64>,
}

/// A deleted file (or directory, or inode) and its verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Deleted {
    /// The deleted name, when a directory block holds one.
    pub name: Option<Vec<u8>>,
    /// Inode of the directory the name was in.
    pub parent: Option<u64>,
    /// The path: the parent's path and the name, or `/$OrphanFiles/...` when the parent
    /// is unknown or there is no name.
    pub path: String,
    /// The inode number (only the low 32 bits survive in a freed entry: see
    /// `ino_high_known`).
    pub ino: u64,
    /// All 64 bits of the inode number were read.
    pub ino_high_known: bool,
    /// `ftype` of the entry, when there is one.
    pub ftype: Option<u8>,
    /// Where the evidence came from.
    pub evidence: Vec<Source>,
    /// The inode number is in use by another file now (TSK's `realloc`).
    pub realloc: bool,
    /// The inode's state before the delete, when known.
    pub inode: Option<InodeState>,
    /// How much can come back.
    pub verdict: Verdict,
    /// Why, in words.
    pub reason: String,
}

/// Everything [`find_deleted`] found.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Report {
    /// The deleted names, then the inodes without names, in path / inode order.
    pub deleted: Vec<Deleted>,
    /// What could not be read, in words.
    pub warnings: Vec<String>,
    /// Counts per evidence source (results that have it).
    pub by_source: BTreeMap<&'static str, u64>,
    /// Log records read anywhere in the log area, and those rejected.
    pub log_records: u64,
    /// Log record headers rejected (overwritten, bad CRC).
    pub log_rejected: u64,
    /// The log is dirty: names and inodes of transactions not yet written in place look
    /// deleted although log recovery would keep them (unless the source is already the
    /// replayed view).
    pub log_dirty: bool,
}

/// The free extents of every AG, from the bnobt.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreeSpace {
    per_ag: Vec<Vec<(u32, u32)>>,
}

impl FreeSpace {
    /// Reads the bnobt of every AG (an AG whose AGF cannot be read has no free space here).
    pub fn read<S: ByteSource>(fs: &Filesystem<S>, warnings: &mut Vec<String>) -> FreeSpace {
        let mut per_ag = Vec::new();
        for ag in 0..fs.geo.ag_count {
            let mut recs = Vec::new();
            match (fs.read_agf(ag), AgAddressing::new(&fs.geo, ag)) {
                (Ok(agf), Some(addr)) => {
                    let opts = WalkOptions {
                        root_level: agf
                            .raw
                            .agf_bno_level
                            .checked_sub(1)
                            .and_then(|l| u16::try_from(l).ok()),
                        ..WalkOptions::default()
                    };
                    walk_with(
                        fs.source(),
                        &addr,
                        &AllocBtree(AllocBy::Block),
                        agf.raw.agf_bno_root.into(),
                        opts,
                        |r| recs.push((r.rec.ar_startblock, r.rec.ar_blockcount)),
                    );
                }
                _ => warnings.push(format!(
                    "AG {ag}: the AGF cannot be read; its free space is taken as none"
                )),
            }
            recs.sort_unstable();
            per_ag.push(recs);
        }
        FreeSpace { per_ag }
    }

    /// How many of the `len` blocks from filesystem block `fsb` are free.
    pub fn free_count(&self, geo: &crate::Geometry, fsb: u64, len: u64) -> u64 {
        let mut n = 0u64;
        let mut b = fsb;
        let end = fsb.saturating_add(len);
        // Extents may cross AG boundaries only when corrupt; count block runs per AG.
        while b < end {
            let Some((agno, agbno)) = geo.fsb_split(crate::addr::Fsb(b)) else {
                break;
            };
            let ag_left = u64::from(geo.ag_blocks).saturating_sub(u64::from(agbno.0));
            let run = end.saturating_sub(b).min(ag_left.max(1));
            let lo = u64::from(agbno.0);
            let hi = lo.saturating_add(run);
            if let Some(recs) = self.per_ag.get(agno.0 as usize) {
                let i =
                    recs.partition_point(|&(s, l)| u64::from(s).saturating_add(u64::from(l)) <= lo);
                for &(s, l) in recs.iter().skip(i) {
                    let (s, e) = (u64::from(s), u64::from(s).saturating_add(u64::from(l)));
                    if s >= hi {
                        break;
                    }
                    n = n.saturating_add(e.min(hi).saturating_sub(s.max(lo)));
                }
            }
            b = b.saturating_add(run);
        }
        n
    }

    /// Every free extent as (first filesystem block, length).
    pub fn extents<'a>(
        &'a self,
        geo: &'a crate::Geometry,
    ) -> impl Iterator<Item = (u64, u64)> + 'a {
        self.per_ag.iter().enumerate().flat_map(move |(ag, recs)| {
            recs.iter().filter_map(move |&(s, l)| {
                let ag = u32::try_from(ag).ok()?;
                let fsb = geo.fsb_make(AgNo(ag), crate::addr::AgBno(s))?;
                Some((fsb.0, u64::from(l)))
            })
        })
    }
}

/// A name found in a directory block, before merging.
#[derive(Debug, Clone)]
struct NameHit {
    parent: Option<u64>,
    entry: StaleEntry,
    source: Source,
    /// LSN of the log item the name was seen in (log evidence only).
    lsn: Option<(u32, u32)>,
}

/// A merged deleted name: the best reading of its entry, its sources, and the newest LSN it
/// was seen at as a live entry and at all.
struct NameSlot {
    entry: StaleEntry,
    sources: BTreeSet<Source>,
    live_lsn: Option<(u32, u32)>,
    any_lsn: Option<(u32, u32)>,
}

/// A deleted name: (parent directory, name, low 32 bits of the inode number).
type NameKey = (Option<u64>, Vec<u8>, u64);

/// The live tree: directory paths, names, and the data blocks of directories.
#[derive(Default)]
struct Live {
    dir_path: HashMap<u64, String>,
    names: BTreeSet<(u64, Vec<u8>, u64)>,
    /// Disk address (512-byte sectors) of each live directory data block: its directory.
    dir_daddr: HashMap<u64, u64>,
    /// (directory, its data blocks as (dblock, bytes)).
    blocks: Vec<(u64, Vec<u8>)>,
}

fn walk_live<S: ByteSource>(fs: &Filesystem<S>, warnings: &mut Vec<String>) -> Live {
    let mut live = Live::default();
    let root = fs.root_ino();
    live.dir_path.insert(root, String::new());
    let mut queue = VecDeque::from([(root, 0usize)]);
    let dg = DirGeo::new(&fs.geo);
    while let Some((dir, depth)) = queue.pop_front() {
        if live.dir_path.len() > MAX_DIRS || depth > MAX_DEPTH {
            warnings.push("directory tree too large or deep: walk cut short".into());
            break;
        }
        let Ok(inode) = fs.read_inode(dir) else {
            warnings.push(format!("directory inode {dir} cannot be read"));
            continue;
        };
        let listing = match fs.read_dir(&inode) {
            Ok(l) => l,
            Err(e) => {
                warnings.push(format!("directory inode {dir} cannot be listed: {e}"));
                continue;
            }
        };
        let base = live.dir_path.get(&dir).cloned().unwrap_or_default();
        for e in &listing.entries {
            if e.name == b"." || e.name == b".." {
                continue;
            }
            live.names.insert((dir, e.name.clone(), e.ino));
            let is_dir = e.ftype == Some(XFS_DIR3_FT_DIR)
                || (e.ftype.is_none()
                    && fs.read_inode(e.ino).is_ok_and(|i| i.file_type() == S_IFDIR));
            if is_dir && !live.dir_path.contains_key(&e.ino) {
                let p = format!("{base}/{}", String::from_utf8_lossy(&e.name));
                live.dir_path.insert(e.ino, p);
                queue.push_back((e.ino, depth.saturating_add(1)));
            }
        }
        if listing.format == DirFormat::Shortform {
            continue;
        }
        let (Some(dg), Ok(recs)) = (dg, fs.fork_records(&inode, WhichFork::Data)) else {
            continue;
        };
        for r in &recs {
            let first = dg.fsb_to_db(r.startoff);
            let last = dg.fsb_to_db(r.end().saturating_sub(1));
            for db in first..=last.min(u64::from(dg.leaf_db).saturating_sub(1)) {
                let Ok(db32) = u32::try_from(db) else { break };
                let Ok(bytes) = fs.read_logical(&recs, dg.db_to_fsb(db32), u64::from(dg.fsbcount))
                else {
                    continue;
                };
                if let Some(fsb) = crate::bmap::lookup(&recs, dg.db_to_fsb(db32)) {
                    if let Some(d) = fs.geo.fsb_to_daddr(crate::addr::Fsb(fsb.0)) {
                        live.dir_daddr.insert(d.0, dir);
                    }
                }
                live.blocks.push((dir, bytes));
            }
        }
    }
    live
}

/// The LSN a v5 directory block was last written with: an entry in it was removed (or, in
/// a block in free space, last alive) no later than that, so it names a life of its inode
/// begun by then.
fn block_lsn(scan: &DataScan) -> Option<Lsn> {
    scan.ident
        .as_ref()
        .map(|i| crate::log::record::lsn_parts(i.lsn))
        .filter(|&(c, _)| c != 0 && c != u32::MAX)
}

/// The `.` and `..` of a scanned block, if it has them.
fn dot_entries(scan: &DataScan) -> (Option<u64>, Option<u64>) {
    let find = |n: &[u8]| scan.live.iter().find(|e| e.name == n).map(|e| e.inumber);
    (find(b"."), find(b".."))
}

/// The inode cores the log history holds, by inode, oldest first.
fn log_inodes(hist: &history::History) -> BTreeMap<u64, Vec<LoggedInode>> {
    let mut by_ino: BTreeMap<u64, Vec<LoggedInode>> = BTreeMap::new();
    for l in history::logged_inodes(hist) {
        by_ino.entry(l.ino).or_default().push(l);
    }
    by_ino
}

/// Inodes in use (with their generation) and free inodes of allocated chunks; with `only`,
/// the in-use map holds that inode alone (no other inode is read).
fn inode_maps<S: ByteSource>(
    fs: &Filesystem<S>,
    only: Option<&BTreeSet<u64>>,
) -> (HashMap<u64, Ident>, Vec<u64>) {
    let mut used = HashMap::new();
    let mut free = Vec::new();
    for ag in 0..fs.geo.ag_count {
        let (Ok(agi), Some(addr)) = (fs.read_agi(ag), AgAddressing::new(&fs.geo, ag)) else {
            continue;
        };
        let opts = WalkOptions {
            root_level: agi
                .raw
                .agi_level
                .checked_sub(1)
                .and_then(|l| u16::try_from(l).ok()),
            ..WalkOptions::default()
        };
        let geo = &fs.geo;
        let mut inos: Vec<(u64, bool)> = Vec::new();
        walk_with(
            fs.source(),
            &addr,
            &InoBtree::inobt(geo),
            agi.raw.agi_root.into(),
            opts,
            |r| {
                for i in 0..64u32 {
                    if !r.rec.is_present(i) {
                        continue;
                    }
                    let agino = AgIno(r.rec.ir_startino.saturating_add(i));
                    if let Some(n) = geo.ino_make(AgNo(ag), agino) {
                        inos.push((n.0, r.rec.is_free(i)));
                    }
                }
            },
        );
        for (ino, is_free) in inos {
            if is_free {
                free.push(ino);
            } else if only.is_none_or(|o| o.contains(&ino)) {
                let id = fs.read_inode(ino).map_or((0, 0), |i| ident(&i.raw));
                used.insert(ino, id);
            }
        }
    }
    (used, free)
}

fn ts(core: &RawDinode, raw: u64) -> Timestamp {
    core.timestamp(raw)
}

/// Extent records of a btree-format file from its logged BMBT root: (root bytes, inode,
/// newest LSN of the BMBT blocks to use).
type BmbtResolver<'a> = &'a dyn Fn(&[u8], u64, (u32, u32)) -> Vec<BmbtRec>;

/// The BMBT root an inode item logs (`XFS_ILOG_DBROOT`) as the root an inode fork holds:
/// the in-core root is a long-format btree block (header, then keys and pointers laid out
/// for its length).
fn logged_broot(b: &[u8], has_crc: bool) -> Option<crate::bmap::BmdrRoot> {
    use crate::bmap::{XFS_BMAP_CRC_MAGIC, XFS_BMAP_MAGIC};
    use crate::bytes::{be16, be32, be64};
    if !matches!(be32(b, 0), XFS_BMAP_MAGIC | XFS_BMAP_CRC_MAGIC) {
        return None;
    }
    let hdr = crate::btree::PtrFormat::Long.hdr_len(has_crc);
    let maxrecs = b.len().saturating_sub(hdr) / 16;
    let numrecs = be16(b, 6);
    let n = usize::from(numrecs).min(maxrecs);
    let at = |base: usize, i: usize| be64(b, base.saturating_add(i.saturating_mul(8)));
    let pbase = hdr.saturating_add(maxrecs.saturating_mul(8));
    Some(crate::bmap::BmdrRoot {
        bb_level: be16(b, 4),
        bb_numrecs: numrecs,
        maxrecs,
        keys: (0..n).map(|i| at(hdr, i)).collect(),
        ptrs: (0..n).map(|i| at(pbase, i)).collect(),
    })
    .filter(|r| r.bb_level >= 1)
}

/// The image with BMBT blocks as the log history last logged them (up to an LSN), for
/// walking the BMBT of a deleted btree-format file.
struct LoggedBlocks<'a, S> {
    src: &'a S,
    blocks: HashMap<u64, Vec<u8>>,
}

impl<S: ByteSource> ByteSource for LoggedBlocks<'_, S> {
    fn size(&self) -> u64 {
        self.src.size()
    }
    fn read_at(&self, offset: u64, len: usize) -> crate::Result<std::borrow::Cow<'_, [u8]>> {
        match self.blocks.get(&offset) {
            Some(b) if b.len() == len => Ok(std::borrow::Cow::Borrowed(b)),
            _ => self.src.read_at(offset, len),
        }
    }
}

/// The extent records below a logged BMBT root: each BMBT block as the newest logged copy
/// not after `limit` has it (over what the disk holds), else as the disk holds it.
fn bmbt_extents<S: ByteSource>(
    fs: &Filesystem<S>,
    bufs: &[history::LoggedBuffer],
    broot: &[u8],
    ino: u64,
    limit: (u32, u32),
) -> Vec<BmbtRec> {
    let Some(root) = logged_broot(broot, fs.geo.has_crc) else {
        return Vec::new();
    };
    let mut blocks: HashMap<u64, Vec<u8>> = HashMap::new();
    // bufs are oldest first: later copies replace earlier ones.
    for b in bufs.iter().filter(|b| b.lsn <= limit) {
        let Some(off) = u64::try_from(b.blkno).ok().and_then(|d| d.checked_mul(512)) else {
            continue;
        };
        let base = match blocks.remove(&off) {
            Some(v) => v,
            None => fs
                .source()
                .read_at(off, b.data.len())
                .map(|c| c.into_owned())
                .unwrap_or_else(|_| vec![0; b.data.len()]),
        };
        let mut merged = base;
        for (i, logged) in b.logged.iter().enumerate() {
            if !*logged {
                continue;
            }
            let at = i.saturating_mul(crate::log::items::XFS_BLF_CHUNK);
            let end = at
                .saturating_add(crate::log::items::XFS_BLF_CHUNK)
                .min(merged.len());
            if let (Some(d), Some(s)) = (merged.get_mut(at..end), b.data.get(at..end)) {
                d.copy_from_slice(s);
            }
        }
        blocks.insert(off, merged);
    }
    let src = LoggedBlocks {
        src: fs.source(),
        blocks,
    };
    crate::bmap::walk_bmbt(&src, &fs.geo, &root, ino).records
}

/// Whether a logged buffer holds a BMBT block.
fn is_bmbt_block(b: &[u8]) -> bool {
    use crate::bmap::{XFS_BMAP_CRC_MAGIC, XFS_BMAP_MAGIC};
    matches!(
        crate::bytes::be32(b, 0),
        XFS_BMAP_MAGIC | XFS_BMAP_CRC_MAGIC
    )
}

/// What tells two lives of one inode number apart: `di_gen` and `di_crtime` (a freed inode
/// reallocated keeps its generation on current kernels, not its creation time).
type Ident = (u32, u64);

fn ident(c: &RawDinode) -> Ident {
    (c.di_gen, c.di_crtime)
}

/// The logged cores of one inode number split into its lives, oldest first: a new life
/// starts at a core with a mode whose identity differs from the current one's (cores of a
/// freed inode, mode 0, stay with the life they end).
fn lives(cores: &[LoggedInode]) -> Vec<Vec<&LoggedInode>> {
    let mut out: Vec<Vec<&LoggedInode>> = Vec::new();
    for l in cores {
        let same = out
            .last()
            .and_then(|g| g.iter().find(|c| c.core.di_mode != 0))
            .is_some_and(|first| ident(&first.core) == ident(&l.core));
        match out.last_mut() {
            Some(g) if same || l.core.di_mode == 0 => g.push(l),
            _ => out.push(vec![l]),
        }
    }
    out
}

/// The state of an inode before its delete, from its logged cores: of the lives that are
/// not the one in use now (`live`), the last one begun by `near` (an LSN at which its name
/// was seen), else the newest.
fn state_from_log(
    cores: &[LoggedInode],
    live: Option<Ident>,
    near: Option<(u32, u32)>,
    bmbt: BmbtResolver<'_>,
) -> Option<InodeState> {
    state_of_life(cores, live, near, &BTreeSet::new(), bmbt)
}

/// The lives of an inode number that are not the one in use now (`live`), oldest first.
fn dead_lives(cores: &[LoggedInode], live: Option<Ident>) -> Vec<Vec<&LoggedInode>> {
    lives(cores)
        .into_iter()
        .filter(|g| {
            g.iter()
                .find(|c| c.core.di_mode != 0)
                .is_some_and(|c| live.is_none_or(|id| ident(&c.core) != id))
        })
        .collect()
}

/// The LSN a life's first logged core has: what names it.
fn life_start(g: &[&LoggedInode]) -> Option<Lsn> {
    g.first().map(|c| c.lsn)
}

/// Which dead life: the last one begun by `near` (none when every life the log holds
/// began later), else, without `near`, the newest one not in `taken` (the lives other names
/// were matched to).
fn pick_life<'a, 'b>(
    dead: &'a [Vec<&'b LoggedInode>],
    near: Option<Lsn>,
    taken: &BTreeSet<Lsn>,
) -> Option<&'a Vec<&'b LoggedInode>> {
    match near {
        Some(n) => dead
            .iter()
            .rev()
            .find(|g| life_start(g).is_some_and(|l| l <= n)),
        None => dead
            .iter()
            .rev()
            .find(|g| life_start(g).is_none_or(|l| !taken.contains(&l))),
    }
}

/// [`state_from_log`] with the lives `taken` by other names left out when `near` is not
/// known.
fn state_of_life(
    cores: &[LoggedInode],
    live: Option<Ident>,
    near: Option<(u32, u32)>,
    taken: &BTreeSet<Lsn>,
    bmbt: BmbtResolver<'_>,
) -> Option<InodeState> {
    let dead = dead_lives(cores, live);
    let same = pick_life(&dead, near, taken)?;
    // The newest core that maps the data: by extent records, or by a BMBT root.
    let mapping = same
        .iter()
        .rev()
        .find(|l| !l.extents.is_empty() || !l.broot.is_empty())
        .copied();
    let ext = mapping.filter(|l| !l.extents.is_empty());
    let alive = same
        .iter()
        .rev()
        .find(|l| l.core.di_mode != 0 && l.core.link_count() > 0)
        .or_else(|| same.iter().rev().find(|l| l.core.di_mode != 0))
        .copied()?;
    // A btree-format file: its extents are in BMBT blocks, as logged before the delete (or
    // as left on disk).
    let btree = mapping
        .filter(|l| l.extents.is_empty())
        .map(|l| (l.lsn, bmbt(&l.broot, l.ino, alive.lsn.max(l.lsn))))
        .filter(|(_, recs)| !recs.is_empty());
    let dtime = same
        .iter()
        .find(|l| l.lsn >= alive.lsn && l.core.link_count() == 0)
        .map(|l| ts(&l.core, l.core.di_ctime));
    let c = &alive.core;
    Some(InodeState {
        source: Source::LogInode,
        lsn: Some(alive.lsn),
        mode: c.di_mode,
        uid: c.di_uid,
        gid: c.di_gid,
        size: c.di_size,
        gen: c.di_gen,
        atime: ts(c, c.di_atime),
        mtime: ts(c, c.di_mtime),
        ctime: ts(c, c.di_ctime),
        crtime: (c.di_version >= 3).then(|| ts(c, c.di_crtime)),
        dtime,
        extents: ext
            .map(|l| l.extents.clone())
            .or_else(|| btree.as_ref().map(|(_, r)| r.clone()))
            .unwrap_or_default()
            .into_iter()
            .map(|rec| DeletedExtent {
                rec,
                free_blocks: 0,
                reused_blocks: 0,
            })
            .collect(),
        extents_lsn: ext.map(|l| l.lsn).or(btree.map(|(l, _)| l)),
        reused: BTreeSet::new(),
    })
}

/// The state of every life of every logged inode that is not in use now.
fn every_dead_life(
    by_ino: &BTreeMap<u64, Vec<LoggedInode>>,
    used: &HashMap<u64, Ident>,
    bmbt: BmbtResolver<'_>,
) -> Vec<InodeState> {
    by_ino
        .iter()
        .flat_map(|(i, c)| {
            lives(c)
                .into_iter()
                .filter_map(|g| {
                    let near = g.first().map(|l| l.lsn);
                    state_from_log(c, used.get(i).copied(), near, bmbt)
                })
                .collect::<Vec<_>>()
        })
        .collect()
}

/// The state a free inode's on-disk core still shows, when it left traces.
fn state_from_disk<S: ByteSource>(fs: &Filesystem<S>, ino: u64) -> Option<InodeState> {
    let i = fs.read_inode(ino).ok()?;
    let c = &i.raw;
    if c.di_magic != XFS_DINODE_MAGIC {
        return None;
    }
    let residual = if ForkFormat::from_raw(c.di_format) == ForkFormat::Extents {
        i.bmap_inline_records(WhichFork::Data)
    } else {
        Vec::new()
    };
    let traces = c.di_mode != 0
        || c.di_ctime != 0
        || c.di_mtime != 0
        || c.di_size != 0
        || !residual.is_empty();
    if !traces {
        return None;
    }
    Some(InodeState {
        source: if residual.is_empty() {
            Source::FreeInode
        } else {
            Source::ResidualFork
        },
        lsn: None,
        mode: c.di_mode,
        uid: c.di_uid,
        gid: c.di_gid,
        size: c.di_size,
        gen: c.di_gen,
        atime: i.atime(),
        mtime: i.mtime(),
        ctime: i.ctime(),
        crtime: i.crtime(),
        dtime: (c.link_count() == 0).then(|| i.ctime()),
        extents: residual
            .into_iter()
            .map(|rec| DeletedExtent {
                rec,
                free_blocks: 0,
                reused_blocks: 0,
            })
            .collect(),
        extents_lsn: None,
        reused: BTreeSet::new(),
    })
}

/// Most blocks of one file whose content is looked at for signs of reuse.
const MAX_REUSE_CHECKS: u64 = 1 << 16;

/// An LSN as (cycle, block).
type Lsn = (u32, u32);

/// The blocks deleted files had, to tell which of two deleted files a free block belonged
/// to last: the one whose extents were logged later.
struct Claims {
    /// start block -> (end block, LSN of the extents).
    by_start: BTreeMap<u64, Vec<(u64, Lsn)>>,
    max_len: u64,
}

impl Claims {
    fn new<'a>(states: impl Iterator<Item = &'a InodeState>) -> Claims {
        let mut c = Claims {
            by_start: BTreeMap::new(),
            max_len: 0,
        };
        for s in states {
            let Some(lsn) = s.extents_lsn else { continue };
            for e in &s.extents {
                let len = u64::from(e.rec.blockcount);
                c.max_len = c.max_len.max(len);
                c.by_start
                    .entry(e.rec.startblock)
                    .or_default()
                    .push((e.rec.startblock.saturating_add(len), lsn));
            }
        }
        c
    }

    /// Whether a deleted file whose extents were logged after `lsn` (so not the file
    /// whose extents were logged at `lsn`) claims block `fsb`.
    fn newer(&self, lsn: Option<(u32, u32)>, fsb: u64) -> bool {
        let lsn = lsn.unwrap_or((0, 0));
        let lo = fsb.saturating_sub(self.max_len);
        self.by_start
            .range(lo..=fsb)
            .flat_map(|(_, v)| v.iter())
            .any(|&(end, l)| l > lsn && end > fsb)
    }
}

/// Whether a block's first bytes are v5 metadata of this filesystem (a block header or an
/// inode with its uuid): a data block reused by metadata since.
fn is_metadata(b: &[u8], geo: &crate::Geometry) -> bool {
    use crate::verify::Layout;
    if !geo.has_crc {
        return false;
    }
    let layouts = [
        Layout::SBLOCK,
        Layout::LBLOCK,
        Layout::DA3_BLKINFO,
        Layout::DIR3_BLK_HDR,
        Layout::ATTR3_RMT_HDR,
    ];
    if layouts
        .iter()
        .any(|l| l.read_uuid(b) == Some(geo.meta_uuid))
    {
        return true;
    }
    RawDinode::parse(b, 0).is_ok_and(|d| {
        d.di_magic == XFS_DINODE_MAGIC && d.di_version == 3 && d.di_uuid == geo.meta_uuid
    })
}

/// Fills in the free and reused block counts of `st`'s extents and judges it.
fn judge<S: ByteSource>(
    fs: &Filesystem<S>,
    free: &FreeSpace,
    claims: &Claims,
    st: &mut InodeState,
    realloc: bool,
) -> (Verdict, String) {
    let fs_geo = &fs.geo;
    let regular = st.mode & S_IFMT == crate::inode::S_IFREG;
    let mut total = 0u64;
    let mut freed = 0u64;
    let mut reused_total = 0u64;
    let mut mapped_end = 0u64;
    let mut checked = 0u64;
    st.reused.clear();
    let lsn = st.extents_lsn;
    for e in &mut st.extents {
        let len = u64::from(e.rec.blockcount);
        e.free_blocks = free.free_count(fs_geo, e.rec.startblock, len);
        e.reused_blocks = 0;
        if e.free_blocks > 0 {
            for fsb in e.rec.startblock..e.rec.startblock.saturating_add(len) {
                if checked >= MAX_REUSE_CHECKS {
                    break;
                }
                checked = checked.saturating_add(1);
                if free.free_count(fs_geo, fsb, 1) == 0 {
                    continue;
                }
                let taken = claims.newer(lsn, fsb)
                    || (regular
                        && fs
                            .fsb_to_offset(fsb)
                            .and_then(|o| fs.source().read_at(o, 512).ok())
                            .is_some_and(|b| is_metadata(&b, fs_geo)));
                if taken {
                    e.reused_blocks = e.reused_blocks.saturating_add(1);
                    st.reused.insert(fsb);
                }
            }
        }
        total = total.saturating_add(len);
        freed = freed.saturating_add(e.free_blocks.saturating_sub(e.reused_blocks));
        reused_total = reused_total.saturating_add(e.reused_blocks);
        mapped_end = mapped_end.max(e.rec.end());
    }
    let reused_note = if reused_total > 0 {
        format!(" ({reused_total} free blocks were taken by a later file since)")
    } else {
        String::new()
    };
    let bs = u64::from(fs_geo.block_size);
    let covers = mapped_end.saturating_mul(bs) >= st.size;
    if st.extents.is_empty() {
        return if st.source == Source::LogInode && st.size == 0 && st.mode & S_IFMT != S_IFDIR {
            (
                Verdict::Recoverable,
                "empty file: nothing to recover".into(),
            )
        } else if realloc {
            (
                Verdict::Overwritten,
                "inode in use by a newer file and no extent records of the old one".into(),
            )
        } else {
            (
                Verdict::Unknown,
                "no extent records of the deleted file survive".into(),
            )
        };
    }
    if freed == total && covers {
        (
            Verdict::Recoverable,
            format!("all {total} blocks of its extents are free"),
        )
    } else if freed == 0 {
        (
            Verdict::Overwritten,
            format!("none of its {total} blocks is free and unused: reused{reused_note}"),
        )
    } else if freed == total {
        (
            Verdict::Partly,
            format!(
                "its {total} blocks are free, but the extent records end before its size ({} bytes)",
                st.size
            ),
        )
    } else {
        (
            Verdict::Partly,
            format!("{freed} of its {total} blocks are free and unused since{reused_note}"),
        )
    }
}

/// Finds deleted entries and inodes: see the module documentation.
pub fn find_deleted<S: ByteSource>(fs: &Filesystem<S>) -> Report {
    let mut rep = Report::default();
    let geo = &fs.geo;
    let free = FreeSpace::read(fs, &mut rep.warnings);
    let live = walk_live(fs, &mut rep.warnings);
    let (used, free_inodes) = inode_maps(fs, None);
    let valid = |i: u64| geo.verify_ino(crate::addr::Ino(i));
    let has_ftype = geo.has_ftype;
    let mut hits: Vec<NameHit> = Vec::new();
    // 1. Freed entries in the blocks of live directories.
    for (dir, bytes) in &live.blocks {
        let scan = scan_data_block(bytes, has_ftype, &valid);
        let lsn = block_lsn(&scan);
        hits.extend(scan.stale.into_iter().map(|entry| NameHit {
            parent: Some(*dir),
            entry,
            source: Source::DirectoryBlock,
            lsn,
        }));
    }
    // 2. Directory data blocks in free space.
    let dbs = geo.dir_block_size as usize;
    let fsbcount = DirGeo::new(geo).map_or(1, |d| u64::from(d.fsbcount));
    let mut probes = 0u64;
    // Owners of directory blocks in free space, with their parents (`..`) when known.
    let mut dead_dirs: HashMap<u64, Option<u64>> = HashMap::new();
    'free: for (fsb, len) in free.extents(geo) {
        let mut b = fsb;
        while b.saturating_add(fsbcount) <= fsb.saturating_add(len) {
            probes = probes.saturating_add(1);
            if probes > MAX_FREE_PROBES {
                rep.warnings
                    .push("free space too large: not every free block was searched".into());
                break 'free;
            }
            let Some(off) = fs.fsb_to_offset(b) else {
                break;
            };
            if fs.source().read_at(off, 8).is_ok_and(|h| is_data_magic(&h)) {
                if let Ok(bytes) = fs.source().read_at(off, dbs) {
                    let scan = scan_data_block(&bytes, has_ftype, &valid);
                    let uuid_ok = scan.ident.as_ref().is_none_or(|i| i.uuid == geo.meta_uuid);
                    if uuid_ok {
                        let owner = scan
                            .ident
                            .as_ref()
                            .map(|i| i.owner)
                            .filter(|&o| valid(o))
                            .or(dot_entries(&scan).0);
                        let (_, dotdot) = dot_entries(&scan);
                        if let Some(o) = owner {
                            dead_dirs.insert(o, dotdot);
                        }
                        let lsn = block_lsn(&scan);
                        for entry in scan.live.into_iter().chain(scan.stale) {
                            if entry.name == b"." || entry.name == b".." {
                                continue;
                            }
                            hits.push(NameHit {
                                parent: owner,
                                entry,
                                source: Source::FreeDirectoryBlock,
                                lsn,
                            });
                        }
                    }
                }
            }
            b = b.saturating_add(fsbcount);
        }
    }
    // 3. The log history: inode cores and directory buffers.
    let (hist, log_by_ino) = match LogGeometry::of(fs) {
        Ok(lg) => {
            rep.log_dirty =
                crate::log::read_log(fs.source(), &lg).state == crate::log::LogState::Dirty;
            let h = history::read_history(fs.source(), &lg);
            let by = log_inodes(&h);
            (Some(h), by)
        }
        Err(e) => {
            rep.warnings
                .push(format!("the log history cannot be read: {e}"));
            (None, BTreeMap::new())
        }
    };
    let bmbt_bufs = hist
        .as_ref()
        .map(|h| history::logged_buffers(h, is_bmbt_block))
        .unwrap_or_default();
    let bmbt =
        |root: &[u8], ino: u64, limit: (u32, u32)| bmbt_extents(fs, &bmbt_bufs, root, ino, limit);
    // Shortform directories as logged: their entries then, with full inode numbers.
    for (dir, cores) in &log_by_ino {
        for l in cores.iter().filter(|l| {
            l.core.di_mode & S_IFMT == S_IFDIR
                && ForkFormat::from_raw(l.core.di_format) == ForkFormat::Local
                && !l.local_data.is_empty()
        }) {
            let sf = crate::dir2::parse_shortform(&l.local_data, has_ftype);
            for e in sf.entries.iter().filter(|e| valid(e.inumber)) {
                hits.push(NameHit {
                    parent: Some(*dir),
                    entry: StaleEntry {
                        pos: 0,
                        name: e.name.clone(),
                        inumber: e.inumber,
                        high_known: true,
                        ftype: e.ftype,
                        tag_ok: true,
                        live: true,
                    },
                    source: Source::LogShortformDir,
                    lsn: Some(l.lsn),
                });
            }
        }
    }
    if let Some(h) = &hist {
        rep.log_records = h.records.len() as u64;
        rep.log_rejected = h.rejected.len() as u64;
        for buf in history::logged_buffers(h, is_data_magic) {
            let scan = scan_data_block(&buf.data, has_ftype, &valid);
            let owner = scan
                .ident
                .as_ref()
                .map(|i| i.owner)
                .filter(|&o| valid(o))
                .or_else(|| {
                    u64::try_from(buf.blkno)
                        .ok()
                        .and_then(|d| live.dir_daddr.get(&d).copied())
                })
                .or(dot_entries(&scan).0);
            for entry in scan.live.into_iter().chain(scan.stale) {
                if entry.name == b"." || entry.name == b".." {
                    continue;
                }
                hits.push(NameHit {
                    parent: owner,
                    entry,
                    source: Source::LogDirectoryBlock,
                    lsn: Some(buf.lsn),
                });
            }
        }
    }
    // Merge the names: one result per (parent, name, inode), live names left out.
    let mut names: BTreeMap<NameKey, NameSlot> = BTreeMap::new();
    for h in hits {
        let key = (
            h.parent,
            h.entry.name.clone(),
            h.entry.inumber & 0xffff_ffff,
        );
        if let Some(p) = h.parent {
            if live
                .names
                .contains(&(p, h.entry.name.clone(), h.entry.inumber))
            {
                continue;
            }
        }
        let slot = names.entry(key).or_insert_with(|| NameSlot {
            entry: h.entry.clone(),
            sources: BTreeSet::new(),
            live_lsn: None,
            any_lsn: None,
        });
        if h.entry.high_known && !slot.entry.high_known {
            slot.entry = h.entry.clone();
        }
        slot.sources.insert(h.source);
        if h.lsn.is_some() {
            slot.any_lsn = slot.any_lsn.max(h.lsn);
            if h.entry.live {
                slot.live_lsn = slot.live_lsn.max(h.lsn);
            }
        }
        if names.len() > MAX_RESULTS {
            rep.warnings
                .push("too many deleted names: list cut short".into());
            break;
        }
    }
    // Paths of deleted directories: a deleted name whose inode owns deleted entries.
    let mut dead_dir_name: HashMap<u64, (Option<u64>, Vec<u8>)> = HashMap::new();
    for ((parent, name, _), slot) in &names {
        let e = &slot.entry;
        let is_dir = e.ftype == Some(XFS_DIR3_FT_DIR) || dead_dirs.contains_key(&e.inumber);
        if is_dir && !live.dir_path.contains_key(&e.inumber) {
            dead_dir_name.insert(e.inumber, (*parent, name.clone()));
        }
    }
    let path_of = |dir: Option<u64>| -> String {
        let mut parts: Vec<String> = Vec::new();
        let mut cur = dir;
        for _ in 0..MAX_DEPTH {
            let Some(d) = cur else {
                break;
            };
            if let Some(p) = live.dir_path.get(&d) {
                parts.push(p.clone());
                parts.reverse();
                return parts.join("/");
            }
            match dead_dir_name.get(&d) {
                Some((pp, n)) => {
                    parts.push(String::from_utf8_lossy(n).into_owned());
                    cur = *pp;
                }
                None => {
                    // A removed directory whose own name is lost: under its parent if
                    // its `..` survives and is alive.
                    parts.push(format!("$OrphanDir-{d}"));
                    if let Some(p) = dead_dirs
                        .get(&d)
                        .copied()
                        .flatten()
                        .and_then(|p| live.dir_path.get(&p))
                    {
                        parts.push(p.clone());
                    } else {
                        parts.push("/$OrphanFiles".into());
                    }
                    parts.reverse();
                    return parts.join("/");
                }
            }
        }
        parts.push("/$OrphanFiles".into());
        parts.reverse();
        parts.join("/")
    };
    // The lives names seen in the log were matched to: a name seen only in a directory
    // block is not given one of those.
    let mut taken: HashMap<u64, BTreeSet<Lsn>> = HashMap::new();
    for slot in names.values() {
        let near = slot.live_lsn.or(slot.any_lsn);
        let ino = slot.entry.inumber;
        if let (Some(n), Some(cores)) = (near, log_by_ino.get(&ino)) {
            let dead = dead_lives(cores, used.get(&ino).copied());
            if let Some(l) = pick_life(&dead, Some(n), &BTreeSet::new()).and_then(|g| life_start(g))
            {
                taken.entry(ino).or_default().insert(l);
            }
        }
    }
    let none_taken = BTreeSet::new();
    let mut named_inos: BTreeSet<u64> = BTreeSet::new();
    for ((parent, name, _), slot) in names {
        let e = slot.entry;
        let sources = slot.sources;
        let near = slot.live_lsn.or(slot.any_lsn);
        let ino = e.inumber;
        named_inos.insert(ino);
        let live_gen = used.get(&ino).copied();
        let mut evidence: Vec<Source> = sources.into_iter().collect();
        let mut st = log_by_ino.get(&ino).and_then(|c| {
            let t = taken.get(&ino).unwrap_or(&none_taken);
            state_of_life(c, live_gen, near, t, &bmbt)
        });
        if st.is_some() {
            evidence.push(Source::LogInode);
        } else if live_gen.is_none() {
            st = state_from_disk(fs, ino);
            if let Some(s) = &st {
                evidence.push(s.source);
            }
        }
        let realloc = live_gen.is_some();
        let (verdict, reason) = match st {
            Some(_) => (Verdict::Unknown, String::new()),
            None if realloc => (
                Verdict::Overwritten,
                "the inode is in use by a newer file".into(),
            ),
            None => (Verdict::Unknown, "only the name survives".into()),
        };
        let path = format!("{}/{}", path_of(parent), String::from_utf8_lossy(&name));
        rep.deleted.push(Deleted {
            name: Some(name),
            parent,
            path,
            ino,
            ino_high_known: e.high_known,
            ftype: e.ftype,
            evidence,
            realloc,
            inode: st,
            verdict,
            reason,
        });
    }
    // Inodes without a name: free inodes the log history or the disk still describes.
    let mut unnamed: BTreeSet<u64> = log_by_ino
        .keys()
        .copied()
        .filter(|i| !named_inos.contains(i))
        .collect();
    unnamed.extend(free_inodes.iter().filter(|i| !named_inos.contains(i)));
    for ino in unnamed {
        if rep.deleted.len() > MAX_RESULTS {
            rep.warnings
                .push("too many deleted inodes: list cut short".into());
            break;
        }
        let live_gen = used.get(&ino).copied();
        let mut evidence = Vec::new();
        let mut st = log_by_ino
            .get(&ino)
            .and_then(|c| state_from_log(c, live_gen, None, &bmbt));
        if st.is_some() {
            evidence.push(Source::LogInode);
        } else if live_gen.is_none() {
            st = state_from_disk(fs, ino);
            if let Some(s) = &st {
                evidence.push(s.source);
            }
        }
        let Some(s) = st else {
            continue;
        };
        // Directories still in the tree and their older cores are not deleted files.
        if live.dir_path.contains_key(&ino) {
            continue;
        }
        let realloc = live_gen.is_some();
        let (verdict, reason) = (Verdict::Unknown, String::new());
        rep.deleted.push(Deleted {
            name: None,
            parent: None,
            path: format!("/$OrphanFiles/OrphanFile-{ino}"),
            ino,
            ino_high_known: true,
            ftype: None,
            evidence,
            realloc,
            inode: Some(s),
            verdict,
            reason,
        });
    }
    // Verdicts, once every deleted file's claim on its blocks is known.
    let others = every_dead_life(&log_by_ino, &used, &bmbt);
    let claims = Claims::new(
        rep.deleted
            .iter()
            .filter_map(|d| d.inode.as_ref())
            .chain(others.iter()),
    );
    for d in &mut rep.deleted {
        if let Some(s) = d.inode.as_mut() {
            (d.verdict, d.reason) = judge(fs, &free, &claims, s, d.realloc);
        }
    }
    for d in &rep.deleted {
        for s in &d.evidence {
            let c = rep.by_source.entry(s.as_str()).or_insert(0);
            *c = c.saturating_add(1);
        }
    }
    rep
}

/// What [`recovery_plan`] decided for one deleted inode.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Plan {
    /// The inode.
    pub ino: u64,
    /// Its state before the delete (size, times, extents with their free counts).
    pub state: InodeState,
    /// The verdict.
    pub verdict: Verdict,
    /// Why.
    pub reason: String,
    /// The free space the verdict was judged against.
    #[serde(skip)]
    pub free: FreeSpace,
}

/// The best evidence for the content of deleted inode `ino`: the newest logged core with
/// extent records (of a generation not in use now), else the residual fork of the free
/// on-disk inode. `None` when neither exists.
///
/// An inode number freed and used again has several lives in the log; `near` picks the
/// one begun by that LSN (the `lsn` `find_deleted` gives), else the newest is used.
pub fn recovery_plan<S: ByteSource>(
    fs: &Filesystem<S>,
    ino: u64,
    near: Option<(u32, u32)>,
) -> (Option<Plan>, Vec<String>) {
    let mut warnings = Vec::new();
    let free = FreeSpace::read(fs, &mut warnings);
    let (by_ino, bmbt_bufs) = match LogGeometry::of(fs) {
        Ok(lg) => {
            let h = history::read_history(fs.source(), &lg);
            (log_inodes(&h), history::logged_buffers(&h, is_bmbt_block))
        }
        Err(e) => {
            warnings.push(format!("the log history cannot be read: {e}"));
            (BTreeMap::new(), Vec::new())
        }
    };
    let bmbt =
        |root: &[u8], ino: u64, limit: (u32, u32)| bmbt_extents(fs, &bmbt_bufs, root, ino, limit);
    let mut wanted: BTreeSet<u64> = by_ino.keys().copied().collect();
    wanted.insert(ino);
    let (used, _) = inode_maps(fs, Some(&wanted));
    let live_gen = used.get(&ino).copied();
    let mut st = by_ino
        .get(&ino)
        .and_then(|c| state_from_log(c, live_gen, near, &bmbt));
    if let Some(c) = by_ino.get(&ino) {
        let n = dead_lives(c, live_gen).len();
        if n > 1 && near.is_none() {
            warnings.push(format!(
                "inode {ino} was used by {n} deleted files the log describes; this is the newest (pick another with --lsn, from `deleted --json`)"
            ));
        }
    }
    // Every deleted file the log describes, for the blocks they took later.
    let others = every_dead_life(&by_ino, &used, &bmbt);
    let claims = Claims::new(others.iter());
    if st.as_ref().is_none_or(|s| s.extents.is_empty()) && live_gen.is_none() {
        if let Some(d) = state_from_disk(fs, ino).filter(|d| !d.extents.is_empty()) {
            st = Some(d);
        }
    }
    let Some(mut state) = st else {
        return (None, warnings);
    };
    let (verdict, reason) = judge(fs, &free, &claims, &mut state, live_gen.is_some());
    (
        Some(Plan {
            ino,
            state,
            verdict,
            reason,
            free,
        }),
        warnings,
    )
}

/// Reads the content of `plan`: `di_size` bytes, each block from its extent when it is free
/// now (or always with `force`), zeros for holes, unwritten extents and blocks not read.
/// Calls `sink` with each piece in order; returns (bytes, blocks wanted, blocks read).
pub fn read_plan<S: ByteSource>(
    fs: &Filesystem<S>,
    plan: &Plan,
    force: bool,
    sink: &mut dyn FnMut(&[u8]) -> std::io::Result<()>,
) -> crate::Result<(u64, u64, u64)> {
    let bs = u64::from(fs.geo.block_size);
    let size = plan.state.size;
    let mut recs: Vec<BmbtRec> = plan.state.extents.iter().map(|e| e.rec).collect();
    recs.sort_by_key(|r| r.startoff);
    let free = (!force).then_some(&plan.free);
    let zero = vec![0u8; bs as usize];
    let (mut pos, mut wanted, mut read) = (0u64, 0u64, 0u64);
    let nblocks = size.div_ceil(bs.max(1));
    for lblk in 0..nblocks {
        let take = size.saturating_sub(pos).min(bs);
        let n = usize::try_from(take).unwrap_or(0);
        let mapped = recs
            .iter()
            .find(|r| r.startoff <= lblk && lblk < r.end())
            .map(|r| {
                (
                    r.startblock.saturating_add(lblk.saturating_sub(r.startoff)),
                    r.unwritten,
                )
            });
        let piece = match mapped {
            Some((fsb, false)) => {
                wanted = wanted.saturating_add(1);
                let ok = free.as_ref().is_none_or(|f| {
                    f.free_count(&fs.geo, fsb, 1) == 1 && !plan.state.reused.contains(&fsb)
                });
                if ok {
                    let b = fs.read_fsb(fsb, 1)?;
                    read = read.saturating_add(1);
                    Some(b.get(..n).unwrap_or_default().to_vec())
                } else {
                    None
                }
            }
            _ => None,
        };
        match piece {
            Some(p) => sink(&p),
            None => sink(zero.get(..n).unwrap_or_default()),
        }
        .map_err(crate::Error::Write)?;
        pos = pos.saturating_add(take);
    }
    Ok((pos, wanted, read))
}
