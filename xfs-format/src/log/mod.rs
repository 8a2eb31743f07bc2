//! The internal log, read-only: where it is, where its head and tail are (as `xlog_find_head`
//! and `xlog_find_tail` of xfsprogs' libxlog find them, which `xfs_logprint` uses), its
//! records from tail to head, the transactions they carry and every log item in them.
//!
//! Nothing is replayed here (`xfs_check::replay` does that, into an in-memory overlay). Bad input is data: every problem is a [`trans::Finding`] or a reason
//! on the [`LogState`], with the log block and byte it concerns.

mod bytes;
pub mod history;
pub mod items;
pub mod record;
pub mod trans;

use std::borrow::Cow;

use serde::Serialize;

use crate::error::{Error, Result};
use crate::fields::CrcState;
use crate::fs::Filesystem;
use crate::source::ByteSource;

use bytes::btobb;
use items::ItemBody;
use record::{block_cycle, lsn_parts, RecHeader, BBSIZE, XLOG_HEADER_MAGIC};
use trans::{Finding, OpHeader, Reassembler, Transaction, XLOG_UNMOUNT_TRANS};

/// Where the log is and how it is written.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LogGeometry {
    /// `sb_logstart`: first filesystem block of the log.
    pub start_fsb: u64,
    /// Byte offset of the log in the image.
    pub offset: u64,
    /// Size in 512-byte basic blocks (`sb_logblocks` in bytes / 512).
    pub bb_count: u64,
    /// `sb_logblocks`: log size in filesystem blocks.
    pub log_blocks: u32,
    /// Filesystem block size in bytes.
    pub block_size: u32,
    /// Log sector size in bytes.
    pub sect_size: u32,
    /// `sb_logsunit` in bytes (v2 logs).
    pub sunit: u32,
    /// v2 log (`XFS_SB_VERSION_LOGV2BIT`, always on v5).
    pub logv2: bool,
    /// v5 filesystem: records carry CRCs.
    pub has_crc: bool,
    /// AG size in blocks, for naming AG headers (0 if unknown).
    pub ag_blocks: u32,
    /// Filesystem block log (`sb_blocklog`).
    pub block_log: u8,
}

impl LogGeometry {
    /// The internal log of `fs`. An external log (`sb_logstart` 0) is [`Error::Incompatible`].
    pub fn of<S: ByteSource>(fs: &Filesystem<S>) -> Result<LogGeometry> {
        let g = &fs.geo;
        if g.log_start == 0 {
            return Err(Error::Incompatible(
                "external log (sb_logstart is 0): only internal logs can be read".into(),
            ));
        }
        let offset = fs.fsb_to_offset(g.log_start).ok_or(Error::Corrupt {
            offset: 0,
            kind: crate::error::CorruptKind::OutOfRange {
                what: "log start block",
                value: g.log_start,
            },
        })?;
        Ok(LogGeometry {
            start_fsb: g.log_start,
            offset,
            bb_count: u64::from(g.log_blocks).saturating_mul(u64::from(g.block_size)) / 512,
            log_blocks: g.log_blocks,
            block_size: g.block_size,
            sect_size: g.log_sect_size,
            sunit: fs.sb.raw.sb_logsunit,
            logv2: g.has_logv2 || g.version == 5,
            has_crc: g.has_crc,
            ag_blocks: g.ag_blocks,
            block_log: g.block_log,
        })
    }

    /// A log of `bb_count` basic blocks at byte `offset` of a source, without a filesystem
    /// (tests, fuzzing).
    pub fn raw(offset: u64, bb_count: u64, logv2: bool, has_crc: bool) -> LogGeometry {
        LogGeometry {
            start_fsb: 0,
            offset,
            bb_count,
            log_blocks: 0,
            block_size: 4096,
            sect_size: 512,
            sunit: 0,
            logv2,
            has_crc,
            ag_blocks: 0,
            block_log: 12,
        }
    }

