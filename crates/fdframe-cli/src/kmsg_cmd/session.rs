//! One run of `fdframe kmsg`: the records through the filters into the output, in batches,
//! and the cursor saved after each batch (never past what was printed).

use std::io::{self, Write};

use fdframe::kmsg::{KmsgDecoder, KmsgRecord};
use fdframe::{Error, Loss, LossCause};
use regex::Regex;

use super::options::Options;
use super::start;
use super::tail::Tail;
use crate::cursor::{Cursor, CursorFile};
use crate::failure::Failure;
use crate::filter::{FacilityFilter, LevelFilter};
use crate::human::{LineOptions, Multiline, Painter};
use crate::json::{DmesgJson, JsonLines};
use crate::render::{HumanStyle, KmsgOutput, warn};
use crate::source::{Event, Step};
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
            cursor: start.cursor.take(),
            tail,
            tail_until: start.newest,
            follow: options.follow,
            show_cursor,
            cursor_on_stderr: args.json || args.json_lines,
            fatal: None,
        })
    }

    /// After the last event: what is held back, the end of the document, the cursor.
    pub(super) fn end(&mut self, out: &mut impl Write) -> Result<(), Failure> {
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

    /// Reports a malformed record (`seq`, when it has one) and goes on.
    pub(super) fn malformed(
        &mut self,
        out: &mut impl Write,
        why: &str,
        seq: Option<u64>,
    ) -> Result<(), Failure> {
        Ok(self.output.malformed(out, why, seq)?)
    }

    /// Prints what `-n`/`--reverse` held back; from now on records go straight out.
    fn release_tail(&mut self, out: &mut impl Write) -> Result<(), Failure> {
        if let Some(tail) = self.tail.take() {
            tail.flush(&mut self.output, out)?;
        }
        Ok(())
    }

    pub(super) fn on(
        &mut self,
        out: &mut impl Write,
        event: Event<Step<KmsgDecoder>>,
    ) -> Result<(), Failure> {
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

    pub(super) fn record(
        &mut self,
        out: &mut impl Write,
        record: &KmsgRecord,
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
    pub(super) fn loss(&mut self, out: &mut impl Write, loss: Loss) -> Result<(), Failure> {
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
