//! Btrees: the input is an image prefix; every tree of every AG is walked and dumped, and a
//! BMBT is walked from a root taken from the input's last bytes (any level, any pointers).
#![no_main]

use libfuzzer_sys::fuzz_target;
use xfs_format::btree::{render_btdump, walk, AgAddressing};
use xfs_format::bmap::BmdrRoot;
use xfs_format::btrees::{AgTree, AllocBtree, AllocBy, InoBtree, RefcountBtree, RmapBtree};
use xfs_format::{Filesystem, SliceSource};

fuzz_target!(|data: &[u8]| {
    let Ok(fs) = Filesystem::open(SliceSource(data)) else {
        return;
    };
    let src = fs.source();
    let tail = data.get(data.len().saturating_sub(72)..).unwrap_or_default();
    let _ = fs.bmbt_records(&BmdrRoot::parse(tail), fs.sb.raw.sb_rootino);
    for ag in 0..fs.geo.ag_count.min(4) {
        let (Ok(agf), Ok(agi)) = (fs.read_agf(ag), fs.read_agi(ag)) else {
            continue;
        };
        let Some(addr) = AgAddressing::new(&fs.geo, ag) else {
            continue;
        };
        for tree in AgTree::ALL {
            let root = u64::from(tree.root(&agf, &agi).0);
            let opts = tree.walk_options(&agf, &agi);
            match tree {
                AgTree::Bno | AgTree::Cnt => {
                    let k = AllocBtree(if tree == AgTree::Bno { AllocBy::Block } else { AllocBy::Count });
                    let _ = walk(src, &addr, &k, root, opts);
                    let _ = render_btdump(src, &addr, &k, root, true);
                }
                AgTree::Ino | AgTree::Fino => {
                    let k = if tree == AgTree::Ino { InoBtree::inobt(&fs.geo) } else { InoBtree::finobt(&fs.geo) };
                    let _ = walk(src, &addr, &k, root, opts);
                    let _ = render_btdump(src, &addr, &k, root, true);
                }
                AgTree::Rmap => {
                    let _ = walk(src, &addr, &RmapBtree, root, opts);
                    let _ = render_btdump(src, &addr, &RmapBtree, root, true);
                }
                AgTree::Refcount => {
                    let _ = walk(src, &addr, &RefcountBtree, root, opts);
                    let _ = render_btdump(src, &addr, &RefcountBtree, root, true);
                }
            }
        }
    }
});
