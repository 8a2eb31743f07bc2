//! Subcommands.

use std::io::{self, Write};
use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use serde_json::json;

use xfs_format::btree::{render_btdump, walk_with, AgAddressing, BtreeKind, WalkResult};
use xfs_format::btrees::{AgTree, AllocBtree, AllocBy, InoBtree, RefcountBtree, RmapBtree};
use xfs_format::fields::{render_xfs_db, to_json, Field};
use xfs_format::sb::Features;
use xfs_format::{ByteSource, Filesystem};
use xfs_inspect::partition::list_partitions;

use crate::error::CliError;
use crate::files_cmd;
use crate::forensic_cmd;
use crate::image::{open_raw, open_src, scheme_name, OpenOptions, Source};
use crate::log_cmd;
use crate::options::{print_json, Common, Out};

const ABOUT: &str = "Offline, read-only inspector for XFS filesystem images and devices.

xfs-inspect never writes, locks or mounts what it reads: images are opened O_RDONLY and
regular files are memory-mapped read-only (devices, and --no-mmap, use pread so a bad sector
is reported with its byte range instead of crashing).

The image comes first after the subcommand, as in The Sleuth Kit:
  xfs-inspect info disk.img
  xfs-inspect sb disk.img --ag 3
  xfs-inspect agf disk.img 0 --json

Field names and value formats of sb/agf/agi/agfl are those of `xfs_db print`, so the output
diffs cleanly against `xfs_db -r -c 'sb 0' -c print disk.img`.

Exit status: 0 success, 2 the image could not be read or the arguments are wrong.";

