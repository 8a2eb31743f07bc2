//! Helpers shared by the integration tests: the xfsprogs oracle and the binary under test.
#![allow(
    dead_code,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects
)]

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

/// Runs a tool found by [`tool`] with `args` and returns what it did.
pub fn run_tool<I, S>(name: &str, args: I) -> Output
where
    I: IntoIterator<Item = S>,
    S: AsRef<std::ffi::OsStr>,
{
    Command::new(tool(name)).args(args).output().unwrap()
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
    xfs_db_mode(img, "-r", cmds)
}

/// Runs `xfs_db` in `mode` (`-r` read-only, `-x` expert, which writes) with the given commands
/// (each passed with `-c`), asserts success and returns stdout.
pub fn xfs_db_mode<S: AsRef<std::ffi::OsStr> + std::fmt::Debug>(
    img: &Path,
    mode: &str,
    cmds: &[S],
) -> String {
    let mut c = Command::new(tool("xfs_db"));
    c.arg(mode).env("TZ", "UTC");
    for cmd in cmds {
        c.arg("-c").arg(cmd);
    }
    let out = c.arg(img).output().unwrap();
    assert!(
        out.status.success(),
        "xfs_db {mode} {cmds:?} failed: {}",
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

/// A file of testdata/.
pub fn testdata(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../testdata")
        .join(name)
}

/// The decompressed bytes of the zstd file `name` of testdata/.
pub fn testdata_zst(name: &str) -> Vec<u8> {
    zstd::stream::decode_all(std::fs::File::open(testdata(name)).unwrap()).unwrap()
}

/// Decompresses a sample image of testdata/ into `dir` and returns its path.
pub fn sample(dir: &Path, name: &str) -> PathBuf {
    let out = dir.join(format!("{name}.img"));
    std::fs::write(&out, testdata_zst(&format!("{name}.img.zst"))).unwrap();
    out
}

/// The log fixtures of testdata/ (scripts/make-log-fixtures.sh) whose log is dirty.
pub const DIRTY_LOGS: &[&str] = &[
    "log-v5-4k",
    "log-v5-1k",
    "log-rmap-4k",
    "log-rmap-1k",
    "log-efi-4k",
    "log-efi-rmap-4k",
];

/// Whether a line of `xfs_repair -n` output is progress or host chatter rather than a
/// finding (phase headers, `- ...` steps, the no-modify and host-geometry notices).
pub fn is_repair_progress(line: &str) -> bool {
    let t = line.trim_start();
    line.is_empty()
        || line.starts_with("Phase ")
        || (line.starts_with(' ') && t.starts_with("- "))
        || line.starts_with("No modify flag set")
        || line == "Cannot get host filesystem geometry."
        || line.starts_with("Repair may fail if there is a sector size mismatch")
        || line == "the image and the host filesystem."
}

/// A finding line of `xfs_repair -n` with what differs from run to run masked: the code
/// address of a verifier's "detected at 0x..." and the thread id before "Badness in key
/// lookup".
pub fn mask_repair_line(line: &str) -> String {
    let mut s = line.to_owned();
    if let Some(i) = s.find(" detected at 0x") {
        let rest = &s[i + " detected at ".len()..];
        let end = rest.find(',').unwrap_or(rest.len());
        s = format!("{} detected at <addr>{}", &s[..i], &rest[end..]);
    }
    if let Some(i) = s.find(": Badness in key lookup") {
        if i > 0 && s[..i].bytes().all(|b| b.is_ascii_hexdigit()) {
            s = format!("<tid>{}", &s[i..]);
        }
    }
    s
}

/// `xfs_repair -n IMAGE`: its exit code and output (stdout, then stderr).
pub fn repair_n(img: &Path) -> (Option<i32>, String) {
    let out = Command::new(tool("xfs_repair"))
        .arg("-n")
        .arg(img)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    (out.status.code(), text)
}

/// Runs `xfs-inspect check IMAGE --format repair` with `extra` arguments.
pub fn check_repair(img: &Path, extra: &[&str]) -> Output {
    let mut args: Vec<&std::ffi::OsStr> = vec![
        "check".as_ref(),
        img.as_os_str(),
        "--format".as_ref(),
        "repair".as_ref(),
    ];
    args.extend(extra.iter().map(std::ffi::OsStr::new));
    inspect(args)
}

/// Makes `disk`, a sparse file of `size` bytes, and writes a partition table on it with sfdisk
/// (`script` in sfdisk's input format). scripts/test.sh installs sfdisk (Debian package
/// `fdisk`).
pub fn sfdisk(disk: &Path, size: u64, script: &str) {
    sparse_file(disk, size);
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
