//! What every subcommand shares: the options after the image, how they open it, and where
//! output goes. The subcommand modules (cmd, files_cmd, log_cmd) all build on this one, and
//! none of them on another's internals.

use std::io::{self, Write};
use std::path::PathBuf;

use clap::Args;

use xfs_format::Filesystem;

use crate::error::CliError;
use crate::image::{open_fs, OpenOptions, Source};

/// Where a subcommand writes: stdout, locked once.
pub type Out<'a> = io::StdoutLock<'a>;

/// Options every subcommand takes after the image.
#[derive(Debug, Args, Clone)]
pub struct Common {
    /// Image file or block device holding the filesystem
    pub image: PathBuf,
    /// The filesystem starts at this byte offset of the image (e.g. 1048576 for a partition
    /// at sector 2048)
    #[arg(long, value_name = "BYTES", global = true)]
    pub offset: Option<u64>,
    /// Whole-disk image: use partition N (as numbered by `xfs-inspect partitions`)
    #[arg(long, value_name = "N", global = true)]
    pub partition: Option<u32>,
    /// Whole-disk image with LVM2: use logical volume VG/LV (as listed by `xfs-inspect
    /// partitions`); linear volumes only, their segments read in order wherever they lie
    #[arg(long, value_name = "VG/LV", global = true, conflicts_with_all = ["offset", "partition"])]
    pub volume: Option<String>,
    /// Read a decompressed .zst copy with pread too (images and devices are always read
    /// with pread: a memory map would turn a failing disk's read errors into SIGBUS)
    #[arg(long, global = true)]
    pub no_mmap: bool,
    /// Print JSON instead of text
    #[arg(long, global = true)]
    pub json: bool,
    /// Replay the internal log in memory first (the image is never written): see the
    /// filesystem as a mount's log recovery would leave it
    #[arg(long, global = true)]
    pub replay_log: bool,
    /// Directory a compressed (.zst) image is decompressed into, as a sparse temporary file
    /// removed at exit (default: $TMPDIR, else /tmp)
    #[arg(long, value_name = "DIR", global = true)]
    pub tmpdir: Option<PathBuf>,
}

impl Common {
    /// How these options open the image.
    pub fn open_options(&self) -> OpenOptions {
        OpenOptions {
            offset: self.offset,
            partition: self.partition,
            volume: self.volume.clone(),
            no_mmap: self.no_mmap,
            replay_log: self.replay_log,
            tmpdir: self.tmpdir.clone(),
        }
    }

    pub fn open(&self) -> Result<(Filesystem<Source>, u64), CliError> {
        open_fs(&self.image, &self.open_options())
    }
}

/// Prints `v` as pretty JSON on one `--json` output.
pub fn print_json(out: &mut Out<'_>, v: &serde_json::Value) -> Result<(), CliError> {
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(v).unwrap_or_default()
    )?;
    Ok(())
}