#[derive(Debug, Parser)]
#[command(name = "xfs-inspect", version, about = "Offline, read-only inspector for XFS filesystem images", long_about = ABOUT)]
pub struct Cli {
    #[command(subcommand)]
    cmd: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Geometry summary, like `xfs_info` (and `xfs_db -c info`)
    Info {
        #[command(flatten)]
        common: Common,
    },
    /// Print a superblock field by field, as `xfs_db -c 'sb N' -c print`
    ///
    /// Every field of struct xfs_dsb through xfsprogs 6.1; `crc = 0x... (correct|bad)` on v5,
    /// `(unchecked)` on v4. With --json, also the feature bits decoded by name.
    Sb {
        #[command(flatten)]
        common: Common,
        /// Which AG's superblock copy (0 is the primary)
        #[arg(long, value_name = "N", default_value_t = 0)]
        ag: u32,
    },
    /// Print the AG free-space header of AG N, as `xfs_db -c 'agf N' -c print`
    Agf {
        #[command(flatten)]
        common: Common,
        /// Allocation group number
        ag: u32,
    },
    /// Print the AG inode header of AG N (with its 64 unlinked buckets), as `xfs_db -c 'agi N' -c print`
    Agi {
        #[command(flatten)]
        common: Common,
        /// Allocation group number
        ag: u32,
    },
    /// Print the AG free list of AG N, as `xfs_db -c 'agfl N' -c print`
    ///
    /// The text output ends with the blocks actually on the list (walked from the AGF's
    /// flfirst, flcount entries, wrapping) on a line starting with `#`.
    Agfl {
        #[command(flatten)]
        common: Common,
        /// Allocation group number
        ag: u32,
    },
    /// Hex dump of raw blocks
    ///
    /// Give exactly one address: --daddr (512-byte sectors from the start of the
    /// filesystem), --fsb (filesystem block number, AG number in the high bits as in xfs_db)
    /// or --agbno AG/BLOCK. --count is in the same unit as the address (sectors for --daddr,
    /// filesystem blocks otherwise).
    Block {
        #[command(flatten)]
        common: Common,
        /// 512-byte sector address (xfs_db `daddr`)
        #[arg(long, group = "addr", value_name = "D")]
        daddr: Option<u64>,
        /// Filesystem block number (xfs_db `fsblock`: agno << agblklog | agbno)
        #[arg(long, group = "addr", value_name = "F")]
        fsb: Option<u64>,
        /// AG and block within it, e.g. 2/100
        #[arg(long, group = "addr", value_name = "AG/B")]
        agbno: Option<String>,
        /// Number of units to dump
        #[arg(long, default_value_t = 1, value_name = "N")]
        count: u64,
    },
    /// Every block and record of a per-AG btree, as `xfs_db btdump` prints it
    ///
    /// TREE is one of bno, cnt, ino, fino, rmap, refc. The text output equals
    /// `xfs_db -c 'agf AG' -c 'addr bnoroot' -c btdump` (or `btdump -i` with --nodes); problems
    /// the walk found (bad magic, CRC, level, siblings, cycles, pointers out of range) follow
    /// on lines starting with `#`. With --json: records, blocks and findings as data.
    Btree {
        #[command(flatten)]
        common: Common,
        /// Which tree: bno, cnt, ino, fino, rmap or refc
        #[arg(value_parser = parse_tree)]
        tree: AgTree,
        /// Allocation group number
        ag: u32,
        /// Also print the interior (node) blocks, as `btdump -i`
        #[arg(long)]
        nodes: bool,
    },
    /// The internal log: state, head and tail, records, transactions and log items
    ///
    /// Finds head and tail as xfs_logprint (libxlog) does, reports the state (clean, dirty,
    /// zeroed, unreadable with reasons), then decodes the records from tail to head and the
    /// transactions they carry. The summary lists per transaction what it touched.
    /// --records prints every record header and op header, --transactions every transaction
    /// and its items (as xfs_logprint -t), --items also decodes each item. Read-only: nothing
    /// is replayed.
    Log {
        #[command(flatten)]
        common: Common,
        /// Print every record header and its op headers
        #[arg(long)]
        records: bool,
        /// Print every transaction with its items
        #[arg(long)]
        transactions: bool,
        /// Print every transaction with its items decoded
        #[arg(long)]
        items: bool,
    },
    /// Every core field and fork of an inode, as `xfs_db -c 'inode INO' -c print`
    Inode {
        #[command(flatten)]
        common: Common,
        /// Inode number
        ino: u64,
    },
    /// The extents of an inode's data (or attribute) fork, as `xfs_db -c 'inode INO' -c bmap`
    Bmap {
        #[command(flatten)]
        common: Common,
        /// Inode number
        ino: u64,
        /// Show the attribute fork (`bmap -a`)
        #[arg(long)]
        attr: bool,
    },
    /// List a directory (default: the root)
    ///
    /// Prints names; -l adds mode, links, uid, gid, size, mtime and inode number; -R
    /// recurses; -a includes `.` and `..`. Reads the directory in any format (shortform,
    /// block, leaf, node, btree) without mounting.
    Ls {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: files_cmd::Target,
        /// Long listing
        #[arg(short = 'l', long)]
        long: bool,
        /// Recurse into subdirectories
        #[arg(short = 'R', long)]
        recursive: bool,
        /// Include `.` and `..`
        #[arg(short = 'a', long)]
        all: bool,
    },
    /// Metadata of a file, like stat(1), with the inode's own checks
    Stat {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: files_cmd::Target,
    },
    /// Target of a symbolic link (inline or remote), with its header checks
    Readlink {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: files_cmd::Target,
    },
    /// Extended attributes of a file, all namespaces, like `getfattr -d -m -`
    ///
    /// Values print as quoted text when printable, else as 0x hex. With -n NAME
    /// (e.g. user.comment) the raw value of that attribute is written to stdout.
    Getfattr {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: files_cmd::Target,
        /// Only this attribute (with or without its namespace prefix)
        #[arg(short = 'n', long, value_name = "NAME")]
        name: Option<String>,
    },
    /// Write a regular file's content to stdout (holes and unwritten extents read as zeros)
    ///
    /// Symlinks are followed inside the image. With --json, prints the size and SHA-256 of
    /// the content instead of the content.
    Cat {
        #[command(flatten)]
        common: Common,
        #[command(flatten)]
        target: files_cmd::Target,
    },
    /// Copy a file or a whole tree out of the image
    ///
    /// Keeps modes and times, hard links, symlinks as symlinks; owners, fifos and device
    /// nodes when run as root. If DEST is an existing directory the file or tree goes into
    /// it under its own name (inode-N with --inode), as with cp. Refuses to overwrite
    /// existing files unless --force. Damaged entries are skipped with a warning; the rest
    /// is extracted.
    Extract {
        #[command(flatten)]
        common: Common,
        /// PATH DEST: the file or tree to extract (use / for everything) and where to write
        /// it; with --inode only DEST
        #[arg(value_name = "PATH DEST", num_args = 1..=2, required = true)]
        args: Vec<PathBuf>,
        /// Extract by inode number instead of by path
        #[arg(long, value_name = "INO")]
        inode: Option<u64>,
        /// Overwrite existing files, and start even when the destination's free space is
        /// less than the file data to write (holes and unwritten extents are written as
        /// holes and not counted)
        #[arg(long)]
        force: bool,
    },
    /// Every inode with its path(s) and timestamps, for forensic timelines
    ///
    /// Default: mactime-like lines (time, m/a/c/b flag, path), oldest first. With
    /// --bodyfile: the TSK body format `MD5|name|inode|mode|UID|GID|size|atime|mtime|ctime|crtime`
    /// for mactime(1). Allocated inodes no directory reaches are listed as
    /// /$OrphanFiles/OrphanFile-INO. Deleted names that `deleted` finds are listed too,
    /// marked as TSK marks them: `NAME (deleted)`, or `(deleted-realloc)` when the inode
    /// number is in use again.
    Timeline {
        #[command(flatten)]
        common: Common,
        /// TSK bodyfile format
        #[arg(long)]
        bodyfile: bool,
    },
    /// Check the filesystem as `xfs_repair -n` does (phases 1-4, 6 and 7)
    ///
    /// Reports what `xfs_repair -n` (xfsprogs 6.1) would report, read-only. --format repair
    /// prints the same lines as xfs_repair -n (without its progress lines); json prints one
    /// object per finding per line; human (the default) groups the findings by structure
    /// with a one-sentence explanation each. Exit status: 0 clean, 1 corruption found,
    /// 2 the image cannot be checked.
    ///
    /// A dirty log is reported as xfs_repair -n does (its ALERT) and otherwise ignored.
    /// --replay-log checks the filesystem as log recovery would leave it (replayed in memory;
    /// the image is never written). --triage runs both and labels every finding "disappears
    /// after log replay" or "persists after log replay" (and "appears after log replay").
    Check {
        #[command(flatten)]
        common: Common,
        /// Output format: repair, json or human
        #[arg(long, value_enum, default_value = "human")]
        format: CheckFormat,
        /// Check with and without log replay and label each finding
        #[arg(long, conflicts_with = "replay_log")]
        triage: bool,
        /// xfs_repair's `-o` sub-options that change what is checked. Only `force_geometry`:
        /// check a filesystem with one or two AGs, whose geometry no set of secondary
        /// superblocks can confirm (xfs_repair -n, and check, stop there otherwise)
        #[arg(short = 'o', value_name = "SUBOPT", value_parser = ["force_geometry"])]
        suboptions: Vec<String>,
    },
    /// Deleted files: freed directory entries, free inodes and the log's history
    ///
    /// Lists every deleted name still recorded in directory data blocks (freed entries keep
    /// their name and the low 32 bits of their inode number; blocks of removed directories
    /// are found in free space), every free inode that left traces, and every inode whose
    /// earlier state the log holds (the whole log ring is read, not only tail to head).
    /// Each has a verdict: recoverable (every block it had is free now), partly,
    /// overwritten, or unknown. Text output is in the manner of The Sleuth Kit's `fls -d`
    /// (`r/r * INO:<TAB>PATH`), then `ils`-style lines for inodes without a name; --json
    /// prints one object per line (name, path, ino, verdict, evidence, size, times,
    /// extents). A summary per evidence source goes to stderr.
    Deleted {
        #[command(flatten)]
        common: Common,
    },
    /// Write a deleted inode's content to DEST (or stdout) from the best evidence
    ///
    /// The extents come from the newest logged core that had them (else a residual data
    /// fork); size and times from the logged core. Only blocks that are free now are read;
    /// blocks in use by other files are written as zeros unless --force. DEST is never
    /// overwritten. With --json, prints size, SHA-256 and the verdict (content goes only to
    /// DEST). Exit status: 0 complete, 1 partial, 2 nothing can be recovered.
    Recover {
        #[command(flatten)]
        common: Common,
        /// Inode number of the deleted file (as `deleted` lists it)
        ino: u64,
        /// Where to write the content (default: stdout)
        dest: Option<PathBuf>,
        /// Also read blocks that are in use by other files now
        #[arg(long)]
        force: bool,
        /// Which life of an inode number used by several deleted files: the `lsn` (CYCLE/BLOCK)
        /// `deleted --json` gives for the name (default: the newest)
        #[arg(long, value_name = "CYCLE/BLOCK")]
        lsn: Option<String>,
    },
    /// List the MBR/GPT partitions of a whole-disk image, the LVM2 volumes on them, and which
    /// hold XFS (open one with --partition N or --volume VG/LV)
    Partitions {
        #[command(flatten)]
        common: Common,
    },
}

