//! Helpers shared by the xfs-format integration tests: temporary directories, the xfsprogs
//! oracle (mkfs.xfs, xfs_db), test geometries, raw inode and extent reads. scripts/test.sh
//! installs xfsprogs; a missing tool fails the test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]
// The raw inode, extent and block helpers index and compute offsets like the tests using them.
#![allow(clippy::indexing_slicing, clippy::arithmetic_side_effects)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use xfs_format::crc::xfs_cksum;
use xfs_format::log::{read_fs_log, LogReport};
use xfs_format::sb::Geometry;
use xfs_format::symlink::{SYMLINK_CRC_OFF, XFS_SYMLINK_MAGIC};
use xfs_format::{ByteSource, FileSource, Filesystem, SliceSource};

/// The decompressed bytes of testdata/NAME.img.zst.
pub fn testdata_image(name: &str) -> Vec<u8> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(format!("{name}.img.zst"));
    let f = std::fs::File::open(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    zstd::stream::decode_all(f).unwrap()
}

/// testdata/log-v5-4k (a dirty log: 70 records, 67 transactions, head at block 466) and its
/// decoded log, loaded once per test binary.
pub fn dirty_log_v5_4k() -> &'static (Vec<u8>, LogReport) {
    static F: OnceLock<(Vec<u8>, LogReport)> = OnceLock::new();
    F.get_or_init(|| {
        let img = testdata_image("log-v5-4k");
        let rep = read_fs_log(&Filesystem::open(SliceSource(&img[..])).unwrap()).unwrap();
        (img, rep)
    })
}

/// A scratch directory under the system temp dir, removed on drop.
pub struct TempDir(pub PathBuf);

