//! `xfs-inspect`: an offline, read-only inspector for XFS filesystem images.

mod check_out;
mod cmd;
mod error;
mod files_cmd;
mod forensic_cmd;
mod image;
mod log_cmd;
mod mmap;
mod mounts;
mod options;

use std::process::ExitCode;

use clap::Parser;

use crate::cmd::Cli;

fn main() -> ExitCode {
    // A panic is a bug, but the user still gets one line, not a backtrace.
    std::panic::set_hook(Box::new(|info| {
        eprintln!("xfs-inspect: internal error: {info}; please report it");
    }));
    let cli = Cli::parse();
    match cmd::run(cli) {
        Ok(code) => code,
        Err(e) if e.0.is_empty() => ExitCode::SUCCESS, // reader closed the pipe
        Err(e) => {
            eprintln!("xfs-inspect: {e}");
            ExitCode::from(2)
        }
    }
}
