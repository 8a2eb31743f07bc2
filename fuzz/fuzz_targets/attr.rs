//! Attribute forks and blocks over arbitrary bytes: shortform, leaf, node, remote, and a
//! whole-fork walk where every logical block reads as the input.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_format::attr::{self, BlockContext, ListOptions};

#[path = "geo.rs"]
mod geo;

fuzz_target!(|data: &[u8]| {
    for g in geo::geometries() {
        if let Some(sf) = attr::decode_shortform(data) {
            let _ = sf.render_xfs_db();
        }
        let ctx = BlockContext { geo: &g, lblk: 0, owner: 128, daddr: Some(8) };
        let _ = attr::decode_leaf(data, &ctx).map(|l| l.render_xfs_db());
        let _ = attr::decode_node(data, &ctx).map(|n| n.render_xfs_db());
        let _ = attr::decode_remote_block(data, &ctx).map(|r| r.render_xfs_db());
        let reader = |_lblk: u32| -> Result<(Vec<u8>, Option<u64>), String> { Ok((data.to_vec(), None)) };
        let l = attr::list_attrs(&reader, &g, 128, ListOptions { max_blocks: 64 });
        let _ = attr::read_remote_value(&reader, &g, 128, 1, 70000);
        let _ = l.attrs.len();
    }
});
