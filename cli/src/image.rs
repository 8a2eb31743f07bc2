//! Opening an image: mmap or pread, `--offset`, and whole-disk images with `--partition` or,
//! for LVM2 logical volumes, `--volume VG/LV`.

use std::fs::File;
use std::path::Path;

use xfs_check::replay::{ReplayReport, ReplayedSource, DEFAULT_OVERLAY_CAP};
use xfs_format::{ByteSource, Concat, FileSource, Filesystem, SliceSource, Window};
use xfs_inspect::lvm;
use xfs_inspect::partition::{list_partitions, PartitionTable, Scheme};

use crate::error::CliError;

/// How to find the filesystem in the image.
#[derive(Debug, Clone, Default)]
pub struct OpenOptions {
    pub offset: Option<u64>,
    pub partition: Option<u32>,
    /// An LVM2 logical volume, `VG/LV`.
    pub volume: Option<String>,
    pub no_mmap: bool,
    /// Show the filesystem as log recovery would leave it (an in-memory overlay).
    pub replay_log: bool,
    /// Where a compressed image is decompressed to (default: $TMPDIR or /tmp).
    pub tmpdir: Option<std::path::PathBuf>,
}

pub type Source = Window<Box<dyn ByteSource>>;

/// Opens the whole image read-only, as a byte source. A zstd-compressed image (`.zst`, as in
/// testdata/) is decompressed into a sparse temporary file in `--tmpdir` (see
/// [`decompress`]).
///
/// The image (file or device) is always read with pread: a memory map turns a failed read of
/// a failing disk, a FUSE or network file into SIGBUS, and no test of the medium can tell
/// beforehand (a regular file on a local disk with bad sectors fails just the same). Measured
/// on scripts/bench's 1M-inode image (release build, 3 alternating runs, medians): `ls -R /`
/// 1.98 s with a map, 3.72 s with pread (CPU 1.05 s, 1.94 s; RSS 594 MB, 7 MB); `timeline`
/// 9.99 s, 10.42 s (CPU 6.6 s, 8.0 s; RSS 924 MB, 336 MB); `check` already read with pread.
/// Only the private, unlinked decompressed copy of a `.zst` is mapped (unless `--no-mmap`):
/// no one else can truncate it.
pub fn open_raw(path: &Path, opts: &OpenOptions) -> Result<Box<dyn ByteSource>, CliError> {
    let shown = path.display();
    let file = File::open(path).map_err(|e| CliError::new(format!("cannot open {shown}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| CliError::new(format!("cannot stat {shown}: {e}")))?;
    if meta.file_type().is_dir() {
        return Err(CliError::new(format!(
            "{shown} is a directory, not an image"
        )));
    }
    if path.extension().is_some_and(|e| e == "zst") {
        let mut file = file;
        let copy = decompress(&mut file, path, opts.tmpdir.as_deref())?;
        let len = copy.metadata().map(|m| m.len()).unwrap_or(0);
        if !opts.no_mmap && len > 0 {
            let map = crate::mmap::map_readonly(&copy).map_err(|e| {
                CliError::new(format!(
                    "cannot map the decompressed copy of {shown}: {e} (try --no-mmap)"
                ))
            })?;
            return Ok(Box::new(SliceSource(map)));
        }
        return file_source(copy, path);
    }
    file_source(file, path)
}

fn file_source(file: File, path: &Path) -> Result<Box<dyn ByteSource>, CliError> {
    // No read-ahead: a medium error in a neighbouring range would fail the read-ahead
    // request and with it the pages asked for (a multi-sector request fails whole), so
    // errors would spread to readable blocks and the sector-by-sector re-read could not
    // locate them. Advice only: a file system that ignores it reads as before.
    let _ = nix::fcntl::posix_fadvise(
        &file,
        0,
        0,
        nix::fcntl::PosixFadviseAdvice::POSIX_FADV_RANDOM,
    );
    let src = FileSource::from_file(file)
        .map_err(|e| CliError::new(format!("cannot read {}: {e}", path.display())))?;
    Ok(Box::new(src))
}

/// Where the filesystem is in the image.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Placement {
    /// From this byte, for this many bytes (to the end of the image when `None`).
    Range(u64, Option<u64>),
    /// An LVM2 logical volume: these byte ranges (start, length) of the image, in order.
    Volume(Vec<(u64, u64)>),
}

/// Where the filesystem is in the image, after `--offset` / `--partition` / `--volume` /
/// partition-table detection.
pub fn locate(
    path: &Path,
    raw: &dyn ByteSource,
    opts: &OpenOptions,
) -> Result<Placement, CliError> {
    let shown = path.display();
    if opts.offset.is_some() && opts.partition.is_some() {
        return Err(CliError::new("--offset and --partition cannot be combined"));
    }
    if opts.volume.is_some() && (opts.offset.is_some() || opts.partition.is_some()) {
        return Err(CliError::new(
            "--volume cannot be combined with --offset or --partition",
        ));
    }
    if let Some(off) = opts.offset {
        return Ok(Placement::Range(off, None));
    }
    let table = list_partitions(raw).map_err(|e| CliError::from_format(path, 0, &e))?;
    if let Some(name) = &opts.volume {
        let found = lvm::scan(raw, &table);
        let pieces = found
            .resolve(name)
            .map_err(|e| CliError::new(format!("{shown}: {e}")))?;
        return Ok(Placement::Volume(pieces));
    }
    if let Some(n) = opts.partition {
        let p = table
            .partitions
            .iter()
            .find(|p| p.index == n)
            .ok_or_else(|| {
                CliError::new(format!(
                    "{shown}: no partition {n} ({})",
                    describe_table(&table)
                ))
            })?;
        return Ok(Placement::Range(p.start, Some(p.len)));
    }
    let starts_with_xfs = raw.read_at(0, 4).is_ok_and(|m| *m == *b"XFSB");
    if starts_with_xfs {
        return Ok(Placement::Range(0, None));
    }
    let xfs: Vec<String> = table
        .partitions
        .iter()
        .filter(|p| p.has_xfs)
        .map(|p| format!("{} (byte {})", p.index, p.start))
        .collect();
    // Logical volumes holding XFS, on partitions or on the whole image.
    let lvm = lvm::scan(raw, &table);
    let lvs: Vec<String> = lvm
        .vgs
        .iter()
        .flat_map(|vg| {
            vg.lvs
                .iter()
                .filter(|lv| lv.has_xfs)
                .map(move |lv| format!("{}/{}", vg.name, lv.name))
        })
        .collect();
    if table.partitions.is_empty() && lvm.pvs.is_empty() {
        return Ok(Placement::Range(0, None));
    }
    let mut choices = Vec::new();
    if !xfs.is_empty() {
        choices.push(format!(
            "XFS found in partition {}: choose one with --partition N",
            xfs.join(", ")
        ));
    }
    if !lvs.is_empty() {
        choices.push(format!(
            "XFS found in logical volume {}: choose one with --volume VG/LV",
            lvs.join(", ")
        ));
    }
    if table.partitions.is_empty() {
        return Err(CliError::new(if choices.is_empty() {
            format!("{shown} is an LVM2 physical volume and no logical volume holds XFS")
        } else {
            format!("{shown} is an LVM2 physical volume; {}", choices.join("; "))
        }));
    }
    Err(CliError::new(if choices.is_empty() {
        format!(
            "{shown} is a whole-disk image ({}) and no partition or logical volume holds an XFS superblock",
            describe_table(&table)
        )
    } else {
        format!("{shown} is a whole-disk image; {}", choices.join("; "))
    }))
}

/// "GPT", "MBR" or "no partition table".
pub fn scheme_name(t: &PartitionTable) -> &'static str {
    match t.scheme {
        Some(Scheme::Gpt) => "GPT",
        Some(Scheme::Mbr) => "MBR",
        None => "no partition table",
    }
}

fn describe_table(t: &PartitionTable) -> String {
    format!("{}, {} partitions", scheme_name(t), t.partitions.len())
}

/// Opens the image and returns the byte range holding the filesystem, with its start.
pub fn open_src(path: &Path, opts: &OpenOptions) -> Result<(Source, u64), CliError> {
    let raw = open_raw(path, opts)?;
    let (src, start) = match locate(path, &*raw, opts)? {
        Placement::Range(start, len) => {
            if start >= raw.size() {
                return Err(CliError::new(format!(
                    "{}: offset {start} is beyond the end of the image ({} bytes)",
                    path.display(),
                    raw.size()
                )));
            }
            (Window::new(raw, start, len), start)
        }
        Placement::Volume(pieces) => {
            // Byte positions in messages are made absolute with the first segment's start:
            // exact for a single-segment LV, positions within the LV otherwise.
            let start = match pieces.as_slice() {
                [(s, _)] => *s,
                _ => 0,
            };
            let lv = Concat::new(raw, &pieces).map_err(|e| CliError::from_format(path, 0, &e))?;
            let boxed: Box<dyn ByteSource> = Box::new(lv);
            (Window::new(boxed, 0, None), start)
        }
    };
    warn_if_mounted(path, opts.replay_log);
    if opts.replay_log {
        let (src, rep) = replay(path, src, start)?;
        warn_not_replayed(&rep);
        return Ok((src, start));
    }
    Ok((src, start))
}

/// Warns on stderr (once per run) when the filesystem in `path` is mounted: what is read is
/// live and may change while it is read.
fn warn_if_mounted(path: &Path, replayed: bool) {
    static WARNED: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let mounts = crate::mounts::mounts_of(path);
    if mounts.is_empty() || WARNED.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    for m in mounts {
        let how = if m.rw { "read-write" } else { "read-only" };
        let hint = if replayed {
            ""
        } else {
            "; --replay-log also shows what is still only in its log"
        };
        eprintln!(
            "xfs-inspect: warning: {} is mounted {how} at {} ({}): the filesystem is live, what is read may change while it is read and findings may be transient{hint}",
            path.display(),
            m.point,
            m.device
        );
    }
}

/// Replays the log of the filesystem in `src` into an in-memory overlay; the result is again
/// a [`Source`].
pub fn replay(path: &Path, src: Source, start: u64) -> Result<(Source, ReplayReport), CliError> {
    let (rs, rep) = ReplayedSource::replay(src, DEFAULT_OVERLAY_CAP)
        .map_err(|e| CliError::from_format(path, start, &e))?;
    let boxed: Box<dyn ByteSource> = Box::new(rs);
    Ok((Window::new(boxed, 0, None), rep))
}

/// Tells on stderr what the replay left out.
pub fn warn_not_replayed(rep: &ReplayReport) {
    for n in &rep.not_replayed {
        eprintln!(
            "xfs-inspect: log replay: {} (tid {:#x}, lsn {}:{}): {}",
            n.item, n.tid, n.lsn.0, n.lsn.1, n.message
        );
    }
}

/// Opens the image and the filesystem in it.
pub fn open_fs(path: &Path, opts: &OpenOptions) -> Result<(Filesystem<Source>, u64), CliError> {
    let (src, start) = open_src(path, opts)?;
    let fs = Filesystem::open(src).map_err(|e| CliError::from_format(path, start, &e))?;
    Ok((fs, start))
}

/// Runs of zeros at least this long become holes of the temporary file.
const HOLE_GRAIN: usize = 64 << 10;
static ZEROS: [u8; HOLE_GRAIN] = [0; HOLE_GRAIN];

/// Decompresses the zstd image `file` into a new temporary file in `tmpdir` (default
/// $TMPDIR or /tmp), unlinked at once so that it goes away however the run ends. Runs of
/// zeros are left as holes, so a sparse image takes on disk about what its data takes and
/// memory stays bounded (one 1 MiB buffer) whatever the image's size.
fn decompress(file: &mut File, path: &Path, tmpdir: Option<&Path>) -> Result<File, CliError> {
    use std::io::Read;
    use std::os::unix::fs::FileExt;
    let shown = path.display();
    let dir = tmpdir.map_or_else(std::env::temp_dir, Path::to_path_buf);
    let (tmp, tmp_path) = create_temp(&dir).map_err(|e| {
        CliError::new(format!(
            "cannot create a temporary file in {} to decompress {shown}: {e} (choose another directory with --tmpdir)",
            dir.display()
        ))
    })?;
    // Unlinked now: the open descriptor keeps it until the end of the run.
    let _ = std::fs::remove_file(&tmp_path);
    let mut dec = zstd::stream::read::Decoder::new(file)
        .map_err(|e| CliError::new(format!("cannot decompress {shown}: {e}")))?;
    let mut buf = vec![0u8; 1 << 20];
    let mut pos: u64 = 0;
    loop {
        // Fill the buffer (a zstd reader returns short reads).
        let mut have = 0usize;
        while have < buf.len() {
            let n = dec
                .read(buf.get_mut(have..).unwrap_or_default())
                .map_err(|e| CliError::new(format!("cannot decompress {shown}: {e}")))?;
            if n == 0 {
                break;
            }
            have = have.saturating_add(n);
        }
        for piece in buf.get(..have).unwrap_or_default().chunks(HOLE_GRAIN) {
            // Slice equality is a memcmp, fast in every build.
            if piece != ZEROS.get(..piece.len()).unwrap_or_default() {
                tmp.write_all_at(piece, pos)
                    .map_err(|e| space_error(&e, &dir, path, pos))?;
            }
            pos = pos.saturating_add(piece.len() as u64);
        }
        if have < buf.len() {
            break;
        }
    }
    // The size, with the trailing zeros as a hole.
    tmp.set_len(pos)
        .map_err(|e| space_error(&e, &dir, path, pos))?;
    Ok(tmp)
}

/// The error of a failed write into the temporary file.
fn space_error(e: &std::io::Error, dir: &Path, path: &Path, at: u64) -> CliError {
    let full = matches!(e.raw_os_error(), Some(28 | 122 | 27)); // ENOSPC, EDQUOT, EFBIG
    CliError::new(if full {
        format!(
            "no space left in {} to decompress {} (stopped at byte {at} of the image; its zero runs take no space): choose another directory with --tmpdir",
            dir.display(),
            path.display()
        )
    } else {
        format!(
            "cannot write the decompressed copy of {} in {}: {e}",
            path.display(),
            dir.display()
        )
    })
}

/// A new file `xfs-inspect-PID-N` in `dir`, readable and writable by us only.
fn create_temp(dir: &Path) -> std::io::Result<(File, std::path::PathBuf)> {
    use std::os::unix::fs::OpenOptionsExt;
    let pid = std::process::id();
    let mut last = std::io::Error::other("no free name");
    for n in 0..1000u32 {
        let p = dir.join(format!("xfs-inspect-{pid}-{n}.img"));
        match std::fs::OpenOptions::new()
            .read(true)
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&p)
        {
            Ok(f) => return Ok((f, p)),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = e,
            Err(e) => return Err(e),
        }
    }
    Err(last)
}
