//! Property tests of the log decoders: arbitrary and mutated log blocks never panic, every
//! walk terminates and what is decoded stays within what the input holds.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use xfs_format::log::items::decode;
use xfs_format::log::record::{unpack_data, RecHeader};
use xfs_format::log::trans::split_ops;
use xfs_format::log::{read_log, LogGeometry};
use xfs_format::SliceSource;

use common::dirty_log_v5_4k;

/// The first 600 basic blocks of the log of testdata/log-v5-4k (head at 466): a real dirty
/// log to mutate.
fn real_log() -> &'static [u8] {
    static LOG: OnceLock<Vec<u8>> = OnceLock::new();
    LOG.get_or_init(|| {
        let (img, rep) = dirty_log_v5_4k();
        assert_eq!(rep.records.len(), 70);
        let off = rep.geometry.offset as usize;
        img[off..off + 600 * 512].to_vec()
    })
}

fn check(bytes: &[u8], logv2: bool, crc: bool) {
    let geo = LogGeometry::raw(0, (bytes.len() / 512) as u64, logv2, crc);
    let rep = read_log(&SliceSource(bytes), &geo);
    // Bounded: at most one record per two blocks, items within the records.
    assert!(rep.records.len() <= bytes.len() / 1024 + 1);
    let items: usize = rep.transactions.iter().map(|t| t.items.len()).sum();
    assert!(items <= bytes.len() / 12 + 1);
}

#[test]
fn real_log_decodes_as_is() {
    let log = real_log();
    let geo = LogGeometry::raw(0, 600, true, true);
    let rep = read_log(&SliceSource(log), &geo);
    assert_eq!(rep.records.len(), 70);
    assert_eq!(rep.transactions.len(), 67);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, .. ProptestConfig::default() })]

    #[test]
    fn mutated_real_log(muts in prop::collection::vec((0usize..600 * 512, any::<u8>()), 1..64),
                        logv2: bool, crc: bool) {
        let mut log = real_log().to_vec();
        for (at, v) in muts {
            log[at] = v;
        }
        check(&log, logv2, crc);
    }

    #[test]
    fn mutated_headers_and_ops(block in 0usize..600, word in 0usize..128, v: u32) {
        // Target the words that matter most: record headers and op headers.
        let mut log = real_log().to_vec();
        let at = block * 512 + word * 4;
        log[at..at + 4].copy_from_slice(&v.to_be_bytes());
        check(&log, true, true);
    }

    #[test]
    fn arbitrary_blocks(data in prop::collection::vec(any::<u8>(), 0..8192), logv2: bool) {
        check(&data, logv2, true);
        let _ = RecHeader::parse(&data).map(|h| {
            let mut d = data.clone();
            unpack_data(&h, &data, &mut d, logv2);
            h.header_blocks(logv2)
        });
        let _ = split_ops(&data, u32::MAX, 0, 16, |_, _| {});
        let _ = decode(&[data.clone(), data.clone()]);
    }

    #[test]
    fn forged_headers(cycle: u32, len: u32, size: u32, version: u32, logops: u32, tail: u64,
                      fill: u8) {
        // A log whose every block is a record header with these values.
        let mut blk = vec![fill; 512];
        blk[0..4].copy_from_slice(&0xFEED_BABEu32.to_be_bytes());
        blk[4..8].copy_from_slice(&cycle.to_be_bytes());
        blk[8..12].copy_from_slice(&version.to_be_bytes());
        blk[12..16].copy_from_slice(&len.to_be_bytes());
        blk[24..32].copy_from_slice(&tail.to_be_bytes());
        blk[40..44].copy_from_slice(&logops.to_be_bytes());
        blk[320..324].copy_from_slice(&size.to_be_bytes());
        let log: Vec<u8> = blk.iter().copied().cycle().take(512 * 64).collect();
        check(&log, true, true);
        check(&log, false, false);
    }
}
