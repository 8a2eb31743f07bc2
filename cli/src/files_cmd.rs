//! Browsing and extraction: inode, bmap, ls, stat, readlink, getfattr, cat, extract, timeline.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::ffi::OsStr;
use std::fs;
use std::io::Write;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use clap::Args;
use serde_json::{json, Value as Json};

use xfs_format::bmap::{ForkData, WhichFork};
use xfs_format::fields::{fmt_uuid, to_json};
use xfs_format::files::{dev_numbers, ftype_name, type_char, DataSink, Entry, LookupError};
use xfs_format::inode::{
    Inode, Timestamp, S_IFBLK, S_IFCHR, S_IFDIR, S_IFIFO, S_IFLNK, S_IFMT, S_IFREG, S_IFSOCK,
};
use xfs_format::Filesystem;

use crate::error::CliError;
use crate::image::Source;
use crate::options::{print_json, Common, Out};

/// A file named by path or by inode number.
#[derive(Debug, Args, Clone)]
pub struct Target {
    /// Path inside the filesystem (default: the root directory)
    pub path: Option<String>,
    /// Name the file by inode number instead of by path
    #[arg(long, value_name = "INO", conflicts_with = "path")]
    pub inode: Option<u64>,
}

/// Most directories visited in one recursive walk (guards against directory cycles in
/// damaged images together with the visited set).
const MAX_WALK_DIRS: usize = 1 << 22;

fn fs_err(common: &Common, base: u64, e: &xfs_format::Error) -> CliError {
    CliError::from_format(&common.image, base, e)
}

fn lookup_err(common: &Common, base: u64, e: LookupError) -> CliError {
    match e {
        LookupError::Fs(e) => fs_err(common, base, &e),
        other => CliError::new(other.to_string()),
    }
}

/// Resolves a target to (display path, inode number).
fn resolve(
    fs: &Filesystem<Source>,
    common: &Common,
    base: u64,
    t: &Target,
    follow_last: bool,
) -> Result<(String, u64), CliError> {
    if let Some(ino) = t.inode {
        return Ok((format!("<inode {ino}>"), ino));
    }
    let path = t.path.clone().unwrap_or_else(|| "/".into());
    let ino = fs.lookup(&path, follow_last).map_err(|e| match e {
        LookupError::Fs(e) => {
            let held = unreadable_step(fs, &path);
            crate::error::lookup_io_err(&common.image, &path, held.as_deref(), base, &e)
        }
        // Not found, but a block of a directory on the way could not be read.
        other => match unreadable_step(fs, &path) {
            Some(h) => CliError::new(format!(
                "{}: {path}: not found, but {h} (the entry may be in it)",
                common.image.display()
            )),
            None => lookup_err(common, base, other),
        },
    })?;
    Ok((path, ino))
}

/// After a lookup of `path` failed on a read: which step could not be read ("inode N of
/// /a/b", "directory /a (inode N)"), walking the path again one component at a time.
fn unreadable_step(fs: &Filesystem<Source>, path: &str) -> Option<String> {
    let mut ino = fs.root_ino();
    let mut at = String::from("/");
    for comp in path.split('/').filter(|c| !c.is_empty()).take(4096) {
        let Ok(dir) = fs.read_inode(ino) else {
            return Some(format!("inode {ino} of {at}"));
        };
        let Ok(listing) = fs.read_dir(&dir) else {
            return Some(format!("directory {at} (inode {ino})"));
        };
        let next = listing
            .entries
            .iter()
            .find(|e| e.name == comp.as_bytes())
            .map(|e| e.ino);
        let parent = at.clone();
        at = format!("{}/{comp}", at.trim_end_matches('/'));
        match next {
            Some(n) => ino = n,
            None => {
                let f = listing
                    .findings
                    .iter()
                    .find(|f| f.to_string().contains("could not be read"));
                return f.map(|f| format!("directory {parent} (inode {ino}), {f}"));
            }
        }
    }
    fs.read_inode(ino)
        .is_err()
        .then(|| format!("inode {ino} of {at}"))
}

fn read_inode(
    fs: &Filesystem<Source>,
    common: &Common,
    base: u64,
    ino: u64,
) -> Result<Inode, CliError> {
    fs.read_inode(ino)
        .map_err(|e| crate::error::inode_err(&common.image, ino, base, &e))
}

/// Sets a key of a JSON object (no-op on other values, so it cannot panic).
fn set(v: &mut Json, key: &str, val: Json) {
    if let Some(o) = v.as_object_mut() {
        o.insert(key.to_string(), val);
    }
}

