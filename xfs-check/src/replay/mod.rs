//! Log replay as a copy-on-write overlay: [`ReplayedSource`] shows the image as the kernel's
//! log recovery would leave it, without writing anything. Modified 512-byte sectors live in
//! memory (capped); every other read goes to the untouched image.
//!
//! What is applied, following the rules of the kernel's recovery (`xfs_log_recover.c`,
//! `xfs_buf_item_recover.c`, `xfs_inode_item_recover.c`, `xfs_icreate_item.c`), committed
//! transactions from tail to head:
//!
//! * pass 1 collects cancelled buffers (buffer items with `XFS_BLF_CANCEL`);
//! * pass 2 reorders each transaction's items as the kernel does (buffers and inode creates,
//!   then inodes, then inode buffers, then cancellations) and applies them:
//!   - buffer items: the dirty 128-byte chunks of the bitmap; skipped while a cancellation of
//!     the same buffer is still ahead; on v5, skipped when the metadata LSN on disk (found by
//!     magic, with a UUID of this filesystem) is at or past the transaction's LSN; replayed
//!     v5 buffers of known types get the transaction LSN and a recomputed CRC, as the write
//!     verifiers do;
//!   - inode buffers (`XFS_BLF_INODE_BUF`): only the logged `di_next_unlinked` fields, then
//!     the inode CRCs;
//!   - inode items: the core (converted from the logging host's byte order; `di_next_unlinked`
//!     stays as on disk), the data and attribute fork regions by format (btree roots
//!     converted to the on-disk root format), device numbers; skipped when the on-disk inode
//!     LSN (v3) is newer than the transaction, or by `di_flushiter` (v2); the CRC is
//!     recomputed and `di_lsn` set;
//!   - inode creates (ICREATE): the inode chunk initialized as `xfs_ialloc_inode_init` does;
//! * after replay, as a mount with lazy superblock counters does, the superblock's `icount`,
//!   `ifree` and `fdblocks` are recomputed from the AG headers.
//!
//! After replay, EFIs without EFD are finished as the kernel does, in log order with the
//! RUIs without RUD: extents go back into the free-space btrees and AGF counters, and
//! rmapbt records are removed (see `efi.rs` for the cases handled; the others are left
//! undone and reported).
//!
//! Not replayed, and reported as [`Note`]s: other intents without done items (CUI, BUI,
//! ATTRI, RUIs other than whole-record unmaps), which the kernel finishes after replay;
//! EFIs that `efi.rs` cannot finish exactly;
//! dquot items and quota-off items; inodes left on AGI unlinked lists, which a mount
//! would free. Items that the kernel would refuse (bad magic, out of range) are reported too
//! and skipped; the kernel would fail the mount instead.

use std::borrow::Cow;
use std::collections::BTreeMap;

use serde::Serialize;

use xfs_format::addr::{AgBno, AgIno, AgNo, NULLAGINO};
use xfs_format::ag::{AgHeader, RawAgHeader, RawAgf, RawAgi, XFS_AGF_MAGIC, XFS_AGI_MAGIC};
use xfs_format::attr::XFS_ATTR3_RMT_MAGIC;
use xfs_format::bmap::{bmdr_maxrecs, BMDR_HDR_SIZE, XFS_BMAP_CRC_MAGIC};
use xfs_format::btree::{BlockHeader, PtrFormat, XFS_BTREE_LBLOCK_CRC_LEN, XFS_BTREE_LBLOCK_LEN};
use xfs_format::bytes::{put_be32, put_be64, put_le32};
use xfs_format::crc::xfs_cksum;
use xfs_format::error::{Error, Result};
use xfs_format::fs::Filesystem;
use xfs_format::inode::{
    RawDinode, XFS_DINODE_CRC_OFF, XFS_DINODE_MAGIC, XFS_DINODE_NEXT_UNLINKED_OFF,
    XFS_DINODE_V2_SIZE, XFS_DINODE_V3_SIZE, XFS_LOG_DINODE_V2_SIZE,
};
use xfs_format::log::items::{
    BufLogFormat, Extent, InodeLogFormat, Item, ItemBody, XFS_BLF_CANCEL, XFS_BLF_CHUNK,
    XFS_BLF_DQUOT_BUFS, XFS_BLF_INODE_BUF, XFS_ILOG_ABROOT, XFS_ILOG_AFORK, XFS_ILOG_DBROOT,
    XFS_ILOG_DEV, XFS_ILOG_DFORK, XFS_LI_ATTRD, XFS_LI_ATTRI, XFS_LI_BUD, XFS_LI_BUF, XFS_LI_BUI,
    XFS_LI_CUD, XFS_LI_CUI, XFS_LI_DQUOT, XFS_LI_EFD, XFS_LI_EFI, XFS_LI_ICREATE, XFS_LI_INODE,
    XFS_LI_QUOTAOFF, XFS_LI_RUD, XFS_LI_RUI, XFS_RMAP_EXTENT_UNMAP,
};
use xfs_format::log::{read_fs_log, LogReport, LogState};
use xfs_format::sb::{
    Geometry, Superblock, XFS_SB_FDBLOCKS_OFF, XFS_SB_ICOUNT_OFF, XFS_SB_IFREE_OFF,
};
use xfs_format::source::{ByteSource, MAX_READ};
use xfs_format::verify::Layout;

mod efi;

/// Default cap of the overlay: bytes of modified sectors kept in memory.
pub const DEFAULT_OVERLAY_CAP: u64 = 1 << 30;

const SECTOR: u64 = 512;

/// Something of the log that was not (or not fully) replayed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Note {
    /// Transaction id it belongs to; 0 for after-replay notes.
    pub tid: u32,
    /// LSN (cycle, block) of the record the transaction started in.
    pub lsn: (u32, u32),
    /// Item type (`xfs_logprint` name) or `"log"`/`"agi"`.
    pub item: &'static str,
    /// What was not done, and why.
    pub message: String,
}

