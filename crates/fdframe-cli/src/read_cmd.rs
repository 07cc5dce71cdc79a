//! `fdframe read`: any descriptor — file, pipe, FIFO, device, socket, standard input — decoded
//! with a chosen codec and written as raw bytes, hex or JSON lines.

use std::fmt::Display;
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;

use clap::{Args, ValueEnum};
use fdframe::codec::{
    ChunksDecoder, FixedSizeDecoder, LengthDelimitedDecoder, LinesDecoder, Utf8LinesDecoder,
};
use fdframe::devices::InotifyDecoder;
use fdframe::kmsg::{KmsgDecoder, ProcKmsgDecoder};
use fdframe::{Decoder, Error, ReadFd};
use rustix::fs::FileType;

use crate::failure::{Failure, Finished, open_failure};
use crate::json;
use crate::render::warn;
use crate::source::{self, Backend, Event};
use crate::stop::Stop;

mod codec;
mod follow;
mod items;

use codec::Codec;
use follow::{CheckpointFile, FollowArgs, Followed};
use items::{FrameItem, LineItem, Render, TextItem};

const AFTER_HELP: &str = "\
Codecs:
  lines          \\n-terminated lines, any bytes (1 MiB per line at most)
  utf8-lines     lines that must be UTF-8; others are reported and skipped
  len:u32be      frames after a length header: len:u8, len:u16be, len:u16le, len:u32be,
                 len:u32le, len:u64be, len:u64le (payload length, 8 MiB at most)
  fixed:N        records of exactly N bytes (N from 1 to 8388608, 8 MiB)
  chunks         whatever each read(2) returned
  kmsg           /dev/kmsg records (one per read; loss notices from sequence numbers)
  proc-kmsg      the syslog lines of /proc/kmsg and `dmesg -r`: <6>[    1.234567] text
  inotify        events of an inotify descriptor (hand one over as standard input)

