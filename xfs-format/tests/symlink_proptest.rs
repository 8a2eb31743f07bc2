//! Hostile input to the symlink decoders: arbitrary forks, sizes and extent buffers never
//! panic, and the target never exceeds what the format allows.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;
use common::{test_geo, v5_symlink_block};

use proptest::prelude::*;
use xfs_format::sb::Geometry;
use xfs_format::symlink::{
    decode_inline, decode_remote, render_block_xfs_db, Finding, SymlinkExtent, XFS_SYMLINK_MAGIC,
};

/// A test geometry with a non-zero uuid.
fn geo(has_crc: bool, block_size: u32) -> Geometry {
    Geometry {
        meta_uuid: [7; 16],
        ..test_geo(has_crc, true, block_size, block_size)
    }
}

/// A v5 symlink extent buffer as the kernel writes it.
fn v5_block(g: &Geometry, owner: u64, daddr: u64, offset: u32, data: &[u8]) -> Vec<u8> {
    v5_symlink_block(
        g.block_size as usize,
        &g.meta_uuid,
        owner,
        daddr,
        offset,
        data,
    )
}

#[test]
fn two_extent_v5_target_on_1k_blocks() {
    // 1000 bytes need two 1 KiB blocks (968 data bytes each), in two extents.
    let g = geo(true, 1024);
    let target: Vec<u8> = (0..1000).map(|i| b'a' + (i % 26) as u8).collect();
    let b0 = v5_block(&g, 99, 80, 0, &target[..968]);
    let b1 = v5_block(&g, 99, 200, 968, &target[968..]);
    let ext = [
        SymlinkExtent {
            bytes: &b0,
            daddr: Some(80),
        },
        SymlinkExtent {
            bytes: &b1,
            daddr: Some(200),
        },
    ];
    let s = decode_remote(&g, 99, 1000, &ext);
    assert!(s.is_clean(), "{:?}", s.findings);
    assert_eq!(s.target, target);
    assert!(render_block_xfs_db(&g, &b1, 0).contains("offset = 968\n"));
    // Swapped extents: offsets and byte counts are wrong.
    let s = decode_remote(&g, 99, 1000, &[ext[1], ext[0]]);
    assert!(s.findings.contains(&Finding::BadOffset {
        ext: 0,
        found: 968,
        expected: 0
    }));
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_inline(fork in prop::collection::vec(any::<u8>(), 0..400), size in any::<u64>()) {
        let s = decode_inline(&fork, size);
        prop_assert!(s.target.len() <= fork.len());
        let _ = s.render_inline_xfs_db(true);
    }

    #[test]
    fn arbitrary_remote(
        bufs in prop::collection::vec(prop::collection::vec(any::<u8>(), 0..1100), 0..5),
        size in any::<u64>(),
        crc in any::<bool>(),
        stamp in any::<bool>(),
    ) {
        let g = geo(crc, 1024);
        let mut bufs = bufs;
        if stamp {
            for b in bufs.iter_mut().filter(|b| b.len() >= 4) {
                b[0..4].copy_from_slice(&XFS_SYMLINK_MAGIC.to_be_bytes());
            }
        }
        let ext: Vec<SymlinkExtent<'_>> = bufs
            .iter()
            .map(|b| SymlinkExtent { bytes: b, daddr: Some(16) })
            .collect();
        let s = decode_remote(&g, 5, size, &ext);
        prop_assert!(s.target.len() <= 1024);
        for b in &bufs {
            let _ = render_block_xfs_db(&g, b, size as usize);
        }
    }

    #[test]
    fn mutated_valid_block(off in 0usize..1024, val in any::<u8>(), len in 1usize..968) {
        let g = geo(true, 1024);
        let target = vec![b'x'; len];
        let mut b = v5_block(&g, 42, 8, 0, &target);
        let changed = b[off] != val;
        b[off] = val;
        let s = decode_remote(&g, 42, len as u64, &[SymlinkExtent { bytes: &b, daddr: Some(8) }]);
        // Any change is seen by the CRC at least.
        prop_assert_eq!(s.is_clean(), !changed);
    }
}
