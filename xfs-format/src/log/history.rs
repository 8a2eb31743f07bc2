//! The whole log ring as history, for forensics: every record still readable anywhere in
//! the log area, not only those between tail and head. Records older than the tail stay
//! readable until a newer record overwrites them; their cycle numbers (and LSNs) order them.
//!
//! Every basic block that starts with a record header is a candidate; a candidate is kept
//! when its LSN names its own block and cycle, every data block still carries its cycle
//! stamp (a partly overwritten record does not), and, on v5, its CRC is right. Kept records
//! are ordered by LSN and fed to the same [`Reassembler`] as log recovery's walk, restarted
//! wherever two kept records are not adjacent in the log (a transaction whose start was
//! overwritten is lost, and one whose middle was overwritten is not joined to the wrong
//! data). Nothing here trusts the head or the tail.

use serde::Serialize;

use super::bytes::be32;
use super::items::{
    BufLogFormat, ItemBody, XFS_BLF_CHUNK, XFS_ILOG_DBROOT, XFS_ILOG_DDATA, XFS_ILOG_DEXT,
    XFS_LI_BUF,
};
use super::record::{self, lsn_parts, RecHeader, BBSIZE, XLOG_HEADER_MAGIC};
use super::trans::{self, Finding, Reassembler, Transaction};
use super::{LogDev, LogGeometry, SCAN_CHUNK};
use crate::bmap::{BmbtRec, BMBT_REC_SIZE};
use crate::fields::CrcState;
use crate::inode::RawDinode;
use crate::source::ByteSource;

/// Most records kept from one log (a 2 GiB log of 512-byte records has 4M blocks).
const MAX_RECORDS: usize = 1 << 20;

/// A record found in the log area.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HistRecord {
    /// Log basic block of the record header.
    pub block: u64,
    /// `h_cycle`.
    pub cycle: u32,
    /// Basic blocks of record data.
    pub data_blocks: u64,
    /// Header blocks (1 + extended headers).
    pub header_blocks: u64,
    /// `h_num_logops`.
    pub num_logops: u32,
    /// The CRC state (`Unchecked` on v4 logs or when the stored CRC is zero).
    pub crc: CrcState,
}

/// The log ring as history.
#[derive(Debug, Clone, Default, Serialize)]
pub struct History {
    /// The records kept, oldest first.
    pub records: Vec<HistRecord>,
    /// Record headers found but not usable (overwritten in part, bad CRC, bad header).
    pub rejected: Vec<Finding>,
    /// Transactions whose commit record was read, oldest first.
    pub transactions: Vec<Transaction>,
    /// Transactions whose commit was not read (overwritten or never written).
    pub incomplete: Vec<Transaction>,
    /// Problems met while reassembling.
    pub findings: Vec<Finding>,
}

/// A candidate record, before ordering (its data is read again when it is decoded, so
/// that no more than one record's data is held at a time).
struct Candidate {
    rec: HistRecord,
    header: RecHeader,
}

