//! Property tests: arbitrary and mutated bytes fed to every decoder of the superblock and AG
//! headers, and to `Filesystem::open` over mutated real images. Nothing may panic; every
//! result is either a decoded value or a typed error.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;

use std::borrow::Cow;
use std::collections::BTreeMap;
use std::sync::OnceLock;

use proptest::prelude::*;
use xfs_format::ag::{Agf, Agfl, Agi};
use xfs_format::fields::{render_xfs_db, to_json};
use xfs_format::sb::{Features, Geometry, Superblock};
use xfs_format::{ByteSource, Filesystem, Result, SliceSource};

use common::testdata_image;

fn samples() -> &'static [Vec<u8>; 2] {
    static S: OnceLock<[Vec<u8>; 2]> = OnceLock::new();
    S.get_or_init(|| [testdata_image("sample-v5"), testdata_image("sample-v4")])
}

/// A base image with byte patches laid over it, and an optional truncation.
struct Overlay<'a> {
    base: &'a [u8],
    patches: BTreeMap<u64, u8>,
    len: u64,
}

impl ByteSource for Overlay<'_> {
    fn size(&self) -> u64 {
        self.len
    }
    fn read_at(&self, offset: u64, len: usize) -> Result<Cow<'_, [u8]>> {
        let clipped = SliceSource(&self.base[..self.len as usize]);
        let bytes = clipped.read_at(offset, len)?;
        let end = offset + len as u64;
        let mut touched = self.patches.range(offset..end).peekable();
        if touched.peek().is_none() {
            return Ok(Cow::Owned(bytes.into_owned()));
        }
        let mut v = bytes.into_owned();
        for (&o, &b) in touched {
            v[(o - offset) as usize] = b;
        }
        Ok(Cow::Owned(v))
    }
}

/// Decodes everything reachable from the primary superblock; must never panic.
fn exercise<S: ByteSource>(src: S) {
    let Ok(fs) = Filesystem::open(src) else {
        return;
    };
    let _ = render_xfs_db(&fs.sb.fields());
    let _ = to_json(&fs.sb.fields());
    let _ = Features::of(&fs.sb.raw);
    let _ = fs.is_truncated();
    for ag in 0..fs.geo.ag_count.min(70) {
        if let Ok(sb) = fs.read_sb(ag) {
            let _ = render_xfs_db(&sb.fields());
        }
        let agf = fs.read_agf(ag);
        if let Ok(agf) = &agf {
            let _ = render_xfs_db(&agf.fields());
            let _ = to_json(&agf.fields());
        }
        if let Ok(agi) = fs.read_agi(ag) {
            let _ = render_xfs_db(&agi.fields());
            let _ = agi.unlinked_heads().count();
        }
        if let Ok(agfl) = fs.read_agfl(ag) {
            let _ = render_xfs_db(&agfl.fields());
            if let Ok(agf) = &agf {
                let _ = agfl.free_list(&agf.raw);
            }
        }
        let _ = fs.read_ag_blocks(ag, u64::from(fs.geo.ag_blocks.saturating_sub(1)), 1);
    }
    let _ = fs.geo.fsb_to_agbno(u64::MAX);
    let _ = fs.geo.agbno_to_offset(u32::MAX, u64::MAX);
    let _ = fs.geo.ag_size(u32::MAX);
}

/// Offsets of the four header sectors of every AG of a sample, where mutations matter most.
fn header_offsets(img: &[u8]) -> Vec<u64> {
    let fs = Filesystem::open(SliceSource(img)).unwrap();
    (0..fs.geo.ag_count)
        .map(|ag| fs.geo.ag_offset(ag).unwrap())
        .collect()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_to_each_decoder(bytes in prop::collection::vec(any::<u8>(), 0..1200)) {
        let geo_v5 = Filesystem::open(SliceSource(&samples()[0][..])).unwrap().geo;
        let geo_v4 = Filesystem::open(SliceSource(&samples()[1][..])).unwrap().geo;
        if let Ok(sb) = Superblock::parse(&bytes, 0) {
            let _ = render_xfs_db(&sb.fields());
            let _ = Features::of(&sb.raw);
            if let Ok(g) = Geometry::from_sb(&sb.raw) {
                let _ = g.agfl_size();
                let _ = g.ag_size(g.ag_count.saturating_sub(1));
            }
        }
        for geo in [&geo_v5, &geo_v4] {
            if let Ok(a) = Agf::parse(&bytes, 1, geo, 0) { let _ = render_xfs_db(&a.fields()); }
            if let Ok(a) = Agi::parse(&bytes, 1, geo, 0) { let _ = render_xfs_db(&a.fields()); }
            if let Ok(a) = Agfl::parse(&bytes, 1, geo, 0) { let _ = render_xfs_db(&a.fields()); }
        }
        exercise(SliceSource(bytes));
    }

    #[test]
    fn mutated_images_never_panic(
        which in 0usize..2,
        muts in prop::collection::vec((0usize..64, 0u64..2048, any::<u8>()), 1..24),
        cut in prop::option::of(0u64..(70 << 20)),
    ) {
        let img = &samples()[which][..];
        let ags = header_offsets(img);
        let mut patches = BTreeMap::new();
        for (ag, off, byte) in muts {
            let base = ags[ag % ags.len()];
            patches.insert(base + off, byte);
        }
        let len = cut.map_or(img.len() as u64, |c| c.min(img.len() as u64));
        exercise(Overlay { base: img, patches, len });
    }

    /// Superblock fields set to extreme values, one at a time, at the field boundaries.
    #[test]
    fn superblock_fields_at_extremes(
        which in 0usize..2,
        field in 0u64..66,
        width in prop::sample::select(vec![1usize, 2, 4, 8]),
        value in prop::sample::select(vec![0u64, 1, u64::MAX, 0x8000_0000, 0x7fff_ffff, 0xffff, 64, 65536]),
    ) {
        let img = &samples()[which][..];
        let mut patches = BTreeMap::new();
        let start = field * 4;
        let be = value.to_be_bytes();
        for i in 0..width {
            patches.insert(start + i as u64, be[8 - width + i]);
        }
        exercise(Overlay { base: img, patches, len: img.len() as u64 });
    }
}

#[test]
fn samples_decode_cleanly() {
    for img in samples() {
        let fs = Filesystem::open(SliceSource(&img[..])).unwrap();
        assert!(!fs.is_truncated());
        for ag in 0..fs.geo.ag_count {
            assert!(fs.read_agf(ag).unwrap().checks.all_ok(), "AGF {ag}");
            assert!(fs.read_agi(ag).unwrap().checks.all_ok(), "AGI {ag}");
            assert!(fs.read_agfl(ag).unwrap().checks.all_ok(), "AGFL {ag}");
        }
    }
}