/// Output formats of `check`.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
pub enum CheckFormat {
    /// The lines `xfs_repair -n` prints (progress lines left out)
    Repair,
    /// One JSON object per finding per line
    Json,
    /// Findings grouped by structure, each with an explanation
    Human,
}

/// Runs the checker on the image, replayed in memory or not.
fn run_check(
    common: &Common,
    replay: bool,
    force_geometry: bool,
) -> Result<xfs_check::Report, CliError> {
    // A check reads every piece of metadata once: pread into buffers that are dropped after
    // use. A memory map would count every metadata page it touched in the process's resident
    // set (800 MiB instead of 120 MiB on a 1M-inode image) and is no faster.
    let opts = OpenOptions {
        no_mmap: true,
        replay_log: replay,
        ..common.open_options()
    };
    let (src, base) = open_src(&common.image, &opts)?;
    let copts = xfs_check::CheckOptions {
        log_replayed: replay,
        force_geometry,
        base_offset: base,
    };
    // A spinner with the running phase on stderr, only when a person is watching.
    let bar = std::io::IsTerminal::is_terminal(&std::io::stderr()).then(|| {
        let b = indicatif::ProgressBar::new_spinner();
        b.enable_steady_tick(std::time::Duration::from_millis(120));
        b.set_style(
            indicatif::ProgressStyle::with_template("{spinner} [{elapsed}] {msg}")
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
        );
        b
    });
    let mut progress = |phase: u8, what: &str| {
        if let Some(b) = &bar {
            let view = if replay { " (log replayed)" } else { "" };
            b.set_message(format!("phase {phase}: {what}{view}"));
        }
    };
    let report = xfs_check::check_with(src, &copts, &mut progress)
        .map_err(|e| CliError::from_format(&common.image, base, &e));
    if let Some(b) = &bar {
        b.finish_and_clear();
    }
    report
}

