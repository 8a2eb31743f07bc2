//! `xfs-inspect log IMAGE`: the internal log, read-only.

use std::io::Write;

use serde_json::json;
use xfs_format::log::items::ItemBody;
use xfs_format::log::record::format_uuid;
use xfs_format::log::trans::flag_names;
use xfs_format::log::{read_fs_log, touched, LogReport};

use crate::error::CliError;
use crate::options::{print_json, Common, Out};

/// What to print besides the summary.
#[derive(Debug, Clone, Copy, Default)]
pub struct LogOpts {
    pub records: bool,
    pub transactions: bool,
    pub items: bool,
}

pub fn log(out: &mut Out<'_>, common: &Common, opts: LogOpts) -> Result<(), CliError> {
    let (fs, base) = common.open()?;
    let rep = read_fs_log(&fs).map_err(|e| CliError::from_format(&common.image, base, &e))?;
    if common.json {
        let mut v = json!({
            "geometry": rep.geometry,
            "state": rep.state,
            "reasons": rep.reasons,
            "head": rep.head,
            "tail": rep.tail,
            "last_record": rep.last_record,
            "record_count": rep.records.len(),
            "transaction_count": rep.transactions.len(),
            "incomplete_transaction_count": rep.incomplete.len(),
            "item_counts": rep.item_counts().into_iter().collect::<std::collections::BTreeMap<_, _>>(),
            "unmount_ops": rep.unmount_ops,
            "findings": rep.findings,
            "transactions_touched": rep.transactions.iter().map(|t| json!({
                "tid": t.tid,
                "lsn": [t.lsn.0, t.lsn.1],
                "items": t.items.len(),
                "touched": touched(t, &rep.geometry),
            })).collect::<Vec<_>>(),
        });
        if let Some(obj) = v.as_object_mut() {
            if opts.records {
                obj.insert("records".into(), json!(rep.records));
            }
            if opts.transactions || opts.items {
                obj.insert("transactions".into(), json!(rep.transactions));
                obj.insert("incomplete".into(), json!(rep.incomplete));
            }
        }
        print_json(out, &v)?;
        return Ok(());
    }
    summary(out, &rep)?;
    if opts.records {
        records(out, &rep)?;
    }
    if opts.transactions || opts.items {
        transactions(out, &rep, opts.items)?;
    }
    Ok(())
}

fn summary(out: &mut Out<'_>, rep: &LogReport) -> Result<(), CliError> {
    let g = &rep.geometry;
    writeln!(
        out,
        "log: internal, fsblock {} (byte {}), {} blocks = {} basic blocks, v{}, logsunit {}, sector {} bytes",
        g.start_fsb,
        g.offset,
        g.log_blocks,
        g.bb_count,
        if g.logv2 { 2 } else { 1 },
        g.sunit,
        g.sect_size
    )?;
    writeln!(out, "state: {}", rep.state.as_str())?;
    for r in &rep.reasons {
        writeln!(out, "  {r}")?;
    }
    if let (Some(h), Some(t)) = (rep.head, rep.tail) {
        writeln!(out, "head: cycle {} block {}", h.cycle, h.block)?;
        writeln!(out, "tail: cycle {} block {}", t.cycle, t.block)?;
    }
    let bad = rep
        .records
        .iter()
        .filter(|r| r.crc == xfs_format::fields::CrcState::Bad)
        .count();
    writeln!(
        out,
        "records: {} ({} with a bad CRC)",
        rep.records.len(),
        bad
    )?;
    writeln!(
        out,
        "transactions: {} committed, {} incomplete",
        rep.transactions.len(),
        rep.incomplete.len()
    )?;
    let counts: Vec<String> = rep
        .item_counts()
        .iter()
        .map(|(n, c)| format!("{n} {c}"))
        .collect();
    writeln!(
        out,
        "items: {}",
        if counts.is_empty() {
            "none".into()
        } else {
            counts.join(", ")
        }
    )?;
    for f in &rep.findings {
        writeln!(
            out,
            "problem: log block {} byte {}: {}",
            f.block, f.byte, f.message
        )?;
    }
    for (i, t) in rep.transactions.iter().enumerate() {
        writeln!(
            out,
            "trans {i}: tid {:#010x} lsn ({},{}) {} items: {}",
            t.tid,
            t.lsn.0,
            t.lsn.1,
            t.items.len(),
            touched(t, &rep.geometry).join(", ")
        )?;
    }
    Ok(())
}