fn lossy(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

/// `inode IMAGE INO`
pub fn inode(out: &mut Out<'_>, common: &Common, ino: u64) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let inode = read_inode(&fs, common, base, ino)?;
    if common.json {
        let v = json!({
            "ino": ino,
            "offset": base.saturating_add(inode.offset),
            "checks": inode.checks,
            "fields": to_json(&inode.fields()),
            "data_fork": inode.data_fork,
            "attr_fork": inode.attr_fork,
        });
        return print_json(out, &v);
    }
    for l in inode.print_lines(fs.geo.has_ftype) {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

/// `bmap IMAGE INO [--attr]`
pub fn bmap(out: &mut Out<'_>, common: &Common, ino: u64, attr: bool) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let inode = read_inode(&fs, common, base, ino)?;
    if common.json {
        let mut v = json!({ "ino": ino });
        for (name, which) in [("data", WhichFork::Data), ("attr", WhichFork::Attr)] {
            if which == WhichFork::Data && attr {
                continue;
            }
            let recs = fs
                .fork_records(&inode, which)
                .map_err(|e| fs_err(common, base, &e))?;
            set(&mut v, name, json!(recs));
        }
        return print_json(out, &v);
    }
    let lines = fs
        .bmap_lines(&inode, attr)
        .map_err(|e| fs_err(common, base, &e))?;
    for l in lines {
        writeln!(out, "{l}")?;
    }
    Ok(())
}

fn fmt_time(t: &Timestamp) -> String {
    // ISO 8601 in UTC, with nanoseconds, from the civil calendar of the inode module.
    let days = t.sec.div_euclid(86_400);
    let secs = t.sec.rem_euclid(86_400);
    let (y, m, d) = xfs_format::inode::civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02}.{:09} +0000",
        secs / 3600,
        (secs / 60) % 60,
        secs % 60,
        t.nsec
    )
}

fn mode_string(mode: u16) -> String {
    let mut s = String::new();
    s.push(type_char(mode));
    let bits = [
        (0o400, 'r'),
        (0o200, 'w'),
        (0o100, 'x'),
        (0o040, 'r'),
        (0o020, 'w'),
        (0o010, 'x'),
        (0o004, 'r'),
        (0o002, 'w'),
        (0o001, 'x'),
    ];
    for (i, (bit, c)) in bits.iter().enumerate() {
        let set = mode & bit != 0;
        let special = match i {
            2 => (mode & 0o4000 != 0).then_some(if set { 's' } else { 'S' }),
            5 => (mode & 0o2000 != 0).then_some(if set { 's' } else { 'S' }),
            8 => (mode & 0o1000 != 0).then_some(if set { 't' } else { 'T' }),
            _ => None,
        };
        s.push(special.unwrap_or(if set { *c } else { '-' }));
    }
    s
}

fn type_name(mode: u16) -> &'static str {
    match mode & S_IFMT {
        S_IFDIR => "directory",
        S_IFREG => "regular file",
        S_IFLNK => "symbolic link",
        S_IFCHR => "character special file",
        S_IFBLK => "block special file",
        S_IFIFO => "fifo",
        S_IFSOCK => "socket",
        _ => "unknown type",
    }
}

fn stat_json(fs: &Filesystem<Source>, inode: &Inode) -> Json {
    let r = &inode.raw;
    let t = |ts: Timestamp| json!({"sec": ts.sec, "nsec": ts.nsec});
    let mut v = json!({
        "ino": inode.ino,
        "mode": r.di_mode,
        "type": type_name(r.di_mode),
        "perm": mode_string(r.di_mode),
        "nlink": inode.nlink(),
        "uid": r.di_uid,
        "gid": r.di_gid,
        "projid": inode.projid(),
        "size": r.di_size,
        "nblocks": r.di_nblocks,
        "blksize": fs.geo.block_size,
        "atime": t(inode.atime()),
        "mtime": t(inode.mtime()),
        "ctime": t(inode.ctime()),
        "crtime": inode.crtime().map(t),
        "generation": r.di_gen,
        "flags": r.di_flags,
        "flags2": r.di_flags2,
        "checks": inode.checks,
    });
    if let ForkData::Dev(d) = inode.data_fork.data {
        let (ma, mi) = dev_numbers(d);
        set(&mut v, "rdev", json!([ma, mi]));
    }
    v
}

/// `stat IMAGE PATH`
pub fn stat(out: &mut Out<'_>, common: &Common, t: &Target) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let (path, ino) = resolve(&fs, common, base, t, false)?;
    let inode = read_inode(&fs, common, base, ino)?;
    if common.json {
        let mut v = stat_json(&fs, &inode);
        set(&mut v, "path", json!(path));
        return print_json(out, &v);
    }
    let r = &inode.raw;
    let mut name = path.clone();
    if inode.file_type() == S_IFLNK {
        if let Ok(target) = fs.read_link(&inode) {
            name = format!("{path} -> {}", lossy(&target));
        }
    }
    writeln!(out, "  File: {name}")?;
    writeln!(
        out,
        "  Size: {:<15} Blocks: {:<10} IO Block: {:<6} {}",
        r.di_size,
        r.di_nblocks.saturating_mul(u64::from(fs.geo.block_size)) / 512,
        fs.geo.block_size,
        type_name(r.di_mode)
    )?;
    let dev = match inode.data_fork.data {
        ForkData::Dev(d) => {
            let (ma, mi) = dev_numbers(d);
            format!("  Device type: {ma},{mi}")
        }
        _ => String::new(),
    };
    writeln!(
        out,
        "Inode: {:<15} Links: {}{dev}",
        inode.ino,
        inode.nlink()
    )?;
    writeln!(
        out,
        "Access: ({:04o}/{})  Uid: ({})   Gid: ({})",
        r.di_mode & 0o7777,
        mode_string(r.di_mode),
        r.di_uid,
        r.di_gid
    )?;
    writeln!(out, "Access: {}", fmt_time(&inode.atime()))?;
    writeln!(out, "Modify: {}", fmt_time(&inode.mtime()))?;
    writeln!(out, "Change: {}", fmt_time(&inode.ctime()))?;
    match inode.crtime() {
        Some(c) => writeln!(out, " Birth: {}", fmt_time(&c))?,
        None => writeln!(out, " Birth: -")?,
    }
    if !inode.checks.all_ok() {
        writeln!(out, "# inode checks failed: {:?}", inode.checks)?;
    }
    Ok(())
}

