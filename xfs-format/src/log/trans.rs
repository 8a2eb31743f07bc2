//! Operation headers (`xlog_op_header`, big-endian) and the reassembly of transactions
//! from the operations of consecutive records, as log recovery does it.

use std::collections::BTreeMap;

use serde::Serialize;

use super::bytes::{be32, le16, le32};
use super::items::{self, Item};

/// `XLOG_START_TRANS`: first operation of a transaction.
pub const XLOG_START_TRANS: u8 = 0x01;
/// `XLOG_COMMIT_TRANS`: the commit record.
pub const XLOG_COMMIT_TRANS: u8 = 0x02;
/// `XLOG_CONTINUE_TRANS`: the region continues in the next operation.
pub const XLOG_CONTINUE_TRANS: u8 = 0x04;
/// `XLOG_WAS_CONT_TRANS`: continues the region of the previous operation.
pub const XLOG_WAS_CONT_TRANS: u8 = 0x08;
/// `XLOG_END_TRANS`: last operation of a continued region.
pub const XLOG_END_TRANS: u8 = 0x10;
/// `XLOG_UNMOUNT_TRANS`: the unmount record.
pub const XLOG_UNMOUNT_TRANS: u8 = 0x20;
/// `XFS_TRANSACTION`: client id of transaction operations.
pub const XFS_TRANSACTION: u8 = 0x69;
/// `XFS_LOG`: client id of log-internal operations (unmount records).
pub const XFS_LOG: u8 = 0xaa;
/// `XFS_TRANS_HEADER_MAGIC` (`TRAN`).
pub const XFS_TRANS_HEADER_MAGIC: u32 = 0x5452_414e;
/// `XLOG_UNMOUNT_TYPE`: the type word of an unmount record.
pub const XLOG_UNMOUNT_TYPE: u16 = 0x556e;
/// Bytes of `struct xlog_op_header`.
pub const OP_HEADER_SIZE: usize = 12;
/// `XLOG_MAX_REGIONS_IN_ITEM`: most regions one item may have.
pub const MAX_REGIONS_IN_ITEM: u32 = 65536 / 128 / 2 + 1;
/// Most transactions kept open at once, and most bytes they may hold, whatever the log says.
const MAX_OPEN_TRANS: usize = 4096;
const MAX_OPEN_BYTES: usize = 512 << 20;

/// Names of the op header flags set in `f`.
pub fn flag_names(f: u8) -> Vec<&'static str> {
    [
        (XLOG_START_TRANS, "START"),
        (XLOG_COMMIT_TRANS, "COMMIT"),
        (XLOG_CONTINUE_TRANS, "CONTINUE"),
        (XLOG_WAS_CONT_TRANS, "WAS_CONT"),
        (XLOG_END_TRANS, "END"),
        (XLOG_UNMOUNT_TRANS, "UNMOUNT"),
    ]
    .iter()
    .filter(|(m, _)| f & m != 0)
    .map(|(_, n)| *n)
    .collect()
}

/// A decoded operation header and where it is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OpHeader {
    /// `oh_tid`: transaction id.
    pub tid: u32,
    /// `oh_len`: bytes of data after the header.
    pub len: u32,
    /// `oh_clientid`: [`XFS_TRANSACTION`] or [`XFS_LOG`].
    pub clientid: u8,
    /// `oh_flags`: `XLOG_*_TRANS`.
    pub flags: u8,
    /// Log basic block of the op header.
    pub block: u64,
    /// Byte offset within that block.
    pub byte: u32,
}

impl OpHeader {
    /// Decodes the header at the start of `b`; `None` when `b` is shorter than 12 bytes.
    pub fn parse(b: &[u8]) -> Option<OpHeader> {
        if b.len() < OP_HEADER_SIZE {
            return None;
        }
        Some(OpHeader {
            tid: be32(b, 0),
            len: be32(b, 4),
            clientid: b.get(8).copied().unwrap_or(0),
            flags: b.get(9).copied().unwrap_or(0),
            block: 0,
            byte: 0,
        })
    }
}