    /// `XLOG_TOTAL_REC_SHIFT`: basic blocks of all log buffers that may be in flight.
    fn total_rec_bbs(&self) -> u64 {
        if self.logv2 {
            btobb(8 << 18)
        } else {
            btobb(8 << 15)
        }
    }

    /// `XLOG_REC_SHIFT`: basic blocks of the largest record.
    fn rec_bbs(&self) -> u64 {
        if self.logv2 {
            btobb(1 << 18)
        } else {
            btobb(1 << 15)
        }
    }
}

/// An LSN: cycle and basic block.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Lsn {
    /// Cycle number.
    pub cycle: u32,
    /// Log basic block (512 bytes) within the log.
    pub block: u64,
}

/// What state the log is in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum LogState {
    /// Head == tail: the last record is an unmount record; nothing to replay.
    Clean,
    /// Head != tail: transactions would be replayed by a mount.
    Dirty,
    /// Every block is zero (no unmount record either: not what mkfs leaves).
    Zeroed,
    /// Head or tail could not be found; `reasons` says why.
    Unreadable,
}

impl LogState {
    /// The state as `xfs-inspect log` prints it.
    pub fn as_str(self) -> &'static str {
        match self {
            LogState::Clean => "clean",
            LogState::Dirty => "dirty",
            LogState::Zeroed => "zeroed",
            LogState::Unreadable => "unreadable",
        }
    }
}

/// One log record between tail and head.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Record {
    /// Log basic block of the record header.
    pub block: u64,
    /// The decoded record header.
    pub header: RecHeader,
    /// Header blocks (1 + extended headers).
    pub header_blocks: u32,
    /// The record CRC (`Unchecked` when the stored CRC is zero).
    pub crc: CrcState,
    /// The CRC computed over the record.
    pub computed_crc: u32,
    /// The operation headers of the record, in order.
    pub ops: Vec<OpHeader>,
}

/// Everything decoded from a log.
#[derive(Debug, Clone, Serialize)]
pub struct LogReport {
    /// Where the log is.
    pub geometry: LogGeometry,
    /// What state it is in.
    pub state: LogState,
    /// Why the log is dirty or unreadable, in words.
    pub reasons: Vec<String>,
    /// The head (where the next record would go).
    pub head: Option<Lsn>,
    /// The tail (the oldest record still needed).
    pub tail: Option<Lsn>,
    /// Block of the last record header before the head.
    pub last_record: Option<u64>,
    /// The records between tail and head.
    pub records: Vec<Record>,
    /// Committed transactions, in commit order.
    pub transactions: Vec<Transaction>,
    /// Transactions started but not committed before the head.
    pub incomplete: Vec<Transaction>,
    /// Unmount operations met between tail and head.
    pub unmount_ops: u32,
    /// Problems met while walking the records.
    pub findings: Vec<Finding>,
}

impl LogReport {
    /// Item counts per `xfs_logprint` type name over committed transactions.
    pub fn item_counts(&self) -> Vec<(&'static str, u64)> {
        let mut out: Vec<(&'static str, u64)> = Vec::new();
        for it in self.transactions.iter().flat_map(|t| t.items.iter()) {
            match out.iter_mut().find(|(n, _)| *n == it.type_name) {
                Some((_, c)) => *c = c.saturating_add(1),
                None => out.push((it.type_name, 1)),
            }
        }
        out.sort();
        out
    }
}

type R<T> = std::result::Result<T, String>;

/// Block access to a log, addressed in basic blocks.
struct LogDev<'a, S: ?Sized> {
    src: &'a S,
    geo: &'a LogGeometry,
}

/// Most basic blocks read at once while scanning.
const SCAN_CHUNK: u64 = 1024;

