//! Property tests of log replay: replaying altered logs (mutated item regions, mutated log
//! blocks) never panics, stays within its memory cap and never changes the source.

#[path = "../../xfs-format/tests/common/mod.rs"]
mod common;

use std::sync::OnceLock;

use proptest::prelude::*;
use xfs_check::replay::ReplayedSource;
use xfs_format::log::LogReport;
use xfs_format::{ByteSource, SliceSource};

use common::dirty_log_v5_4k;

struct Fixture {
    img: Vec<u8>,
    rep: LogReport,
    crc: u32,
}

fn fixture() -> &'static Fixture {
    static F: OnceLock<Fixture> = OnceLock::new();
    F.get_or_init(|| {
        let (img, rep) = dirty_log_v5_4k().clone();
        assert_eq!(rep.transactions.len(), 67);
        let crc = crc32c::crc32c(&img);
        Fixture { img, rep, crc }
    })
}

#[test]
fn real_log_replays_and_leaves_the_source_alone() {
    let f = fixture();
    let (rs, rep) = ReplayedSource::replay(SliceSource(&f.img[..]), 1 << 30).unwrap();
    assert!(rep.not_replayed.is_empty(), "{:?}", rep.not_replayed);
    assert_eq!(rep.stats.transactions, 67);
    assert!(rs.modified_sectors() > 0);
    // The superblock as the kernel leaves it: 320 inodes after replay.
    let sb = rs.read_at(128, 8).unwrap();
    assert_eq!(u64::from_be_bytes(sb[..8].try_into().unwrap()), 320);
    assert_eq!(crc32c::crc32c(&f.img), f.crc);
    // A cap below what the replay needs is an error, not an allocation.
    assert!(ReplayedSource::replay(SliceSource(&f.img[..]), 4096).is_err());
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 32, .. ProptestConfig::default() })]

    #[test]
    fn mutated_items_replay_without_panic(
        muts in prop::collection::vec((any::<prop::sample::Index>(), any::<prop::sample::Index>(),
                                       any::<prop::sample::Index>(), any::<u8>(), 0u8..4), 1..48)) {
        let f = fixture();
        let mut rep = f.rep.clone();
        for (ti, ii, bi, v, how) in muts {
            let t = ti.get_mut(&mut rep.transactions);
            if t.items.is_empty() { continue; }
            let it = ii.get_mut(&mut t.items);
            if it.data.is_empty() { continue; }
            let r = bi.index(it.data.len());
            let region = &mut it.data[r];
            match how {
                0 if !region.is_empty() => { let k = bi.index(region.len()); region[k] = v; }
                1 => region.truncate(usize::from(v)),
                2 => { it.data.remove(r); }
                _ => region.extend(std::iter::repeat_n(v, usize::from(v))),
            }
        }
        let res = ReplayedSource::replay_report(SliceSource(&f.img[..]), &rep, 64 << 20);
        if let Ok((rs, _)) = res {
            // Every read still works and stays in bounds.
            prop_assert!(rs.read_at(0, 4096).is_ok());
            prop_assert!(rs.read_at(rs.size().saturating_sub(512), 512).is_ok());
        }
        prop_assert_eq!(crc32c::crc32c(&f.img), f.crc);
    }

    #[test]
    fn mutated_log_blocks_replay_without_panic(
        muts in prop::collection::vec((0usize..470 * 512, any::<u8>()), 1..32)) {
        let f = fixture();
        let mut img = f.img.clone();
        let off = f.rep.geometry.offset as usize;
        for (at, v) in muts { img[off.saturating_add(at)] = v; }
        let copy = img.clone();
        let _ = ReplayedSource::replay(SliceSource(&img[..]), 64 << 20);
        prop_assert!(img == copy);
    }
}
