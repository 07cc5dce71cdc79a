//! `fdframe`: the kernel log, `dmesg -w` done right, and any file descriptor, decoded.
//!
//! ```text
//! fdframe kmsg                      print the kernel ring buffer (like dmesg)
//! fdframe kmsg --follow             ... and keep printing new records (like dmesg -w)
//! fdframe read --codec lines -      decode standard input
//! ```
//!
//! Module map: `kmsg_cmd` and `read_cmd` are the two subcommands; `source` turns a descriptor into
//! items on the chosen backend (the printing loops are written once, over its `Source` trait);
//! `human`, `json` and `time` render; `filter` parses `--level`/`--facility`; `cursor` keeps the
//! `--cursor` file; `stop` turns Ctrl-C, SIGTERM and a closed stdout into a clean stop;
//! `failure` is the error a command ends with.

#![forbid(unsafe_code)]

mod cursor;
mod failure;
mod filter;
mod human;
mod json;
mod kmsg_cmd;
mod read_cmd;
mod render;
mod safe_file;
mod source;
mod stop;
mod time;

use std::io::Write;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

use crate::failure::{Failure, Finished};

const AFTER_HELP: &str = "\
Examples:
  sudo fdframe kmsg                     the kernel log, as dmesg prints it
  sudo fdframe kmsg -w -l warn          follow, warnings and worse only
  sudo fdframe kmsg --json | jq .       JSON lines, one object per record or loss notice
  sudo fdframe kmsg -w --cursor /var/lib/fdframe/kmsg.cursor
                                        follow, resuming after the last record printed
  printf 'a\\nb\\n' | fdframe read -      decode standard input as lines

Exit status: 0 at the end of input (also when the reader of the output went away, as in
`| head`); 1 when something failed (the reason is printed on one line); 2 for a usage error;
128+N after signal N (130 for Ctrl-C, 143 for SIGTERM, 129 for SIGHUP), after flushing the
output and saving the cursor.";

/// Read Linux file descriptors as streams of decoded messages: the kernel log first of all.
#[derive(Debug, Parser)]
#[command(name = "fdframe", version, about, after_help = AFTER_HELP)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Print the kernel log from /dev/kmsg, like `dmesg` (and `dmesg -w` with --follow).
    Kmsg(kmsg_cmd::KmsgArgs),
    /// Decode any file, pipe, FIFO, device or standard input with a chosen codec.
    Read(read_cmd::ReadArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Kmsg(args) => kmsg_cmd::run(&args),
        Command::Read(args) => read_cmd::run(&args),
    };
    match result {
        Ok(Finished::Input) | Err(Failure::BrokenPipe) => ExitCode::SUCCESS,
        Ok(Finished::Stopped(reason)) => ExitCode::from(reason.exit_code()),
        Err(Failure::Message { text, code }) => {
            // stderr may be closed too; there is nobody left to tell then.
            let _ = writeln!(std::io::stderr(), "fdframe: {text}");
            ExitCode::from(code)
        }
    }
}