fn check(
    out: &mut Out<'_>,
    common: &Common,
    format: CheckFormat,
    force_geometry: bool,
) -> Result<ExitCode, CliError> {
    let report = run_check(common, common.replay_log, force_geometry)?;
    match format {
        CheckFormat::Repair => {
            crate::check_out::read_error_block(out, &report)?;
            for f in report.repair_findings() {
                writeln!(out, "{}", f.render())?;
            }
        }
        CheckFormat::Json => {
            for f in report.findings() {
                writeln!(out, "{}", serde_json::to_string(f).unwrap_or_default())?;
            }
        }
        CheckFormat::Human => human_report(out, &report)?,
    }
    out.flush()?;
    if let Some(note) = &report.repair_crash {
        eprintln!("xfs-inspect: note: {note}");
    }
    Ok(ExitCode::from(report.exit_code()))
}

/// `check --triage`: which findings a log replay would make go away.
fn check_triage(
    out: &mut Out<'_>,
    common: &Common,
    format: CheckFormat,
    force_geometry: bool,
) -> Result<ExitCode, CliError> {
    let before = run_check(common, false, force_geometry)?;
    let after = run_check(common, true, force_geometry)?;
    let mut rows: Vec<(&'static str, &xfs_check::Finding)> = Vec::new();
    let mut left: Vec<&xfs_check::Finding> = after.findings().collect();
    for f in before.findings() {
        let label = match left.iter().position(|g| *g == f) {
            Some(i) => {
                left.remove(i);
                "persists after log replay"
            }
            None => "disappears after log replay",
        };
        rows.push((label, f));
    }
    rows.extend(left.into_iter().map(|f| ("appears after log replay", f)));
    match format {
        CheckFormat::Json => {
            for (label, f) in &rows {
                let mut v = serde_json::to_value(f).unwrap_or_default();
                if let Some(o) = v.as_object_mut() {
                    o.insert("triage".into(), json!(label));
                }
                writeln!(out, "{}", serde_json::to_string(&v).unwrap_or_default())?;
            }
        }
        CheckFormat::Repair | CheckFormat::Human => {
            if rows.is_empty() {
                writeln!(out, "No problems found, with or without log replay.")?;
            }
            for (label, f) in &rows {
                writeln!(
                    out,
                    "[{label}] [phase {}] {}",
                    f.phase,
                    f.render().replace('\n', " / ")
                )?;
            }
        }
    }
    out.flush()?;
    Ok(ExitCode::from(after.exit_code().max(before.exit_code())))
}

fn human_report(out: &mut Out<'_>, report: &xfs_check::Report) -> Result<(), CliError> {
    let mut groups: Vec<(xfs_check::Structure, Vec<&xfs_check::Finding>)> = Vec::new();
    for f in report.findings() {
        let s = f.kind.structure();
        match groups.iter_mut().find(|(g, _)| *g == s) {
            Some((_, v)) => v.push(f),
            None => groups.push((s, vec![f])),
        }
    }
    if groups.is_empty() {
        writeln!(
            out,
            "No problems found (phases {:?} checked).",
            xfs_check::IMPLEMENTED_PHASES
        )?;
        return Ok(());
    }
    for (s, fs) in groups {
        writeln!(out, "{}:", s.label())?;
        for f in fs {
            let why = f.kind.explanation();
            writeln!(
                out,
                "  [phase {}]{} {}",
                f.phase,
                crate::check_out::label(f),
                f.render().replace('\n', " / ")
            )?;
            writeln!(out, "      {why}")?;
        }
    }
    Ok(())
}

pub fn run(cli: Cli) -> Result<ExitCode, CliError> {
    let stdout = io::stdout();
    let mut out = stdout.lock();
    match cli.cmd {
        Command::Info { common } => info(&mut out, &common)?,
        Command::Sb { common, ag } => ag_header(&mut out, &common, "sb", ag, |fs| {
            let sb = fs.read_sb(ag)?;
            let checks = json!({
                "magic_ok": sb.magic_ok(),
                "crc": sb.crc,
                "features": Features::of(&sb.raw),
            });
            Ok((sb.fields(), checks))
        })?,
        Command::Agf { common, ag } => ag_header(&mut out, &common, "agf", ag, |fs| {
            let agf = fs.read_agf(ag)?;
            Ok((agf.fields(), json!(agf.checks)))
        })?,
        Command::Agi { common, ag } => ag_header(&mut out, &common, "agi", ag, |fs| {
            let agi = fs.read_agi(ag)?;
            Ok((agi.fields(), json!(agi.checks)))
        })?,
        Command::Agfl { common, ag } => agfl(&mut out, &common, ag)?,
        Command::Block {
            common,
            daddr,
            fsb,
            agbno,
            count,
        } => block(&mut out, &common, daddr, fsb, agbno.as_deref(), count)?,
        Command::Btree {
            common,
            tree,
            ag,
            nodes,
        } => btree(&mut out, &common, tree, ag, nodes)?,
        Command::Partitions { common } => partitions(&mut out, &common)?,
        Command::Check {
            common,
            format,
            triage,
            suboptions,
        } => {
            let force_geometry = suboptions.iter().any(|o| o == "force_geometry");
            return if triage {
                check_triage(&mut out, &common, format, force_geometry)
            } else {
                check(&mut out, &common, format, force_geometry)
            };
        }
        Command::Log {
            common,
            records,
            transactions,
            items,
        } => log_cmd::log(
            &mut out,
            &common,
            log_cmd::LogOpts {
                records,
                transactions,
                items,
            },
        )?,
        Command::Inode { common, ino } => files_cmd::inode(&mut out, &common, ino)?,
        Command::Bmap { common, ino, attr } => files_cmd::bmap(&mut out, &common, ino, attr)?,
        Command::Ls {
            common,
            target,
            long,
            recursive,
            all,
        } => files_cmd::ls(
            &mut out,
            &common,
            &target,
            files_cmd::LsOpts {
                long,
                recursive,
                all,
            },
        )?,
        Command::Stat { common, target } => files_cmd::stat(&mut out, &common, &target)?,
        Command::Readlink { common, target } => files_cmd::readlink(&mut out, &common, &target)?,
        Command::Getfattr {
            common,
            target,
            name,
        } => files_cmd::getfattr(&mut out, &common, &target, name.as_deref())?,
        Command::Cat { common, target } => files_cmd::cat(&mut out, &common, &target)?,
        Command::Extract {
            common,
            args,
            inode,
            force,
        } => {
            let (path, dest) = match (args.as_slice(), inode) {
                ([p, d], None) => (Some(p.to_string_lossy().into_owned()), d.clone()),
                ([d], Some(_)) => (None, d.clone()),
                ([_], None) => {
                    return Err(CliError::new(
                        "extract needs PATH DEST (or --inode INO DEST)",
                    ))
                }
                _ => return Err(CliError::new("with --inode, give only DEST")),
            };
            files_cmd::extract(
                &mut out,
                &common,
                &files_cmd::Target { path, inode },
                &dest,
                files_cmd::ExtractOpts { force },
            )?
        }
        Command::Timeline { common, bodyfile } => files_cmd::timeline(&mut out, &common, bodyfile)?,
        Command::Deleted { common } => return forensic_cmd::deleted(&mut out, &common),
        Command::Recover {
            common,
            ino,
            dest,
            force,
            lsn,
        } => {
            let opts = forensic_cmd::RecoverOpts {
                force,
                lsn: lsn.as_deref().map(forensic_cmd::parse_lsn).transpose()?,
            };
            return forensic_cmd::recover(&mut out, &common, ino, dest.as_deref(), opts);
        }
    }
    out.flush()?;
    Ok(crate::error::finished())
}

fn ag_err(
    common: &Common,
    fs: &Filesystem<Source>,
    base: u64,
    ag: u32,
    e: &xfs_format::Error,
) -> CliError {
    if ag >= fs.geo.ag_count {
        return CliError::new(format!(
            "AG {ag} does not exist: the filesystem has {} AGs (0..{})",
            fs.geo.ag_count,
            fs.geo.ag_count.saturating_sub(1)
        ));
    }
    CliError::from_format(&common.image, base, e)
}

/// `sb`, `agf`, `agi`: reads one header of AG `ag` and prints its fields as xfs_db does (or
/// them and their checks as JSON).
fn ag_header(
    out: &mut Out<'_>,
    common: &Common,
    what: &str,
    ag: u32,
    read: impl FnOnce(&Filesystem<Source>) -> xfs_format::Result<(Vec<Field>, serde_json::Value)>,
) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let (fields, checks) = read(&fs).map_err(|e| ag_err(common, &fs, base, ag, &e))?;
    if common.json {
        let v =
            json!({ "structure": what, "ag": ag, "fields": to_json(&fields), "checks": checks });
        print_json(out, &v)?;
    } else {
        out.write_all(render_xfs_db(&fields).as_bytes())?;
    }
    Ok(())
}