impl<S: ByteSource + ?Sized> LogDev<'_, S> {
    fn n(&self) -> u64 {
        self.geo.bb_count
    }

    fn read(&self, blk: u64, count: u64) -> R<Cow<'_, [u8]>> {
        let end = blk.checked_add(count).ok_or("block overflow")?;
        if end > self.n() {
            return Err(format!(
                "log blocks {blk}..{end} are outside the log ({} blocks)",
                self.n()
            ));
        }
        let off = blk
            .checked_mul(512)
            .and_then(|o| o.checked_add(self.geo.offset))
            .ok_or("offset overflow")?;
        let len = usize::try_from(count.saturating_mul(512)).map_err(|_| "read too large")?;
        self.src
            .read_at(off, len)
            .map_err(|e| format!("log block {blk}: {e}"))
    }

    /// Reads `count` blocks from `blk`, wrapping at the end of the log.
    fn read_wrapped(&self, blk: u64, count: u64) -> R<Vec<u8>> {
        let n = self.n();
        let blk = blk.checked_rem(n).unwrap_or(0);
        let first = count.min(n.saturating_sub(blk));
        let mut out = self.read(blk, first)?.into_owned();
        if first < count {
            out.extend_from_slice(&self.read(0, count.saturating_sub(first))?);
        }
        Ok(out)
    }

    fn block(&self, blk: u64) -> R<Cow<'_, [u8]>> {
        self.read(blk, 1)
    }

    fn cycle(&self, blk: u64) -> R<u32> {
        Ok(block_cycle(&self.block(blk)?))
    }

    /// `xlog_find_cycle_start`: binary search for the first block of `cycle` after `first`.
    fn find_cycle_start(&self, mut first: u64, mut last: u64, cycle: u32) -> R<u64> {
        let mut mid = first.saturating_add(last) / 2;
        while mid != first && mid != last {
            if self.cycle(mid)? == cycle {
                last = mid;
            } else {
                first = mid;
            }
            mid = first.saturating_add(last) / 2;
        }
        Ok(last)
    }

    /// `xlog_find_verify_cycle`: the first block in `start..start+count` stamped `stop`.
    fn find_verify_cycle(&self, start: u64, count: u64, stop: u32) -> R<Option<u64>> {
        let end = start.saturating_add(count).min(self.n());
        let mut b = start;
        while b < end {
            let c = SCAN_CHUNK.min(end.saturating_sub(b));
            let buf = self.read(b, c)?;
            for (j, bb) in buf.chunks(BBSIZE).enumerate() {
                if block_cycle(bb) == stop {
                    return Ok(Some(b.saturating_add(j as u64)));
                }
            }
            b = b.saturating_add(c);
        }
        Ok(None)
    }

    /// `xlog_find_verify_log_record`: finds the last record header before `*last` (not
    /// before `start`) and moves `*last` back to it when the record does not end exactly at
    /// `*last + extra`. `Ok(false)` when the search ran off block 0.
    fn find_verify_log_record(&self, start: u64, last: &mut u64, extra: u64) -> R<bool> {
        let mut i = *last;
        let found = loop {
            if i == 0 {
                break None;
            }
            i = i.saturating_sub(1);
            if i < start {
                return Err(format!(
                    "log inconsistent: no record header between blocks {start} and {last}"
                ));
            }
            let b = self.block(i)?;
            if bytes::be32(&b, 0) == XLOG_HEADER_MAGIC {
                break RecHeader::parse(&b);
            }
        };
        let Some(h) = found else {
            return Ok(false);
        };
        let xhdrs = if self.geo.logv2 {
            u64::from(h.size.div_ceil(record::XLOG_HEADER_CYCLE_SIZE))
        } else {
            1
        };
        let span = last.saturating_sub(i).saturating_add(extra);
        if span != h.data_blocks().saturating_add(xhdrs) {
            *last = i;
        }
        Ok(true)
    }

    /// `xlog_find_zeroed`: `Some(head)` when the log is wholly or partly zeroed.
    fn find_zeroed(&self) -> R<Option<u64>> {
        if self.cycle(0)? == 0 {
            return Ok(Some(0));
        }
        let n = self.n();
        if self.cycle(n.saturating_sub(1))? != 0 {
            return Ok(None);
        }
        let mut last = self.find_cycle_start(0, n.saturating_sub(1), 0)?;
        let scan = self.geo.total_rec_bbs().min(last);
        let start = last.saturating_sub(scan);
        if let Some(b) = self.find_verify_cycle(start, scan, 0)? {
            last = b;
        }
        if !self.find_verify_log_record(start, &mut last, 0)? {
            return Err(
                "partially zeroed log: no record header before the first zeroed block".into(),
            );
        }
        Ok(Some(last))
    }

    /// `xlog_find_head`.
    fn find_head(&self) -> R<u64> {
        if let Some(b) = self.find_zeroed()? {
            return Ok(b);
        }
        let n = self.n();
        let first_half = self.cycle(0)?;
        let last_half = self.cycle(n.saturating_sub(1))?;
        let (mut head, stop) = if first_half == last_half {
            (n, last_half.wrapping_sub(1))
        } else {
            (
                self.find_cycle_start(0, n.saturating_sub(1), last_half)?,
                last_half,
            )
        };
        let scan = self.geo.total_rec_bbs();
        let mut validated = false;
        if head >= scan {
            if let Some(b) = self.find_verify_cycle(head.saturating_sub(scan), scan, stop)? {
                head = b;
            }
        } else {
            let start = n.saturating_sub(scan.saturating_sub(head));
            let count = n.saturating_sub(start);
            if let Some(b) = self.find_verify_cycle(start, count, stop.wrapping_sub(1))? {
                head = b;
                validated = true;
            }
            if !validated {
                if let Some(b) = self.find_verify_cycle(0, head, stop)? {
                    head = b;
                }
            }
        }
        let scan = self.geo.rec_bbs();
        if head >= scan {
            if !self.find_verify_log_record(head.saturating_sub(scan), &mut head, 0)? {
                return Err("no record header before the head".into());
            }
        } else if !self.find_verify_log_record(0, &mut head, 0)? {
            let start = n.saturating_sub(scan.saturating_sub(head));
            let mut new = n;
            if !self.find_verify_log_record(start, &mut new, head)? {
                return Err("no record header before the head (searched across the wrap)".into());
            }
            if new != n {
                head = new;
            }
        }
        Ok(if head == n { 0 } else { head })
    }

    /// Searches backwards from `from` (exclusive) for a record header, wrapping once.
    /// Returns the block and whether the search wrapped.
    fn rseek_header(&self, from: u64) -> R<Option<(u64, bool)>> {
        let n = self.n();
        let mut hi = from.min(n);
        while hi > 0 {
            let lo = hi.saturating_sub(SCAN_CHUNK);
            let buf = self.read(lo, hi.saturating_sub(lo))?;
            for (j, bb) in buf.chunks(BBSIZE).enumerate().rev() {
                if bytes::be32(bb, 0) == XLOG_HEADER_MAGIC {
                    return Ok(Some((lo.saturating_add(j as u64), false)));
                }
            }
            hi = lo;
        }
        let mut hi = n;
        while hi > from {
            let lo = hi.saturating_sub(SCAN_CHUNK).max(from);
            let buf = self.read(lo, hi.saturating_sub(lo))?;
            for (j, bb) in buf.chunks(BBSIZE).enumerate().rev() {
                if bytes::be32(bb, 0) == XLOG_HEADER_MAGIC {
                    return Ok(Some((lo.saturating_add(j as u64), true)));
                }
            }
            hi = lo;
        }
        Ok(None)
    }
}

