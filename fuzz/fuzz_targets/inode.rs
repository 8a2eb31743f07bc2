//! Inode decoding and rendering over arbitrary inode buffers (v5 and v4 geometry).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_format::inode::Inode;

#[path = "geo.rs"]
mod geo;

fuzz_target!(|data: &[u8]| {
    for g in geo::geometries() {
        if let Ok(i) = Inode::parse(data, 128, &g, 0) {
            let _ = i.print_lines(g.has_ftype);
            let _ = i.nlink();
        }
    }
});