fn agfl(out: &mut Out<'_>, common: &Common, ag: u32) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let err = |e: xfs_format::Error| ag_err(common, &fs, base, ag, &e);
    let agfl = fs.read_agfl(ag).map_err(err)?;
    let agf = fs.read_agf(ag).map_err(err)?;
    let list = agfl.free_list(&agf.raw);
    if common.json {
        let free = match &list {
            Ok(l) => json!(l),
            Err(e) => json!({ "error": e.to_string() }),
        };
        let v = json!({
            "structure": "agfl", "ag": ag,
            "fields": to_json(&agfl.fields()),
            "checks": agfl.checks,
            "flfirst": agf.raw.agf_flfirst, "fllast": agf.raw.agf_fllast, "flcount": agf.raw.agf_flcount,
            "free_list": free,
        });
        print_json(out, &v)?;
        return Ok(());
    }
    out.write_all(render_xfs_db(&agfl.fields()).as_bytes())?;
    match list {
        Ok(l) => {
            let s: Vec<String> = l.iter().map(|b| b.to_string()).collect();
            writeln!(
                out,
                "# free list (flfirst {}, fllast {}, flcount {}): {}",
                agf.raw.agf_flfirst,
                agf.raw.agf_fllast,
                agf.raw.agf_flcount,
                s.join(" ")
            )?;
        }
        Err(e) => writeln!(out, "# free list cannot be walked: {e}")?,
    }
    Ok(())
}