Output:
  raw    lines with their \\n, frames as their bare payload, records and events as text lines
  hex    one line of lowercase hex per item: the frame, the record as read, the message
  json   one JSON object per line: {\"type\":\"line\"|\"frame\"|\"record\"|\"inotify\",...}, and
         {\"type\":\"loss\",...} and {\"type\":\"error\",...} where messages were lost or malformed

  A malformed message is reported on stderr and skipped; reading goes on. Lost messages (kmsg
  overruns, inotify queue overflows) are reported where they happened: a line on stdout (on
  stderr for raw binary frames), or a JSON object.

  Reading stops at the end of input: the end of a regular file (unless --follow), or when the
  last writer of a pipe or FIFO closed it (a FIFO without a writer is waited for). Devices such
  as /dev/kmsg never end: Ctrl-C stops.

Following (--follow, -F, -f):
  The file is followed by its path, as `tail -F` does, on every --backend; Ctrl-C or SIGTERM
  stops (exit 130 or 143, after flushing and saving the checkpoint). Reading starts at the
  beginning of the file (--from-start, the default), or at its end (--from-end, like
  `tail -n 0 -F`). A path that names no file yet is waited for, and so is a directory of
  it that does not exist yet; a directory removed or replaced (rm -rf, then mkdir) is
  reported and the file in the new one followed. For a symlink at the path, the directory
  of the file it names is watched too (rotation there is seen at once).
  - Rotation (the file renamed away and a new one created, hard-link rotation, or removal
    and re-creation): the old file is read to its end, and again for what its writer adds
    to it for --rotate-wait (default 1s) after the rotation; then the new file from its
    start. Every line once, in order (tail -F loses what is written to the old file after
    the rename).
  - Truncation (copytruncate, `> file`, or the first bytes rewritten): reading goes on at
    the start of the new content.
  - A last line without its newline is held until it is completed; it is printed alone only
    when its file is rotated away for good.
  Notices go to stderr, never between the lines on stdout:
    fdframe: app.log: file rotated; finishing the old file, then reading the new one
    fdframe: app.log: file truncated (at offset 4096); reading it from its start
  --checkpoint FILE saves the position (device, inode, offset, and a fingerprint of the
  file's first bytes that catches a reused inode) after each batch of output is written and
  flushed, and at exit; the next run with the same FILE resumes right after the last line
  printed, through rotations that happened in between (the rotated file is found in the same
  directory). A checkpoint whose file is gone or was replaced is reported on stderr: lines
  written after it may be lost. A file that is not a checkpoint, or a damaged one, is an error
  (exit 1) unless --checkpoint-reset is given, which never replaces a file that is not a
  checkpoint. As for `kmsg --cursor`: one run at a time per FILE (.FILE.lock is held), FILE's
  directory must be writable only by you, and symlinks, devices and FIFOs at FILE are
  refused; saves write an unguessable temporary name, fsync it and rename it over FILE.

Batch runs (--checkpoint FILE without --follow, e.g. from cron):
  Reads from the checkpoint (or the start, or with --from-end the end, on the first run) to
  the current end, prints, saves the checkpoint once stdout took the lines, and exits 0; a
  run with nothing new prints nothing. A file rotated since the last run is found in the
  same directory and read to its end first, its unterminated last line included; the last
  line of the file at the path is printed only once its newline is written (a later run
  prints it whole). A line its writer adds to a rotated file after a run finished it is not
  read: run with --follow to keep --rotate-wait's grace for those. A path that does not
  exist (yet) is said on stderr, and the run exits 0. Run it more often than the log
  rotates: a file rotated in and out again between two runs (two rotations) is not read;
  stderr names it (a file named like a rotation of FILE, written after the last one read).

Examples:
  printf 'one\\ntwo\\n' | fdframe read -
  fdframe read --codec utf8-lines --output json /var/log/syslog
  fdframe read --codec len:u32be --output hex capture.bin
  sudo fdframe read --codec kmsg /dev/kmsg             like cat /dev/kmsg, decoded
  fdframe read -F /var/log/syslog                      like tail -n +1 -F
  fdframe read -F --from-end --output json app.log     new lines only, as JSON
  sudo fdframe read -F --checkpoint /var/lib/fdframe/syslog.pos /var/log/syslog
  fdframe read --checkpoint ~/.cache/app.pos /var/log/app.log   what is new since the last run";

/// How items are written.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, ValueEnum)]
pub(crate) enum OutputForm {
    #[default]
    Raw,
    Hex,
    Json,
}

/// Options of `fdframe read`.
///
/// Reading stops at the end of input, except with `--follow`: a followed file
/// ([`ReadFd::follow`]) is a descriptor like any other, handed to the same sources.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct ReadArgs {
    /// The file, FIFO or device to read; `-` for standard input.
    #[arg(value_name = "PATH|-")]
    path: String,
    /// How to split the bytes into messages (see "Codecs" below).
    #[arg(short, long, default_value = "lines", value_name = "CODEC")]
    codec: Codec,
    /// How to write each message.
    #[arg(short, long, value_enum, default_value_t, value_name = "FORM")]
    output: OutputForm,
    /// The fdframe backend that waits for the descriptor.
    #[arg(long, value_enum, default_value_t, value_name = "BACKEND")]
    backend: Backend,
    #[command(flatten)]
    follow: FollowArgs,
}

/// Runs `fdframe read`.
pub(crate) fn run(args: &ReadArgs) -> Result<Finished, Failure> {
    // Opened before the signal handlers exist, so that Ctrl-C can still interrupt the wait for
    // a FIFO's writer.
    let (fd, checkpoint, once) = if args.follow.by_path() {
        let Followed {
            fd,
            checkpoint,
            once,
        } = follow::open(&args.follow, &args.path)?;
        (fd, checkpoint, once)
    } else {
        (open_input(&args.path)?, None, false)
    };
    let stop = Stop::install().map_err(|e| Failure::new(format_args!("cannot set up: {e}")))?;
    let form = args.output;
    let binary = form == OutputForm::Raw
        && matches!(
            args.codec,
            Codec::Len { .. } | Codec::Fixed(_) | Codec::Chunks
        );
    let run = Run {
        form,
        binary,
        backend: args.backend,
        path: &args.path,
        stop: &stop,
        checkpoint,
        once,
    };
    match args.codec {
        Codec::Lines => run.go(fd, LinesDecoder::new(), LineItem),
        Codec::Utf8Lines => run.go(fd, Utf8LinesDecoder::new(), TextItem),
        Codec::Chunks => run.go(fd, ChunksDecoder::new(), FrameItem),
        Codec::Len {
            bytes,
            little_endian,
        } => {
            let decoder = LengthDelimitedDecoder::new().length_field_len(bytes);
            let decoder = if little_endian {
                decoder.little_endian()
            } else {
                decoder
            };
            run.go(fd, decoder, FrameItem)
        }
        Codec::Fixed(n) => {
            let decoder = FixedSizeDecoder::new(n).map_err(Failure::new)?;
            run.go(fd, decoder, FrameItem)
        }
        Codec::Kmsg => run.go(fd, KmsgDecoder::new(), |r| r),
        Codec::ProcKmsg => run.go(fd, ProcKmsgDecoder::new(), |l| l),
        Codec::Inotify => run.go(fd, InotifyDecoder::new(), |e| e),
    }
}

/// Opens `path` (`-`: standard input). A FIFO is opened blocking, so that `open(2)` waits for
/// a writer as `cat` does, before the signal handlers exist (see [`run`]). A non-blocking open
/// would not end at once either: [`ReadFd::read_into`] reports a FIFO that no writer has opened
/// yet as "would block", not as end of input, so every backend would wait for the writer too.
fn open_input(path: &str) -> Result<ReadFd, Failure> {
    if path == "-" {
        return ReadFd::stdin().map_err(|e| open_failure("standard input", &e));
    }
    let is_fifo = rustix::fs::stat(Path::new(path))
        .is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Fifo);
    let fd = if is_fifo {
        File::open(path).and_then(|file| ReadFd::from_fd(file.into()))
    } else {
        ReadFd::open(path)
    };
    fd.map_err(|e| open_failure(path, &e))
}

/// One `read` run's settings, for every codec alike.
struct Run<'a> {
    form: OutputForm,
    /// Raw output of binary frames: notices go to stderr, not between the frames.
    binary: bool,
    backend: Backend,
    path: &'a str,
    stop: &'a Stop,
    /// Saved after each batch once it is written out.
    checkpoint: Option<CheckpointFile>,
    /// A batch run over a followed file: stop once nothing is ready (see [`Followed::once`]).
    once: bool,
}

