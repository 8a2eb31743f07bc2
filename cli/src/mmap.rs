//! The one place with `unsafe`: memory-mapping a file read-only.
//!
//! Only the private, already unlinked decompressed copy of a `.zst` image is mapped. Images
//! and devices are read with `pread` (`xfs_format::FileSource`): a map would turn a medium
//! error (a failing disk, a FUSE or network file) into SIGBUS instead of EIO (the costs are
//! in `image::open_raw`).
#![allow(unsafe_code)]

use std::fs::File;

use memmap2::{Mmap, MmapOptions};

/// Maps `file` read-only.
pub fn map_readonly(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: the map is created read-only (PROT_READ, MAP_SHARED). Rust's aliasing rules
    // hold as long as no one truncates or rewrites the file while we read it: the only file
    // mapped is our own decompressed copy, unlinked before it is mapped, which no other
    // process can reach by name. Devices and images never take this path.
    unsafe { MmapOptions::new().map(file) }
}
