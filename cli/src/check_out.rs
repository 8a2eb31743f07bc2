//! How `check` shows read errors: their block of its own in `--format repair`, and the label
//! of the findings they explain in the human format.

use std::io::Write;

use crate::error::CliError;
use crate::options::Out;

/// The read errors of `report` as one block before xfs_repair's lines (nothing when every
/// read succeeded): xfs_repair -n stops at the first read error; this check goes on.
pub fn read_error_block(out: &mut Out<'_>, report: &xfs_check::Report) -> Result<(), CliError> {
    if report.read_errors.is_empty() {
        return Ok(());
    }
    writeln!(
        out,
        "read errors (xfs_repair -n would stop at the first; the check went on past them):"
    )?;
    for f in &report.read_errors {
        writeln!(out, "  {}", f.render())?;
    }
    let all = report.repair_findings().filter(|f| f.is_dirty()).count();
    let explained = report
        .repair_findings()
        .filter(|f| f.is_dirty() && f.is_explained())
        .count();
    writeln!(
        out,
        "  {explained} of the {all} findings below are explained by these read errors; {} are not.",
        all.saturating_sub(explained)
    )?;
    writeln!(out)?;
    Ok(())
}

/// " [explained by a read error]" for a finding an unreadable range accounts for.
pub fn label(f: &xfs_check::Finding) -> &'static str {
    if f.is_explained() {
        " [explained by a read error]"
    } else {
        ""
    }
}
