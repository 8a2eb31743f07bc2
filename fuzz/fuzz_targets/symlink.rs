//! Symlinks, inline and remote, over arbitrary bytes and sizes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_format::symlink::{decode_inline, decode_remote, SymlinkExtent};

#[path = "geo.rs"]
mod geo;

fuzz_target!(|data: &[u8]| {
    let size = data.first().map_or(0, |b| u64::from(*b) * 8);
    for g in geo::geometries() {
        let _ = decode_inline(data, size);
        let half = data.len() / 2;
        let (a, b) = data.split_at(half);
        let exts = [SymlinkExtent { bytes: a, daddr: Some(8) }, SymlinkExtent { bytes: b, daddr: None }];
        let _ = decode_remote(&g, 128, size, &exts);
    }
});
