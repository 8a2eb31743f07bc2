//! The parts of `xfs-inspect` that are not XFS structures but that the binary, its tests and
//! the fuzz targets share: reading the partition table of a whole-disk image and the LVM2
//! volumes in it.
#![forbid(unsafe_code)]

pub mod lvm;
pub mod partition;