/// Head and tail as `xlog_find_tail` finds them.
#[derive(Debug, Clone)]
struct HeadTail {
    head: Lsn,
    tail: Lsn,
    last_record: Option<u64>,
    clean: bool,
    zeroed: bool,
}

fn find_tail<S: ByteSource + ?Sized>(dev: &LogDev<'_, S>) -> R<HeadTail> {
    let n = dev.n();
    let head = dev.find_head()?;
    if head == 0 && dev.cycle(0)? == 0 {
        return Ok(HeadTail {
            head: Lsn { cycle: 0, block: 0 },
            tail: Lsn { cycle: 0, block: 0 },
            last_record: None,
            clean: false,
            zeroed: true,
        });
    }
    let (rblk, wrapped) = dev
        .rseek_header(head)?
        .ok_or("couldn't find sync record: no record header in the log")?;
    let hb = dev.block(rblk)?;
    let rh = RecHeader::parse(&hb).ok_or("record header unreadable")?;
    let mut curr_cycle = rh.cycle;
    if wrapped {
        curr_cycle = curr_cycle.wrapping_add(1);
    }
    let (tcycle, tblock) = lsn_parts(rh.tail_lsn);
    let mut tail = Lsn {
        cycle: tcycle,
        block: u64::from(tblock),
    };
    let hblks = u64::from(rh.header_blocks(dev.geo.logv2));
    let after = rblk
        .saturating_add(hblks)
        .saturating_add(rh.data_blocks())
        .checked_rem(n)
        .unwrap_or(0);
    let mut clean = false;
    if head == after && rh.num_logops == 1 {
        let ob = dev.block(rblk.saturating_add(hblks).checked_rem(n).unwrap_or(0))?;
        if ob.get(9).is_some_and(|f| f & XLOG_UNMOUNT_TRANS != 0) {
            tail = Lsn {
                cycle: curr_cycle,
                block: after,
            };
            clean = true;
        }
    }
    if tail.block >= n {
        return Err(format!(
            "tail block {} (from the record at block {rblk}) is outside the log",
            tail.block
        ));
    }
    Ok(HeadTail {
        head: Lsn {
            cycle: curr_cycle,
            block: head,
        },
        tail,
        last_record: Some(rblk),
        clean,
        zeroed: false,
    })
}