fn info(out: &mut Out<'_>, common: &Common) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let r = &fs.sb.raw;
    let g = &fs.geo;
    let v5 = g.has_crc;
    let vn = r.sb_versionnum;
    let attr = if v5 || g.has_attr2 {
        2
    } else if vn & 0x10 != 0 {
        1
    } else {
        0
    };
    let projid32 = u32::from(v5 || g.has_projid32);
    let has_sector = vn & 0x800 != 0;
    let logsectsize = if has_sector {
        u32::from(r.sb_logsectsize)
    } else {
        512
    };
    let logsunit = if g.has_logv2 { r.sb_logsunit } else { 512 };
    let log_name = if r.sb_logstart > 0 {
        "internal log"
    } else {
        "external"
    };
    let rt_name = if r.sb_rblocks == 0 {
        "none"
    } else {
        "external"
    };
    let b = |x: bool| u32::from(x);
    if common.json {
        let v = json!({
            "image": common.image.display().to_string(),
            "offset": base,
            "image_size": fs.source().size(),
            "filesystem_size": fs.claimed_size(),
            "truncated": fs.is_truncated(),
            "primary_sb_crc": fs.sb.crc,
            "uuid": xfs_format::fields::fmt_uuid(&r.sb_uuid),
            "geometry": g,
            "features": Features::of(r),
        });
        print_json(out, &v)?;
        return Ok(());
    }
    let name = common.image.display().to_string();
    writeln!(
        out,
        "meta-data={:<22} isize={:<6} agcount={}, agsize={} blks",
        name, g.inode_size, g.ag_count, g.ag_blocks
    )?;
    writeln!(
        out,
        "         ={:<22} sectsz={:<5} attr={}, projid32bit={}",
        "", g.sect_size, attr, projid32
    )?;
    writeln!(
        out,
        "         ={:<22} crc={:<8} finobt={}, sparse={}, rmapbt={}",
        "",
        b(v5),
        b(g.has_finobt),
        b(g.has_sparse_inodes),
        b(g.has_rmapbt)
    )?;
    writeln!(
        out,
        "         ={:<22} reflink={:<4} bigtime={} inobtcount={} nrext64={}",
        "",
        b(g.has_reflink),
        b(g.has_bigtime),
        b(g.has_inobtcount),
        b(g.has_nrext64)
    )?;
    writeln!(
        out,
        "data     ={:<22} bsize={:<6} blocks={}, imaxpct={}",
        "", g.block_size, g.data_blocks, r.sb_imax_pct
    )?;
    writeln!(
        out,
        "         ={:<22} sunit={:<6} swidth={} blks",
        "", r.sb_unit, r.sb_width
    )?;
    writeln!(
        out,
        "naming   =version {:<14} bsize={:<6} ascii-ci={}, ftype={}",
        if v5 || vn & 0x2000 != 0 { 2 } else { 1 },
        g.dir_block_size,
        b(vn & 0x4000 != 0),
        b(g.has_ftype)
    )?;
    writeln!(
        out,
        "log      ={:<22} bsize={:<6} blocks={}, version={}",
        log_name,
        g.block_size,
        g.log_blocks,
        if g.has_logv2 { 2 } else { 1 }
    )?;
    writeln!(
        out,
        "         ={:<22} sectsz={:<5} sunit={} blks, lazy-count={}",
        "",
        logsectsize,
        logsunit.checked_div(g.block_size).unwrap_or(0),
        b(g.has_lazysbcount)
    )?;
    writeln!(
        out,
        "realtime ={:<22} extsz={:<6} blocks={}, rtextents={}",
        rt_name,
        u64::from(r.sb_rextsize).saturating_mul(g.block_size.into()),
        r.sb_rblocks,
        r.sb_rextents
    )?;
    if fs.is_truncated() {
        writeln!(
            out,
            "# warning: the image has {} bytes but the filesystem claims {}; reads past the end will fail",
            fs.source().size(),
            fs.claimed_size()
        )?;
    }
    Ok(())
}