/// `xfs_trans_header` (host byte order).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TransHeader {
    /// `th_magic`: [`XFS_TRANS_HEADER_MAGIC`].
    pub magic: u32,
    /// `th_type`: the transaction type (historical).
    pub trans_type: u32,
    /// `th_tid`: transaction id.
    pub tid: u32,
    /// `th_num_items`: log items in the transaction.
    pub num_items: u32,
}

/// A committed (or, at the end of the log, unfinished) transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Transaction {
    /// Transaction id.
    pub tid: u32,
    /// LSN of the record holding its start (cycle, block).
    pub lsn: (u32, u32),
    /// The transaction header, when its first region was long enough.
    pub header: Option<TransHeader>,
    /// Its log items, in log order.
    pub items: Vec<Item>,
    /// A commit record was seen.
    pub committed: bool,
    /// Log block of the first operation.
    pub start_block: u64,
    /// Log block of the commit record (of the start for uncommitted ones).
    pub end_block: u64,
}

/// A problem met while reassembling, with its position.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Finding {
    /// Log basic block.
    pub block: u64,
    /// Byte offset within it.
    pub byte: u32,
    /// What is wrong.
    pub message: String,
}

#[derive(Debug, Default)]
struct OpenItem {
    regions: Vec<Vec<u8>>,
    total: u32,
    block: u64,
    byte: u32,
}

#[derive(Debug)]
struct OpenTrans {
    lsn: (u32, u32),
    start_block: u64,
    header: Vec<u8>,
    items: Vec<OpenItem>,
    bytes: usize,
}

/// Reassembles transactions from operations fed in log order.
#[derive(Debug, Default)]
pub struct Reassembler {
    open: BTreeMap<u32, OpenTrans>,
    open_bytes: usize,
    /// The transactions committed so far.
    pub done: Vec<Transaction>,
    /// Problems met so far.
    pub findings: Vec<Finding>,
    /// Unmount operations seen (tid, block).
    pub unmounts: Vec<(u32, u64)>,
}

impl Reassembler {
    fn finding(&mut self, op: &OpHeader, message: String) {
        self.findings.push(Finding {
            block: op.block,
            byte: op.byte,
            message,
        });
    }

    /// Feeds one operation with its data; `lsn` is the record's.
    pub fn op(&mut self, op: &OpHeader, data: &[u8], lsn: (u32, u32)) {
        if op.clientid != XFS_TRANSACTION && op.clientid != XFS_LOG {
            self.finding(op, format!("bad clientid {:#x}", op.clientid));
            return;
        }
        if !self.open.contains_key(&op.tid) {
            if op.flags & XLOG_START_TRANS != 0 {
                if self.open.len() >= MAX_OPEN_TRANS {
                    self.finding(op, "too many open transactions; op ignored".into());
                    return;
                }
                self.open.insert(
                    op.tid,
                    OpenTrans {
                        lsn,
                        start_block: op.block,
                        header: Vec::new(),
                        items: Vec::new(),
                        bytes: 0,
                    },
                );
            } else if op.flags & XLOG_UNMOUNT_TRANS != 0 {
                self.unmounts.push((op.tid, op.block));
            }
            return;
        }
        let mut flags = op.flags & !XLOG_END_TRANS;
        if flags & XLOG_WAS_CONT_TRANS != 0 {
            flags &= !XLOG_CONTINUE_TRANS;
        }
        match flags {
            XLOG_COMMIT_TRANS => self.commit(op.tid, op.block, true),
            XLOG_UNMOUNT_TRANS => {
                self.unmounts.push((op.tid, op.block));
            }
            XLOG_WAS_CONT_TRANS => self.add_cont(op, data),
            XLOG_START_TRANS => self.finding(op, "START of a transaction already open".into()),
            0 | XLOG_CONTINUE_TRANS => self.add(op, data),
            f => self.finding(op, format!("bad op flags {f:#x}")),
        }
    }

    fn account(&mut self, tid: u32, len: usize) -> bool {
        if self.open_bytes.saturating_add(len) > MAX_OPEN_BYTES {
            return false;
        }
        self.open_bytes = self.open_bytes.saturating_add(len);
        if let Some(t) = self.open.get_mut(&tid) {
            t.bytes = t.bytes.saturating_add(len);
        }
        true
    }