/// Counts of what the replay did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct ReplayStats {
    /// Committed transactions replayed.
    pub transactions: u64,
    /// Buffer items copied into the overlay.
    pub buffers_replayed: u64,
    /// Buffer items skipped because the buffer is cancelled (`XFS_BLF_CANCEL`).
    pub buffers_cancelled: u64,
    /// Buffer items skipped: the buffer on disk carries an LSN at least as new (v5).
    pub buffers_not_newer: u64,
    /// Inode cluster buffers replayed.
    pub inode_buffers_replayed: u64,
    /// Inode items replayed.
    pub inodes_replayed: u64,
    /// Inode items skipped: the inode on disk is newer (its LSN, or `di_flushiter` on v2).
    pub inodes_not_newer: u64,
    /// Inode items skipped because their cluster buffer is cancelled (`XFS_BLF_CANCEL`).
    pub inodes_cancelled: u64,
    /// Inode chunk creations replayed.
    pub icreates_replayed: u64,
    /// Inode chunk creations skipped because their buffer is cancelled.
    pub icreates_cancelled: u64,
    /// The superblock counters (`sb_icount`, `sb_ifree`, `sb_fdblocks`) were rewritten from the AG headers after replay.
    pub sb_counters_recomputed: bool,
    /// EFIs without EFD whose extents were freed after replay, as the kernel does.
    pub efis_finished: u64,
    /// RUIs without RUD finished after replay (rmapbt records removed).
    pub ruis_finished: u64,
    /// Bytes held by the overlay (512 per modified sector).
    pub overlay_bytes: u64,
}

/// What a replay did and did not do.
#[derive(Debug, Clone, Serialize)]
pub struct ReplayReport {
    /// The state of the log that was replayed.
    pub state: LogState,
    /// Counts of what was done.
    pub stats: ReplayStats,
    /// What was not (or not fully) replayed.
    pub not_replayed: Vec<Note>,
}

/// An image with its log replayed in memory. Reads see the replayed metadata; the source
/// underneath is only ever read.
#[derive(Debug)]
pub struct ReplayedSource<S> {
    inner: S,
    overlay: BTreeMap<u64, Vec<u8>>,
    cap: u64,
}

impl<S: ByteSource> ReplayedSource<S> {
    /// A source that shows `inner` unchanged (nothing replayed yet).
    pub fn unchanged(inner: S) -> Self {
        ReplayedSource {
            inner,
            overlay: BTreeMap::new(),
            cap: DEFAULT_OVERLAY_CAP,
        }
    }

    /// Decodes the log of the filesystem in `inner` and replays its committed transactions
    /// into an overlay of at most `cap` bytes. A clean or zeroed log replays nothing. Fails
    /// when the filesystem cannot be opened, the log is external, or the overlay would grow
    /// past `cap` ([`Error::Incompatible`]); an unreadable log replays nothing and says so.
    pub fn replay(inner: S, cap: u64) -> Result<(Self, ReplayReport)> {
        let rep = {
            let fs = Filesystem::open(&inner)?;
            read_fs_log(&fs)?
        };
        Self::replay_report(inner, &rep, cap)
    }

    /// Replays an already decoded log `rep` of the filesystem in `inner` (tests feed it
    /// altered reports).
    pub fn replay_report(inner: S, rep: &LogReport, cap: u64) -> Result<(Self, ReplayReport)> {
        let (geo, meta_uuid) = {
            let fs = Filesystem::open(&inner)?;
            let uuid = if fs.geo.has_meta_uuid {
                fs.sb.raw.sb_meta_uuid
            } else {
                fs.sb.raw.sb_uuid
            };
            (fs.geo.clone(), uuid)
        };
        let mut me = ReplayedSource {
            inner,
            overlay: BTreeMap::new(),
            cap,
        };
        let report = me.apply(rep, &geo, meta_uuid)?;
        Ok((me, report))
    }

    /// The source underneath.
    pub fn inner(&self) -> &S {
        &self.inner
    }

    /// Number of modified sectors.
    pub fn modified_sectors(&self) -> usize {
        self.overlay.len()
    }

