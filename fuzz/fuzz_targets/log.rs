//! The log decoders: the input is a log (head/tail search, record walk, transactions and
//! items), and the same bytes are fed to each decoder directly.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_format::log::items::decode;
use xfs_format::log::record::{record_crc, unpack_data, RecHeader};
use xfs_format::log::trans::split_ops;
use xfs_format::log::{read_log, LogGeometry};
use xfs_format::SliceSource;

fuzz_target!(|data: &[u8]| {
    let Some((&flags, log)) = data.split_first() else {
        return;
    };
    let geo = LogGeometry::raw(0, (log.len() / 512) as u64, flags & 1 != 0, flags & 2 != 0);
    let _ = read_log(&SliceSource(log), &geo);
    if let Some(h) = RecHeader::parse(log) {
        let mut d = log.to_vec();
        unpack_data(&h, log, &mut d, flags & 1 != 0);
        let _ = record_crc(log, log, &d, h.len, flags & 1 != 0);
    }
    let _ = split_ops(log, u32::MAX, 0, 64, |_, _| {});
    let half = log.len() / 2;
    let _ = decode(&[log.get(..half).unwrap_or(&[]).to_vec(), log.to_vec()]);
});
