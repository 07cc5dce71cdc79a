//! `fdframe kmsg`: the kernel ring buffer, printed as `dmesg` prints it.

use std::io::{self, BufWriter, Write};

use clap::Args;
use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, KmsgDecoder, KmsgRecord, KmsgStart};
use fdframe::{Error, ReadFd};

/// Options of `fdframe kmsg`.
#[derive(Debug, Args)]
pub(crate) struct KmsgArgs {
    /// Keep printing records as the kernel logs them (like `dmesg -w`).
    #[arg(short = 'w', long)]
    follow: bool,
    /// Skip the records already in the buffer: print only new ones (implies nothing about
    /// --follow; without it, prints nothing new that arrived before the read).
    #[arg(long)]
    since_now: bool,
}

pub(crate) fn run(args: &KmsgArgs) -> io::Result<()> {
    let start = if args.since_now {
        KmsgStart::New
    } else {
        KmsgStart::Oldest
    };
    let fd = kmsg::open(start).map_err(explain_open_error)?;
    let mut reader = FdReader::new(ReadFd::from_fd(fd)?, KmsgDecoder::new());
    let stdout = io::stdout().lock();
    let mut out = BufWriter::new(stdout);
    if args.follow {
        while let Some(step) = reader.next() {
            print_step(&mut out, step)?;
            // Following is interactive: show each record as it comes, not when a buffer fills.
            if reader.framer().buffered().is_empty() {
                out.flush()?;
            }
        }
    } else {
        for step in reader.ready() {
            print_step(&mut out, step)?;
        }
    }
    out.flush()
}

fn print_step(
    out: &mut impl Write,
    step: Result<KmsgRecord, Error<fdframe::kmsg::KmsgError>>,
) -> io::Result<()> {
    match step {
        Ok(record) => {
            let us = record.timestamp_us();
            out.write_all(format!("[{:5}.{:06}] ", us / 1_000_000, us % 1_000_000).as_bytes())?;
            out.write_all(record.message())?;
            out.write_all(b"\n")
        }
        Err(Error::Io(e)) => Err(e),
        Err(other) => writeln!(out, "fdframe: {other}"),
    }
}

/// Turns the usual reasons `/dev/kmsg` cannot be opened into advice.
fn explain_open_error(e: io::Error) -> io::Error {
    match e.kind() {
        io::ErrorKind::PermissionDenied => io::Error::new(
            e.kind(),
            format!(
                "cannot read /dev/kmsg: {e}. Reading the kernel log needs root or CAP_SYSLOG \
                 while kernel.dmesg_restrict=1 (see `sysctl kernel.dmesg_restrict`)"
            ),
        ),
        io::ErrorKind::NotFound => io::Error::new(
            e.kind(),
            "cannot read /dev/kmsg: no such device (is this Linux with devtmpfs mounted?)",
        ),
        _ => io::Error::new(e.kind(), format!("cannot open /dev/kmsg: {e}")),
    }
}