    fn apply(
        &mut self,
        rep: &LogReport,
        geo: &Geometry,
        meta_uuid: [u8; 16],
    ) -> Result<ReplayReport> {
        let mut r = Replayer {
            src: self,
            geo,
            meta_uuid,
            cancels: BTreeMap::new(),
            stats: ReplayStats::default(),
            notes: Vec::new(),
        };
        match rep.state {
            LogState::Dirty => {}
            LogState::Unreadable => {
                r.notes.push(Note {
                    tid: 0,
                    lsn: (0, 0),
                    item: "log",
                    message: format!(
                        "log head/tail not found, nothing replayed: {}",
                        rep.reasons.join("; ")
                    ),
                });
                return Ok(r.finish(rep.state));
            }
            LogState::Clean | LogState::Zeroed => return Ok(r.finish(rep.state)),
        }
        for t in rep.incomplete.iter().filter(|t| !t.items.is_empty()) {
            r.notes.push(Note {
                tid: t.tid,
                lsn: t.lsn,
                item: "log",
                message: format!(
                    "transaction without commit record ({} items): not replayed, as the kernel does",
                    t.items.len()
                ),
            });
        }
        // Pass 1: cancelled buffers.
        for it in rep.transactions.iter().flat_map(|t| t.items.iter()) {
            if let Some(b) = buf_format(it) {
                if b.blf_flags & XFS_BLF_CANCEL != 0 {
                    let c = r.cancels.entry((b.blf_blkno, b.blf_len)).or_insert(0u32);
                    *c = c.saturating_add(1);
                }
            }
        }
        // Pass 2, transaction by transaction, items in the kernel's order.
        // Intents by id, with their position in the log (the kernel finishes them in log
        // order, e.g. an RUI before the EFI logged after it in the same transaction).
        let mut intents: BTreeMap<(u16, u64), (LogPos, &Item)> = BTreeMap::new();
        let mut seq = 0u64;
        let mut last_lsn = 0u64;
        for t in &rep.transactions {
            r.stats.transactions = r.stats.transactions.saturating_add(1);
            let lsn = (u64::from(t.lsn.0) << 32) | u64::from(t.lsn.1);
            last_lsn = last_lsn.max(lsn);
            let rank = |it: &Item| -> u8 {
                match (it.item_type, buf_format(it)) {
                    (XFS_LI_BUF, Some(b)) if b.blf_flags & XFS_BLF_CANCEL != 0 => 3,
                    (XFS_LI_BUF, Some(b)) if b.blf_flags & XFS_BLF_INODE_BUF != 0 => 2,
                    (XFS_LI_BUF | XFS_LI_ICREATE, _) => 0,
                    _ => 1,
                }
            };
            let mut order: Vec<&Item> = t.items.iter().collect();
            order.sort_by_key(|it| rank(it)); // stable: log order within a group
            for it in order {
                let ctx = (t.tid, t.lsn);
                match it.item_type {
                    XFS_LI_BUF => r.buffer(it, lsn, ctx)?,
                    XFS_LI_INODE => r.inode(it, lsn, ctx)?,
                    XFS_LI_ICREATE => r.icreate(it, ctx)?,
                    XFS_LI_EFI | XFS_LI_RUI | XFS_LI_CUI | XFS_LI_BUI | XFS_LI_ATTRI => {
                        if let Some(id) = intent_id(&it.body) {
                            seq = seq.saturating_add(1);
                            intents.insert((it.item_type, id), ((ctx, seq), it));
                        }
                    }
                    XFS_LI_EFD | XFS_LI_RUD | XFS_LI_CUD | XFS_LI_BUD | XFS_LI_ATTRD => {
                        if let Some(id) = intent_id(&it.body) {
                            let start = match it.item_type {
                                XFS_LI_EFD => XFS_LI_EFI,
                                XFS_LI_RUD => XFS_LI_RUI,
                                XFS_LI_CUD => XFS_LI_CUI,
                                XFS_LI_BUD => XFS_LI_BUI,
                                _ => XFS_LI_ATTRI,
                            };
                            intents.remove(&(start, id));
                        }
                    }
                    XFS_LI_DQUOT | XFS_LI_QUOTAOFF => r.note(
                        ctx,
                        it.type_name,
                        "quota items are not replayed (quota accounting is checked by neither \
                         tool)"
                            .into(),
                    ),
                    _ => r.note(
                        ctx,
                        it.type_name,
                        format!("item of type {:#x} not replayed", it.item_type),
                    ),
                }
            }
        }
        // The kernel finishes the intents left over in log order.
        let mut left: Vec<_> = intents.into_iter().collect();
        left.sort_by_key(|(_, ((ctx, seq), _))| (ctx.1, *seq));
        for ((ty, id), ((ctx, _), it)) in left {
            // EFIs and RUIs are finished here as the kernel would; the others are noted.
            let finished = match &it.body {
                ItemBody::Efi {
                    extents, nextents, ..
                } => Some(r.finish_efi(extents, *nextents, last_lsn)),
                ItemBody::Rui {
                    extents, nextents, ..
                } => Some(r.finish_rui(extents, *nextents, last_lsn)),
                _ => None,
            };
            if let Some(res) = finished {
                let efi = ty == XFS_LI_EFI;
                match res {
                    Ok(()) => {
                        let s = &mut r.stats;
                        let n = if efi {
                            &mut s.efis_finished
                        } else {
                            &mut s.ruis_finished
                        };
                        *n = n.saturating_add(1);
                    }
                    Err(why) => {
                        let does = if efi { "free its extents" } else { "finish it" };
                        r.note(
                            ctx,
                            xfs_format::log::items::type_name(ty),
                            format!(
                                "intent {id:#x} without done item: the kernel would {does} after \
                                 replay; not replayed: {why}"
                            ),
                        );
                    }
                }
                continue;
            }
            let what = match ty {
                XFS_LI_EFI => "extents to free",
                XFS_LI_RUI => "reverse-mapping updates",
                XFS_LI_CUI => "refcount updates",
                XFS_LI_BUI => "block-mapping updates",
                _ => "extended attribute update",
            };
            r.note(
                ctx,
                xfs_format::log::items::type_name(ty),
                format!(
                    "intent {id:#x} without done item: the kernel would finish it after replay \
                     ({what}); not replayed"
                ),
            );
        }
        r.sb_counters()?;
        r.unlinked();
        Ok(r.finish(rep.state))
    }

    fn put_sectors(&mut self, offset: u64, bytes: &[u8]) -> Result<()> {
        let first = offset / SECTOR;
        for (i, chunk) in bytes.chunks(512).enumerate() {
            let sec = first.saturating_add(i as u64);
            let mut data = match self.overlay.get(&sec) {
                Some(_) if chunk.len() == 512 => Vec::new(),
                Some(d) => d.clone(),
                None if chunk.len() == 512 => Vec::new(),
                None => {
                    let at = sec.saturating_mul(SECTOR);
                    self.inner.read_at(at, 512)?.into_owned()
                }
            };
            if chunk.len() == 512 {
                data = chunk.to_vec();
            } else if let Some(d) = data.get_mut(..chunk.len()) {
                d.copy_from_slice(chunk);
            }
            self.overlay.insert(sec, data);
            let used = (self.overlay.len() as u64).saturating_mul(SECTOR);
            if used > self.cap {
                return Err(Error::Incompatible(format!(
                    "log replay needs more than {} bytes of memory for modified sectors",
                    self.cap
                )));
            }
        }
        Ok(())
    }
}

