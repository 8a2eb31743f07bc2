//! The one place with `unsafe`: memory-mapping a regular image file read-only.
//!
//! Mapping is only used for regular files. Block devices (where a medium error would arrive as
//! SIGBUS instead of EIO) and `--no-mmap` go through `pread` in `xfs_format::FileSource`.
#![allow(unsafe_code)]

use std::fs::File;

use memmap2::{Mmap, MmapOptions};

/// Maps `file` read-only.
pub fn map_readonly(file: &File) -> std::io::Result<Mmap> {
    // SAFETY: the map is created read-only (PROT_READ, MAP_SHARED) from a file we opened
    // O_RDONLY. Rust's aliasing rules hold as long as no one truncates or rewrites the file
    // while we read it; an inspector of a quiescent image accepts that, as every mmap-based
    // reader does. A concurrent truncation could raise SIGBUS; devices never take this path.
    unsafe { MmapOptions::new().map(file) }
}
