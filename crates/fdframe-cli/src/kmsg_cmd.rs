//! `fdframe kmsg`: the kernel ring buffer, printed as `dmesg` prints it, followed with
//! `--follow`, resumed with `--cursor`.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::Args;
use fdframe::kmsg::{self, KmsgDecoder, KmsgRecord};
use fdframe::{Error, Loss, LossCause, ReadFd};

use crate::cursor::{Cursor, CursorFile};
use crate::failure::{Failure, Finished};
use crate::filter::{FacilityFilter, LevelFilter};
use crate::human::{ColorWhen, Painter};
use crate::json::{DmesgJson, JsonLines, JsonOptions};
use crate::render::{HumanStyle, KmsgOutput, warn};
use crate::source::{self, Backend, Event, Step};
use crate::stop::Stop;
use crate::time::{Clocks, SleepScan, TimeFormat, TimePrinter, WallClock};

mod start;

const AFTER_HELP: &str = "\
Output:
  Human lines look like dmesg's: `[ 1234.567890] usb 1-1: new device`, levels coloured as
  dmesg colours them. Control characters in messages are shown as \\xNN, never sent to the
  terminal. When the kernel overwrote records before they were read, a line says so, with the
  exact count and sequence numbers, where the records would have been:
    fdframe: 12 kernel log records lost (seq 100..=111): the ring buffer overwrote them ...
  --json prints one JSON object per line; \"type\" is \"record\", \"loss\" or \"error\":
    {\"type\":\"record\",\"seq\":1137,\"timestamp_us\":1598236208,\"facility\":\"user\",
     \"facility_num\":1,\"level\":\"info\",\"level_num\":6,\"priority\":14,\"flag\":\"-\",
     \"caller\":null,\"message\":\"...\",\"dictionary\":{\"SUBSYSTEM\":\"acpi\"}}
    {\"type\":\"loss\",\"count\":12,\"first_seq\":100,\"last_seq\":111,\"cause\":\"kmsg-overrun\",...}
    {\"type\":\"error\",\"message\":\"malformed /dev/kmsg record: ...\",\"seq\":1140}
  Every object also has \"schema\" (fdframe-kmsg/1) and \"boot_id\" (\"hostname\" with
  --hostname); records have \"wall_time\" (RFC 3339, UTC) and \"wall_time_uncertain\", and
  \"message_hex\" when the message is not UTF-8. The schema: docs/json-schema.md.
  A malformed record is also reported on stderr; reading goes on.

Times:
  Kernel timestamps count from boot and stop while the system sleeps. ctime, iso and reltime
  add CLOCK_REALTIME − CLOCK_MONOTONIC, which is exact for records logged since the last
  resume. For older ones the time slept since is subtracted when the log tells how long each
  sleep lasted (`Timekeeping suspended for ...`, with /sys/power/pm_debug_messages on) or
  when it holds the whole boot with one resume; otherwise a note on stderr says which records
  may be shown too late, and by how much at most.

Cursor:
  With --cursor FILE the sequence number of the last record handled is saved in FILE (after
  each batch of output and at exit, atomically), with this boot's id. The next run with the
  same FILE starts right after it: nothing is printed twice, and records the ring buffer
  overwrote meanwhile are reported as a loss with the exact count. A cursor from an earlier
  boot starts from this boot's first record. A file that is not a cursor, is damaged, or
  points past the newest record is an error unless --cursor-reset is given; --cursor-reset
  never replaces a file that is not a cursor. One run at a time may use a FILE (a lock beside
  it, .FILE.lock, is held while it runs); a second is refused.
  FILE's directory must be writable only by the user running fdframe (e.g. /var/lib/fdframe):
  anyone who can write it can forge the cursor. fdframe never follows a symlink there and uses
  only regular files: a symlink, device, FIFO or directory at FILE or .FILE.lock is refused.
  Saves write a new file under an unguessable name (.FILE.tmp-XXXXXXXXXXXXXXXX, created
  exclusively), fsync it and rename it over FILE.

Examples:
  sudo fdframe kmsg                             the ring buffer, like dmesg
  sudo fdframe kmsg -w                          ... and follow it, like dmesg -w
  sudo fdframe kmsg -w --since-now              only records logged from now on
  sudo fdframe kmsg -l err..emerg -f kern       kernel errors and worse
  sudo fdframe kmsg --time-format iso -x        wall-clock times, facility and level
  sudo fdframe kmsg --json -w | jq -c 'select(.type != \"record\" or .level_num <= 3)'
  sudo fdframe kmsg --dmesg-json > log.json     the document `dmesg --json` prints
  sudo fdframe kmsg -w --cursor /var/lib/fdframe/kmsg.cursor

Permissions: reading /dev/kmsg needs root or CAP_SYSLOG when kernel.dmesg_restrict=1.";

/// Options of `fdframe kmsg`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct KmsgArgs {
    /// Keep printing records as the kernel logs them (like `dmesg -w`); Ctrl-C stops.
    #[arg(short = 'w', long)]
    follow: bool,
    /// Only records logged from now on (like `dmesg -W` with --follow); any of them
    /// overwritten before they are read is still a counted loss. With --cursor, only when
    /// there is no cursor yet (the starting position is saved at once).
    #[arg(long)]
    since_now: bool,
    /// Only these levels, as `dmesg -l` reads them: `warn` exactly warn, `warn+` warn and more
    /// severe, `+warn` warn and less severe, `err,info` exactly these; also `err..emerg`, a
    /// range; numbers 0-7 work too.
    #[arg(short, long, value_name = "LEVELS")]
    level: Option<LevelFilter>,
    /// Only these facilities, comma-separated, named as `dmesg -x` names them: kern, user,
    /// mail, daemon, auth, syslog, lpr, news, uucp, cron, authpriv, ftp, local0..local7.
    #[arg(short, long, value_name = "LIST")]
    facility: Option<FacilityFilter>,
    /// How to show times (see "Times" below).
    #[arg(long, value_enum, default_value_t, value_name = "FORMAT")]
    time_format: TimeFormat,
    /// Show facility and level in front of each line, like `dmesg -x`.
    #[arg(short = 'x', long)]
    decode: bool,
    /// Show each record's dictionary (SUBSYSTEM=..., DEVICE=...) on indented lines under it.
    #[arg(long)]
    dict: bool,
    /// One JSON object per line: records, loss notices and errors (see "Output" below).
    #[arg(long, conflicts_with = "dmesg_json")]
    json: bool,
    #[command(flatten)]
    json_options: JsonOptions,
    /// One JSON document shaped like `dmesg --json`'s, with a correct `pri` (util-linux 2.38
    /// gets it wrong for facilities other than kern). Not with --follow.
    #[arg(long)]
    dmesg_json: bool,
    /// Colour levels as dmesg does.
    #[arg(long, value_enum, default_value_t, value_name = "WHEN")]
    color: ColorWhen,
    /// Resume after the record saved in FILE, and keep saving the position there. FILE's
    /// directory must be writable only by you; symlinks and non-regular files are refused (see
    /// "Cursor" below).
    #[arg(long, value_name = "FILE")]
    cursor: Option<PathBuf>,
    /// Start afresh (and overwrite FILE) when the --cursor file is a cursor that cannot be
    /// used (damaged, another format, ahead of the log), instead of failing. A file that is not
    /// a cursor is never overwritten.
    #[arg(long, requires = "cursor")]
    cursor_reset: bool,
    /// The fdframe backend that waits for /dev/kmsg.
    #[arg(long, value_enum, default_value_t, value_name = "BACKEND")]
    backend: Backend,
}

/// Runs `fdframe kmsg`.
pub(crate) fn run(args: &KmsgArgs) -> Result<Finished, Failure> {
    if args.dmesg_json && args.follow {
        return Err(Failure::Message {
            text: "--dmesg-json prints one JSON document, which --follow would never close; \
                   use --json for one JSON object per line"
                .into(),
            code: 2,
        });
    }
    let stop = Stop::install().map_err(|e| Failure::new(format_args!("cannot set up: {e}")))?;
    let start = start::plan(args)?;
    let fd = kmsg::open(start.at).map_err(|e| start::open_failure(&e))?;
    let fd = ReadFd::from_fd(fd).map_err(|e| start::open_failure(&e))?;
    let mut session = Session {
        output: output(args, start.sleeps)?,
        level: args.level,
        facility: args.facility.clone(),
        skip_upto: start.skip_upto,
        expect_first: start.expect_first,
        position: start.skip_upto,
        saved: start.skip_upto,
        cursor: start.cursor,
        fatal: None,
    };
    let mut source = source::open(args.backend, fd, start.decoder, &stop)
        .map_err(|e| Failure::new(format_args!("cannot read /dev/kmsg: {e}")))?;
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let finished = source::drive(&mut *source, args.follow, &stop, |event| {
        session.on(&mut out, event)
    })?;
    if let Some(fatal) = session.fatal {
        return Err(fatal);
    }
    session.output.finish(&mut out)?;
    out.flush()?;
    Ok(finished)
}

/// Builds the output form; a wall-clock time format reads the clocks (and the log's sleeps).
fn output(args: &KmsgArgs, sleeps: SleepScan) -> Result<KmsgOutput, Failure> {
    let time = if args.time_format.is_wall_clock() || args.json {
        let clocks = Clocks::now();
        let plan = sleeps.plan(clocks.slept_us());
        if let Some(note) = plan.note() {
            warn(format_args!("{note}"))?;
        }
        TimePrinter::new(args.time_format, Some(WallClock::new(clocks, plan)))
    } else {
        TimePrinter::new(args.time_format, None)
    };
    Ok(if args.dmesg_json {
        KmsgOutput::DmesgJson(DmesgJson::begin(&mut io::stdout().lock())?)
    } else if args.json {
        KmsgOutput::Json(JsonLines::new(time, &args.json_options)?)
    } else {
        KmsgOutput::Human(HumanStyle {
            painter: Painter {
                color: args.color.enabled(),
            },
            time,
            decode: args.decode,
            dict: args.dict,
        })
    })
}

/// Where a cursor is saved (locked for the whole run), and for which boot.
#[derive(Debug)]
pub(crate) struct CursorSave {
    pub(crate) file: CursorFile,
    pub(crate) boot_id: String,
}

impl CursorSave {
    /// Saves `seq` as the last record handled.
    pub(crate) fn save(&self, seq: u64) -> Result<(), Failure> {
        let cursor = Cursor {
            boot_id: self.boot_id.clone(),
            seq,
        };
        self.file.save(&cursor).map_err(|e| {
            Failure::new(format_args!(
                "cannot save the cursor to {}: {e}",
                self.file.path().display()
            ))
        })
    }
}

/// The state of one run: filters, the cursor position, the output.
struct Session {
    output: KmsgOutput,
    level: Option<LevelFilter>,
    facility: Option<FacilityFilter>,
    /// Records up to this one were handled by an earlier run (same boot), or were logged
    /// before a `--since-now` start.
    skip_upto: Option<u64>,
    /// After a reboot: the first sequence number this boot's log should start at.
    expect_first: Option<u64>,
    /// The last record handled, and the last one saved to the cursor file.
    position: Option<u64>,
    saved: Option<u64>,
    cursor: Option<CursorSave>,
    /// A read error ended the stream; reported after the output is flushed.
    fatal: Option<Failure>,
}

impl Session {
    fn on(&mut self, out: &mut impl Write, event: Event<Step<KmsgDecoder>>) -> Result<(), Failure> {
        match event {
            Event::Item(Ok(record)) => self.record(out, &record)?,
            Event::Item(Err(Error::Lost(loss))) => self.loss(out, loss)?,
            Event::Item(Err(Error::Io(e))) => {
                self.fatal = Some(Failure::new(format_args!("reading /dev/kmsg failed: {e}")));
            }
            Event::Item(Err(Error::Decode(e))) => {
                let seq = e.seq();
                if seq.is_some_and(|seq| self.skip_upto.is_some_and(|c| seq <= c)) {
                    // Reported by the run that handled it, or logged before `--since-now`.
                    return Ok(());
                }
                if seq.is_some() {
                    self.position = seq;
                }
                self.output.malformed(out, &e.to_string(), seq)?;
            }
            Event::Item(Err(other)) => self.output.malformed(out, &other.to_string(), None)?,
            Event::BatchEnd => self.end_batch(out)?,
        }
        Ok(())
    }

    fn record(&mut self, out: &mut impl Write, record: &KmsgRecord) -> Result<(), Failure> {
        let seq = record.seq();
        if let Some(first) = self.expect_first.take() {
            if seq > first {
                let loss = Loss::sequence_gap(LossCause::KmsgResumeGap, first, seq);
                self.output.loss(out, &loss)?;
            }
        }
        if self.skip_upto.is_some_and(|c| seq <= c) {
            return Ok(());
        }
        self.position = Some(seq);
        let wanted = self.level.is_none_or(|l| l.allows(record.level()))
            && self
                .facility
                .as_ref()
                .is_none_or(|f| f.allows(record.facility()));
        if wanted {
            self.output.record(out, record)?;
        } else {
            self.output.skipped(record);
        }
        Ok(())
    }

    /// Reports a loss, without the records an earlier run already handled (or, with
    /// `--since-now`, that were logged before the start).
    fn loss(&mut self, out: &mut impl Write, loss: Loss) -> Result<(), Failure> {
        if loss.count.is_none() && self.position.is_none() && self.skip_upto.is_none() {
            // `EPIPE` on the first read of a dump: where it started (the oldest record, or
            // the first after a `dmesg --clear` long ago) was overwritten before this run
            // was there to read it; what the dump shows starts after that. Every start with a
            // known position (a cursor, `--since-now`) gives its decoder a number to count
            // from, so its losses have a count and are never dropped here.
            return Ok(());
        }
        let loss = match (&loss.seqs, self.skip_upto) {
            (Some(seqs), Some(c)) if *seqs.end() <= c => return Ok(()),
            (Some(seqs), Some(c)) if *seqs.start() <= c => {
                Loss::sequence_gap(loss.cause, c + 1, seqs.end().saturating_add(1))
            }
            _ => loss,
        };
        Ok(self.output.loss(out, &loss)?)
    }

    /// Flushes the output, then saves the cursor: a saved position was always printed.
    fn end_batch(&mut self, out: &mut impl Write) -> Result<(), Failure> {
        out.flush()?;
        self.output.refresh_clock();
        let (Some(file), Some(seq)) = (&self.cursor, self.position) else {
            return Ok(());
        };
        if self.saved == Some(seq) {
            return Ok(());
        }
        file.save(seq)?;
        self.saved = Some(seq);
        Ok(())
    }
}