impl<S: ByteSource> ByteSource for ReplayedSource<S> {
    fn size(&self) -> u64 {
        self.inner.size()
    }

    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let base = self.inner.read_at(offset, len)?;
        if len == 0 || self.overlay.is_empty() {
            return Ok(base);
        }
        let end = offset.saturating_add(len as u64);
        let first = offset / SECTOR;
        let last = end.saturating_sub(1) / SECTOR;
        let mut hits = self.overlay.range(first..=last).peekable();
        if hits.peek().is_none() {
            return Ok(base);
        }
        let mut buf = base.into_owned();
        for (&sec, data) in hits {
            let s0 = sec.saturating_mul(SECTOR);
            let lo = offset.max(s0);
            let hi = end.min(s0.saturating_add(SECTOR));
            let (Ok(src_lo), Ok(src_hi), Ok(dst_lo), Ok(dst_hi)) = (
                usize::try_from(lo.saturating_sub(s0)),
                usize::try_from(hi.saturating_sub(s0)),
                usize::try_from(lo.saturating_sub(offset)),
                usize::try_from(hi.saturating_sub(offset)),
            ) else {
                continue;
            };
            if let (Some(d), Some(s)) = (buf.get_mut(dst_lo..dst_hi), data.get(src_lo..src_hi)) {
                d.copy_from_slice(s);
            }
        }
        Ok(Cow::Owned(buf))
    }
}

fn intent_id(b: &ItemBody) -> Option<u64> {
    match b {
        ItemBody::Efi { id, .. }
        | ItemBody::Rui { id, .. }
        | ItemBody::Cui { id, .. }
        | ItemBody::Bui { id, .. }
        | ItemBody::Attri { id, .. } => Some(*id),
        ItemBody::Efd { efi_id, .. } => Some(*efi_id),
        ItemBody::Rud { rui_id } => Some(*rui_id),
        ItemBody::Cud { cui_id } => Some(*cui_id),
        ItemBody::Bud { bui_id } => Some(*bui_id),
        ItemBody::Attrd { attri_id } => Some(*attri_id),
        _ => None,
    }
}

/// The format structure of a buffer item (`xfs_buf_log_format`).
fn buf_format(it: &Item) -> Option<BufLogFormat<'_>> {
    if it.item_type != XFS_LI_BUF {
        return None;
    }
    BufLogFormat::parse(it.data.first()?)
}

struct Replayer<'a, S> {
    src: &'a mut ReplayedSource<S>,
    geo: &'a Geometry,
    meta_uuid: [u8; 16],
    cancels: BTreeMap<(i64, u16), u32>,
    stats: ReplayStats,
    notes: Vec<Note>,
}

type Ctx = (u32, (u32, u32));
/// A log item's transaction context and its rank in the log.
type LogPos = (Ctx, u64);

/// Stores the XFS checksum of `buf` (field at `off`).
fn set_crc(buf: &mut [u8], off: usize) {
    if let Some(c) = xfs_cksum(buf, off) {
        put_le32(buf, off, c);
    }
}

/// Remote attribute value blocks (`XARM`) carry a header and a CRC per filesystem block
/// and are not LSN-stamped by recovery.
fn is_attr_rmt(buf: &[u8], layout: &Layout) -> bool {
    layout.read_magic(buf) == Some(u64::from(XFS_ATTR3_RMT_MAGIC))
}

impl<S: ByteSource> efi::BlockReader for Replayer<'_, S> {
    fn read_block(&self, off: u64, len: usize) -> Option<Vec<u8>> {
        self.read(off, len)
    }
}