impl TempDir {
    pub fn new(tag: &str) -> TempDir {
        let d = std::env::temp_dir().join(format!("xfs-format-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        TempDir(d)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs a command that must succeed and returns its stdout.
pub fn run(cmd: &mut Command) -> String {
    let out = cmd
        .output()
        .unwrap_or_else(|e| panic!("{cmd:?} could not run (xfsprogs 6.1 needed): {e}"));
    assert!(
        out.status.success(),
        "{cmd:?} failed: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// Makes `dir/name`, a sparse file of `size` bytes, and runs `mkfs.xfs -p proto` on it.
pub fn mkfs(dir: &Path, name: &str, size: u64, opts: &[&str], proto: &Path) -> PathBuf {
    let img = dir.join(name);
    std::fs::File::create(&img).unwrap().set_len(size).unwrap();
    run(Command::new("mkfs.xfs")
        .env("TEST_DIR", "1")
        .env("TEST_DEV", "1")
        .env("QA_CHECK_FS", "1")
        .args(["-q", "-f"])
        .args(opts)
        .arg("-p")
        .arg(proto)
        .arg(&img));
    img
}

/// Runs xfs_db (`-x` when `expert`, else `-r`) with `-c` commands, in UTC, under a 60 s
/// timeout (xfs_db loops forever on some forged inodes), and returns stdout.
pub fn xfs_db(img: &Path, expert: bool, cmds: &[String]) -> String {
    let mut c = Command::new("timeout");
    c.args(["60", "xfs_db"]).env("TZ", "UTC");
    c.arg(if expert { "-x" } else { "-r" });
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    run(c.arg(img))
}

/// Inode numbers of the root directory's entries, by name (from xfs_db's print of a
/// shortform root).
pub fn root_entries(img: &Path, root: u64) -> BTreeMap<String, u64> {
    let out = xfs_db(img, false, &[format!("inode {root}"), "print".into()]);
    let mut names = BTreeMap::new();
    let mut last = None;
    for l in out.lines() {
        if l.contains(".name = ") {
            last = Some(l.split('"').nth(1).unwrap().to_string());
        } else if l.contains(".inumber.i") {
            let n: u64 = l.rsplit(' ').next().unwrap().parse().unwrap();
            names.insert(last.take().unwrap(), n);
        }
    }
    names
}

/// A plausible geometry (4 AGs of 16384 blocks, 512-byte sectors and inodes) for tests of
/// decoders that look only at a few of its fields.
pub fn test_geo(v5: bool, ftype: bool, block_size: u32, dir_block_size: u32) -> Geometry {
    Geometry {
        version: if v5 { 5 } else { 4 },
        has_crc: v5,
        block_size,
        block_log: block_size.trailing_zeros() as u8,
        sect_size: 512,
        sect_log: 9,
        inode_size: 512,
        inode_log: 9,
        inodes_per_block: block_size / 512,
        inopb_log: (block_size / 512).trailing_zeros() as u8,
        ag_blocks: 16384,
        ag_blk_log: 14,
        ag_count: 4,
        data_blocks: 65536,
        dir_block_size,
        log_start: 0,
        log_blocks: 0,
        log_sect_size: 512,
        has_ftype: ftype,
        has_finobt: false,
        has_rmapbt: false,
        has_reflink: false,
        has_inobtcount: false,
        has_sparse_inodes: false,
        has_bigtime: false,
        has_nrext64: false,
        has_meta_uuid: false,
        rext_size: 1,
        has_projid32: false,
        has_attr2: false,
        has_lazysbcount: false,
        has_logv2: false,
        meta_uuid: [0; 16],
    }
}

/// Byte offset of filesystem block `fsb` (agno << agblklog | agbno).
pub fn fsb_offset(geo: &Geometry, fsb: u64) -> u64 {
    let (agno, agbno) = geo.fsb_to_agbno(fsb);
    geo.agbno_to_offset(agno as u32, agbno).unwrap()
}

/// Byte offset of inode `ino`.
pub fn inode_offset(geo: &Geometry, ino: u64) -> u64 {
    let agino_bits = u32::from(geo.ag_blk_log) + u32::from(geo.inopb_log);
    let agno = (ino >> agino_bits) as u32;
    let agino = ino & ((1u64 << agino_bits) - 1);
    let agbno = agino >> geo.inopb_log;
    let idx = agino & ((1u64 << geo.inopb_log) - 1);
    geo.agbno_to_offset(agno, agbno).unwrap() + idx * u64::from(geo.inode_size)
}

/// The raw bytes of inode `ino` (decoded by the tests themselves: inodes are not the job of
/// the modules they test) and the size of its core, where the data fork starts.
pub fn inode_bytes(fs: &Filesystem<FileSource>, ino: u64) -> (Vec<u8>, usize) {
    let g = &fs.geo;
    let buf = fs
        .source()
        .read_at(inode_offset(g, ino), g.inode_size as usize)
        .unwrap()
        .into_owned();
    assert_eq!(&buf[0..2], b"IN");
    let core = if buf[4] >= 3 { 176 } else { 100 };
    (buf, core)
}

/// The first `n` extent records of an extents-format fork as (startoff, startblock,
/// blockcount).
pub fn fork_extents(fork: &[u8], n: usize) -> Vec<(u64, u64, u64)> {
    (0..n)
        .map(|i| {
            let r = u128::from_be_bytes(fork[i * 16..i * 16 + 16].try_into().unwrap());
            let count = (r & ((1 << 21) - 1)) as u64;
            let fsb = ((r >> 21) & ((1 << 52) - 1)) as u64;
            let startoff = ((r >> 73) & ((1 << 54) - 1)) as u64;
            (startoff, fsb, count)
        })
        .collect()
}

/// A v5 remote symlink block of `block_size` bytes as the kernel writes it: an
/// `xfs_dsymlink_hdr` for `data` at `offset` of the target, owned by `owner` at `daddr`.
pub fn v5_symlink_block(
    block_size: usize,
    uuid: &[u8; 16],
    owner: u64,
    daddr: u64,
    offset: u32,
    data: &[u8],
) -> Vec<u8> {
    let mut b = vec![0u8; block_size];
    b[0..4].copy_from_slice(&XFS_SYMLINK_MAGIC.to_be_bytes());
    b[4..8].copy_from_slice(&offset.to_be_bytes());
    b[8..12].copy_from_slice(&(data.len() as u32).to_be_bytes());
    b[16..32].copy_from_slice(uuid);
    b[32..40].copy_from_slice(&owner.to_be_bytes());
    b[40..48].copy_from_slice(&daddr.to_be_bytes());
    b[56..56 + data.len()].copy_from_slice(data);
    let c = xfs_cksum(&b, SYMLINK_CRC_OFF).unwrap();
    b[12..16].copy_from_slice(&c.to_le_bytes());
    b
}