/// Walks the records from tail to head (`xlog_do_recovery_pass`), reassembling transactions.
fn walk<S: ByteSource + ?Sized>(dev: &LogDev<'_, S>, ht: &HeadTail, rep: &mut LogReport) {
    let n = dev.n();
    let (tail, head) = (ht.tail.block, ht.head.block);
    let total = if tail <= head {
        head.saturating_sub(tail)
    } else {
        n.saturating_sub(tail).saturating_add(head)
    };
    let mut re = Reassembler::default();
    let mut pos = tail;
    let mut walked = 0u64;
    // The header-block count of the tail record serves for all records, as in libxlog.
    let mut hblks = 1u64;
    if dev.geo.logv2 {
        if let Some(h) = dev.block(tail).ok().and_then(|b| RecHeader::parse(&b)) {
            hblks = u64::from(h.header_blocks(true));
        }
    }
    while walked < total {
        let bad = |rep: &mut LogReport, message: String| {
            rep.findings.push(Finding {
                block: pos,
                byte: 0,
                message,
            });
        };
        let hbuf = match dev.read_wrapped(pos, hblks) {
            Ok(b) => b,
            Err(e) => {
                bad(rep, e);
                break;
            }
        };
        let Some(h) = RecHeader::parse(&hbuf) else {
            bad(
                rep,
                format!(
                    "no record header (magic {:#010x}) where the walk from the tail expects one",
                    bytes::be32(&hbuf, 0)
                ),
            );
            break;
        };
        if let Some(why) = h.invalid_reason() {
            bad(rep, why);
            break;
        }
        let bblks = h.data_blocks();
        let data = match dev.read_wrapped(pos.saturating_add(hblks), bblks) {
            Ok(d) => d,
            Err(e) => {
                bad(rep, e);
                break;
            }
        };
        let ext = hbuf.get(BBSIZE..).unwrap_or(&[]);
        let computed = record::record_crc(&hbuf, ext, &data, h.len, dev.geo.logv2);
        // A zero CRC is accepted (mkfs writes its unmount record without one).
        let crc = if h.crc == 0 {
            CrcState::Unchecked
        } else if computed == h.crc {
            CrcState::Correct
        } else {
            CrcState::Bad
        };
        if crc == CrcState::Bad {
            bad(
                rep,
                format!(
                    "record CRC mismatch: stored {:#010x}, computed {computed:#010x}",
                    h.crc
                ),
            );
        }
        let mut unpacked = data;
        record::unpack_data(&h, ext, &mut unpacked, dev.geo.logv2);
        let len = usize::try_from(h.len)
            .unwrap_or(usize::MAX)
            .min(unpacked.len());
        let body = unpacked.get(..len).unwrap_or(&[]);
        let lsn = lsn_parts(h.lsn);
        let mut ops = Vec::new();
        let data_block = pos.saturating_add(hblks).checked_rem(n).unwrap_or(0);
        let overrun = trans::split_ops(body, h.num_logops, data_block, n, |op, d| {
            re.op(&op, d, lsn);
            ops.push(op);
        });
        if let Some(why) = overrun {
            bad(rep, why);
        }
        rep.records.push(Record {
            block: pos,
            header: h,
            header_blocks: u32::try_from(hblks).unwrap_or(u32::MAX),
            crc,
            computed_crc: computed,
            ops,
        });
        let step = hblks.saturating_add(bblks);
        walked = walked.saturating_add(step);
        pos = pos.saturating_add(step).checked_rem(n).unwrap_or(0);
    }
    if walked > total {
        rep.findings.push(Finding {
            block: pos,
            byte: 0,
            message: format!(
                "the last record runs {} blocks past the head",
                walked.saturating_sub(total)
            ),
        });
    }
    rep.incomplete = re.finish();
    rep.transactions = std::mem::take(&mut re.done);
    rep.unmount_ops = u32::try_from(re.unmounts.len()).unwrap_or(u32::MAX);
    rep.findings.append(&mut re.findings);
}

