//! Zero-copy, read-only parsers for the XFS on-disk format.
//!
//! Start with [`Filesystem::open`] over any [`ByteSource`]; every structure decoder also works
//! on plain byte slices. Bad input is data: decoders return typed results and never panic.
#![forbid(unsafe_code)]
// Unit tests may use plain arithmetic (clippy.toml already lets them unwrap, index and
// panic); the library code itself stays linted in the non-test build.
#![cfg_attr(test, allow(clippy::arithmetic_side_effects))]

pub mod addr;
pub mod ag;
pub mod attr;
pub mod bmap;
pub mod btree;
pub mod btrees;
pub mod bytes;
pub mod crc;
pub mod da_btree;
pub mod dir2;
pub mod error;
pub mod features;
pub mod fields;
pub mod files;
pub mod fs;
pub mod geometry;
pub mod inode;
pub mod log;
pub mod sb;
pub mod source;
pub mod symlink;
pub mod verify;

pub use error::{CorruptKind, Error, Result};
pub use fs::Filesystem;
pub use source::{ByteSource, FileSource, PreadSource, ReadAt, SliceSource, Window};
