//! `fdframe kmsg`: the kernel ring buffer, printed as `dmesg` prints it (with dmesg's
//! read-side options and journalctl's `-n -g -b --reverse` habits), followed with `--follow`,
//! resumed with `--cursor` or `--after-cursor`.

use std::io::{self, BufWriter, Write};
use std::path::PathBuf;

use clap::{ArgMatches, Args};
use fdframe::kmsg::{self, KmsgDecoder, KmsgRecord};
use fdframe::{Error, Loss, LossCause, ReadFd};
use regex::Regex;

use crate::cursor::{Cursor, CursorFile};
use crate::failure::{Failure, Finished, Origin};
use crate::filter::{FacilityFilter, LevelFilter};
use crate::human::{ColorWhen, LineOptions, Multiline, Painter};
use crate::json::{DmesgJson, JsonLines, JsonOptions};
use crate::render::{HumanStyle, KmsgOutput, warn};
use crate::source::{self, Backend, Event, Item};
use crate::stop::Stop;
use crate::time::{Clocks, SleepScan, TimeFormat, TimePrinter, WallClock};

mod dump;
mod options;
mod pager;
pub(crate) mod since;
mod start;
mod tail;

use options::Options;
use tail::Tail;

const AFTER_HELP: &str = "\
Output:
  Human lines look like dmesg's: `[ 1234.567890] usb 1-1: new device`, levels coloured as
  dmesg colours them. Control characters in messages are shown as \\xNN, never sent to the
  terminal (--noescape sends them as they are: only for a file, never a terminal, where a
  message could move the cursor, retitle the window or fake other lines); a message of several
  lines continues on indented lines, as dmesg prints it (-p repeats the prefix on each). Unlike
  dmesg, a carriage return, vertical tab or form feed is escaped too. When the kernel
  overwrote records before they were read, a line says so, with the exact count and sequence
  numbers, where the records would have been (dmesg says nothing):
    fdframe: 12 kernel log records lost (seq 100..=111): the ring buffer overwrote them ...
  -J/--json prints the JSON document `dmesg --json` prints (with --follow, each entry as it
  comes, as util-linux does; the document is closed when fdframe stops). --json-lines prints
  one JSON object per line; \"type\" is \"record\", \"loss\" or \"error\":
    {\"type\":\"record\",\"seq\":1137,\"timestamp_us\":1598236208,\"facility\":\"user\",
     \"facility_num\":1,\"level\":\"info\",\"level_num\":6,\"priority\":14,\"flag\":\"-\",
     \"caller\":null,\"message\":\"...\",\"dictionary\":{\"SUBSYSTEM\":\"acpi\"}}
    {\"type\":\"loss\",\"count\":12,\"first_seq\":100,\"last_seq\":111,\"cause\":\"kmsg-overrun\",...}
    {\"type\":\"error\",\"message\":\"malformed /dev/kmsg record: ...\",\"seq\":1140}
  Every object also has \"schema\" (fdframe-kmsg/1) and \"boot_id\" (\"hostname\" with
  --hostname); records have \"wall_time\" (RFC 3339, UTC) and \"wall_time_uncertain\", and
  \"message_hex\" when the message is not UTF-8. The schema: docs/json-schema.md.
  (Earlier, --json meant JSON lines and --dmesg-json the document; --dmesg-json still works
  and means -J.) A malformed record is also reported on stderr; reading goes on.

Times:
  -T, -t, -e, -H and --time-format choose the time shown; the last one given wins, as in
  dmesg; -d adds the time since the previous record (inside the brackets of the raw and ctime
  times, alone otherwise). Kernel timestamps count from boot and stop while the system sleeps.
  ctime, iso, reltime, --since and --until add CLOCK_REALTIME − CLOCK_MONOTONIC, which is
  exact for records logged since the last resume. For older ones the time slept since is
  subtracted when the log tells how long each sleep lasted (`Timekeeping suspended for ...`,
  with /sys/power/pm_debug_messages on) or when it holds the whole boot with one resume;
  otherwise a note on stderr says which records may be shown too late, and by how much at most.
  --since and --until take dmesg's and journalctl's forms: `2026-12-01 11:29:21` (also with
  `.167737`, or a time zone after it), `11:29`, `yesterday`, `today`, `now`, `-5min`,
  `1h 30min ago`, `@1796124561`; records strictly after --since and strictly before --until.

dmesg and journalctl:
  dmesg's read-side options mean what they mean to dmesg. Its write-side ones (-C -c -D -E,
  --console-level) change the kernel's state and are refused: use dmesg for them. Where
  dmesg and journalctl disagree, dmesg wins: -r is dmesg's --raw (journalctl's -r is
  --reverse here) and -n is journalctl's --lines (dmesg's -n is --console-level). -b takes
  only this boot: /dev/kmsg holds nothing older. Earlier boots' kernel logs exist only where
  something saved them: `journalctl -k -b -1` (a persistent journal), /var/log/kern.log
  (a syslog daemon), /sys/fs/pstore (after a crash), or a `fdframe kmsg -w --json-lines`
  pipeline run during that boot.

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
  The same position as one word: --show-cursor prints `-- cursor: kmsg1:BOOT_ID:SEQ` at the
  end (on stderr with the JSON forms), and --after-cursor kmsg1:BOOT_ID:SEQ starts after it.

