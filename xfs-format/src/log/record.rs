//! Log record headers (`xlog_rec_header`, big-endian), extended headers for log buffers
//! larger than 32 KiB, cycle-data restoration and the v5 record CRC.

use serde::Serialize;

use super::bytes::{be32, be64, btobb, le32, uuid};

/// `XLOG_HEADER_MAGIC_NUM`: first word of every record header.
pub const XLOG_HEADER_MAGIC: u32 = 0xFEED_BABE;
/// Basic block size of the log.
pub const BBSIZE: usize = 512;
/// `XLOG_HEADER_CYCLE_SIZE`: bytes of record data whose cycle words one header holds.
pub const XLOG_HEADER_CYCLE_SIZE: u32 = 32 * 1024;
/// Cycle-data words in one header (64).
pub const CYCLE_WORDS: usize = 64;
/// Largest log buffer (`XLOG_MAX_RECORD_BSIZE`).
pub const XLOG_MAX_RECORD_BSIZE: u32 = 256 * 1024;
/// Bytes of the record header the CRC covers (`sizeof(struct xlog_rec_header)`, padded to 8).
pub const REC_HEADER_CRC_LEN: usize = 328;
/// Bytes of an extended header the CRC covers (`sizeof(struct xlog_rec_ext_header)`).
pub const EXT_HEADER_CRC_LEN: usize = 260;
const H_CRC_OFF: usize = 32;
const H_CYCLE_DATA_OFF: usize = 44;

/// `CYCLE_LSN`/`BLOCK_LSN` of an LSN.
pub fn lsn_parts(lsn: u64) -> (u32, u32) {
    ((lsn >> 32) as u32, lsn as u32)
}

/// A decoded `xlog_rec_header`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RecHeader {
    /// `h_magicno`: [`XLOG_HEADER_MAGIC`].
    pub magic: u32,
    /// `h_cycle`: the cycle the record was written in.
    pub cycle: u32,
    /// `h_version`: 1 or 2 (v2 logs).
    pub version: u32,
    /// `h_len`: bytes of record data.
    pub len: u32,
    /// `h_lsn`: the record's LSN (cycle << 32 | block).
    pub lsn: u64,
    /// `h_tail_lsn`: the tail when the record was written.
    pub tail_lsn: u64,
    /// `h_crc`: CRC32c of the record, as stored (little-endian).
    pub crc: u32,
    /// `h_prev_block`: block of the previous record header.
    pub prev_block: u32,
    /// `h_num_logops`: operations in the record.
    pub num_logops: u32,
    #[serde(skip)]
    /// `h_cycle_data`: the first word of each data block, overwritten by the cycle number.
    pub cycle_data: Vec<u32>,
    /// `h_fmt`: the format of the writer (`XLOG_FMT_LINUX_LE` = 1...).
    pub fmt: u32,
    #[serde(serialize_with = "ser_uuid")]
    /// `h_fs_uuid`: the filesystem's uuid.
    pub fs_uuid: [u8; 16],
    /// `h_size`: the log buffer size in bytes (v2 logs).
    pub size: u32,
}

pub(crate) fn ser_uuid<S: serde::Serializer>(u: &[u8; 16], s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(&format_uuid(u))
}

/// `xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx`.
pub fn format_uuid(u: &[u8; 16]) -> String {
    let mut out = String::with_capacity(36);
    for (i, b) in u.iter().enumerate() {
        if matches!(i, 4 | 6 | 8 | 10) {
            out.push('-');
        }
        out.push_str(&format!("{b:02x}"));
    }
    out
}

impl RecHeader {
    /// Decodes the header in the first 512 bytes of `b`; `None` when `b` is short or the
    /// magic is wrong.
    pub fn parse(b: &[u8]) -> Option<RecHeader> {
        if b.len() < BBSIZE || be32(b, 0) != XLOG_HEADER_MAGIC {
            return None;
        }
        let cycle_data = (0..CYCLE_WORDS)
            .map(|i| be32(b, H_CYCLE_DATA_OFF.saturating_add(i.saturating_mul(4))))
            .collect();
        Some(RecHeader {
            magic: be32(b, 0),
            cycle: be32(b, 4),
            version: be32(b, 8),
            len: be32(b, 12),
            lsn: be64(b, 16),
            tail_lsn: be64(b, 24),
            crc: le32(b, H_CRC_OFF),
            prev_block: be32(b, 36),
            num_logops: be32(b, 40),
            cycle_data,
            fmt: be32(b, 300),
            fs_uuid: uuid(b, 304),
            size: be32(b, 320),
        })
    }

    /// Header blocks of this record (1 plus the extended headers), as the reader of a v2 log
    /// computes them from `h_size`; always 1 on a v1 log. Capped at 8 (256 KiB buffers).
    pub fn header_blocks(&self, logv2: bool) -> u32 {
        if logv2 && self.version & 2 != 0 && self.size > XLOG_HEADER_CYCLE_SIZE {
            self.size.div_ceil(XLOG_HEADER_CYCLE_SIZE).min(8)
        } else {
            1
        }
    }

