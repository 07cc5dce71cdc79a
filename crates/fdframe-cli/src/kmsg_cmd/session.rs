//! One run of `fdframe kmsg`: the records through the filters into the output, in batches,
//! and the cursor saved after each batch (never past what was printed).

use std::io::{self, Write};
use std::os::fd::{AsFd, OwnedFd};
use std::time::{Duration, Instant};

use fdframe::kmsg::{KmsgDecoder, KmsgRecord};
use fdframe::{Error, Loss, LossCause};
use regex::Regex;
use rustix::event::{PollFd, PollFlags, Timespec};

use super::delivery::{self, Out, PipeDelivery};
use super::options::Options;
use super::start;
use super::tail::Tail;
use crate::cursor::{Cursor, CursorFile};
use crate::failure::{Failure, Finished, Origin};
use crate::filter::{FacilityFilter, LevelFilter};
use crate::human::{LineOptions, Multiline, Painter};
use crate::json::{DmesgJson, JsonLines};
use crate::render::{HumanStyle, KmsgOutput, warn};
use crate::source::{self, Event, Item, Next, Source};
use crate::stop::Stop;
use crate::time::{Clocks, SleepScan, TimeFormat, TimePrinter, WallClock};

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
        KmsgOutput::DmesgJson(DmesgJson::begin(&mut io::stdout().lock())?.decoding(args.decode))
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
pub(super) struct Session {
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
    /// A loss at the start, reported before anything else (see [`start::Start::lost_at_start`]).
    lost_at_start: Option<Loss>,
    /// The last record handled, and the last one saved to the cursor file.
    position: Option<u64>,
    saved: Option<u64>,
    cursor: Option<CursorSave>,
    /// With a cursor and a pipe as standard output: what its reader has read (the cursor
    /// goes no further).
    delivery: Option<PipeDelivery<io::Stdout>>,
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
    pub(super) fn new(options: &Options<'_>, start: &mut start::Start) -> Result<Session, Failure> {
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
        let delivery = (start.cursor.is_some() && delivery::is_pipe(io::stdout()))
            .then(|| PipeDelivery::new(io::stdout()));
        Ok(Session {
            output,
            level: args.level,
            facility: options.facility.clone(),
            grep: options.grep.clone(),
            window,
            skip_upto: start.skip_upto,
            expect_first: start.expect_first,
            lost_at_start: start.lost_at_start.take(),
            position: start.skip_upto,
            saved: start.skip_upto,
            cursor: start.cursor.take(),
            delivery,
            tail,
            tail_until: start.newest,
            follow: options.follow,
            show_cursor,
            cursor_on_stderr: args.json || args.json_lines,
            fatal: None,
        })
    }

    /// After the last event: what is held back, the end of the document, the cursor.
    pub(super) fn end<W: Write>(&mut self, out: &mut Out<W>) -> Result<(), Failure> {
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
        self.settle(out)
    }