/// Reads every record of the log area described by `geo`.
pub fn read_history<S: ByteSource + ?Sized>(src: &S, geo: &LogGeometry) -> History {
    let mut hist = History::default();
    if geo.bb_count < 2 {
        return hist;
    }
    let dev = LogDev { src, geo };
    let n = dev.n();
    let mut cands: Vec<Candidate> = Vec::new();
    let mut b = 0u64;
    while b < n && cands.len() < MAX_RECORDS {
        let c = SCAN_CHUNK.min(n.saturating_sub(b));
        let Ok(buf) = dev.read(b, c) else {
            hist.rejected.push(Finding {
                block: b,
                byte: 0,
                message: format!("log blocks {b}..{} cannot be read", b.saturating_add(c)),
            });
            b = b.saturating_add(c);
            continue;
        };
        for (j, bb) in buf.chunks(BBSIZE).enumerate() {
            if be32(bb, 0) != XLOG_HEADER_MAGIC {
                continue;
            }
            let blk = b.saturating_add(j as u64);
            // mkfs fills the log with empty cycle-0 headers: not records, not evidence.
            if be32(bb, 4) == 0 && be32(bb, 12) == 0 {
                continue;
            }
            match candidate(&dev, blk, bb) {
                Ok(cand) => cands.push(cand),
                Err(message) => hist.rejected.push(Finding {
                    block: blk,
                    byte: 0,
                    message,
                }),
            }
        }
        b = b.saturating_add(c);
    }
    cands.sort_by_key(|c| (c.rec.cycle, c.rec.block));
    let mut re = Reassembler::default();
    let mut prev: Option<(u32, u64)> = None;
    for c in cands {
        let adjacent = prev.is_some_and(|(cycle, next)| {
            next == c.rec.block && (cycle == c.rec.cycle || next == 0)
        });
        if !adjacent {
            drain(&mut re, &mut hist);
        }
        let step = c.rec.header_blocks.saturating_add(c.rec.data_blocks);
        prev = Some((
            c.rec.cycle,
            c.rec.block.saturating_add(step).checked_rem(n).unwrap_or(0),
        ));
        let hb = c.rec.header_blocks;
        let ext = if hb > 1 {
            dev.read_wrapped(c.rec.block.saturating_add(1), hb.saturating_sub(1))
        } else {
            Ok(Vec::new())
        };
        let (Ok(ext), Ok(mut unpacked)) = (
            ext,
            dev.read_wrapped(c.rec.block.saturating_add(hb), c.rec.data_blocks),
        ) else {
            hist.rejected.push(Finding {
                block: c.rec.block,
                byte: 0,
                message: "record data cannot be read again".into(),
            });
            continue;
        };
        record::unpack_data(&c.header, &ext, &mut unpacked, geo.logv2);
        let len = usize::try_from(c.header.len)
            .unwrap_or(usize::MAX)
            .min(unpacked.len());
        let body = unpacked.get(..len).unwrap_or(&[]);
        let lsn = lsn_parts(c.header.lsn);
        let data_block = c
            .rec
            .block
            .saturating_add(c.rec.header_blocks)
            .checked_rem(n)
            .unwrap_or(0);
        let overrun = trans::split_ops(body, c.header.num_logops, data_block, n, |op, d| {
            re.op(&op, d, lsn);
        });
        if let Some(message) = overrun {
            hist.findings.push(Finding {
                block: c.rec.block,
                byte: 0,
                message,
            });
        }
        hist.records.push(c.rec);
    }
    drain(&mut re, &mut hist);
    hist
}

/// Ends one run of adjacent records: its committed and open transactions move to `hist`.
fn drain(re: &mut Reassembler, hist: &mut History) {
    let mut incomplete = re.finish();
    hist.transactions.append(&mut re.done);
    hist.incomplete.append(&mut incomplete);
    hist.findings.append(&mut re.findings);
    *re = Reassembler::default();
}

/// Checks the record whose header is block `blk` (bytes `hb`) and reads its data.
fn candidate<S: ByteSource + ?Sized>(
    dev: &LogDev<'_, S>,
    blk: u64,
    hb: &[u8],
) -> Result<Candidate, String> {
    let h = RecHeader::parse(hb).ok_or("record header unreadable")?;
    if let Some(why) = h.invalid_reason() {
        return Err(why);
    }
    let (lcycle, lblock) = lsn_parts(h.lsn);
    if lcycle != h.cycle || u64::from(lblock) != blk {
        return Err(format!(
            "record header whose LSN ({lcycle}/{lblock}) is not its own cycle and block: stale copy"
        ));
    }
    let hblks = u64::from(h.header_blocks(dev.geo.logv2));
    let ext = if hblks > 1 {
        dev.read_wrapped(blk.saturating_add(1), hblks.saturating_sub(1))?
    } else {
        Vec::new()
    };
    for (i, x) in ext.chunks(BBSIZE).enumerate() {
        if be32(x, 0) != h.cycle {
            return Err(format!(
                "extended header {} no longer carries cycle {}: overwritten",
                i.saturating_add(1),
                h.cycle
            ));
        }
    }
    let bblks = h.data_blocks();
    let data = dev.read_wrapped(blk.saturating_add(hblks), bblks)?;
    if let Some(i) = data
        .chunks(BBSIZE)
        .position(|d| record::block_cycle(d) != h.cycle || be32(d, 0) == XLOG_HEADER_MAGIC)
    {
        return Err(format!(
            "data block {i} of the record no longer carries cycle {}: overwritten by a newer record",
            h.cycle
        ));
    }
    let crc = if !dev.geo.has_crc || h.crc == 0 {
        CrcState::Unchecked
    } else if record::record_crc(hb, &ext, &data, h.len, dev.geo.logv2) == h.crc {
        CrcState::Correct
    } else {
        return Err("record CRC mismatch".into());
    };
    Ok(Candidate {
        rec: HistRecord {
            block: blk,
            cycle: h.cycle,
            data_blocks: bblks,
            header_blocks: hblks,
            num_logops: h.num_logops,
            crc,
        },
        header: h,
    })
}