impl<S: ByteSource> Replayer<'_, S> {
    fn note(&mut self, ctx: Ctx, item: &'static str, message: String) {
        self.notes.push(Note {
            tid: ctx.0,
            lsn: ctx.1,
            item,
            message,
        });
    }

    fn finish(mut self, state: LogState) -> ReplayReport {
        self.stats.overlay_bytes = (self.src.overlay.len() as u64).saturating_mul(SECTOR);
        ReplayReport {
            state,
            stats: self.stats,
            not_replayed: self.notes,
        }
    }

    fn byte_range(&self, daddr: i64, bbs: u64) -> Option<(u64, usize)> {
        let off = u64::try_from(daddr).ok()?.checked_mul(SECTOR)?;
        let len = usize::try_from(bbs.checked_mul(SECTOR)?).ok()?;
        let end = off.checked_add(len as u64)?;
        (len > 0 && len <= MAX_READ && end <= self.src.size()).then_some((off, len))
    }

    fn read(&self, off: u64, len: usize) -> Option<Vec<u8>> {
        self.src.read_at(off, len).ok().map(Cow::into_owned)
    }

    fn cancelled(&self, blkno: i64, len: u16) -> bool {
        self.cancels.get(&(blkno, len)).is_some_and(|c| *c > 0)
    }

    /// The metadata LSN a v5 block carries, if it is of a known type and of this filesystem.
    fn block_lsn(&self, buf: &[u8]) -> Option<u64> {
        let layout = Layout::of_block_in(buf, self.geo.has_meta_uuid)?;
        if is_attr_rmt(buf, &layout) {
            return None;
        }
        let lsn = layout.read_lsn(buf)?;
        (layout.read_uuid(buf)? == self.meta_uuid).then_some(lsn)
    }

    /// What the write verifiers do to a replayed v5 block: stamp the LSN, recompute the CRC.
    fn finish_v5_block(&self, buf: &mut [u8], lsn: u64) {
        let Some(layout) = Layout::of_block_in(buf, self.geo.has_meta_uuid) else {
            return;
        };
        if is_attr_rmt(buf, &layout) {
            // Remote attribute blocks: a header and a CRC per filesystem block, no LSN.
            let bs = usize::try_from(self.geo.block_size)
                .unwrap_or(4096)
                .max(512);
            for blk in buf.chunks_mut(bs) {
                if is_attr_rmt(blk, &layout) {
                    layout.write_crc(blk);
                }
            }
            return;
        }
        layout.write_lsn(buf, lsn);
        layout.write_crc(buf);
    }

    fn buffer(&mut self, it: &Item, lsn: u64, ctx: Ctx) -> Result<()> {
        let Some(b) = buf_format(it) else {
            self.note(ctx, "BUF", "damaged buffer item: not replayed".into());
            return Ok(());
        };
        if b.blf_flags & XFS_BLF_CANCEL != 0 {
            if let Some(c) = self.cancels.get_mut(&(b.blf_blkno, b.blf_len)) {
                *c = c.saturating_sub(1);
                if *c == 0 {
                    self.cancels.remove(&(b.blf_blkno, b.blf_len));
                }
            }
            return Ok(());
        }
        if self.cancelled(b.blf_blkno, b.blf_len) {
            self.stats.buffers_cancelled = self.stats.buffers_cancelled.saturating_add(1);
            return Ok(());
        }
        let Some((off, len)) = self.byte_range(b.blf_blkno, u64::from(b.blf_len)) else {
            self.note(
                ctx,
                "BUF",
                format!(
                    "buffer at daddr {:#x} ({} basic blocks) is outside the filesystem: not replayed",
                    b.blf_blkno, b.blf_len
                ),
            );
            return Ok(());
        };
        let Some(mut buf) = self.read(off, len) else {
            self.note(
                ctx,
                "BUF",
                format!("cannot read buffer at daddr {:#x}", b.blf_blkno),
            );
            return Ok(());
        };
        let runs = b.dirty_runs();
        if b.blf_flags & XFS_BLF_INODE_BUF != 0 {
            self.inode_buffer(&b, it, &runs, &mut buf);
            self.stats.inode_buffers_replayed = self.stats.inode_buffers_replayed.saturating_add(1);
            return self.src.put_sectors(off, &buf);
        }
        if self.geo.has_crc {
            if let Some(disk) = self.block_lsn(&buf) {
                if disk != 0 && disk != u64::MAX && disk >= lsn {
                    self.stats.buffers_not_newer = self.stats.buffers_not_newer.saturating_add(1);
                    return Ok(());
                }
            }
        }
        if b.blf_flags & XFS_BLF_DQUOT_BUFS != 0 {
            self.note(
                ctx,
                "BUF",
                format!("dquot buffer at daddr {:#x}: not replayed", b.blf_blkno),
            );
            return Ok(());
        }
        for (i, &(start, n)) in runs.iter().enumerate() {
            let Some(region) = it.data.get(i.saturating_add(1)) else {
                self.note(
                    ctx,
                    "BUF",
                    format!(
                        "buffer at daddr {:#x}: fewer data regions than dirty ranges",
                        b.blf_blkno
                    ),
                );
                break;
            };
            let dst = start.saturating_mul(XFS_BLF_CHUNK);
            let want = n.saturating_mul(XFS_BLF_CHUNK).min(region.len());
            let end = dst.saturating_add(want).min(buf.len());
            let cnt = end.saturating_sub(dst);
            if let (Some(d), Some(s)) = (buf.get_mut(dst..end), region.get(..cnt)) {
                d.copy_from_slice(s);
            }
        }
        if self.geo.has_crc {
            self.finish_v5_block(&mut buf, lsn);
        }
        self.stats.buffers_replayed = self.stats.buffers_replayed.saturating_add(1);
        self.src.put_sectors(off, &buf)
    }

    /// `XFS_BLF_INODE_BUF`: only the logged unlinked pointers are copied.
    fn inode_buffer(
        &self,
        b: &BufLogFormat<'_>,
        it: &Item,
        runs: &[(usize, usize)],
        buf: &mut [u8],
    ) {
        let isize = usize::try_from(self.geo.inode_size).unwrap_or(512).max(256);
        let count = buf.len().checked_div(isize).unwrap_or(0);
        for i in 0..count {
            let ino_off = i.saturating_mul(isize);
            let at = ino_off.saturating_add(XFS_DINODE_NEXT_UNLINKED_OFF);
            let hit = runs.iter().enumerate().find(|(_, &(s, n))| {
                let lo = s.saturating_mul(XFS_BLF_CHUNK);
                let hi = s.saturating_add(n).saturating_mul(XFS_BLF_CHUNK);
                at >= lo && at.saturating_add(4) <= hi
            });
            let Some((ri, &(s, _))) = hit else { continue };
            let Some(region) = it.data.get(ri.saturating_add(1)) else {
                continue;
            };
            let rel = at.saturating_sub(s.saturating_mul(XFS_BLF_CHUNK));
            let Some(v) = region.get(rel..rel.saturating_add(4)) else {
                continue;
            };
            if let Some(d) = buf.get_mut(at..at.saturating_add(4)) {
                d.copy_from_slice(v);
            }
            if self.geo.has_crc {
                if let Some(ino) = buf.get_mut(ino_off..ino_off.saturating_add(isize)) {
                    set_crc(ino, XFS_DINODE_CRC_OFF);
                }
            }
        }
        let _ = b;
    }

    fn inode(&mut self, it: &Item, lsn: u64, ctx: Ctx) -> Result<()> {
        let (Some(f), Some(ld)) = (it.data.first(), it.data.get(1)) else {
            self.note(ctx, "INO", "inode item without core: not replayed".into());
            return Ok(());
        };
        let Some(fmt) = InodeLogFormat::parse(f) else {
            self.note(ctx, "INO", "short inode log format: not replayed".into());
            return Ok(());
        };
        let fields = fmt.ilf_fields;
        let ino = fmt.ilf_ino;
        let rdev = fmt.ilf_rdev;
        let blkno = fmt.ilf_blkno;
        let blen = fmt.ilf_len as u32;
        let boffset = usize::try_from(fmt.ilf_boffset as u32).unwrap_or(usize::MAX);
        let Ok(blen16) = u16::try_from(blen) else {
            self.note(ctx, "INO", format!("inode {ino}: bad buffer length {blen}"));
            return Ok(());
        };
        if self.cancelled(blkno, blen16) {
            self.stats.inodes_cancelled = self.stats.inodes_cancelled.saturating_add(1);
            return Ok(());
        }
        let isize = usize::try_from(self.geo.inode_size).unwrap_or(0);
        let Some((off, len)) = self.byte_range(blkno, u64::from(blen)) else {
            self.note(
                ctx,
                "INO",
                format!("inode {ino}: buffer outside the filesystem: not replayed"),
            );
            return Ok(());
        };
        let Some(mut buf) = self.read(off, len) else {
            self.note(ctx, "INO", format!("inode {ino}: cannot read its buffer"));
            return Ok(());
        };
        let Some(dip) = buf.get_mut(boffset..boffset.saturating_add(isize)) else {
            self.note(
                ctx,
                "INO",
                format!("inode {ino}: offset {boffset} outside its buffer: not replayed"),
            );
            return Ok(());
        };
        // The geometry's inode size is at least 256, so the on-disk core is all there.
        let disk = RawDinode::parse(dip, 0).unwrap_or_default();
        let log = log_core(ld);
        if disk.di_magic != XFS_DINODE_MAGIC || log.di_magic != XFS_DINODE_MAGIC {
            self.note(
                ctx,
                "INO",
                format!(
                    "inode {ino}: bad magic on disk or in the log (the kernel would fail \
                     recovery): not replayed"
                ),
            );
            return Ok(());
        }
        let v3 = disk.di_version >= 3;
        if v3 {
            if disk.di_lsn != 0 && disk.di_lsn != u64::MAX && disk.di_lsn > lsn {
                self.stats.inodes_not_newer = self.stats.inodes_not_newer.saturating_add(1);
                return Ok(());
            }
        } else {
            let (lf, df) = (log.di_flushiter, disk.di_flushiter);
            if lf < df && !(df == u16::MAX && lf < (u16::MAX >> 1)) {
                self.stats.inodes_not_newer = self.stats.inodes_not_newer.saturating_add(1);
                return Ok(());
            }
        }
        let log_v3 = log.di_version >= 3;
        let core = if log_v3 {
            XFS_DINODE_V3_SIZE
        } else {
            XFS_LOG_DINODE_V2_SIZE
        };
        if ld.len() < core || isize < core.max(XFS_DINODE_V2_SIZE) {
            self.note(
                ctx,
                "INO",
                format!("inode {ino}: short logged core: not replayed"),
            );
            return Ok(());
        }
        log.write_logged_core(dip, lsn, log_v3);
        let dsz = if v3 {
            XFS_DINODE_V3_SIZE
        } else {
            XFS_DINODE_V2_SIZE
        };
        // The logged di_forkoff, now written over the disk core.
        let forkoff = usize::from(log.di_forkoff).saturating_mul(8);
        let dfork_size = if forkoff > 0 {
            forkoff
        } else {
            isize.saturating_sub(dsz)
        };
        let afork_off = dsz.saturating_add(forkoff);
        let afork_size = isize.saturating_sub(afork_off);
        if fields & XFS_ILOG_DEV != 0 {
            // ilf_u.ilfu_rdev goes to the start of the data fork.
            put_be32(dip, dsz, rdev);
        }
        let mut next = 2usize;
        let mut problems = Vec::new();
        if fields & XFS_ILOG_DFORK != 0 {
            if let Some(r) = it.data.get(next) {
                if let Err(e) = copy_fork(dip, dsz, dfork_size, r, fields & XFS_ILOG_DBROOT != 0) {
                    problems.push(format!("data fork: {e}"));
                }
            }
            next = next.saturating_add(1);
        }
        if fields & XFS_ILOG_AFORK != 0 && forkoff > 0 {
            if let Some(r) = it.data.get(next) {
                if let Err(e) =
                    copy_fork(dip, afork_off, afork_size, r, fields & XFS_ILOG_ABROOT != 0)
                {
                    problems.push(format!("attr fork: {e}"));
                }
            }
        }
        if v3 {
            set_crc(dip, XFS_DINODE_CRC_OFF);
        }
        for p in problems {
            self.note(ctx, "INO", format!("inode {ino}: {p}"));
        }
        self.stats.inodes_replayed = self.stats.inodes_replayed.saturating_add(1);
        self.src.put_sectors(off, &buf)
    }

    fn icreate(&mut self, it: &Item, ctx: Ctx) -> Result<()> {
        let ItemBody::Icreate {
            ag,
            agbno,
            count,
            isize,
            length,
            gen,
        } = it.body
        else {
            self.note(ctx, "ICR", "damaged inode create item: not replayed".into());
            return Ok(());
        };
        let g = self.geo;
        let bbs_per_block = u64::from(g.block_size / 512);
        if ag >= g.ag_count
            || agbno == 0
            || agbno >= g.ag_blocks
            || isize != g.inode_size
            || count == 0
            || count > 64
            || length == 0
            || u64::from(length) > u64::from(g.ag_blocks.saturating_sub(agbno))
        {
            self.note(
                ctx,
                "ICR",
                format!(
                    "inode create of {count} inodes at ag {ag} agbno {agbno} is invalid (the \
                     kernel would fail recovery): not replayed"
                ),
            );
            return Ok(());
        }
        // Past u64 (not for a valid geometry), the chunk is outside the filesystem.
        let daddr = g
            .agbno_to_daddr(AgNo(ag), AgBno(agbno))
            .map_or(u64::MAX, |d| d.0);
        let total_bbs = u64::from(length).saturating_mul(bbs_per_block);
        // The chunk is written in inode cluster buffers; all of them cancelled: skip.
        let cluster_bytes = g.inode_cluster_bytes();
        let cluster_bbs = (cluster_bytes / SECTOR).clamp(1, total_bbs.max(1));
        let nclusters = total_bbs.div_ceil(cluster_bbs);
        let cancelled = (0..nclusters)
            .filter(|c| {
                let d = daddr.saturating_add(c.saturating_mul(cluster_bbs));
                u16::try_from(cluster_bbs)
                    .ok()
                    .zip(i64::try_from(d).ok())
                    .is_some_and(|(l, d)| self.cancelled(d, l))
            })
            .count() as u64;
        if cancelled == nclusters {
            self.stats.icreates_cancelled = self.stats.icreates_cancelled.saturating_add(1);
            return Ok(());
        }
        let Some((off, len)) = i64::try_from(daddr)
            .ok()
            .and_then(|d| self.byte_range(d, total_bbs))
        else {
            self.note(ctx, "ICR", "inode chunk outside the filesystem".into());
            return Ok(());
        };
        let mut buf = vec![0u8; len];
        let isz = usize::try_from(isize).unwrap_or(512);
        let agino_base = u64::from(agbno) << g.inopb_log;
        for (i, dip) in buf.chunks_mut(isz).take(count as usize).enumerate() {
            // xfs_ialloc_inode_init: a zeroed inode with magic, version, generation and an
            // empty unlinked pointer; v3 inodes also get their number and the uuid.
            let mut core = RawDinode {
                di_magic: XFS_DINODE_MAGIC,
                di_version: if g.has_crc { 3 } else { 2 },
                di_gen: gen,
                di_next_unlinked: NULLAGINO,
                ..RawDinode::default()
            };
            if g.has_crc {
                // The chunk lies inside AG `ag`, so its AG inode numbers fit.
                let agino = u32::try_from(agino_base.saturating_add(i as u64)).unwrap_or(u32::MAX);
                core.di_ino = g.ino_make(AgNo(ag), AgIno(agino)).map_or(0, |n| n.0);
                core.di_uuid = self.meta_uuid;
            }
            core.write(dip, g.has_crc);
            if g.has_crc {
                set_crc(dip, XFS_DINODE_CRC_OFF);
            }
        }
        self.stats.icreates_replayed = self.stats.icreates_replayed.saturating_add(1);
        self.src.put_sectors(off, &buf)
    }

    /// Frees the extents of an EFI without EFD into the free-space btrees (all or nothing).
    fn finish_efi(
        &mut self,
        extents: &[Extent],
        nextents: u32,
        lsn: u64,
    ) -> std::result::Result<(), String> {
        if usize::try_from(nextents).ok() != Some(extents.len()) {
            return Err("damaged extent list".into());
        }
        let blocks = {
            let mut st = efi::Staged::new(&*self, self.geo);
            for e in extents {
                if st.free(e).is_none() {
                    return Err(format!(
                        "freeing block {} (+{}) would need a btree split, join or a \
                         neighbour in another leaf, or the free-space btrees do not look \
                         right",
                        e.start, e.len
                    ));
                }
            }
            st.blocks
        };
        for (off, mut buf) in blocks {
            if self.geo.has_crc {
                self.finish_v5_block(&mut buf, lsn);
            }
            self.src
                .put_sectors(off, &buf)
                .map_err(|e| format!("overlay: {e}"))?;
        }
        Ok(())
    }

    /// Finishes an RUI without RUD (all or nothing): only unmaps (`XFS_RMAP_EXTENT_UNMAP`)
    /// of a whole rmapbt record are done, as `efi.rs` describes.
    fn finish_rui(
        &mut self,
        extents: &[xfs_format::log::items::MapExtent],
        nextents: u32,
        lsn: u64,
    ) -> std::result::Result<(), String> {
        if !self.geo.has_rmapbt || !self.geo.has_crc {
            return Err("reverse-mapping updates on a filesystem without rmapbt".into());
        }
        if usize::try_from(nextents).ok() != Some(extents.len()) {
            return Err("damaged extent list".into());
        }
        let blocks = {
            let mut st = efi::Staged::new(&*self, self.geo);
            for e in extents {
                let unmap = e.rmap_offset().filter(|_| e.op() == XFS_RMAP_EXTENT_UNMAP);
                let Some(off) = unmap else {
                    return Err(format!(
                        "update type {:#x} is not replayed (only unmaps are)",
                        e.flags
                    ));
                };
                if st.rmap_unmap(e.startblock, e.len, e.owner, off).is_none() {
                    return Err(format!(
                        "unmapping block {} (+{}) owner {}: no exactly matching rmapbt record, \
                         a leaf join would be needed, or the rmapbt does not look right",
                        e.startblock, e.len, e.owner
                    ));
                }
            }
            st.blocks
        };
        for (off, mut buf) in blocks {
            self.finish_v5_block(&mut buf, lsn);
            self.src
                .put_sectors(off, &buf)
                .map_err(|e| format!("overlay: {e}"))?;
        }
        Ok(())
    }

    /// A mount after recovery with lazy superblock counters recomputes them from the AG
    /// headers, and unmount writes them back.
    fn sb_counters(&mut self) -> Result<()> {
        if !self.geo.has_lazysbcount || self.stats.transactions == 0 {
            return Ok(());
        }
        let (mut icount, mut ifree, mut fdblocks) = (0u64, 0u64, 0u64);
        for ag in 0..self.geo.ag_count {
            let at = |h: AgHeader| h.offset(self.geo, ag).unwrap_or(u64::MAX);
            let (Some(agf), Some(agi)) = (
                self.read(at(AgHeader::Agf), 512),
                self.read(at(AgHeader::Agi), 512),
            ) else {
                return Ok(());
            };
            let (Some(agf), Some(agi)) = (RawAgf::read_sector(&agf), RawAgi::read_sector(&agi))
            else {
                return Ok(());
            };
            if agf.agf_magicnum != XFS_AGF_MAGIC || agi.agi_magicnum != XFS_AGI_MAGIC {
                return Ok(());
            }
            icount = icount.saturating_add(u64::from(agi.agi_count));
            ifree = ifree.saturating_add(u64::from(agi.agi_freecount));
            fdblocks = fdblocks
                .saturating_add(u64::from(agf.agf_freeblks))
                .saturating_add(u64::from(agf.agf_flcount))
                .saturating_add(u64::from(agf.agf_btreeblks));
        }
        let ss = usize::try_from(self.geo.sect_size).unwrap_or(512).max(512);
        let Some(mut sb) = self.read(0, ss) else {
            return Ok(());
        };
        let Ok(raw) = Superblock::parse(&sb, 0).map(|s| s.raw) else {
            return Ok(());
        };
        if raw.sb_icount == icount && raw.sb_ifree == ifree && raw.sb_fdblocks == fdblocks {
            return Ok(());
        }
        put_be64(&mut sb, XFS_SB_ICOUNT_OFF, icount);
        put_be64(&mut sb, XFS_SB_IFREE_OFF, ifree);
        put_be64(&mut sb, XFS_SB_FDBLOCKS_OFF, fdblocks);
        if self.geo.has_crc {
            Layout::superblock(self.geo.has_meta_uuid).write_crc(&mut sb);
        }
        self.stats.sb_counters_recomputed = true;
        self.src.put_sectors(0, &sb)
    }

    /// Inodes left on AGI unlinked lists: a mount frees them after recovery.
    fn unlinked(&mut self) {
        for ag in 0..self.geo.ag_count {
            let at = AgHeader::Agi.offset(self.geo, ag).unwrap_or(u64::MAX);
            let Some(agi) = self.read(at, 512) else {
                continue;
            };
            let Some(agi) = RawAgi::read_sector(&agi) else {
                continue;
            };
            if agi.agi_magicnum != XFS_AGI_MAGIC {
                continue;
            }
            let heads: Vec<u32> = agi
                .agi_unlinked
                .iter()
                .copied()
                .filter(|&h| h != NULLAGINO)
                .collect();
            if !heads.is_empty() {
                self.note(
                    (0, (0, 0)),
                    "agi",
                    format!(
                        "AG {ag}: {} unlinked list buckets hold inodes that a mount would free \
                         after recovery; not replayed",
                        heads.len()
                    ),
                );
            }
        }
    }
}