/// `readlink IMAGE PATH`
pub fn readlink(out: &mut Out<'_>, common: &Common, t: &Target) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let (path, ino) = resolve(&fs, common, base, t, false)?;
    let inode = read_inode(&fs, common, base, ino)?;
    if inode.file_type() != S_IFLNK {
        return Err(CliError::new(format!("{path}: not a symbolic link")));
    }
    let link = fs
        .read_symlink(&inode)
        .map_err(|e| fs_err(common, base, &e))?;
    if common.json {
        let findings: Vec<String> = link.findings.iter().map(|f| f.to_string()).collect();
        return print_json(
            out,
            &json!({"path": path, "ino": ino, "target": lossy(&link.target), "findings": findings}),
        );
    }
    out.write_all(&link.target)?;
    writeln!(out)?;
    for f in &link.findings {
        crate::error::warn_finding(&path, f);
    }
    Ok(())
}

/// `cat IMAGE PATH`
pub fn cat(out: &mut Out<'_>, common: &Common, t: &Target) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let (path, ino) = resolve(&fs, common, base, t, true)?;
    let inode = read_inode(&fs, common, base, ino)?;
    if inode.file_type() == S_IFDIR {
        return Err(CliError::new(format!("{path}: is a directory")));
    }
    if inode.file_type() != S_IFREG {
        return Err(CliError::new(format!(
            "{path}: is a {}, not a regular file",
            type_name(inode.raw.di_mode)
        )));
    }
    if common.json {
        // JSON gives the content's digest, for hashing evidence without extracting it.
        let mut h = HashWriter(sha2::Sha256::default());
        let n = fs
            .copy_data(&inode, &mut h)
            .map_err(|e| crate::error::data_err(&common.image, &path, base, &e))?;
        use sha2::Digest;
        let digest: String = h.0.finalize().iter().map(|b| format!("{b:02x}")).collect();
        return print_json(
            out,
            &json!({"path": path, "ino": ino, "size": n, "sha256": digest}),
        );
    }
    // A regular file as stdout keeps the holes (seeking over them); a pipe or terminal gets
    // zeros.
    if let Some(f) = regular_stdout() {
        out.flush()?;
        let mut w = SparseWriter::new(&f).map_err(|e| write_err("standard output", &e))?;
        let n = fs
            .copy_data_to(&inode, &mut w)
            .map_err(|e| copy_err(common, base, &path, "standard output", e))?;
        w.finish(n).map_err(|e| write_err("standard output", &e))?;
        return Ok(());
    }
    fs.copy_data(&inode, out)
        .map_err(|e| copy_err(common, base, &path, "standard output", e))?;
    Ok(())
}

/// Stdout as a file of its own (a duplicate descriptor sharing the offset) when it is a
/// regular file not opened for appending (where a seek past the end would not leave a hole).
fn regular_stdout() -> Option<fs::File> {
    use std::os::fd::AsFd;
    let fd = std::io::stdout().as_fd().try_clone_to_owned().ok()?;
    let f = fs::File::from(fd);
    if !f.metadata().ok()?.file_type().is_file() {
        return None;
    }
    let flags = nix::fcntl::fcntl(&f, nix::fcntl::FcntlArg::F_GETFL).ok()?;
    if nix::fcntl::OFlag::from_bits_truncate(flags).contains(nix::fcntl::OFlag::O_APPEND) {
        return None;
    }
    Some(f)
}

/// A write error naming what was written.
fn write_err(what: &str, e: &std::io::Error) -> CliError {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return CliError::new(String::new()); // the reader closed the pipe
    }
    CliError::new(format!("{what}: write error: {e}"))
}

/// An error of copying a file's data: a failed write names `dest`, the rest is the image's.
/// An error of a content copy of the file at `path` in the image into `dest`: a write
/// error names the destination, a read error the file.
fn copy_err(common: &Common, base: u64, path: &str, dest: &str, e: xfs_format::Error) -> CliError {
    match e {
        xfs_format::Error::Write(w) => write_err(dest, &w),
        other => crate::error::data_err(&common.image, path, base, &other),
    }
}

/// Writes a file's content into a regular file from its current offset, seeking over holes
/// so that they stay holes; [`SparseWriter::finish`] sets the length a trailing hole needs.
struct SparseWriter<'f> {
    file: &'f fs::File,
    /// The file offset the content starts at.
    start: u64,
    buf: Vec<u8>,
}

/// Data is written in pieces of this size.
const SPARSE_BUF: usize = 1 << 20;

impl<'f> SparseWriter<'f> {
    fn new(file: &'f fs::File) -> std::io::Result<Self> {
        use std::io::Seek;
        let mut f = file;
        let start = f.stream_position()?;
        Ok(SparseWriter {
            file,
            start,
            buf: Vec::new(),
        })
    }

    fn flush_buf(&mut self) -> std::io::Result<()> {
        let mut f = self.file;
        f.write_all(&self.buf)?;
        self.buf.clear();
        Ok(())
    }

    /// Flushes, and makes the file `len` bytes long from where the content started (never
    /// shorter than it was).
    fn finish(mut self, len: u64) -> std::io::Result<()> {
        use std::io::Seek;
        self.flush_buf()?;
        let end = self.start.saturating_add(len);
        if self.file.metadata()?.len() < end {
            self.file.set_len(end)?;
        }
        let mut f = self.file;
        f.seek(std::io::SeekFrom::Start(end))?;
        Ok(())
    }
}