/// A logged inode core, with the data fork extent records logged with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedInode {
    /// LSN (cycle, block) of the record holding the transaction's start.
    pub lsn: (u32, u32),
    /// The inode number.
    pub ino: u64,
    /// `ilf_fields`.
    pub fields: u32,
    /// The logged core.
    pub core: RawDinode,
    /// The data fork extent records (`XFS_ILOG_DEXT`), in logged order.
    pub extents: Vec<BmbtRec>,
    /// The data fork bytes when they were logged in local format (`XFS_ILOG_DDATA`: a
    /// shortform directory, an inline symlink).
    #[serde(skip)]
    pub local_data: Vec<u8>,
    /// The data fork's BMBT root when it was logged (`XFS_ILOG_DBROOT`): the in-core root,
    /// a long-format btree block header then keys and pointers laid out for its length.
    #[serde(skip)]
    pub broot: Vec<u8>,
    /// The transaction was committed (its commit record was read).
    pub committed: bool,
}

/// Every logged inode core in `hist`, oldest first.
pub fn logged_inodes(hist: &History) -> Vec<LoggedInode> {
    let mut out = Vec::new();
    let all = hist
        .transactions
        .iter()
        .map(|t| (t, true))
        .chain(hist.incomplete.iter().map(|t| (t, false)));
    for (t, committed) in all {
        for it in &t.items {
            let ItemBody::Inode {
                fields,
                dsize,
                ino,
                core: Some(core),
                ..
            } = &it.body
            else {
                continue;
            };
            let mut extents = Vec::new();
            let mut local_data = Vec::new();
            let mut broot = Vec::new();
            if fields & XFS_ILOG_DDATA != 0 && *dsize > 0 {
                local_data = it.data.get(2).cloned().unwrap_or_default();
            }
            if fields & XFS_ILOG_DBROOT != 0 && *dsize > 0 {
                broot = it.data.get(2).cloned().unwrap_or_default();
            }
            if fields & XFS_ILOG_DEXT != 0 && *dsize > 0 {
                if let Some(fork) = it.data.get(2) {
                    let n = usize::try_from(core.data_extents()).unwrap_or(usize::MAX);
                    extents = fork
                        .chunks_exact(BMBT_REC_SIZE)
                        .take(n)
                        .filter_map(|c| <&[u8; 16]>::try_from(c).ok().map(BmbtRec::unpack))
                        .collect();
                }
            }
            out.push(LoggedInode {
                lsn: t.lsn,
                ino: *ino,
                fields: *fields,
                core: core.clone(),
                extents,
                local_data,
                broot,
                committed,
            });
        }
    }
    out.sort_by_key(|l| l.lsn);
    out
}

/// A logged buffer, rebuilt from its dirty chunks: `data` is `len` basic blocks, zero where
/// nothing was logged; `logged` marks, per 128-byte chunk, what was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct LoggedBuffer {
    /// LSN (cycle, block) of the record holding the transaction's start.
    pub lsn: (u32, u32),
    /// `blf_blkno`: disk address in 512-byte sectors.
    pub blkno: i64,
    /// The buffer's bytes as logged.
    #[serde(skip)]
    pub data: Vec<u8>,
    /// Per [`XFS_BLF_CHUNK`] chunk: whether it was logged.
    #[serde(skip)]
    pub logged: Vec<bool>,
}

