//! Helpers shared by the integration tests: the xfsprogs oracle and the binary under test.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

/// Finds an xfsprogs tool. scripts/test.sh installs xfsprogs, so a missing tool is a failure,
/// never a skip.
pub fn tool(name: &str) -> PathBuf {
    let mut dirs: Vec<PathBuf> = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).collect())
        .unwrap_or_default();
    dirs.extend(["/usr/sbin", "/sbin", "/usr/bin"].map(PathBuf::from));
    dirs.into_iter()
        .map(|d| d.join(name))
        .find(|p| p.is_file())
        .unwrap_or_else(|| panic!("{name} not found: run scripts/test.sh, which installs xfsprogs"))
}

/// Makes a sparse file of `size` bytes and runs mkfs.xfs on it with `args`.
/// Returns mkfs's stderr on failure.
pub fn mkfs(img: &Path, size: u64, args: &[String]) -> Result<(), String> {
    sparse_file(img, size);
    let out = Command::new(tool("mkfs.xfs"))
        .args(["-q", "-f"])
        .args(args)
        .arg(img)
        .env("TEST_DIR", "1")
        .env("TEST_DEV", "1")
        .env("QA_CHECK_FS", "1")
        .output()
        .unwrap();
    if out.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&out.stderr).into_owned())
    }
}

/// Runs `xfs_db -r` with the given commands (each passed with `-c`) and returns stdout.
pub fn xfs_db(img: &Path, cmds: &[String]) -> String {
    let mut c = Command::new(tool("xfs_db"));
    c.arg("-r").env("TZ", "UTC");
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    let out = c.arg(img).output().unwrap();
    assert!(
        out.status.success(),
        "xfs_db {cmds:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// Runs the binary under test.
pub fn inspect<I, S>(args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(env!("CARGO_BIN_EXE_xfs-inspect"))
        .args(args)
        .output()
        .unwrap()
}

/// Runs the binary and returns stdout, asserting success.
pub fn inspect_ok<I, S>(args: I) -> String
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    let out = inspect(args);
    assert!(
        out.status.success(),
        "xfs-inspect failed ({}): {}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// A fresh temporary directory, removed on drop.
pub fn tempdir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("xfs-inspect-test")
        .tempdir()
        .unwrap()
}

/// Decompresses a sample image of testdata/ into `dir` and returns its path.
pub fn sample(dir: &Path, name: &str) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(format!("{name}.img.zst"));
    let bytes = zstd::stream::decode_all(std::fs::File::open(&src).unwrap()).unwrap();
    let out = dir.join(format!("{name}.img"));
    std::fs::write(&out, bytes).unwrap();
    out
}

/// Writes a partition table with sfdisk (`script` in sfdisk's input format) on the image file
/// `disk`. scripts/test.sh installs sfdisk (Debian package `fdisk`).
pub fn sfdisk(disk: &Path, script: &str) {
    let mut child = Command::new(tool("sfdisk"))
        .args(["--quiet", "--no-reread", "--no-tell-kernel"])
        .arg(disk)
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(script.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(
        out.status.success(),
        "sfdisk failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A sparse file of `size` bytes at `path`.
pub fn sparse_file(path: &Path, size: u64) {
    std::fs::File::create(path).unwrap().set_len(size).unwrap();
}