impl DataSink for SparseWriter<'_> {
    fn data(&mut self, bytes: &[u8]) -> std::io::Result<()> {
        if self.buf.len().saturating_add(bytes.len()) > SPARSE_BUF {
            self.flush_buf()?;
        }
        if bytes.len() >= SPARSE_BUF {
            let mut f = self.file;
            return f.write_all(bytes);
        }
        self.buf.extend_from_slice(bytes);
        Ok(())
    }

    fn hole(&mut self, len: u64) -> std::io::Result<()> {
        use std::io::Seek;
        self.flush_buf()?;
        let step = i64::try_from(len).map_err(|_| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "hole too large to seek over",
            )
        })?;
        let mut f = self.file;
        f.seek(std::io::SeekFrom::Current(step))?;
        Ok(())
    }
}

/// Feeds written bytes to a hash.
struct HashWriter(sha2::Sha256);

impl Write for HashWriter {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        sha2::Digest::update(&mut self.0, buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A value as getfattr shows it: quoted text with octal escapes for control bytes when it
/// is mostly printable, else `0x` hex.
fn value_text(v: &[u8]) -> String {
    let printable = v.iter().filter(|&&b| (0x20..0x7f).contains(&b)).count();
    if v.is_empty() || printable.saturating_mul(10) >= v.len().saturating_mul(9) {
        let mut s = String::from("\"");
        for &b in v {
            match b {
                b'"' => s.push_str("\\\""),
                b'\\' => s.push_str("\\\\"),
                0x20..=0x7e => s.push(char::from(b)),
                _ => s.push_str(&format!("\\{b:03o}")),
            }
        }
        s.push('"');
        s
    } else {
        let hex: String = v.iter().map(|b| format!("{b:02x}")).collect();
        format!("0x{hex}")
    }
}

/// `getfattr IMAGE PATH [-n NAME]`
pub fn getfattr(
    out: &mut Out<'_>,
    common: &Common,
    t: &Target,
    name: Option<&str>,
) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let (path, ino) = resolve(&fs, common, base, t, false)?;
    let inode = read_inode(&fs, common, base, ino)?;
    let (attrs, findings) = fs
        .read_xattrs(&inode)
        .map_err(|e| fs_err(common, base, &e))?;
    let full = |a: &xfs_format::files::Xattr| format!("{}{}", a.namespace.prefix(), lossy(&a.name));
    let selected: Vec<_> = attrs
        .iter()
        .filter(|a| name.is_none_or(|n| full(a) == n || lossy(&a.name) == n))
        .collect();
    if let Some(n) = name {
        if selected.is_empty() {
            return Err(CliError::new(format!("{path}: {n}: no such attribute")));
        }
    }
    if common.json {
        let list: Vec<Json> = selected
            .iter()
            .map(|a| {
                json!({"name": full(a), "namespace": a.namespace, "value": lossy(&a.value),
                       "value_hex": a.value.iter().map(|b| format!("{b:02x}")).collect::<String>(),
                       "length": a.value.len(), "incomplete": a.incomplete})
            })
            .collect();
        let f: Vec<String> = findings.iter().map(|f| f.to_string()).collect();
        return print_json(
            out,
            &json!({"path": path, "ino": ino, "attrs": list, "findings": f}),
        );
    }
    if let (Some(_), Some(a)) = (name, selected.first()) {
        out.write_all(&a.value)?;
        return Ok(());
    }
    if !selected.is_empty() {
        writeln!(out, "# file: {}", path.trim_start_matches('/'))?;
        for a in &selected {
            writeln!(out, "{}={}", full(a), value_text(&a.value))?;
        }
        writeln!(out)?;
    }
    for f in &findings {
        crate::error::warn_finding(&path, f);
    }
    Ok(())
}

/// Options of `ls`.
#[derive(Debug, Clone, Copy)]
pub struct LsOpts {
    pub long: bool,
    pub recursive: bool,
    pub all: bool,
}

/// `ls IMAGE [PATH] [-l] [-R]`
pub fn ls(out: &mut Out<'_>, common: &Common, t: &Target, o: LsOpts) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let (path, ino) = resolve(&fs, common, base, t, true)?;
    let mut queue = vec![(path.clone(), ino)];
    let mut visited = BTreeSet::new();
    let mut json_dirs = Vec::new();
    let mut first = true;
    while let Some((dpath, dino)) = queue.pop() {
        if !visited.insert(dino) || visited.len() > MAX_WALK_DIRS {
            writeln!(
                out,
                "# {dpath}: directory inode {dino} already listed (loop?)"
            )?;
            continue;
        }
        let dir = read_inode(&fs, common, base, dino)?;
        if dir.file_type() != S_IFDIR {
            if first {
                // ls of a non-directory lists the file itself.
                let e = Entry {
                    name: path.clone().into_bytes(),
                    ino: dino,
                    ftype: None,
                };
                print_entry(out, &fs, common, &e, o, &mut json_dirs, &dpath)?;
                if common.json {
                    return print_json(out, &json!(json_dirs));
                }
                return Ok(());
            }
            continue;
        }
        let listing = fs.read_dir(&dir).map_err(|e| fs_err(common, base, &e))?;
        if o.recursive && !common.json {
            if !first {
                writeln!(out)?;
            }
            writeln!(out, "{dpath}:")?;
        }
        first = false;
        let mut subdirs = Vec::new();
        let mut rows = Vec::new();
        for e in &listing.entries {
            let dot = e.name == b"." || e.name == b"..";
            if dot && !o.all {
                continue;
            }
            if common.json {
                rows.push(entry_json(&fs, e, o.long));
            } else {
                print_entry(out, &fs, common, e, o, &mut json_dirs, &dpath)?;
            }
            if o.recursive && !dot {
                if let Ok(child) = fs.read_inode(e.ino) {
                    if child.file_type() == S_IFDIR {
                        let p = format!("{}/{}", dpath.trim_end_matches('/'), lossy(&e.name));
                        subdirs.push((p, e.ino));
                    }
                }
            }
        }
        for f in &listing.findings {
            crate::error::warn_finding(&dpath, f);
        }
        if common.json {
            json_dirs.push(
                json!({"path": dpath, "ino": dino, "format": listing.format, "entries": rows}),
            );
        }
        // Depth-first in name order, like ls -R.
        subdirs.sort();
        queue.extend(subdirs.into_iter().rev());
    }
    if common.json {
        return print_json(out, &json!(json_dirs));
    }
    Ok(())
}

fn entry_json(fs: &Filesystem<Source>, e: &Entry, long: bool) -> Json {
    let mut v = json!({"name": lossy(&e.name), "ino": e.ino, "ftype": e.ftype.map(|f| ftype_name(Some(f)))});
    if long {
        match fs.read_inode(e.ino) {
            Ok(i) => set(&mut v, "stat", stat_json(fs, &i)),
            Err(err) => set(&mut v, "error", json!(err.to_string())),
        }
    }
    v
}

fn print_entry(
    out: &mut Out<'_>,
    fs: &Filesystem<Source>,
    common: &Common,
    e: &Entry,
    o: LsOpts,
    json_rows: &mut Vec<Json>,
    _dir: &str,
) -> Result<(), CliError> {
    if common.json {
        json_rows.push(entry_json(fs, e, o.long));
        return Ok(());
    }
    let name = lossy(&e.name);
    if !o.long {
        writeln!(out, "{name}")?;
        return Ok(());
    }
    match fs.read_inode(e.ino) {
        Ok(i) => {
            let r = &i.raw;
            let size = match i.data_fork.data {
                ForkData::Dev(d) => {
                    let (ma, mi) = dev_numbers(d);
                    format!("{ma}, {mi}")
                }
                _ => r.di_size.to_string(),
            };
            let mut line = format!(
                "{} {:>3} {:>5} {:>5} {:>10} {} {:>10} {name}",
                mode_string(r.di_mode),
                i.nlink(),
                r.di_uid,
                r.di_gid,
                size,
                fmt_time(&i.mtime()).get(..16).unwrap_or_default(),
                e.ino
            );
            if i.file_type() == S_IFLNK {
                if let Ok(t) = fs.read_link(&i) {
                    line.push_str(" -> ");
                    line.push_str(&lossy(&t));
                }
            }
            writeln!(out, "{line}")?;
        }
        Err(err) => writeln!(out, "?????????? {:>10} {name} ({err})", e.ino)?,
    }
    Ok(())
}

/// Every path of the tree below `root_ino`, with its inode, in depth-first name order.
/// Directories are entered once (visited set); `..` and `.` are not followed.
fn walk_tree(
    fs: &Filesystem<Source>,
    root_path: &str,
    root_ino: u64,
) -> (Vec<(String, u64)>, Vec<String>) {
    let mut out = vec![(root_path.to_string(), root_ino)];
    let mut warnings = Vec::new();
    let mut visited = BTreeSet::new();
    let mut stack = vec![(root_path.to_string(), root_ino)];
    while let Some((dpath, dino)) = stack.pop() {
        if !visited.insert(dino) || visited.len() > MAX_WALK_DIRS {
            continue;
        }
        let dir = match fs.read_inode(dino) {
            Ok(d) => d,
            Err(e) => {
                crate::error::mark_partial();
                warnings.push(crate::error::inode_line(&dpath, dino, &e));
                continue;
            }
        };
        if dir.file_type() != S_IFDIR {
            continue;
        }
        let listing = match fs.read_dir(&dir) {
            Ok(l) => l,
            Err(e) => {
                warnings.push(format!("{dpath}: {e}"));
                continue;
            }
        };
        for f in &listing.findings {
            warnings.push(crate::error::finding_line(&dpath, f));
        }
        let mut children = Vec::new();
        for e in listing.entries {
            if e.name == b"." || e.name == b".." {
                continue;
            }
            let p = format!("{}/{}", dpath.trim_end_matches('/'), lossy(&e.name));
            out.push((p.clone(), e.ino));
            children.push((p, e.ino));
        }
        children.sort();
        stack.extend(children.into_iter().rev());
    }
    (out, warnings)
}

/// The mode as TSK's bodyfile writes it: `r/rrw-r--r--`, `d/drwxr-xr-x`, ...
fn tsk_mode(mode: u16) -> String {
    let t = match type_char(mode) {
        '-' => 'r',
        '?' => '-',
        c => c,
    };
    let perms = mode_string(mode);
    format!("{t}/{t}{}", perms.get(1..).unwrap_or_default())
}

/// Names for the metadata inodes the superblock points at, which no directory reaches.
fn metadata_names(fs: &Filesystem<Source>) -> Vec<(u64, &'static str)> {
    let r = &fs.sb.raw;
    [
        (r.sb_rbmino, "realtime-bitmap"),
        (r.sb_rsumino, "realtime-summary"),
        (r.sb_uquotino, "user-quota"),
        (r.sb_gquotino, "group-quota"),
        (r.sb_pquotino, "project-quota"),
    ]
    .into_iter()
    .filter(|(i, _)| *i != 0 && *i != u64::MAX)
    .collect()
}

/// `timeline IMAGE [--bodyfile]`
pub fn timeline(out: &mut Out<'_>, common: &Common, bodyfile: bool) -> Result<(), CliError> {
    let (fs, _base) = common.open()?;
    let (paths, warnings) = walk_tree(&fs, "/", fs.root_ino());
    let mut by_ino: BTreeMap<u64, Vec<String>> = BTreeMap::new();
    for (p, i) in paths {
        by_ino.entry(i).or_default().push(p);
    }
    for (ino, name) in metadata_names(&fs) {
        by_ino
            .entry(ino)
            .or_insert_with(|| vec![format!("/$Metadata/{name}")]);
    }
    for ino in fs.allocated_inodes() {
        by_ino
            .entry(ino)
            .or_insert_with(|| vec![format!("/$OrphanFiles/OrphanFile-{ino}")]);
    }
    // Deleted names and inodes (`deleted`), marked as TSK marks them: ` (deleted)`.
    let deleted = crate::forensic_cmd::timeline_deleted(&fs);
    // Inodes are read one at a time as they are printed (nothing per inode is kept but its
    // names and, for the mactime order, its four timestamps), so memory stays small on
    // images with millions of inodes.
    if common.json {
        let mut v: Vec<Json> = Vec::new();
        for (ino, names) in &by_ino {
            let Ok(i) = fs.read_inode(*ino) else {
                continue;
            };
            for n in names {
                let mut s = stat_json(&fs, &i);
                set(&mut s, "path", json!(n));
                set(&mut s, "ino", json!(ino));
                v.push(s);
            }
        }
        v.extend(deleted.iter().map(|d| d.to_json()));
        return print_json(out, &json!(v));
    }
    if bodyfile {
        for (ino, names) in &by_ino {
            let Ok(i) = fs.read_inode(*ino) else {
                continue;
            };
            let r = &i.raw;
            let target = if i.file_type() == S_IFLNK {
                fs.read_link(&i).ok().map(|t| lossy(&t))
            } else {
                None
            };
            let crt = i.crtime().map_or(0, |t| t.sec);
            for name in names {
                let shown = match &target {
                    Some(t) => format!("{name} -> {t}"),
                    None => name.clone(),
                };
                writeln!(
                    out,
                    "0|{}|{}|{}|{}|{}|{}|{}|{}|{}|{}",
                    shown.replace('|', "\\|"),
                    ino,
                    tsk_mode(r.di_mode),
                    r.di_uid,
                    r.di_gid,
                    r.di_size,
                    i.atime().sec,
                    i.mtime().sec,
                    i.ctime().sec,
                    crt
                )?;
            }
        }
        for d in &deleted {
            writeln!(out, "{}", d.bodyfile_line())?;
        }
    } else {
        // mactime-like: one line per timestamp event, oldest first.
        let mut names: Vec<&String> = by_ino.values().flatten().collect();
        let mut events: Vec<(i64, u32, u8, usize)> = Vec::new();
        let mut k = 0usize;
        for (ino, ns) in &by_ino {
            let first = k;
            k = k.saturating_add(ns.len());
            let Ok(i) = fs.read_inode(*ino) else {
                continue;
            };
            for idx in first..k {
                let mut add = |t: Timestamp, what: u8| events.push((t.sec, t.nsec, what, idx));
                add(i.mtime(), 0);
                add(i.atime(), 1);
                add(i.ctime(), 2);
                if let Some(c) = i.crtime() {
                    add(c, 3);
                }
            }
        }
        for d in &deleted {
            let idx = names.len();
            names.push(&d.name);
            for (what, t) in d.events() {
                events.push((t.sec, t.nsec, what, idx));
            }
        }
        events.sort_unstable();
        const FLAGS: [&str; 4] = ["m...", ".a..", "..c.", "...b"];
        for (sec, nsec, what, idx) in events {
            let flag = FLAGS.get(usize::from(what)).copied().unwrap_or("....");
            let name = names.get(idx).map_or("", |n| n.as_str());
            writeln!(out, "{} {flag} {name}", fmt_time(&Timestamp { sec, nsec }))?;
        }
    }
    for w in warnings {
        eprintln!("xfs-inspect: warning: {w}");
    }
    Ok(())
}

/// Options of `extract`.
#[derive(Debug, Clone, Copy)]
pub struct ExtractOpts {
    pub force: bool,
}

struct Extractor<'a> {
    fs: &'a Filesystem<Source>,
    common: &'a Common,
    base: u64,
    opts: ExtractOpts,
    root: bool,
    /// First extracted path of each inode, for hard links.
    linked: HashMap<u64, PathBuf>,
    /// Directories to give their times once their contents are written (post-order).
    dir_times: Vec<(PathBuf, Inode)>,
    visited_dirs: BTreeSet<u64>,
    files: u64,
    warnings: Vec<String>,
}

