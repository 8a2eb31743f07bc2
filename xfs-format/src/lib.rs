//! Zero-copy, read-only parsers for the XFS on-disk format, laid out as the kernel's
//! `fs/xfs/libxfs`: one module per structure (`sb`, `ag`, `inode`, `bmap`, `btree`,
//! `dir2`, `attr`, `da_btree`, `symlink`, `log`), the definitions they share (`features`,
//! `geometry`, `addr`), and the one verifier of v5 self-describing headers (`verify`).
//!
//! Start with [`Filesystem::open`] over any [`ByteSource`]; every structure decoder also works
//! on plain byte slices. Bad input is data: decoders return typed results and never panic,
//! and a structure that fails its checks (magic, CRC, owner...) is still decoded, with the
//! failed checks recorded on it.
//!
//! # Example
//!
//! Open an image, list its root directory and read the inode of every entry, then walk
//! every allocated inode through the inode btrees:
//!
//! ```
//! use xfs_format::{Filesystem, SliceSource};
//!
//! // A small v5 filesystem shipped with the project (zstd-compressed).
//! let packed = std::fs::read("../testdata/sample-v5.img.zst")?;
//! let fs = Filesystem::open(SliceSource(zstd::decode_all(&packed[..])?))?;
//! assert!(fs.geo.has_crc);
//!
//! let root = fs.read_inode(fs.sb.raw.sb_rootino)?;
//! let dir = fs.read_dir(&root)?;
//! assert_eq!(dir.entries[0].name, b".");
//! assert_eq!(dir.entries[0].ino, root.ino);
//! for entry in &dir.entries {
//!     let inode = fs.read_inode(entry.ino)?;
//!     assert!(inode.checks.all_ok(), "{:?}", inode.checks);
//!     println!("{:>6} {:o} {}", inode.ino, inode.mode(), String::from_utf8_lossy(&entry.name));
//! }
//!
//! // Every inode in use, per the inode btrees, decodes with good checks.
//! let inos = fs.allocated_inodes();
//! let in_use = fs.sb.raw.sb_icount - fs.sb.raw.sb_ifree;
//! assert_eq!(inos.len() as u64, in_use);
//! for ino in inos {
//!     let inode = fs.read_inode(ino)?;
//!     assert!(inode.checks.all_ok() && inode.raw.link_count() > 0, "inode {ino}");
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]
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
pub mod forensic;
pub mod fs;
pub mod geometry;
pub mod inode;
pub mod log;
pub mod sb;
pub mod source;
pub mod symlink;
pub mod verify;

pub use ag::{Agf, Agfl, Agi};
pub use bmap::{BmbtRec, WhichFork};
pub use error::{CorruptKind, Error, Result};
pub use fields::{CrcState, Field};
pub use files::{Directory, Entry};
pub use fs::Filesystem;
pub use geometry::Geometry;
pub use inode::{Inode, RawDinode, Timestamp};
pub use log::LogReport;
pub use sb::{RawSb, Superblock};
pub use source::{ByteSource, Concat, FileSource, PreadSource, ReadAt, SliceSource, Window};
