//! Symlink decoders against mkfs/xfs_db/xfs_repair (xfsprogs 6.1) on images made at test
//! time from protofiles: inline and remote targets on v4 and v5.
//!
//! xfsprogs 6.1 `mkfs -p` writes remote symlinks on v5 without their `XSLM` header; that
//! image is checked for the same complaint as `xfs_repair -n`, then the block is rewritten
//! with a proper header and checked again (xfs_repair and xfs_db then agree it is sound).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

mod common;
use common::{fork_extents, fsb_offset, inode_bytes, root_entries, v5_symlink_block, TempDir};

use std::os::unix::fs::FileExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use xfs_format::symlink::{
    decode_inline, decode_remote, render_block_xfs_db, Finding, SymlinkExtent,
};
use xfs_format::{ByteSource, FileSource, Filesystem};

fn output(cmd: &mut Command) -> Output {
    cmd.output()
        .unwrap_or_else(|e| panic!("{cmd:?} could not run (xfsprogs 6.1 needed): {e}"))
}

fn long_target() -> String {
    (0..120)
        .map(|i| format!("dir{i:03}"))
        .collect::<Vec<_>>()
        .join("/")
}

const SHORT: &str = "../short/target-\\x\"q";

/// What the test needs of a symlink inode (decoded here; inodes are not this module's job).
struct DataFork {
    format: u8,
    size: u64,
    fork: Vec<u8>,
    /// (byte offset in the image, block count) of each extent.
    extents: Vec<(u64, u64)>,
}

fn read_inode(fs: &Filesystem<FileSource>, ino: u64) -> DataFork {
    let (buf, core) = inode_bytes(fs, ino);
    let format = buf[5];
    let size = u64::from_be_bytes(buf[56..64].try_into().unwrap());
    let nextents = u32::from_be_bytes(buf[76..80].try_into().unwrap());
    let fork = buf[core..].to_vec();
    let mut extents = Vec::new();
    if format == 2 {
        for (_, fsb, count) in fork_extents(&fork, nextents as usize) {
            extents.push((fsb_offset(&fs.geo, fsb), count));
        }
    }
    DataFork {
        format,
        size,
        fork,
        extents,
    }
}

fn extent_bufs(fs: &Filesystem<FileSource>, d: &DataFork) -> Vec<(Vec<u8>, u64)> {
    d.extents
        .iter()
        .map(|&(off, n)| {
            let len = (n * u64::from(fs.geo.block_size)) as usize;
            (fs.source().read_at(off, len).unwrap().into_owned(), off)
        })
        .collect()
}

fn decode_remote_of(fs: &Filesystem<FileSource>, ino: u64) -> xfs_format::symlink::Symlink {
    let d = read_inode(fs, ino);
    assert_eq!(d.format, 2, "inode {ino} should be a remote symlink");
    let bufs = extent_bufs(fs, &d);
    let exts: Vec<SymlinkExtent<'_>> = bufs
        .iter()
        .map(|(b, off)| SymlinkExtent {
            bytes: b,
            daddr: Some(off / 512),
        })
        .collect();
    decode_remote(&fs.geo, ino, d.size, &exts)
}

fn repair_n(img: &Path) -> Output {
    output(Command::new("xfs_repair").arg("-n").arg(img))
}

fn check_inline(img: &Path, fs: &Filesystem<FileSource>, ino: u64) {
    let d = read_inode(fs, ino);
    assert_eq!(d.format, 1);
    let s = decode_inline(&d.fork, d.size);
    assert!(s.is_clean(), "{:?}", s.findings);
    assert_eq!(s.target, SHORT.as_bytes());
    let line = s.render_inline_xfs_db(fs.geo.has_crc);
    let out = xfs_db(img, &[format!("inode {ino}"), "print".into()]);
    assert!(out.contains(&line), "{line} not in {out}");
}

#[test]
fn v4_symlinks_match_protofile_and_xfs_db() {
    let dir = TempDir::new("v4");
    let img = mkfs(&dir.0, &["-m", "crc=0"]);
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let names = root_entries(&img, fs.sb.raw.sb_rootino);
    check_inline(&img, &fs, names["sl"]);
    let ll = names["ll"];
    let s = decode_remote_of(&fs, ll);
    assert!(s.is_clean(), "{:?}", s.findings);
    assert_eq!(s.target, long_target().as_bytes());
    let d = read_inode(&fs, ll);
    let bufs = extent_bufs(&fs, &d);
    let mine = render_block_xfs_db(&fs.geo, &bufs[0].0, d.size as usize);
    let theirs = xfs_db(
        &img,
        &[format!("inode {ll}"), "dblock 0".into(), "print".into()],
    );
    assert_eq!(mine, theirs);
    let r = repair_n(&img);
    assert!(r.status.success(), "{}", String::from_utf8_lossy(&r.stdout));
}