/// `b` zero-filled to at least `n` bytes, for decoding the fixed fields of a short region
/// with the bytes that are absent read as 0.
fn zero_filled(b: &[u8], n: usize) -> Vec<u8> {
    let mut c = b.to_vec();
    if c.len() < n {
        c.resize(n, 0);
    }
    c
}

/// The logged core (`xfs_log_dinode`) of an inode item. A region shorter than a v1/v2 log
/// core is cut to whole 16-bit units and zero-filled, so that the magic and `di_flushiter`
/// read as 0 when the region ends inside them; such a core is then refused as short.
fn log_core(ld: &[u8]) -> RawDinode {
    RawDinode::from_log(ld).unwrap_or_else(|| {
        let whole = ld.get(..ld.len() & !1).unwrap_or_default();
        RawDinode::from_log(&zero_filled(whole, XFS_LOG_DINODE_V2_SIZE)).unwrap_or_default()
    })
}

/// Copies a logged fork region into the inode literal area at `at` (`size` bytes); a btree
/// root is converted from the in-memory block format to the on-disk root format.
fn copy_fork(
    dip: &mut [u8],
    at: usize,
    size: usize,
    r: &[u8],
    broot: bool,
) -> std::result::Result<(), String> {
    let end = at.saturating_add(size).min(dip.len());
    let Some(area) = dip.get_mut(at..end) else {
        return Err("fork area outside the inode".into());
    };
    if !broot {
        let n = r.len().min(area.len());
        if let (Some(d), Some(s)) = (area.get_mut(..n), r.get(..n)) {
            d.copy_from_slice(s);
        }
        return if r.len() > area.len() {
            Err(format!(
                "logged fork of {} bytes truncated to {}",
                r.len(),
                area.len()
            ))
        } else {
            Ok(())
        };
    }
    // In-memory root: a long-format btree block header (72 bytes on v5, 24 on v4), keys and
    // pointers sized for the region; on disk: level, numrecs, keys, pointers sized for the
    // fork.
    // Zero-filled to a whole v4 header: absent bytes of a short region read as 0.
    let Some(h) = BlockHeader::parse(
        &zero_filled(r, XFS_BTREE_LBLOCK_LEN),
        PtrFormat::Long,
        false,
    ) else {
        return Err("btree root header unreadable".into());
    };
    let hdr = if h.bb_magic == XFS_BMAP_CRC_MAGIC {
        XFS_BTREE_LBLOCK_CRC_LEN
    } else {
        XFS_BTREE_LBLOCK_LEN
    };
    let rmax = r.len().saturating_sub(hdr) / 16;
    let dmax = bmdr_maxrecs(area.len());
    let numrecs = usize::from(h.bb_numrecs);
    if numrecs > rmax || numrecs > dmax {
        return Err(format!("btree root with {numrecs} records does not fit"));
    }
    area.fill(0);
    // xfs_bmdr_block: bb_level, bb_numrecs.
    let bmdr = [h.bb_level.to_be_bytes(), h.bb_numrecs.to_be_bytes()].concat();
    if let Some(d) = area.get_mut(..BMDR_HDR_SIZE) {
        d.copy_from_slice(&bmdr);
    }
    let klen = numrecs.saturating_mul(8);
    let copies = [
        (BMDR_HDR_SIZE, hdr),
        (
            BMDR_HDR_SIZE.saturating_add(dmax.saturating_mul(8)),
            hdr.saturating_add(rmax.saturating_mul(8)),
        ),
    ];
    for (d, s) in copies {
        if let (Some(dst), Some(src)) = (
            area.get_mut(d..d.saturating_add(klen)),
            r.get(s..s.saturating_add(klen)),
        ) {
            dst.copy_from_slice(src);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use xfs_format::source::SliceSource;

    #[test]
    fn overlay_patches_reads_across_sectors() {
        let mut r = ReplayedSource::unchanged(SliceSource(vec![1u8; 4096]));
        r.put_sectors(512, &[9u8; 512]).unwrap();
        r.put_sectors(1024, &[7u8; 100]).unwrap();
        let b = r.read_at(500, 700).unwrap();
        assert_eq!(b[..12], [1u8; 12]);
        assert_eq!(b[12..524], [9u8; 512]);
        assert_eq!(b[524..624], [7u8; 100]);
        assert_eq!(b[624..], [1u8; 76]);
        assert!(matches!(r.read_at(0, 100).unwrap(), Cow::Borrowed(_)));
        assert_eq!(r.inner().0, vec![1u8; 4096]);
        r.cap = 1024;
        assert!(r.put_sectors(2048, &[0u8; 1024]).is_err());
    }
}
