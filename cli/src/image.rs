//! Opening an image: mmap or pread, `--offset`, and whole-disk images with `--partition` or,
//! for LVM2 logical volumes, `--volume VG/LV`.

use std::fs::File;
use std::os::unix::fs::FileTypeExt;
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
}

pub type Source = Window<Box<dyn ByteSource>>;

/// Largest zstd-compressed image we decompress into memory.
pub const MAX_ZST_IMAGE: u64 = 4 << 30;

/// Opens the whole image read-only, as a byte source. A zstd-compressed image (`.zst`, as in
/// testdata/) is decompressed into memory, up to [`MAX_ZST_IMAGE`] bytes.
pub fn open_raw(path: &Path, no_mmap: bool) -> Result<Box<dyn ByteSource>, CliError> {
    let shown = path.display();
    let mut file =
        File::open(path).map_err(|e| CliError::new(format!("cannot open {shown}: {e}")))?;
    if path.extension().is_some_and(|e| e == "zst") {
        return decompress(&mut file, path);
    }
    let meta = file
        .metadata()
        .map_err(|e| CliError::new(format!("cannot stat {shown}: {e}")))?;
    let ft = meta.file_type();
    if ft.is_dir() {
        return Err(CliError::new(format!(
            "{shown} is a directory, not an image"
        )));
    }
    if no_mmap || ft.is_block_device() || ft.is_char_device() || meta.len() == 0 {
        let src = FileSource::from_file(file)
            .map_err(|e| CliError::new(format!("cannot read {shown}: {e}")))?;
        return Ok(Box::new(src));
    }
    let map = crate::mmap::map_readonly(&file)
        .map_err(|e| CliError::new(format!("cannot map {shown}: {e} (try --no-mmap)")))?;
    Ok(Box::new(SliceSource(map)))
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
    let raw = open_raw(path, opts.no_mmap)?;
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
    if opts.replay_log {
        let (src, rep) = replay(path, src, start)?;
        warn_not_replayed(&rep);
        return Ok((src, start));
    }
    Ok((src, start))
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

fn decompress(file: &mut File, path: &Path) -> Result<Box<dyn ByteSource>, CliError> {
    use std::io::Read;
    let shown = path.display();
    let dec = zstd::stream::read::Decoder::new(file)
        .map_err(|e| CliError::new(format!("cannot decompress {shown}: {e}")))?;
    let mut buf = Vec::new();
    dec.take(MAX_ZST_IMAGE.saturating_add(1))
        .read_to_end(&mut buf)
        .map_err(|e| CliError::new(format!("cannot decompress {shown}: {e}")))?;
    if buf.len() as u64 > MAX_ZST_IMAGE {
        return Err(CliError::new(format!(
            "{shown} decompresses to more than {} GiB; decompress it to a file first (zstd -d)",
            MAX_ZST_IMAGE >> 30
        )));
    }
    Ok(Box::new(SliceSource(buf)))
}