/// Decodes the log described by `geo` in `src`.
pub fn read_log<S: ByteSource + ?Sized>(src: &S, geo: &LogGeometry) -> LogReport {
    let mut rep = LogReport {
        geometry: geo.clone(),
        state: LogState::Unreadable,
        reasons: Vec::new(),
        head: None,
        tail: None,
        last_record: None,
        records: Vec::new(),
        transactions: Vec::new(),
        incomplete: Vec::new(),
        unmount_ops: 0,
        findings: Vec::new(),
    };
    if geo.bb_count < 2 {
        rep.reasons
            .push(format!("log of {} basic blocks is too small", geo.bb_count));
        return rep;
    }
    let dev = LogDev { src, geo };
    let ht = match find_tail(&dev) {
        Ok(ht) => ht,
        Err(e) => {
            rep.reasons.push(format!("cannot find log head/tail: {e}"));
            return rep;
        }
    };
    rep.head = Some(ht.head);
    rep.tail = Some(ht.tail);
    rep.last_record = ht.last_record;
    if ht.zeroed {
        rep.state = LogState::Zeroed;
        rep.reasons
            .push("every log block is zero: there is not even an unmount record".into());
        return rep;
    }
    if ht.head.block == ht.tail.block {
        rep.state = LogState::Clean;
        rep.reasons.push(if ht.clean {
            "the last record is an unmount record and the head follows it".into()
        } else {
            "head and tail are the same block".into()
        });
        return rep;
    }
    rep.state = LogState::Dirty;
    rep.reasons.push(format!(
        "head (block {}) != tail (block {}): the last record is not an unmount record",
        ht.head.block, ht.tail.block
    ));
    walk(&dev, &ht, &mut rep);
    // Torn writes: the kernel checks the CRCs of the last records before the head and
    // truncates the head at the first bad one.
    if geo.has_crc {
        let last = rep.records.len().saturating_sub(8);
        if let Some(r) = rep
            .records
            .iter()
            .skip(last)
            .find(|r| r.crc == CrcState::Bad)
        {
            rep.reasons.push(format!(
                "torn write: the record at block {} fails its CRC; the kernel would move the head back to it",
                r.block
            ));
        }
    }
    rep
}