    /// The open transaction `op` belongs to, once `data` is counted against the memory
    /// bound; `None` (with a finding when over the bound) drops the data.
    fn open_for(&mut self, op: &OpHeader, data: &[u8]) -> Option<&mut OpenTrans> {
        if !self.account(op.tid, data.len()) {
            self.finding(
                op,
                "open transactions exceed the memory bound; region dropped".into(),
            );
            return None;
        }
        self.open.get_mut(&op.tid)
    }

    fn add(&mut self, op: &OpHeader, data: &[u8]) {
        if data.is_empty() {
            return;
        }
        let Some(t) = self.open_for(op, data) else {
            return;
        };
        if t.items.is_empty() {
            if le32(data, 0) != XFS_TRANS_HEADER_MAGIC {
                let m = le32(data, 0);
                self.finding(op, format!("bad transaction header magic {m:#010x}"));
                return;
            }
            t.header = data.get(..16).unwrap_or(data).to_vec();
            if data.len() == 16 {
                t.items.push(OpenItem::default());
            }
            return;
        }
        let need_new = t
            .items
            .last()
            .is_none_or(|i| i.total != 0 && usize::try_from(i.total).ok() == Some(i.regions.len()));
        if need_new {
            t.items.push(OpenItem::default());
        }
        let Some(item) = t.items.last_mut() else {
            return;
        };
        if item.total == 0 {
            let total = u32::from(le16(data, 2));
            if total == 0 || total > MAX_REGIONS_IN_ITEM || data.len() < 4 {
                let ty = le16(data, 0);
                self.finding(
                    op,
                    format!("bad number of regions ({total}) in log item of type {ty:#x}"),
                );
                return;
            }
            item.total = total;
            item.block = op.block;
            item.byte = op.byte.saturating_add(OP_HEADER_SIZE as u32);
        }
        item.regions.push(data.to_vec());
    }

    fn add_cont(&mut self, op: &OpHeader, data: &[u8]) {
        let Some(t) = self.open_for(op, data) else {
            return;
        };
        if t.items.is_empty() {
            t.header.extend_from_slice(data);
            if t.header.len() >= 16 {
                t.header.truncate(16);
                t.items.push(OpenItem::default());
            }
            return;
        }
        match t.items.last_mut().and_then(|i| i.regions.last_mut()) {
            Some(r) => r.extend_from_slice(data),
            None => self.finding(op, "continuation of a region that never started".into()),
        }
    }

    fn commit(&mut self, tid: u32, block: u64, committed: bool) {
        let Some(t) = self.open.remove(&tid) else {
            return;
        };
        self.open_bytes = self.open_bytes.saturating_sub(t.bytes);
        let header = (t.header.len() >= 16).then(|| TransHeader {
            magic: le32(&t.header, 0),
            trans_type: le32(&t.header, 4),
            tid: le32(&t.header, 8),
            num_items: le32(&t.header, 12),
        });
        let items = t
            .items
            .into_iter()
            .filter(|i| !i.regions.is_empty())
            .map(|i| {
                let ty = i.regions.first().map_or(0, |r| le16(r, 0));
                Item {
                    item_type: ty,
                    type_name: items::type_name(ty),
                    regions: u32::try_from(i.regions.len()).unwrap_or(u32::MAX),
                    total: i.total,
                    region_lens: i
                        .regions
                        .iter()
                        .map(|r| u32::try_from(r.len()).unwrap_or(u32::MAX))
                        .collect(),
                    block: i.block,
                    byte: i.byte,
                    body: items::decode(&i.regions),
                    data: i.regions,
                }
            })
            .collect();
        self.done.push(Transaction {
            tid,
            lsn: t.lsn,
            header,
            items,
            committed,
            start_block: t.start_block,
            end_block: block,
        });
    }

    /// Ends the walk: transactions still open are returned as uncommitted.
    pub fn finish(&mut self) -> Vec<Transaction> {
        let tids: Vec<u32> = self.open.keys().copied().collect();
        let before = self.done.len();
        for tid in tids {
            let end = self.open.get(&tid).map_or(0, |t| t.start_block);
            self.commit(tid, end, false);
        }
        self.done.split_off(before)
    }
}

