//! Helpers shared by the xfs-format integration tests: temporary directories and the xfsprogs
//! oracle (mkfs.xfs, xfs_db). scripts/test.sh installs xfsprogs; a missing tool fails the test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use xfs_format::log::{read_fs_log, LogReport};
use xfs_format::{Filesystem, SliceSource};

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