fn parse_agbno(s: &str) -> Result<(u32, u64), CliError> {
    let bad = || CliError::new(format!("--agbno expects AG/BLOCK (e.g. 2/100), got {s:?}"));
    let (a, b) = s.split_once('/').ok_or_else(bad)?;
    Ok((
        a.trim().parse().map_err(|_| bad())?,
        b.trim().parse().map_err(|_| bad())?,
    ))
}

fn block(
    out: &mut Out<'_>,
    common: &Common,
    daddr: Option<u64>,
    fsb: Option<u64>,
    agbno: Option<&str>,
    count: u64,
) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let g = &fs.geo;
    let bs = u64::from(g.block_size);
    let too_big = || CliError::new("address out of range");
    // An AG-relative address: checked against the geometry, then turned into a byte offset.
    let ag_block = |ag: u32, b: u64, what: String| {
        if ag >= g.ag_count || b >= u64::from(g.ag_blocks) {
            return Err(CliError::new(format!(
                "{what} is outside the filesystem ({} AGs of {} blocks)",
                g.ag_count, g.ag_blocks
            )));
        }
        Ok((g.agbno_to_offset(ag, b).ok_or_else(too_big)?, bs, what))
    };
    let (offset, unit, what) = match (daddr, fsb, agbno) {
        (Some(d), None, None) => (
            d.checked_mul(512).ok_or_else(too_big)?,
            512u64,
            format!("daddr {d}"),
        ),
        (None, Some(f), None) => {
            let (ag, b) = g.fsb_to_agbno(f);
            let ag = u32::try_from(ag).map_err(|_| too_big())?;
            ag_block(ag, b, format!("fsb {f} (AG {ag} block {b})"))?
        }
        (None, None, Some(s)) => {
            let (ag, b) = parse_agbno(s)?;
            ag_block(ag, b, format!("AG {ag} block {b}"))?
        }
        _ => return Err(CliError::new("give exactly one of --daddr, --fsb, --agbno")),
    };
    if count == 0 {
        return Err(CliError::new("--count must be at least 1"));
    }
    let len = count.checked_mul(unit).ok_or_else(too_big)?;
    if len > xfs_format::source::MAX_READ as u64 {
        return Err(CliError::new(format!(
            "--count too large: at most {} bytes per dump",
            xfs_format::source::MAX_READ
        )));
    }
    let bytes = fs
        .source()
        .read_at(offset, len as usize)
        .map_err(|e| CliError::from_format(&common.image, base, &e))?;
    if common.json {
        let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
        let v = json!({ "address": what, "offset": base.saturating_add(offset), "length": len, "hex": hex });
        print_json(out, &v)?;
        return Ok(());
    }
    writeln!(
        out,
        "{what}: bytes {}..{} of {}",
        base.saturating_add(offset),
        base.saturating_add(offset).saturating_add(len),
        common.image.display()
    )?;
    let mut printer = hexyl::PrinterBuilder::new(out)
        .show_color(false)
        .enable_squeezing(true)
        .build();
    printer.display_offset(base.saturating_add(offset));
    printer.print_all(&bytes[..])?;
    Ok(())
}