Examples:
  sudo fdframe kmsg                             the ring buffer, like dmesg
  sudo fdframe kmsg -w                          ... and follow it, like dmesg -w
  sudo fdframe kmsg -W                          only records logged from now on
  sudo fdframe kmsg -H                          reltime, colours, a pager (dmesg -H)
  sudo fdframe kmsg -l err+ -k -T               kernel errors and worse, wall-clock times
  sudo fdframe kmsg -n 20 -w -g 'usb|nvme'      the last 20 matching, then follow
  sudo fdframe kmsg --since '-10min' -x         the last ten minutes, facility and level
  sudo fdframe kmsg --json-lines -w | jq -c 'select(.type != \"record\" or .level_num <= 3)'
  sudo fdframe kmsg -J > log.json               the document `dmesg --json` prints
  sudo fdframe kmsg -r > dump; fdframe kmsg -F dump     save the log, read it later
  sudo fdframe kmsg -w --cursor /var/lib/fdframe/kmsg.cursor

Permissions: reading /dev/kmsg needs root or CAP_SYSLOG when kernel.dmesg_restrict=1.";

/// Options of `fdframe kmsg`.
#[derive(Debug, Args)]
#[command(after_help = AFTER_HELP)]
pub(crate) struct KmsgArgs {
    /// Keep printing records as the kernel logs them (like `dmesg -w`); Ctrl-C stops.
    #[arg(short = 'w', long)]
    follow: bool,
    /// Follow, printing only records logged from now on (like `dmesg -W`).
    #[arg(short = 'W', long)]
    follow_new: bool,
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
    /// Only kernel records (facility kern), like `dmesg -k`.
    #[arg(short = 'k', long)]
    kernel: bool,
    /// Only records from user space (every facility but kern), like `dmesg -u`.
    #[arg(short = 'u', long)]
    userspace: bool,
    /// How to show times (see "Times" below).
    #[arg(long, value_enum, value_name = "FORMAT")]
    time_format: Option<TimeFormat>,
    /// Wall-clock times, `[Tue Dec  1 11:29:21 2026]` (`--time-format ctime`), like `dmesg -T`.
    #[arg(short = 'T', long)]
    ctime: bool,
    /// No times (`--time-format notime`), like `dmesg -t`.
    #[arg(short = 't', long)]
    notime: bool,
    /// The minute when it changes, then the time since the record before
    /// (`--time-format reltime`), like `dmesg -e`.
    #[arg(short = 'e', long)]
    reltime: bool,
    /// Add the time since the previous record, like `dmesg -d`.
    #[arg(short = 'd', long)]
    show_delta: bool,
    /// dmesg's human form: reltime, colours, and a pager when standard output is a terminal
    /// (like `dmesg -H`).
    #[arg(short = 'H', long)]
    human: bool,
    /// No pager with --human (like `dmesg -P`).
    #[arg(short = 'P', long)]
    nopager: bool,
    /// Show facility and level in front of each line, like `dmesg -x`.
    #[arg(short = 'x', long)]
    decode: bool,
    /// The syslog form `<6>[    1.234567] message`, like `dmesg -r` (a dump -F reads back).
    #[arg(
        short = 'r',
        long,
        conflicts_with_all = ["ctime", "notime", "reltime", "show_delta", "human", "decode", "time_format", "color"]
    )]
    raw: bool,
    /// The prefix on every line of a message of several lines, like `dmesg -p`.
    #[arg(short = 'p', long)]
    force_prefix: bool,
    /// Send control characters in messages to the output as they are, like `dmesg --noescape`.
    /// Risky on a terminal (see "Output" below).
    #[arg(long)]
    noescape: bool,
    /// Show each record's dictionary (SUBSYSTEM=..., DEVICE=...) on indented lines under it.
    #[arg(long)]
    dict: bool,
    /// One JSON document shaped like `dmesg --json`'s, with a correct `pri` (util-linux 2.38
    /// gets it wrong for facilities other than kern).
    #[arg(short = 'J', long, alias = "dmesg-json", conflicts_with = "json_lines")]
    json: bool,
    /// One JSON object per line: records, loss notices and errors (see "Output" below).
    #[arg(long)]
    json_lines: bool,
    #[command(flatten)]
    json_options: JsonOptions,
    /// Colour levels as dmesg does: auto (the default: on a terminal), always or never; `-L`
    /// alone is auto.
    #[arg(
        short = 'L',
        long,
        value_enum,
        default_value_t,
        num_args = 0..=1,
        default_missing_value = "auto",
        value_name = "WHEN"
    )]
    color: ColorWhen,
    /// Read a saved dump in the syslog form (`dmesg -r > FILE`) instead of the ring buffer,
    /// like `dmesg -F`.
    #[arg(short = 'F', long, value_name = "FILE", conflicts_with = "kmsg_file")]
    file: Option<PathBuf>,
    /// Read a capture of /dev/kmsg (`cat /dev/kmsg > FILE`; records may also be separated by
    /// NUL bytes) instead of the ring buffer, like `dmesg -K` (util-linux 2.40).
    #[arg(short = 'K', long, value_name = "FILE")]
    kmsg_file: Option<PathBuf>,
    /// Only records logged after this time (see "Times" below).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    since: Option<String>,
    /// Only records logged before this time (see "Times" below).
    #[arg(long, value_name = "TIME", allow_hyphen_values = true)]
    until: Option<String>,
    /// Only the last N records (after the filters), like `journalctl -n`; with --follow,
    /// then the new ones. `-n` alone is 10.
    #[arg(short = 'n', long, value_name = "N", num_args = 0..=1, default_missing_value = "10")]
    lines: Option<usize>,
    /// Only records whose message matches this regular expression, like `journalctl -g`
    /// (case-insensitive when it has no capital letter).
    #[arg(short = 'g', long, value_name = "REGEX")]
    grep: Option<String>,
    /// Newest first, like `journalctl -r` (not with --follow; `-r` is dmesg's --raw).
    #[arg(long, conflicts_with_all = ["follow", "follow_new"])]
    reverse: bool,
    /// This boot only, like `journalctl -b` (0 or this boot's id; /dev/kmsg holds no other:
    /// see "dmesg and journalctl" below).
    #[arg(
        short = 'b',
        long,
        value_name = "ID",
        num_args = 0..=1,
        default_missing_value = "0",
        allow_negative_numbers = true
    )]
    boot: Option<String>,
    /// Print the position of the last record at the end: `-- cursor: kmsg1:BOOT_ID:SEQ`.
    #[arg(long)]
    show_cursor: bool,
    /// Start after this position (as --show-cursor prints it).
    #[arg(long, value_name = "CURSOR", conflicts_with = "cursor")]
    after_cursor: Option<String>,
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
    #[command(flatten)]
    refused: options::Refused,
}