#[test]
fn v5_symlinks_missing_header_then_repaired_block() {
    let dir = TempDir::new("v5");
    let img = mkfs(&dir.0, &[]);
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let names = root_entries(&img, fs.sb.raw.sb_rootino);
    check_inline(&img, &fs, names["sl"]);
    let ll = names["ll"];

    // As written by mkfs 6.1: the target sits where the header should be.
    let s = decode_remote_of(&fs, ll);
    assert!(s.findings.contains(&Finding::BadMagic {
        ext: 0,
        found: u32::from_be_bytes(*b"dir0"),
    }));
    assert!(s.findings.contains(&Finding::BadCrc { ext: 0 }));
    assert!(s
        .findings
        .iter()
        .any(|f| matches!(f, Finding::Missing { .. })));
    let r = repair_n(&img);
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&r.stdout),
        String::from_utf8_lossy(&r.stderr)
    );
    assert!(!r.status.success());
    let d = read_inode(&fs, ll);
    let (off, _) = d.extents[0];
    let bs = u64::from(fs.geo.block_size);
    assert!(
        text.contains(&format!(
            "bad symlink header ino {ll}, file block 0, disk block {}",
            off / bs
        )),
        "{text}"
    );
    // The header as xfs_db prints it (no data line: the magic is wrong).
    let bufs = extent_bufs(&fs, &d);
    let theirs = xfs_db(
        &img,
        &[format!("inode {ll}"), "dblock 0".into(), "print".into()],
    );
    assert_eq!(render_block_xfs_db(&fs.geo, &bufs[0].0, 0), theirs);
    drop(fs);

    // Rewrite the block as the kernel would have written it.
    let target = long_target();
    let geo = Filesystem::open(FileSource::open(&img).unwrap())
        .unwrap()
        .geo;
    let blk = v5_symlink_block(
        bs as usize,
        &geo.meta_uuid,
        ll,
        off / 512,
        0,
        target.as_bytes(),
    );
    std::fs::OpenOptions::new()
        .write(true)
        .open(&img)
        .unwrap()
        .write_all_at(&blk, off)
        .unwrap();
    let r = repair_n(&img);
    assert!(
        r.status.success(),
        "xfs_repair -n on the rewritten block: {}",
        String::from_utf8_lossy(&r.stdout)
    );
    let fs = Filesystem::open(FileSource::open(&img).unwrap()).unwrap();
    let s = decode_remote_of(&fs, ll);
    assert!(s.is_clean(), "{:?}", s.findings);
    assert_eq!(s.target, target.as_bytes());
    let theirs = xfs_db(
        &img,
        &[format!("inode {ll}"), "dblock 0".into(), "print".into()],
    );
    assert_eq!(render_block_xfs_db(&fs.geo, &blk, 0), theirs);

    // Wrong owner / daddr / offset are reported.
    let d = read_inode(&fs, ll);
    let bufs = extent_bufs(&fs, &d);
    let ext = [SymlinkExtent {
        bytes: &bufs[0].0,
        daddr: Some(1),
    }];
    let s = decode_remote(&fs.geo, 7, d.size, &ext);
    assert!(s.findings.contains(&Finding::BadOwner {
        ext: 0,
        found: ll,
        expected: 7
    }));
    assert!(s
        .findings
        .iter()
        .any(|f| matches!(f, Finding::BadBlkno { expected: 1, .. })));
}

fn mkfs(dir: &Path, opts: &[&str]) -> PathBuf {
    let p = format!(
        "/dev/null\n0 0\nd--755 0 0\nsl l--777 0 0 {SHORT}\nll l--777 0 0 {}\n$\n",
        long_target()
    );
    let proto = dir.join("proto");
    std::fs::write(&proto, p).unwrap();
    common::mkfs(dir, "img", 64 << 20, opts, &proto)
}

fn xfs_db(img: &Path, cmds: &[String]) -> String {
    common::xfs_db(img, false, cmds)
}
