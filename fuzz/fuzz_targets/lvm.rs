//! LVM2 labels, metadata areas and text metadata over arbitrary bytes: as a whole-device PV,
//! and as metadata text alone.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_format::SliceSource;
use xfs_inspect::lvm::{parse_metadata, scan};
use xfs_inspect::partition::PartitionTable;

fuzz_target!(|data: &[u8]| {
    let _ = parse_metadata(&String::from_utf8_lossy(data));
    let src = SliceSource(data);
    let found = scan(&src, &PartitionTable::default());
    for vg in &found.vgs {
        for lv in &vg.lvs {
            if let Ok(pieces) = found.resolve(&format!("{}/{}", vg.name, lv.name)) {
                for (start, len) in pieces {
                    assert!(start.saturating_add(len) <= data.len() as u64);
                }
            }
        }
    }
});