/// Runs `fdframe kmsg`; `matches` tell in which order the time options came.
pub(crate) fn run(args: &KmsgArgs, matches: Option<&ArgMatches>) -> Result<Finished, Failure> {
    let options = Options::resolve(args, matches)?;
    if options.file.is_some() {
        return run_file(&options);
    }
    let stop = Stop::install().map_err(|e| Failure::new(format_args!("cannot set up: {e}")))?;
    let mut start = start::plan(&options)?;
    let fd = kmsg::open(start.at).map_err(|e| start::open_failure(&e))?;
    let fd = ReadFd::from_fd(fd).map_err(|e| start::open_failure(&e))?;
    let pager = start_pager(&options)?;
    let mut session = Session::new(&options, &mut start)?;
    session.cursor = start.cursor;
    let mut source = source::open(args.backend, fd, start.decoder, &stop)
        .map_err(|e| Failure::new(format_args!("cannot read /dev/kmsg: {e}")))?;
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let finished = source::drive(&mut *source, options.follow, &stop, |event| {
        session.on(&mut out, event)
    });
    let finished = finished.and_then(|finished| session.end(&mut out).map(|()| finished));
    drop(out);
    if let Some(pager) = pager {
        pager.finish();
    }
    finished
}

/// `-F`/`-K`: the records of a file, through the same filters and output.
fn run_file(options: &Options<'_>) -> Result<Finished, Failure> {
    let (path, format) = options.file.clone().expect("a file");
    let file = dump::open(&path)?;
    let pager = start_pager(options)?;
    let mut start = start::Start::for_file();
    let mut session = Session::new(options, &mut start)?;
    let mut out = BufWriter::with_capacity(64 * 1024, io::stdout().lock());
    let shown = path.display().to_string();
    let read = dump::read(file, format, &shown, |item| match item {
        dump::Item::Record(record) => session.record(&mut out, &record),
        dump::Item::Lost(loss) => session.loss(&mut out, loss),
        dump::Item::Malformed(why, seq) => Ok(session.output.malformed(&mut out, &why, seq)?),
    });
    let finished = read
        .and_then(|()| session.end(&mut out))
        .map(|()| Finished::Input);
    drop(out);
    if let Some(pager) = pager {
        pager.finish();
    }
    finished
}