/// Bytes free to an unprivileged writer on the filesystem that `dest` (or, when it does not
/// exist yet, its nearest existing ancestor) is on; `None` when statvfs fails.
fn free_bytes(dest: &Path) -> Option<u64> {
    let mut p = dest;
    let at = loop {
        if p.as_os_str().is_empty() {
            break Path::new(".");
        }
        if fs::symlink_metadata(p).is_ok() {
            break p;
        }
        p = p.parent().unwrap_or(Path::new("."));
    };
    let st = nix::sys::statvfs::statvfs(at).ok()?;
    // fsblkcnt_t and c_ulong are u64 on 64-bit Linux but narrower elsewhere.
    #[allow(clippy::useless_conversion)]
    Some(u64::from(st.blocks_available()).saturating_mul(u64::from(st.fragment_size())))
}

/// Refuses an extract of `need` bytes of file data onto a filesystem with `free` bytes.
fn fits(dest: &Path, need: u64, free: u64) -> Result<(), CliError> {
    if need > free {
        return Err(CliError::new(format!(
            "{}: the extract needs {need} bytes of file data but its filesystem has {free} bytes \
             free (holes are not counted; use --force to start anyway)",
            dest.display()
        )));
    }
    Ok(())
}

impl Extractor<'_> {
    /// Bytes of file data an extract of `ino` will write (holes and unwritten extents left
    /// out, hard-linked files once), walking the tree as [`Extractor::extract`] will.
    /// Unreadable parts count nothing: the extract reports them.
    fn allocated_bytes(&self, ino: u64) -> u64 {
        let mut total = 0u64;
        let mut seen = BTreeSet::new();
        let mut stack = vec![ino];
        let mut dirs = 0usize;
        while let Some(n) = stack.pop() {
            if !seen.insert(n) {
                continue;
            }
            let Ok(i) = self.fs.read_inode(n) else {
                continue;
            };
            match i.file_type() {
                S_IFREG => {
                    total = total.saturating_add(self.fs.data_allocated_bytes(&i).unwrap_or(0));
                }
                S_IFDIR if dirs < MAX_WALK_DIRS => {
                    dirs = dirs.saturating_add(1);
                    if let Ok(listing) = self.fs.read_dir(&i) {
                        stack.extend(
                            listing
                                .entries
                                .iter()
                                .filter(|e| e.name != b"." && e.name != b"..")
                                .map(|e| e.ino),
                        );
                    }
                }
                _ => {}
            }
        }
        total
    }

    fn io(&self, what: &Path, e: std::io::Error) -> CliError {
        CliError::new(format!("{}: {e}", what.display()))
    }

    fn prepare(&self, dest: &Path) -> Result<(), CliError> {
        match fs::symlink_metadata(dest) {
            Ok(m) if self.opts.force && !m.is_dir() => {
                fs::remove_file(dest).map_err(|e| self.io(dest, e))
            }
            Ok(m) if self.opts.force && m.is_dir() => Ok(()),
            Ok(_) => Err(CliError::new(format!(
                "{}: already exists (use --force to overwrite)",
                dest.display()
            ))),
            Err(_) => Ok(()),
        }
    }

    fn set_meta(&mut self, dest: &Path, i: &Inode) {
        let r = &i.raw;
        let is_link = i.file_type() == S_IFLNK;
        if self.root {
            let res = if is_link {
                std::os::unix::fs::lchown(dest, Some(r.di_uid), Some(r.di_gid))
            } else {
                std::os::unix::fs::chown(dest, Some(r.di_uid), Some(r.di_gid))
            };
            if let Err(e) = res {
                self.warnings
                    .push(format!("{}: chown: {e}", dest.display()));
            }
        }
        if !is_link {
            use std::os::unix::fs::PermissionsExt;
            let perm = fs::Permissions::from_mode(u32::from(r.di_mode & 0o7777));
            if let Err(e) = fs::set_permissions(dest, perm) {
                self.warnings
                    .push(format!("{}: chmod: {e}", dest.display()));
            }
        }
        // utimensat on the path: opens nothing (a fifo would block) and, with
        // NoFollowSymlink, gives symlinks their own times.
        let ts =
            |t: Timestamp| nix::sys::time::TimeSpec::new(t.sec, i64::from(t.nsec.min(999_999_999)));
        if let Err(e) = nix::sys::stat::utimensat(
            nix::fcntl::AT_FDCWD,
            dest,
            &ts(i.atime()),
            &ts(i.mtime()),
            nix::sys::stat::UtimensatFlags::NoFollowSymlink,
        ) {
            self.warnings
                .push(format!("{}: set times: {e}", dest.display()));
        }
    }

    fn extract(&mut self, ino: u64, dest: &Path) -> Result<(), CliError> {
        let i = self.fs.read_inode(ino).map_err(|e| {
            CliError::new(crate::error::inode_line(
                &dest.display().to_string(),
                ino,
                &e,
            ))
        })?;
        let ftype = i.file_type();
        if ftype != S_IFDIR {
            if let Some(first) = self.linked.get(&ino) {
                self.prepare(dest)?;
                fs::hard_link(first, dest).map_err(|e| self.io(dest, e))?;
                return Ok(());
            }
        }
        match i.file_type() {
            S_IFDIR => {
                if !self.visited_dirs.insert(ino) {
                    self.warnings.push(format!(
                        "{}: directory inode {ino} seen twice, not descended",
                        dest.display()
                    ));
                    return Ok(());
                }
                match fs::symlink_metadata(dest) {
                    Ok(m) if m.is_dir() && self.opts.force => {}
                    Ok(_) => self.prepare(dest)?,
                    Err(_) => {}
                }
                if !dest.is_dir() {
                    fs::create_dir(dest).map_err(|e| self.io(dest, e))?;
                }
                let listing = self
                    .fs
                    .read_dir(&i)
                    .map_err(|e| fs_err(self.common, self.base, &e))?;
                for f in &listing.findings {
                    self.warnings
                        .push(crate::error::finding_line(&dest.display().to_string(), f));
                }
                for e in listing.entries {
                    if e.name == b"." || e.name == b".." {
                        continue;
                    }
                    if e.name.is_empty() || e.name.contains(&b'/') || e.name.contains(&0) {
                        self.warnings.push(format!(
                            "{}: entry {:?} has an invalid name, skipped",
                            dest.display(),
                            lossy(&e.name)
                        ));
                        continue;
                    }
                    let child = dest.join(OsStr::from_bytes(&e.name));
                    if let Err(err) = self.extract(e.ino, &child) {
                        // Goes on with the rest; the result is partial (exit status 1).
                        crate::error::mark_partial();
                        self.warnings.push(err.0);
                    }
                }
                self.dir_times.push((dest.to_path_buf(), i));
            }
            S_IFREG => {
                self.prepare(dest)?;
                let f = fs::OpenOptions::new()
                    .write(true)
                    .create_new(true)
                    .open(dest)
                    .map_err(|e| self.io(dest, e))?;
                // Holes and unwritten extents stay holes: seeked over, the length set last.
                let shown = dest.display().to_string();
                let mut w = SparseWriter::new(&f).map_err(|e| write_err(&shown, &e))?;
                let n = self
                    .fs
                    .copy_data_to(&i, &mut w)
                    .map_err(|e| copy_err(self.common, self.base, &shown, &shown, e))?;
                w.finish(n).map_err(|e| write_err(&shown, &e))?;
                drop(f);
                self.set_meta(dest, &i);
            }
            S_IFLNK => {
                self.prepare(dest)?;
                let t = self
                    .fs
                    .read_link(&i)
                    .map_err(|e| fs_err(self.common, self.base, &e))?;
                std::os::unix::fs::symlink(OsStr::from_bytes(&t), dest)
                    .map_err(|e| self.io(dest, e))?;
                self.set_meta(dest, &i);
            }
            S_IFIFO | S_IFCHR | S_IFBLK | S_IFSOCK => {
                if !self.root || i.file_type() == S_IFSOCK {
                    self.warnings.push(format!(
                        "{}: {} not recreated{}",
                        dest.display(),
                        type_name(i.raw.di_mode),
                        if self.root { "" } else { " (needs root)" }
                    ));
                    return Ok(());
                }
                self.prepare(dest)?;
                let kind = match i.file_type() {
                    S_IFIFO => nix::sys::stat::SFlag::S_IFIFO,
                    S_IFCHR => nix::sys::stat::SFlag::S_IFCHR,
                    _ => nix::sys::stat::SFlag::S_IFBLK,
                };
                let dev = match i.data_fork.data {
                    ForkData::Dev(d) => {
                        let (ma, mi) = dev_numbers(d);
                        nix::sys::stat::makedev(ma.into(), mi.into())
                    }
                    _ => 0,
                };
                let perm =
                    nix::sys::stat::Mode::from_bits_truncate(u32::from(i.raw.di_mode & 0o7777));
                nix::sys::stat::mknod(dest, kind, perm, dev)
                    .map_err(|e| CliError::new(format!("{}: mknod: {e}", dest.display())))?;
                self.set_meta(dest, &i);
            }
            other => {
                self.warnings.push(format!(
                    "{}: inode {ino} has unknown type {other:#o}, skipped",
                    dest.display()
                ));
                return Ok(());
            }
        }
        self.files = self.files.saturating_add(1);
        if ftype != S_IFDIR {
            self.linked.insert(ino, dest.to_path_buf());
        }
        Ok(())
    }
}

