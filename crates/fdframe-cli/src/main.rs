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
//! `failure` is the error a command ends with; `generate` makes the man pages and completions.

#![forbid(unsafe_code)]

mod cursor;
mod failure;
mod filter;
mod generate;
mod human;
mod json;
mod kmsg_cmd;
mod read_cmd;
mod render;
mod safe_file;
mod source;
mod stop;
mod time;

use std::io::{self, Write};
use std::os::fd::AsFd;
use std::process::ExitCode;

use clap::{CommandFactory, FromArgMatches, Parser, Subcommand};
use rustix::fs::{FileType, OFlags};

use crate::failure::{Failure, Finished};

const AFTER_HELP: &str = "\
Examples:
  sudo fdframe kmsg                     the kernel log, as dmesg prints it
  sudo fdframe kmsg -w -l warn+         follow, warnings and worse only
  sudo fdframe kmsg --json-lines | jq . JSON lines, one object per record or loss notice
  sudo fdframe kmsg -w --cursor /var/lib/fdframe/kmsg.cursor
                                        follow, resuming after the last record printed
  printf 'a\\nb\\n' | fdframe read -      decode standard input as lines

Exit status: 0 at the end of input (also when the reader of the output went away, as in
`| head`); 1 when something failed (the reason is printed on one line), standard output too
(closed at start, or full); 2 for a usage error; 128+N after signal N (130 for Ctrl-C, 143
for SIGTERM, 129 for SIGHUP), after flushing the output and saving the cursor.";

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
    Kmsg(Box<kmsg_cmd::KmsgArgs>),
    /// Decode any file, pipe, FIFO, device or standard input with a chosen codec.
    Read(read_cmd::ReadArgs),
    /// A man page or shell completions, on standard output (for `cargo xtask dist`).
    #[command(hide = true)]
    Generate {
        /// One of: man, man-kmsg, man-read, bash, zsh, fish, elvish, powershell.
        what: String,
    },
}

fn main() -> ExitCode {
    if let Err(failure) = check_stdout() {
        return report(failure);
    }
    // The matches are kept: dmesg's time options are resolved by their order (the last wins).
    let parsed = command()
        .try_get_matches()
        .and_then(|matches| Cli::from_arg_matches(&matches).map(|cli| (cli, matches)));
    let (cli, matches) = match parsed {
        Ok(parsed) => parsed,
        Err(e) => return clap_exit(&e),
    };
    let result = match cli.command {
        Command::Kmsg(args) => kmsg_cmd::run(&args, matches.subcommand_matches("kmsg")),
        Command::Read(args) => read_cmd::run(&args),
        Command::Generate { what } => generate::run(&what),
    };
    match result {
        Ok(Finished::Input) => ExitCode::SUCCESS,
        Ok(Finished::Stopped(reason)) => ExitCode::from(reason.exit_code()),
        Err(failure) => report(failure),
    }
}

/// The command line: [`Cli`]'s, with `--backend` refusing a backend this build left out by
/// naming the cargo feature that brings it (see `source::Backend`).
fn command() -> clap::Command {
    Cli::command()
        .mut_subcommand("kmsg", source::backend_arg)
        .mut_subcommand("read", source::backend_arg)
}

/// The exit status of a failure, after its line on stderr.
fn report(failure: Failure) -> ExitCode {
    match failure {
        Failure::BrokenPipe => ExitCode::SUCCESS,
        Failure::Message { text, code } => {
            // stderr may be closed too; there is nobody left to tell then.
            let _ = writeln!(io::stderr(), "fdframe: {text}");
            ExitCode::from(code)
        }
    }
}

/// Refuses to start without a standard output, as `cat` does (`write error: Bad file
/// descriptor`): every line would be lost, and the exit status would still say all went well.
///
/// A closed fd 1 is seldom still closed by the time `main` runs: the Rust runtime reopens it on
/// `/dev/null`, read-write, before `main`, and every write then succeeds into nothing. A shell's
/// `>/dev/null` opens it write-only, so read-write `/dev/null` is taken for "was closed". (Who
/// hands over a read-write `/dev/null` on purpose, as Python's `subprocess.DEVNULL` does, is
/// told to use a write-only one.)
fn check_stdout() -> Result<(), Failure> {
    let stdout = io::stdout();
    let fd = stdout.as_fd();
    let closed = |why: &str| {
        Failure::new(format_args!(
            "cannot write to standard output: {why}; to discard the output, use >/dev/null"
        ))
    };
    if let Err(e) = rustix::io::fcntl_getfd(fd) {
        return Err(closed(&io::Error::from(e).to_string()));
    }
    let null = rustix::fs::fstat(fd).is_ok_and(|st| {
        FileType::from_raw_mode(st.st_mode) == FileType::CharacterDevice
            && st.st_rdev == rustix::fs::makedev(1, 3)
    });
    let read_write =
        rustix::fs::fcntl_getfl(fd).is_ok_and(|flags| flags & OFlags::RWMODE == OFlags::RDWR);
    if null && read_write {
        return Err(closed(
            "it was closed at start (the runtime put /dev/null, read-write, in its place)",
        ));
    }
    Ok(())
}

/// Ends the process as clap would for `--help`, `--version` and usage errors, except that help
/// or version text that could not be written is a failure, not exit status 0.
fn clap_exit(e: &clap::Error) -> ExitCode {
    let printed = e.print().and_then(|()| io::stdout().flush());
    if e.use_stderr() {
        // A usage error, on stderr; nobody to tell if that is closed.
        return ExitCode::from(u8::try_from(e.exit_code()).unwrap_or(2));
    }
    match printed {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => report(Failure::from(err)),
    }
}