fn start_pager(options: &Options<'_>) -> Result<Option<pager::Pager>, Failure> {
    if options.pager {
        pager::Pager::start_if_terminal()
    } else {
        Ok(None)
    }
}

/// Builds the output form; a wall-clock time format reads the clocks (and the log's sleeps).
fn output(options: &Options<'_>, sleeps: SleepScan) -> Result<KmsgOutput, Failure> {
    let args = options.args;
    let format = options.time;
    // JSON lines always carry a wall-clock time.
    let time = if format.is_wall_clock() || args.json_lines {
        let clocks = Clocks::now();
        let plan = sleeps.plan(clocks.slept_us());
        if let Some(note) = plan.note() {
            warn(format_args!("{note}"))?;
        }
        TimePrinter::new(format, Some(WallClock::new(clocks, plan)))
    } else {
        TimePrinter::new(format, None)
    };
    Ok(if args.json {
        KmsgOutput::DmesgJson(DmesgJson::begin(&mut io::stdout().lock())?)
    } else if args.json_lines {
        KmsgOutput::Json(JsonLines::new(time, &args.json_options)?)
    } else {
        let multiline = if args.force_prefix {
            Multiline::ForcePrefix(
                (format == TimeFormat::Reltime && !args.raw).then(|| "[  +0.000000]".to_owned()),
            )
        } else {
            Multiline::Indent
        };
        KmsgOutput::Human(HumanStyle {
            decode: args.decode,
            dict: args.dict,
            raw: args.raw,
            with_delta: options.with_delta,
            options: LineOptions {
                multiline,
                noescape: args.noescape,
            },
            ..HumanStyle::new(
                Painter {
                    color: options.color,
                },
                time,
            )
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
    grep: Option<Regex>,
    /// `--since`/`--until` as Unix microseconds (exclusive), with the clock that converts
    /// record times.
    window: Option<(Option<i64>, Option<i64>, WallClock)>,
    /// Records up to this one were handled by an earlier run (same boot), or were logged
    /// before a `--since-now` start.
    skip_upto: Option<u64>,
    /// After a reboot: the first sequence number this boot's log should start at.
    expect_first: Option<u64>,
    /// The last record handled, and the last one saved to the cursor file.
    position: Option<u64>,
    saved: Option<u64>,
    cursor: Option<CursorSave>,
    /// `-n`/`--reverse`: what is held back until the log read at the start is all there.
    tail: Option<Tail>,
    /// With `--follow`, the held-back records go out once this record (the newest at the
    /// start) was read (`None`: at the first batch).
    tail_until: Option<u64>,
    follow: bool,
    /// `--show-cursor`: this boot's id, to print the position with.
    show_cursor: Option<String>,
    /// The position goes to stderr (the JSON forms keep stdout JSON).
    cursor_on_stderr: bool,
    /// A read error ended the stream; reported after the output is flushed.
    fatal: Option<Failure>,
}

impl Session {
    fn new(options: &Options<'_>, start: &mut start::Start) -> Result<Session, Failure> {
        let args = options.args;
        let output = output(options, std::mem::take(&mut start.sleeps))?;
        let window = if options.since.is_some() || options.until.is_some() {
            let clocks = Clocks::now();
            let plan = std::mem::take(&mut start.window_sleeps).plan(clocks.slept_us());
            Some((options.since, options.until, WallClock::new(clocks, plan)))
        } else {
            None
        };
        let tail =
            (args.lines.is_some() || args.reverse).then(|| Tail::new(args.lines, args.reverse));
        let show_cursor = if args.show_cursor {
            Some(
                crate::cursor::current_boot_id()
                    .map_err(|e| Failure::new(format_args!("cannot read this boot's id: {e}")))?,
            )
        } else {
            None
        };
        Ok(Session {
            output,
            level: args.level,
            facility: options.facility.clone(),
            grep: options.grep.clone(),
            window,
            skip_upto: start.skip_upto,
            expect_first: start.expect_first,
            position: start.skip_upto,
            saved: start.skip_upto,
            cursor: None,
            tail,
            tail_until: start.newest,
            follow: options.follow,
            show_cursor,
            cursor_on_stderr: args.json || args.json_lines,
            fatal: None,
        })
    }

    /// After the last event: what is held back, the end of the document, the cursor.
    fn end(&mut self, out: &mut impl Write) -> Result<(), Failure> {
        self.release_tail(out)?;
        self.end_batch(out)?;
        if let Some(fatal) = self.fatal.take() {
            out.flush()?;
            return Err(fatal);
        }
        // The document is closed once: what stays behind is an empty one that is never written.
        let output = std::mem::replace(
            &mut self.output,
            KmsgOutput::DmesgJson(DmesgJson::default()),
        );
        output.finish(out)?;
        if let (Some(boot_id), Some(seq)) = (&self.show_cursor, self.position) {
            let cursor = Cursor {
                boot_id: boot_id.clone(),
                seq,
            };
            let line = format!("-- cursor: {}", cursor.to_printable());
            if self.cursor_on_stderr {
                warn(format_args!("{line}"))?;
            } else {
                writeln!(out, "{line}")?;
            }
        }
        out.flush()?;
        Ok(())
    }

    /// Prints what `-n`/`--reverse` held back; from now on records go straight out.
    fn release_tail(&mut self, out: &mut impl Write) -> Result<(), Failure> {
        if let Some(tail) = self.tail.take() {
            tail.flush(&mut self.output, out)?;
        }
        Ok(())
    }

    fn on(&mut self, out: &mut impl Write, event: Event<Item<KmsgDecoder>>) -> Result<(), Failure> {
        match event {
            Event::Item(Ok(record)) => self.record(out, &record)?,
            Event::Item(Err(Error::Lost(loss))) => self.loss(out, loss)?,
            Event::Item(Err(Error::Io(e))) => {
                self.fatal = Some(Failure::io(Origin::Input("/dev/kmsg"), &e));
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
        let wanted = self.wanted(record);
        match (&mut self.tail, wanted) {
            (Some(tail), true) => tail.record(record),
            (Some(tail), false) => tail.skipped(record.timestamp_us()),
            (None, true) => self.output.record(out, record)?,
            (None, false) => self.output.skipped(record),
        }
        Ok(())
    }

    /// Whether the filters let `record` through.
    fn wanted(&self, record: &KmsgRecord) -> bool {
        let in_window = self.window.as_ref().is_none_or(|(since, until, wall)| {
            let at = wall.unix_us(record.timestamp_us());
            since.is_none_or(|s| at > s) && until.is_none_or(|u| at < u)
        });
        in_window
            && self.level.is_none_or(|l| l.allows(record.level()))
            && self
                .facility
                .as_ref()
                .is_none_or(|f| f.allows(record.facility()))
            && self
                .grep
                .as_ref()
                .is_none_or(|re| re.is_match(&record.message_lossy()))
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
        match &mut self.tail {
            Some(tail) => tail.loss(loss),
            None => self.output.loss(out, &loss)?,
        }
        Ok(())
    }

    /// Flushes the output, then saves the cursor: a saved position was always printed.
    fn end_batch(&mut self, out: &mut impl Write) -> Result<(), Failure> {
        let caught_up = self
            .tail_until
            .is_none_or(|newest| self.position.is_some_and(|p| p >= newest));
        if self.follow && caught_up {
            // What the log held at the start is all read: out with the last N of it.
            self.release_tail(out)?;
        }
        out.flush()?;
        self.output.refresh_clock();
        if self.tail.is_some() {
            // Held-back records are not printed yet: the cursor must not pass them.
            return Ok(());
        }
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
