//! Geometry of the fixture filesystems, for targets that decode single blocks.
use xfs_format::sb::{Geometry, Superblock};

pub fn geometries() -> [Geometry; 2] {
    let g = |b: &[u8]| Geometry::from_sb(&Superblock::parse(b, 0).expect("seed sb").raw).expect("seed geometry");
    [g(include_bytes!("../seeds/sb-v5.bin")), g(include_bytes!("../seeds/sb-v4.bin"))]
}
