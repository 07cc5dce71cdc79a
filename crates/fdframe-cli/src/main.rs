//! `fdframe`: the kernel log, `dmesg -w` done right.
//!
//! ```text
//! fdframe kmsg              print the kernel ring buffer
//! fdframe kmsg --follow     ... and keep printing new records
//! ```

#![forbid(unsafe_code)]

mod kmsg;

use std::io;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// Read Linux file descriptors as streams of decoded messages.
#[derive(Debug, Parser)]
#[command(name = "fdframe", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the kernel log from /dev/kmsg, like `dmesg` (and `dmesg -w` with --follow).
    Kmsg(kmsg::KmsgArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Kmsg(args) => kmsg::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): that is how pipelines end.
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fdframe: {e}");
            ExitCode::FAILURE
        }
    }
}