/// Splits unpacked record data into operations (at most `num_logops`), feeding each to
/// `f` with its data. Returns a finding when an op overruns the record.
pub fn split_ops(
    data: &[u8],
    num_logops: u32,
    data_block: u64,
    log_blocks: u64,
    mut f: impl FnMut(OpHeader, &[u8]),
) -> Option<String> {
    let mut off = 0usize;
    let mut left = num_logops;
    while off < data.len() && left > 0 {
        let Some(mut op) = data.get(off..).and_then(OpHeader::parse) else {
            return Some(format!("op header at byte {off} runs past the record"));
        };
        let bb = (off / 512) as u64;
        op.block = data_block
            .saturating_add(bb)
            .checked_rem(log_blocks)
            .unwrap_or(0);
        op.byte = (off % 512) as u32;
        let start = off.saturating_add(OP_HEADER_SIZE);
        let len = usize::try_from(op.len).unwrap_or(usize::MAX);
        let Some(d) = start.checked_add(len).and_then(|end| data.get(start..end)) else {
            return Some(format!(
                "op at byte {off} (tid {:#x}) claims {} bytes, record has {}",
                op.tid,
                op.len,
                data.len().saturating_sub(start)
            ));
        };
        f(op, d);
        off = start.saturating_add(len);
        left = left.saturating_sub(1);
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn op(tid: u32, flags: u8, len: usize) -> OpHeader {
        OpHeader {
            tid,
            len: len as u32,
            clientid: XFS_TRANSACTION,
            flags,
            block: 1,
            byte: 0,
        }
    }

    #[test]
    fn regions_split_across_records_are_joined() {
        let mut re = Reassembler::default();
        re.op(&op(7, XLOG_START_TRANS, 0), &[], (1, 0));
        let mut th = XFS_TRANS_HEADER_MAGIC.to_le_bytes().to_vec();
        th.extend_from_slice(&[40, 0, 0, 0, 7, 0, 0, 0, 1, 0, 0, 0]);
        re.op(&op(7, 0, 16), &th, (1, 0));
        // An ICREATE item (1 region, 28 bytes) split 10 + 18 over two records.
        let mut icr = [0u8; 28];
        icr[0..2].copy_from_slice(&items::XFS_LI_ICREATE.to_le_bytes());
        icr[2..4].copy_from_slice(&1u16.to_le_bytes());
        icr[4..8].copy_from_slice(&3u32.to_be_bytes());
        re.op(&op(7, XLOG_CONTINUE_TRANS, 10), &icr[..10], (1, 0));
        re.op(
            &op(7, XLOG_WAS_CONT_TRANS | XLOG_END_TRANS, 18),
            &icr[10..],
            (1, 4),
        );
        re.op(&op(7, XLOG_COMMIT_TRANS, 0), &[], (1, 4));
        assert!(re.findings.is_empty(), "{:?}", re.findings);
        assert_eq!(re.done.len(), 1);
        let t = &re.done[0];
        assert_eq!(t.header.as_ref().unwrap().num_items, 1);
        assert_eq!(t.items.len(), 1);
        assert_eq!(t.items[0].region_lens, vec![28]);
        assert!(matches!(
            t.items[0].body,
            items::ItemBody::Icreate { ag: 3, .. }
        ));
        // Unknown tids without START are ignored; bad client ids are findings.
        re.op(&op(9, 0, 4), &[1, 2, 3, 4], (1, 5));
        let mut bad = op(9, 0, 0);
        bad.clientid = 1;
        re.op(&bad, &[], (1, 5));
        assert_eq!(re.findings.len(), 1);
        assert!(re.finish().is_empty());
    }

    #[test]
    fn split_ops_reports_overruns() {
        let mut rec = vec![0u8; 24];
        rec[4..8].copy_from_slice(&100u32.to_be_bytes());
        let mut n = 0;
        let why = split_ops(&rec, 5, 0, 10, |_, _| n += 1);
        assert_eq!(n, 0);
        assert!(why.unwrap().contains("claims 100 bytes"));
    }
}
