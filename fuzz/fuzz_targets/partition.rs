//! MBR/EBR/GPT partition tables over arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_inspect::partition::list_partitions;
use xfs_format::SliceSource;

fuzz_target!(|data: &[u8]| {
    let src = SliceSource(data);
    if let Ok(t) = list_partitions(&src) {
        for p in &t.partitions {
            assert!(p.start.saturating_add(p.len) <= data.len() as u64);
        }
    }
});
