//! Directory blocks and shortform directories over arbitrary bytes.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_format::dir2::{parse_dir_block, parse_shortform, shortform_fields, BlockCtx};

#[path = "geo.rs"]
mod geo;

fuzz_target!(|data: &[u8]| {
    for g in geo::geometries() {
        let ctx = BlockCtx { dblock: 0, daddr: Some(8), owner: Some(128) };
        let b = parse_dir_block(data, &g, &ctx);
        let _ = b.render_xfs_db();
        let sf = parse_shortform(data, g.has_ftype);
        let _ = shortform_fields(&sf, g.has_crc);
    }
});