/// `extract IMAGE PATH DEST`
pub fn extract(
    out: &mut Out<'_>,
    common: &Common,
    t: &Target,
    dest: &Path,
    opts: ExtractOpts,
) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let (path, ino) = resolve(&fs, common, base, t, false)?;
    // Like cp: into an existing directory, the file keeps its name (inode-N by number).
    let name = match (&t.inode, path.trim_end_matches('/').rsplit('/').next()) {
        (Some(n), _) => Some(format!("inode-{n}")),
        (None, Some(b)) if !b.is_empty() && b != "." && b != ".." => Some(b.to_string()),
        _ => None,
    };
    let dest_buf;
    let dest = match name {
        Some(n) if dest.is_dir() => {
            dest_buf = dest.join(n);
            dest_buf.as_path()
        }
        _ => dest,
    };
    let mut x = Extractor {
        fs: &fs,
        common,
        base,
        opts,
        root: nix::unistd::geteuid().is_root(),
        linked: HashMap::new(),
        dir_times: Vec::new(),
        visited_dirs: BTreeSet::new(),
        files: 0,
        warnings: Vec::new(),
    };
    if !opts.force {
        let need = x.allocated_bytes(ino);
        if let Some(free) = free_bytes(dest) {
            fits(dest, need, free)?;
        }
    }
    x.extract(ino, dest)?;
    // Directory times last, deepest first, so writing their contents does not change them.
    let dirs = std::mem::take(&mut x.dir_times);
    for (p, i) in dirs.iter().rev() {
        x.set_meta(p, i);
    }
    if common.json {
        return print_json(
            out,
            &json!({"path": path, "ino": ino, "dest": dest.display().to_string(),
                    "extracted": x.files, "warnings": x.warnings}),
        );
    }
    for w in &x.warnings {
        eprintln!("xfs-inspect: warning: {w}");
    }
    writeln!(
        out,
        "extracted {} from {path} to {}",
        x.files,
        dest.display()
    )?;
    Ok(())
}

/// The filesystem's uuid, for headers.
#[allow(dead_code)]
pub fn uuid(fs: &Filesystem<Source>) -> String {
    fmt_uuid(&fs.sb.raw.sb_uuid)
}