fn partitions(out: &mut Out<'_>, common: &Common) -> Result<(), CliError> {
    let raw = open_raw(&common.image, &common.open_options())?;
    let table = list_partitions(&*raw).map_err(|e| CliError::from_format(&common.image, 0, &e))?;
    let lvm = xfs_inspect::lvm::scan(&*raw, &table);
    if common.json {
        let parts: Vec<_> = table
            .partitions
            .iter()
            .map(|p| {
                json!({"index": p.index, "start": p.start, "length": p.len, "type": p.type_desc,
                       "name": p.name, "xfs": p.has_xfs})
            })
            .collect();
        let v = json!({ "scheme": scheme_name(&table), "partitions": parts, "gpt": table.gpt, "notes": table.notes, "lvm": lvm });
        print_json(out, &v)?;
        return Ok(());
    }
    if table.partitions.is_empty() {
        let xfs = raw.read_at(0, 4).is_ok_and(|m| *m == *b"XFSB");
        writeln!(
            out,
            "{}: no partition table{}",
            common.image.display(),
            if xfs { " (XFS starts at byte 0)" } else { "" }
        )?;
        for line in lvm.text_lines() {
            writeln!(out, "{line}")?;
        }
        return Ok(());
    }
    writeln!(out, "{} partition table", scheme_name(&table))?;
    writeln!(
        out,
        "{:>3}  {:>14}  {:>14}  {:<4}  type",
        "#", "start (bytes)", "length", "xfs"
    )?;
    for p in &table.partitions {
        writeln!(
            out,
            "{:>3}  {:>14}  {:>14}  {:<4}  {}{}",
            p.index,
            p.start,
            p.len,
            if p.has_xfs { "yes" } else { "-" },
            p.type_desc,
            p.name
                .as_deref()
                .map(|n| format!(" \"{n}\""))
                .unwrap_or_default()
        )?;
    }
    for note in &table.notes {
        writeln!(out, "# {note}")?;
    }
    for line in lvm.text_lines() {
        writeln!(out, "{line}")?;
    }
    Ok(())
}

fn parse_tree(s: &str) -> Result<AgTree, String> {
    Ok(match s {
        "bno" | "bnobt" => AgTree::Bno,
        "cnt" | "cntbt" => AgTree::Cnt,
        "ino" | "inobt" => AgTree::Ino,
        "fino" | "finobt" => AgTree::Fino,
        "rmap" | "rmapbt" => AgTree::Rmap,
        "refc" | "refcount" | "refcountbt" => AgTree::Refcount,
        _ => return Err("expected one of bno, cnt, ino, fino, rmap, refc".into()),
    })
}

/// Walks one tree and renders it: btdump text plus `#` finding lines, or JSON.
fn dump_tree<K: BtreeKind>(
    out: &mut Out<'_>,
    json: bool,
    src: &Source,
    addr: &AgAddressing<'_>,
    kind: &K,
    (root, opts): (u64, xfs_format::btree::WalkOptions),
    nodes: bool,
) -> Result<(), CliError> {
    if json {
        let mut recs = Vec::new();
        let res: WalkResult = walk_with(src, addr, kind, root, opts, |r| {
            recs.push(
                json!({"block": r.ptr, "index": r.index, "rec": to_json(&kind.rec_fields(r.rec))}),
            )
        });
        let v = json!({
            "tree": kind.name(), "ag": addr.agno, "root": root,
            "height": res.height(), "block_count": res.block_count(),
            "blocks": res.blocks, "records": recs,
            "findings": res.findings.iter().map(|f| json!({"finding": f, "text": f.to_string()})).collect::<Vec<_>>(),
        });
        print_json(out, &v)?;
        return Ok(());
    }
    out.write_all(render_btdump(src, addr, kind, root, nodes).as_bytes())?;
    let res = walk_with(src, addr, kind, root, opts, |_| {});
    for f in &res.findings {
        writeln!(out, "# {f}")?;
    }
    Ok(())
}

fn btree(
    out: &mut Out<'_>,
    common: &Common,
    tree: AgTree,
    ag: u32,
    nodes: bool,
) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let err = |e: xfs_format::Error| ag_err(common, &fs, base, ag, &e);
    let agf = fs.read_agf(ag).map_err(err)?;
    let agi = fs.read_agi(ag).map_err(err)?;
    if !tree.exists(&fs.geo) {
        let name = format!("{tree:?}").to_lowercase();
        return Err(CliError::new(format!(
            "this filesystem has no {name} btree"
        )));
    }
    let addr = AgAddressing::new(&fs.geo, ag)
        .ok_or_else(|| CliError::new(format!("AG {ag} does not exist")))?;
    let root = u64::from(tree.root(&agf, &agi).0);
    let opts = tree.walk_options(&agf, &agi);
    let (json, src, r) = (common.json, fs.source(), (root, opts));
    match tree {
        AgTree::Bno => dump_tree(out, json, src, &addr, &AllocBtree(AllocBy::Block), r, nodes),
        AgTree::Cnt => dump_tree(out, json, src, &addr, &AllocBtree(AllocBy::Count), r, nodes),
        AgTree::Ino => dump_tree(out, json, src, &addr, &InoBtree::inobt(&fs.geo), r, nodes),
        AgTree::Fino => dump_tree(out, json, src, &addr, &InoBtree::finobt(&fs.geo), r, nodes),
        AgTree::Rmap => dump_tree(out, json, src, &addr, &RmapBtree, r, nodes),
        AgTree::Refcount => dump_tree(out, json, src, &addr, &RefcountBtree, r, nodes),
    }
}