    /// At the end with a pipe as standard output: waits a little (at most [`SETTLE`]) for
    /// its reader to read what is in the pipe, then saves the cursor as far as it read.
    fn settle<W: Write>(&mut self, out: &Out<W>) -> Result<(), Failure> {
        let deadline = Instant::now() + SETTLE;
        loop {
            self.save_read(out)?;
            let Some(delivery) = &self.delivery else {
                return Ok(());
            };
            if !delivery.waiting() || delivery.reader_gone() || Instant::now() >= deadline {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Runs `source` into `out` (see [`source::drive`]). With `--follow`, a cursor and a pipe
    /// as standard output, the wait for more records gives up every [`TICK`] while records
    /// wait for the pipe's reader, to save the cursor as far as it has read them: without
    /// that, a quiet log would leave the cursor behind until the next record.
    pub(super) fn drive<W: Write>(
        &mut self,
        source: &mut dyn Source<KmsgDecoder>,
        follow: bool,
        stop: &Stop,
        wake: Option<Wake>,
        out: &mut Out<W>,
    ) -> Result<Finished, Failure> {
        match wake {
            Some(wake) if follow && self.delivery.is_some() => {
                self.drive_ticking(source, stop, &wake, out)
            }
            _ => source::drive(source, follow, stop, |event| self.on(out, event)),
        }
    }

    /// [`source::drive`] with `follow`, and a batch end (which saves the cursor) after each
    /// [`TICK`] without records while records wait for the pipe's reader.
    fn drive_ticking<W: Write>(
        &mut self,
        source: &mut dyn Source<KmsgDecoder>,
        stop: &Stop,
        wake: &Wake,
        out: &mut Out<W>,
    ) -> Result<Finished, Failure> {
        let mut wait = false;
        let mut unflushed = false;
        loop {
            let waiting = self.delivery.as_ref().is_some_and(PipeDelivery::waiting);
            if wait && waiting && !wake.ready_within(TICK)? {
                self.end_batch(out)?;
                continue;
            }
            match source.next(wait) {
                Next::Item(step) => {
                    self.on(out, Event::Item(step))?;
                    unflushed = true;
                    wait = false;
                    continue;
                }
                Next::Yielded => {
                    if unflushed {
                        self.end_batch(out)?;
                        unflushed = false;
                    }
                    continue;
                }
                Next::Idle => {}
                Next::End => {
                    self.end_batch(out)?;
                    return Ok(Finished::Input);
                }
                Next::Stopped => {
                    self.end_batch(out)?;
                    return Ok(stop.reason().map_or(Finished::Input, Finished::Stopped));
                }
            }
            if !wait {
                self.end_batch(out)?;
                unflushed = false;
            }
            wait = true;
        }
    }

    /// Reports a malformed record (`seq`, when it has one) and goes on.
    pub(super) fn malformed<W: Write>(
        &mut self,
        out: &mut Out<W>,
        why: &str,
        seq: Option<u64>,
    ) -> Result<(), Failure> {
        Ok(self.output.malformed(out, why, seq)?)
    }

    /// Prints what `-n`/`--reverse` held back; from now on records go straight out.
    fn release_tail<W: Write>(&mut self, out: &mut Out<W>) -> Result<(), Failure> {
        if let Some(tail) = self.tail.take() {
            tail.flush(&mut self.output, out)?;
        }
        Ok(())
    }

    pub(super) fn on<W: Write>(
        &mut self,
        out: &mut Out<W>,
        event: Event<Item<KmsgDecoder>>,
    ) -> Result<(), Failure> {
        match event {
            Event::Item(Ok(record)) => self.record(out, &record, None)?,
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
            Event::BatchEnd => return self.end_batch(out),
        }
        self.note(out)
    }

    /// With a pipe as standard output: the last record handled ends where the output is now.
    fn note<W: Write>(&mut self, out: &Out<W>) -> Result<(), Failure> {
        if let (Some(delivery), Some(seq), None) = (&mut self.delivery, self.position, &self.tail) {
            delivery
                .note(seq, delivery::offset(out), delivery::written(out))
                .map_err(pipe_failure)?;
        }
        Ok(())
    }

    /// Handles a record; `negative`: a dump line's `<PRI>` that is no priority (see
    /// [`super::dump::write()`]): a level or facility filter leaves it out, as in dmesg.
    pub(super) fn record<W: Write>(
        &mut self,
        out: &mut Out<W>,
        record: &KmsgRecord,
        negative: Option<i64>,
    ) -> Result<(), Failure> {
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
        self.report_lost_at_start(out)?;
        self.position = Some(seq);
        let filtered = self.level.is_some() || self.facility.is_some();
        let wanted = self.wanted(record) && (negative.is_none() || !filtered);
        match (&mut self.tail, wanted) {
            (Some(tail), true) => tail.record(record, negative),
            (Some(tail), false) => tail.skipped(record.timestamp_us()),
            (None, true) => super::dump::write(&mut self.output, out, record, negative)?,
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
    pub(super) fn loss<W: Write>(&mut self, out: &mut Out<W>, loss: Loss) -> Result<(), Failure> {
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
        self.report_lost_at_start(out)?;
        self.emit_loss(out, loss)
    }

    /// The loss at the start, once: before the first record or loss that comes after it.
    fn report_lost_at_start<W: Write>(&mut self, out: &mut Out<W>) -> Result<(), Failure> {
        match self.lost_at_start.take() {
            Some(loss) => self.emit_loss(out, loss),
            None => Ok(()),
        }
    }

    fn emit_loss<W: Write>(&mut self, out: &mut Out<W>, loss: Loss) -> Result<(), Failure> {
        match &mut self.tail {
            Some(tail) => tail.loss(loss),
            None => self.output.loss(out, &loss)?,
        }
        Ok(())
    }

    /// Flushes the output, then saves the cursor: a saved position was always printed.
    fn end_batch<W: Write>(&mut self, out: &mut Out<W>) -> Result<(), Failure> {
        let caught_up = self
            .tail_until
            .is_none_or(|newest| self.position.is_some_and(|p| p >= newest));
        if self.follow && caught_up {
            // What the log held at the start is all read: out with the last N of it.
            self.release_tail(out)?;
        }
        self.note(out)?;
        out.flush()?;
        self.output.refresh_clock();
        if self.tail.is_some() {
            // Held-back records are not printed yet: the cursor must not pass them.
            return Ok(());
        }
        self.save_read(out)
    }

    /// Saves the cursor at the last record handled, or with a pipe as standard output, at
    /// the last one whose output the reader has read. Also after the output failed (the
    /// reader died): what reached it is still known.
    pub(super) fn save_read<W: Write>(&mut self, out: &Out<W>) -> Result<(), Failure> {
        let seq = match &mut self.delivery {
            Some(delivery) => delivery
                .advance(delivery::written(out))
                .map_err(pipe_failure)?,
            None => self.position,
        };
        let (Some(file), Some(seq)) = (&self.cursor, seq) else {
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

/// How often a follower looks how far the pipe's reader got, while records wait for it.
const TICK: Duration = Duration::from_millis(200);

/// How long the end of a run waits for the pipe's reader to read what is left in the pipe.
const SETTLE: Duration = Duration::from_secs(1);

fn pipe_failure(e: io::Error) -> Failure {
    Failure::new(format_args!(
        "cannot tell how much of the output the pipe's reader has read (FIONREAD): {e}"
    ))
}

/// What wakes [`Session::drive`]'s tick early: /dev/kmsg (a duplicate of the descriptor the
/// source reads: poll(2) on it tells the same) and the stop pipe.
pub(super) struct Wake {
    kmsg: OwnedFd,
    stop: OwnedFd,
}

impl Wake {
    pub(super) fn new(kmsg: impl AsFd, stop: &Stop) -> io::Result<Wake> {
        Ok(Wake {
            kmsg: rustix::io::fcntl_dupfd_cloexec(kmsg, 0)?,
            stop: stop.wait_fd()?,
        })
    }

    /// Whether a record, an error or a stop came within `timeout` (or a signal cut the wait
    /// short: the source then looks).
    fn ready_within(&self, timeout: Duration) -> Result<bool, Failure> {
        let mut fds = [
            PollFd::new(&self.kmsg, PollFlags::IN | PollFlags::PRI),
            PollFd::new(&self.stop, PollFlags::IN),
        ];
        let timeout = Timespec {
            tv_sec: 0,
            tv_nsec: i64::from(timeout.subsec_nanos()),
        };
        match rustix::event::poll(&mut fds, Some(&timeout)) {
            Ok(n) => Ok(n > 0),
            Err(rustix::io::Errno::INTR) => Ok(true),
            Err(e) => Err(Failure::new(format_args!("cannot wait for /dev/kmsg: {e}"))),
        }
    }
}