impl Run<'_> {
    fn go<D, T>(
        mut self,
        fd: ReadFd,
        decoder: D,
        wrap: impl Fn(D::Item) -> T,
    ) -> Result<Finished, Failure>
    where
        D: Decoder + 'static,
        D::Error: Display,
        T: Render,
    {
        let mut source = source::open(self.backend, fd, decoder, self.stop)
            .map_err(|e| open_failure(self.path, &e))?;
        let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
        let mut fatal = None;
        let mut checkpoint = self.checkpoint.take();
        // Waiting after each batch until the input ends: a regular file ends at its end, a
        // followed one never does, except in a batch run, which stops after the first batch
        // (everything ready now).
        let wait = !self.once;
        let finished = source::drive_with(&mut *source, wait, self.stop, |event, source| {
            match event {
                Event::Item(Ok(item)) => self.item(&mut out, &wrap(item))?,
                Event::Item(Err(Error::Io(e))) => {
                    fatal = Some(Failure::new(format_args!(
                        "reading {} failed: {e}",
                        self.path
                    )));
                }
                Event::Item(Err(Error::Lost(loss))) => {
                    if self.form == OutputForm::Json {
                        json::write_loss(&mut out, &loss)?;
                    } else if self.binary {
                        warn(format_args!("{loss}"))?;
                    } else {
                        writeln!(out, "fdframe: {loss}")?;
                    }
                }
                Event::Item(Err(Error::Follow(notice))) => follow::notice(&notice, self.once)?,
                Event::Item(Err(e)) => {
                    warn(format_args!("warning: {e}"))?;
                    if self.form == OutputForm::Json {
                        json::write_error(&mut out, &e.to_string(), None)?;
                    }
                }
                Event::BatchEnd => {
                    // Flushed first: a saved checkpoint never names a line not yet printed.
                    out.flush()?;
                    if let Some(file) = &mut checkpoint {
                        file.commit(source.checkpoint())?;
                    }
                }
            }
            Ok(())
        })?;
        out.flush()?;
        fatal.map_or(Ok(finished), Err)
    }

    fn item(&self, out: &mut impl Write, item: &dyn Render) -> io::Result<()> {
        match self.form {
            OutputForm::Raw => item.raw(out),
            OutputForm::Hex => {
                for byte in item.payload() {
                    write!(out, "{byte:02x}")?;
                }
                out.write_all(b"\n")
            }
            OutputForm::Json => {
                item.json(out)?;
                out.write_all(b"\n")
            }
        }
    }
}