/// Largest buffer rebuilt (a directory block is at most 64 KiB).
const MAX_BUF_BYTES: usize = 64 * 1024;

/// Every logged buffer in `hist` whose first bytes were logged and satisfy `want` (given
/// the first logged region), oldest first. Cancelled buffers and buffers over 64 KiB are
/// skipped.
pub fn logged_buffers(hist: &History, want: impl Fn(&[u8]) -> bool) -> Vec<LoggedBuffer> {
    let mut out = Vec::new();
    let all = hist.transactions.iter().chain(hist.incomplete.iter());
    for t in all {
        for it in &t.items {
            if it.item_type != XFS_LI_BUF {
                continue;
            }
            let Some(f) = it.data.first().and_then(|r| BufLogFormat::parse(r)) else {
                continue;
            };
            if f.blf_flags & super::items::XFS_BLF_CANCEL != 0 {
                continue;
            }
            let size = usize::from(f.blf_len).saturating_mul(BBSIZE);
            if size == 0 || size > MAX_BUF_BYTES {
                continue;
            }
            // What the buffer is shows in its first bytes: without them logged, skip it
            // before rebuilding anything.
            let runs = f.dirty_runs();
            let head_logged = runs.first().is_some_and(|&(start, _)| start == 0);
            if !head_logged || !it.data.get(1).is_some_and(|r| want(r)) {
                continue;
            }
            let mut data = vec![0u8; size];
            let mut logged = vec![false; size.div_ceil(XFS_BLF_CHUNK)];
            for (i, (start, count)) in runs.into_iter().enumerate() {
                let Some(region) = it.data.get(i.saturating_add(1)) else {
                    break;
                };
                let at = start.saturating_mul(XFS_BLF_CHUNK);
                let len = count.saturating_mul(XFS_BLF_CHUNK).min(region.len());
                let end = at.saturating_add(len).min(size);
                if let (Some(dst), Some(src)) =
                    (data.get_mut(at..end), region.get(..end.saturating_sub(at)))
                {
                    dst.copy_from_slice(src);
                }
                for l in logged.iter_mut().skip(start).take(count) {
                    *l = true;
                }
            }
            out.push(LoggedBuffer {
                lsn: t.lsn,
                blkno: f.blf_blkno,
                data,
                logged,
            });
        }
    }
    out.sort_by_key(|b| b.lsn);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::log::items::XFS_LI_ICREATE;
    use crate::log::trans::{
        XFS_TRANSACTION, XFS_TRANS_HEADER_MAGIC, XLOG_COMMIT_TRANS, XLOG_START_TRANS,
    };
    use crate::source::SliceSource;

    fn op(tid: u32, flags: u8, data: &[u8]) -> Vec<u8> {
        let mut o = Vec::new();
        o.extend_from_slice(&tid.to_be_bytes());
        o.extend_from_slice(&(data.len() as u32).to_be_bytes());
        o.extend_from_slice(&[XFS_TRANSACTION, flags, 0, 0]);
        o.extend_from_slice(data);
        o
    }

    /// A one-block record at `blk` of cycle `cycle`: one transaction logging an ICREATE of
    /// AG `ag`.
    fn record(log: &mut [u8], blk: usize, cycle: u32, ag: u32) {
        let mut th = XFS_TRANS_HEADER_MAGIC.to_le_bytes().to_vec();
        th.extend_from_slice(&[0; 4]);
        th.extend_from_slice(&7u32.to_le_bytes());
        th.extend_from_slice(&1u32.to_le_bytes());
        let mut icr = vec![0u8; 28];
        icr[0..2].copy_from_slice(&XFS_LI_ICREATE.to_le_bytes());
        icr[2..4].copy_from_slice(&1u16.to_le_bytes());
        icr[4..8].copy_from_slice(&ag.to_be_bytes());
        let mut body = op(7, XLOG_START_TRANS, &[]);
        body.extend(op(7, 0, &th));
        body.extend(op(7, 0, &icr));
        body.extend(op(7, XLOG_COMMIT_TRANS, &[]));
        assert!(body.len() <= 512);
        let h = &mut log[blk * 512..blk * 512 + 512];
        h.fill(0);
        h[0..4].copy_from_slice(&XLOG_HEADER_MAGIC.to_be_bytes());
        h[4..8].copy_from_slice(&cycle.to_be_bytes());
        h[8..12].copy_from_slice(&2u32.to_be_bytes());
        h[12..16].copy_from_slice(&(body.len() as u32).to_be_bytes());
        let lsn = (u64::from(cycle) << 32) | blk as u64;
        h[16..24].copy_from_slice(&lsn.to_be_bytes());
        h[40..44].copy_from_slice(&4u32.to_be_bytes());
        // The first word of the data block goes to h_cycle_data; the cycle replaces it.
        h[44..48].copy_from_slice(&body[0..4]);
        let d = &mut log[(blk + 1) * 512..(blk + 2) * 512];
        d.fill(0);
        d[..body.len()].copy_from_slice(&body);
        d[0..4].copy_from_slice(&cycle.to_be_bytes());
    }

    fn ags(h: &History) -> Vec<u32> {
        h.transactions
            .iter()
            .flat_map(|t| t.items.iter())
            .filter_map(|i| match i.body {
                ItemBody::Icreate { ag, .. } => Some(ag),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn whole_ring_in_cycle_order_without_overwritten_records() {
        let mut log = vec![0u8; 16 * 512];
        // Cycle 1 wrote records at 0, 2, 4, 6; cycle 2 then wrote at 0 and 2 and half of a
        // record at 4 (its header survives, its data block was overwritten by cycle 2).
        for (i, blk) in [0, 2, 4, 6].iter().enumerate() {
            record(&mut log, *blk, 1, 10 + i as u32);
        }
        record(&mut log, 0, 2, 20);
        record(&mut log, 2, 2, 21);
        log[5 * 512..5 * 512 + 4].copy_from_slice(&2u32.to_be_bytes());
        let geo = LogGeometry::raw(0, 16, true, false);
        let h = read_history(&SliceSource(log.clone()), &geo);
        // Oldest first: cycle 1's record at 6 (before the tail), then cycle 2's.
        assert_eq!(ags(&h), vec![13, 20, 21], "{:?}", h.rejected);
        assert_eq!(h.rejected.len(), 1);
        assert!(h.rejected[0].message.contains("overwritten"));
        // Garbage never panics.
        for cut in [0, 1, 3, 7, 15] {
            let g = LogGeometry::raw(0, cut, true, false);
            let _ = read_history(&SliceSource(log.clone()), &g);
        }
    }

    proptest::proptest! {
        #[test]
        fn arbitrary_logs_never_panic(
            blocks in proptest::collection::vec((proptest::prelude::any::<u8>(), 0u32..4, 0u32..2000), 2..24),
        ) {
            // Blocks that mostly look like record headers of small cycles.
            let mut log = vec![0u8; blocks.len() * 512];
            for (i, (fill, cycle, len)) in blocks.iter().enumerate() {
                let b = &mut log[i * 512..(i + 1) * 512];
                b.fill(*fill);
                if fill % 2 == 0 {
                    b[0..4].copy_from_slice(&XLOG_HEADER_MAGIC.to_be_bytes());
                    b[4..8].copy_from_slice(&cycle.to_be_bytes());
                    b[8..12].copy_from_slice(&2u32.to_be_bytes());
                    b[12..16].copy_from_slice(&len.to_be_bytes());
                    let lsn = (u64::from(*cycle) << 32) | i as u64;
                    b[16..24].copy_from_slice(&lsn.to_be_bytes());
                }
            }
            let geo = LogGeometry::raw(0, blocks.len() as u64, true, false);
            let h = read_history(&SliceSource(log), &geo);
            let _ = logged_inodes(&h);
            let _ = logged_buffers(&h, |_| true);
        }
    }
}
