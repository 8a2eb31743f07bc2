//! Superblock and AG headers: the input is an image prefix; everything reachable from the
//! primary superblock is decoded and rendered.
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_format::fields::render_xfs_db;
use xfs_format::{Filesystem, SliceSource};

fuzz_target!(|data: &[u8]| {
    let _ = xfs_format::sb::Superblock::parse(data, 0).map(|sb| render_xfs_db(&sb.fields()));
    let Ok(fs) = Filesystem::open(SliceSource(data)) else {
        return;
    };
    for ag in 0..fs.geo.ag_count.min(8) {
        let _ = fs.read_sb(ag).map(|s| render_xfs_db(&s.fields()));
        let agf = fs.read_agf(ag);
        let _ = agf.as_ref().map(|a| render_xfs_db(&a.fields()));
        let _ = fs.read_agi(ag).map(|a| render_xfs_db(&a.fields()));
        if let (Ok(agfl), Ok(agf)) = (fs.read_agfl(ag), agf) {
            let _ = agfl.free_list(&agf.raw);
        }
    }
});