/// Decodes the internal log of `fs`.
pub fn read_fs_log<S: ByteSource>(fs: &Filesystem<S>) -> Result<LogReport> {
    let geo = LogGeometry::of(fs)?;
    Ok(read_log(fs.source(), &geo))
}

/// In words, what a transaction touched: AG headers, inodes, directory blocks, intents...
pub fn touched(t: &Transaction, geo: &LogGeometry) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut inodes: Vec<u64> = Vec::new();
    let mut bufs: Vec<(&'static str, u64)> = Vec::new();
    let mut push = |s: String| {
        if !out.contains(&s) {
            out.push(s);
        }
    };
    for it in &t.items {
        match &it.body {
            ItemBody::Buf {
                blkno,
                blft,
                content,
                ..
            } => {
                let kind = content.unwrap_or(blft);
                match kind {
                    "superblock" | "agf" | "agi" | "agfl" => {
                        let ag = ag_of(geo, *blkno);
                        push(match (kind, ag) {
                            ("superblock", Some(0)) => "superblock".into(),
                            (k, Some(a)) => format!("{k} {a}"),
                            (k, None) => format!("{k} (daddr {blkno})"),
                        });
                    }
                    k => match bufs.iter_mut().find(|(n, _)| *n == k) {
                        Some((_, c)) => *c = c.saturating_add(1),
                        None => bufs.push((k, 1)),
                    },
                }
            }
            ItemBody::Inode { ino, .. } => {
                if !inodes.contains(ino) {
                    inodes.push(*ino);
                }
            }
            ItemBody::Icreate {
                ag, agbno, count, ..
            } => push(format!(
                "new inode chunk ({count} inodes at ag {ag} agbno {agbno})"
            )),
            ItemBody::Efi { extents, .. } => {
                push(format!("EFI ({} extents to free)", extents.len()))
            }
            ItemBody::Efd { .. } => push("EFD".into()),
            ItemBody::Rui { extents, .. } => push(format!("RUI ({} rmap updates)", extents.len())),
            ItemBody::Rud { .. } => push("RUD".into()),
            ItemBody::Cui { extents, .. } => {
                push(format!("CUI ({} refcount updates)", extents.len()))
            }
            ItemBody::Cud { .. } => push("CUD".into()),
            ItemBody::Bui { extents, .. } => push(format!("BUI ({} bmap updates)", extents.len())),
            ItemBody::Bud { .. } => push("BUD".into()),
            ItemBody::Attri { ino, .. } => push(format!("ATTRI (inode {ino})")),
            ItemBody::Attrd { .. } => push("ATTRD".into()),
            ItemBody::Dquot { id, .. } => push(format!("dquot {id}")),
            ItemBody::Quotaoff { .. } => push("quotaoff".into()),
            ItemBody::Damaged { reason } => push(format!(
                "damaged item at log block {} byte {}: {reason}",
                it.block, it.byte
            )),
        }
    }
    for (k, c) in bufs {
        out.push(format!("{c} {k} buffer{}", if c == 1 { "" } else { "s" }));
    }
    if !inodes.is_empty() {
        inodes.sort_unstable();
        let shown: Vec<String> = inodes.iter().take(16).map(u64::to_string).collect();
        let more = inodes.len().saturating_sub(16);
        out.push(format!(
            "{} inode{}: {}{}",
            inodes.len(),
            if inodes.len() == 1 { "" } else { "s" },
            shown.join(" "),
            if more > 0 {
                format!(" (+{more})")
            } else {
                String::new()
            }
        ));
    }
    out
}

/// AG of a daddr, when the geometry is known.
fn ag_of(geo: &LogGeometry, daddr: i64) -> Option<u64> {
    let d = u64::try_from(daddr).ok()?;
    let shift = u32::from(geo.block_log).checked_sub(9)?;
    let fsb = d.checked_shr(shift)?;
    fsb.checked_div(u64::from(geo.ag_blocks))
}