fn records(out: &mut Out<'_>, rep: &LogReport) -> Result<(), CliError> {
    for r in &rep.records {
        let h = &r.header;
        writeln!(out)?;
        writeln!(
            out,
            "LOG REC AT LSN cycle {} block {} (block {} of the log)",
            h.lsn >> 32,
            h.lsn & 0xffff_ffff,
            r.block
        )?;
        writeln!(
            out,
            "  cycle: {}  version: {}  len: {}  lsn: {}:{}  tail_lsn: {}:{}  prev_block: {}",
            h.cycle,
            h.version,
            h.len,
            h.lsn >> 32,
            h.lsn & 0xffff_ffff,
            h.tail_lsn >> 32,
            h.tail_lsn & 0xffff_ffff,
            h.prev_block as i32
        )?;
        writeln!(
            out,
            "  num_logops: {}  fmt: {}  size: {}  header blocks: {}  crc: {:#010x} ({})",
            h.num_logops,
            h.fmt,
            h.size,
            r.header_blocks,
            h.crc,
            r.crc.as_str()
        )?;
        writeln!(out, "  uuid: {}", format_uuid(&h.fs_uuid))?;
        for (i, op) in r.ops.iter().enumerate() {
            writeln!(
                out,
                "  op {i}: tid {:#010x} len {} clientid {} flags {} (block {} byte {})",
                op.tid,
                op.len,
                match op.clientid {
                    0x69 => "TRANS".to_string(),
                    0xaa => "LOG".to_string(),
                    c => format!("{c:#x}"),
                },
                {
                    let f = flag_names(op.flags);
                    if f.is_empty() {
                        "none".to_string()
                    } else {
                        f.join("|")
                    }
                },
                op.block,
                op.byte
            )?;
        }
    }
    Ok(())
}

fn transactions(out: &mut Out<'_>, rep: &LogReport, items: bool) -> Result<(), CliError> {
    for t in rep.transactions.iter().chain(rep.incomplete.iter()) {
        writeln!(out)?;
        writeln!(
            out,
            "TRANS: tid {:#010x} lsn ({},{}) #items {}{}{}",
            t.tid,
            t.lsn.0,
            t.lsn.1,
            t.items.len(),
            t.header.as_ref().map_or(String::new(), |h| format!(
                " type {} num_items {}",
                h.trans_type, h.num_items
            )),
            if t.committed { "" } else { " (not committed)" }
        )?;
        for it in &t.items {
            writeln!(
                out,
                "{}: cnt {} total {} at log block {} byte {} lens {:?}",
                it.type_name, it.regions, it.total, it.block, it.byte, it.region_lens
            )?;
            if items {
                writeln!(out, "\t{}", item_line(&it.body))?;
            }
        }
    }
    Ok(())
}

fn item_line(b: &ItemBody) -> String {
    match b {
        ItemBody::Buf {
            flags,
            len,
            blkno,
            map_size,
            dirty_chunks,
            blft,
            content,
            data_bytes,
        } => format!(
            "BUF: start blkno {blkno:#x} len {len} bmap size {map_size} flags {flags:#x} ({blft}) dirty chunks {dirty_chunks} data {data_bytes} bytes{}",
            content.map_or(String::new(), |c| format!(" holds {c}"))
        ),
        ItemBody::Inode {
            fields,
            asize,
            dsize,
            ino,
            blkno,
            len,
            boffset,
            core,
            ..
        } => format!(
            "INODE: ino {ino:#x} flags {fields:#x} dsize {dsize} asize {asize} blkno {blkno} len {len} boffset {boffset}{}",
            core.as_ref().map_or(String::new(), |c| format!(
                " mode {:#o} nlink {} size {} nblocks {} nextents {} gen {:#x}",
                c.di_mode, c.di_nlink, c.di_size, c.di_nblocks, c.di_nextents, c.di_gen
            ))
        ),
        other => serde_json::to_string(other).unwrap_or_default(),
    }
}