    /// Basic blocks of record data (`BTOBB(h_len)`).
    pub fn data_blocks(&self) -> u64 {
        btobb(u64::from(self.len))
    }

    /// Why this header cannot be used (`xlog_valid_rec_header`), or `None`.
    pub fn invalid_reason(&self) -> Option<String> {
        if self.version == 0 || self.version & !3 != 0 {
            return Some(format!("unrecognised log version {}", self.version));
        }
        if self.len == 0 || self.len > i32::MAX as u32 {
            return Some(format!("bad record length {}", self.len));
        }
        if self.len > XLOG_MAX_RECORD_BSIZE {
            return Some(format!(
                "record length {} exceeds the largest log buffer ({XLOG_MAX_RECORD_BSIZE})",
                self.len
            ));
        }
        None
    }
}

/// Restores the first word of every basic block of record `data` (the cycle stamp written
/// over it) from the header's and the extended headers' cycle data. `ext` holds the
/// extended header blocks (each 512 bytes) following the header.
pub fn unpack_data(hdr: &RecHeader, ext: &[u8], data: &mut [u8], logv2: bool) {
    let blocks = usize::try_from(hdr.data_blocks()).unwrap_or(usize::MAX);
    for i in 0..blocks {
        let j = i / CYCLE_WORDS;
        let k = i % CYCLE_WORDS;
        let word = if j == 0 {
            hdr.cycle_data.get(k).copied()
        } else if logv2 {
            // Extended header j is the j-th block after the header: xh_cycle then 64 words.
            let base = j.saturating_sub(1).saturating_mul(BBSIZE);
            let off = base.saturating_add(4).saturating_add(k.saturating_mul(4));
            ext.get(off..off.saturating_add(4)).map(|_| be32(ext, off))
        } else {
            None
        };
        let Some(word) = word else { break };
        let off = i.saturating_mul(BBSIZE);
        if let Some(dst) = data.get_mut(off..off.saturating_add(4)) {
            dst.copy_from_slice(&word.to_be_bytes());
        } else {
            break;
        }
    }
}

/// The CRC the kernel would store for a record: crc32c over the header (with `h_crc` zero),
/// the extended headers of a v2 log, then the record data as it is on disk.
pub fn record_crc(header_block: &[u8], ext: &[u8], data: &[u8], len: u32, logv2: bool) -> u32 {
    let head = header_block
        .get(..REC_HEADER_CRC_LEN)
        .unwrap_or(header_block);
    let before = head.get(..H_CRC_OFF).unwrap_or(head);
    let after = head.get(H_CRC_OFF.saturating_add(4)..).unwrap_or(&[]);
    let mut c = crc32c::crc32c(before);
    c = crc32c::crc32c_append(c, &[0u8; 4]);
    c = crc32c::crc32c_append(c, after);
    if logv2 {
        let xheads = len.div_ceil(XLOG_HEADER_CYCLE_SIZE);
        for i in 1..xheads {
            let off = usize::try_from(i.saturating_sub(1))
                .unwrap_or(usize::MAX)
                .saturating_mul(BBSIZE);
            if let Some(x) = ext.get(off..off.saturating_add(EXT_HEADER_CRC_LEN)) {
                c = crc32c::crc32c_append(c, x);
            }
        }
    }
    let n = usize::try_from(len).unwrap_or(usize::MAX).min(data.len());
    crc32c::crc32c_append(c, data.get(..n).unwrap_or(&[]))
}

/// Cycle number of a basic block (`xlog_get_cycle`): `h_cycle` of a record header, the
/// first word otherwise.
pub fn block_cycle(b: &[u8]) -> u32 {
    if be32(b, 0) == XLOG_HEADER_MAGIC {
        be32(b, 4)
    } else {
        be32(b, 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_roundtrip_and_unpack() {
        let mut b = vec![0u8; 512];
        b[0..4].copy_from_slice(&XLOG_HEADER_MAGIC.to_be_bytes());
        b[4..8].copy_from_slice(&7u32.to_be_bytes());
        b[8..12].copy_from_slice(&2u32.to_be_bytes());
        b[12..16].copy_from_slice(&1024u32.to_be_bytes());
        b[44..48].copy_from_slice(&0xdead_beefu32.to_be_bytes());
        b[48..52].copy_from_slice(&0x0102_0304u32.to_be_bytes());
        let h = RecHeader::parse(&b).unwrap();
        assert_eq!((h.cycle, h.version, h.len), (7, 2, 1024));
        assert_eq!(h.data_blocks(), 2);
        assert!(h.invalid_reason().is_none());
        let mut data = vec![0u8; 1024];
        data[0..4].copy_from_slice(&7u32.to_be_bytes());
        unpack_data(&h, &[], &mut data, true);
        assert_eq!(&data[0..4], &0xdead_beefu32.to_be_bytes());
        assert_eq!(&data[512..516], &0x0102_0304u32.to_be_bytes());
        assert_eq!(block_cycle(&b), 7);
        assert_eq!(lsn_parts(0x0000_0002_0000_0010), (2, 16));
    }
}
