//! The parts of `xfs-inspect` that are not XFS structures but that the binary, its tests and
//! the fuzz targets share: reading the partition table of a whole-disk image.
#![forbid(unsafe_code)]

pub mod partition;
