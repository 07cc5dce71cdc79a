//! Kernel log records, loss notices and malformed records, in the output form chosen: human
//! lines, JSON lines, or a `dmesg --json` document. Shared by `kmsg` and `read --codec kmsg`.

use std::io::{self, Write};

use fdframe::Loss;
use fdframe::kmsg::KmsgRecord;

use crate::human::{self, Line, LineOptions, Multiline, Painter};
use crate::json::{DmesgJson, JsonLines};
use crate::time::{Clocks, Emphasis, TimePrinter};

/// How human lines look.
#[derive(Debug)]
pub(crate) struct HumanStyle {
    pub(crate) painter: Painter,
    pub(crate) time: TimePrinter,
    /// Show `facility:level:` in front, as `dmesg -x`.
    pub(crate) decode: bool,
    /// Show dictionary entries under each record.
    pub(crate) dict: bool,
    /// `-r`: `<PRI>[  SS.UUUUUU]` in front, as the syslog format has it (no other prefix).
    pub(crate) raw: bool,
    /// `-d` with the raw or ctime format: ` <delta>` inside the time's brackets.
    pub(crate) with_delta: bool,
    /// Newlines in messages, `--noescape`.
    pub(crate) options: LineOptions,
    /// The previous record's timestamp, for `with_delta`.
    pub(crate) last_ts: Option<u64>,
}

impl HumanStyle {
    /// A plain style: `time`, no decode, no dictionary, dmesg's layout of multi-line messages.
    pub(crate) fn new(painter: Painter, time: TimePrinter) -> HumanStyle {
        HumanStyle {
            painter,
            time,
            decode: false,
            dict: false,
            raw: false,
            with_delta: false,
            options: LineOptions {
                multiline: Multiline::Indent,
                noescape: false,
            },
            last_ts: None,
        }
    }

    /// The time prefix of a record: the time format's, `-d`'s delta added, or `-r`'s.
    fn prefix(&mut self, record: &KmsgRecord) -> (String, Emphasis) {
        let ts = record.timestamp_us();
        // As dmesg: a delta from a zero (unset) time is 0.
        let delta_us = self
            .last_ts
            .filter(|&last| last != 0)
            .map_or(0, |last| i128::from(ts) - i128::from(last));
        self.last_ts = Some(ts);
        if self.raw {
            self.time.skipped(ts);
            return (
                format!("<{}>{}", record.priority(), crate::time::raw(ts)),
                Emphasis::Normal,
            );
        }
        let (mut time, emphasis) = self.time.prefix(ts);
        if self.with_delta && time.ends_with(']') {
            time.pop();
            time.push_str(&format!(" <{:12.6}>]", delta_us as f64 / 1e6));
        }
        (time, emphasis)
    }

    /// `--dict`: the record's dictionary entries, under it.
    fn write_dict(&self, out: &mut (impl Write + ?Sized), record: &KmsgRecord) -> io::Result<()> {
        if self.dict {
            for (key, value) in record.dictionary() {
                human::write_dict_entry(out, key, value)?;
            }
        }
        Ok(())
    }
}

/// The output form of kernel log records.
#[derive(Debug)]
pub(crate) enum KmsgOutput {
    Human(HumanStyle),
    /// JSON lines (`docs/json-schema.md`).
    Json(JsonLines),
    /// One `dmesg --json` document, closed by [`KmsgOutput::finish`].
    DmesgJson(DmesgJson),
}

impl KmsgOutput {
    /// Writes one record.
    pub(crate) fn record(
        &mut self,
        out: &mut (impl Write + ?Sized),
        record: &KmsgRecord,
    ) -> io::Result<()> {
        match self {
            KmsgOutput::Human(style) if record.message().is_empty() => {
                // dmesg prints an empty line for an empty message, no prefix, and counts no
                // delta from it.
                out.write_all(b"\n")?;
                style.write_dict(out, record)
            }
            KmsgOutput::Human(style) => {
                let (time, emphasis) = style.prefix(record);
                let line = Line {
                    time: &time,
                    emphasis,
                    decode: (style.decode && !style.raw)
                        .then(|| (record.facility(), record.level())),
                    caller: record.caller(),
                    level: record.level(),
                    message: record.message(),
                };
                human::write_record_line(out, style.painter, &line, &style.options)?;
                style.write_dict(out, record)
            }
            KmsgOutput::Json(json) => json.record(out, record),
            KmsgOutput::DmesgJson(doc) => doc.entry(out, record),
        }
    }

    /// Notes a record the filters left out: the next human line's delta counts from it, as in
    /// dmesg.
    pub(crate) fn skipped(&mut self, record: &KmsgRecord) {
        self.skipped_at(record.timestamp_us());
    }

    /// [`skipped`](KmsgOutput::skipped) by timestamp.
    pub(crate) fn skipped_at(&mut self, ts_us: u64) {
        if let KmsgOutput::Human(style) = self {
            style.time.skipped(ts_us);
            style.last_ts = Some(ts_us);
        }
    }

    /// Writes a loss notice in stream order (the dmesg document has no place for one: stderr).
    pub(crate) fn loss(&mut self, out: &mut (impl Write + ?Sized), loss: &Loss) -> io::Result<()> {
        match self {
            KmsgOutput::Human(style) => human::write_loss(out, style.painter, loss),
            KmsgOutput::Json(json) => json.loss(out, loss),
            KmsgOutput::DmesgJson(_) => warn(format_args!("{loss}")),
        }
    }

    /// Reports a record that could not be decoded (the stream goes on): a warning on stderr, and
    /// in JSON lines also an object of type `error`.
    pub(crate) fn malformed(
        &mut self,
        out: &mut (impl Write + ?Sized),
        message: &str,
        seq: Option<u64>,
    ) -> io::Result<()> {
        warn(format_args!("warning: {message}"))?;
        match self {
            KmsgOutput::Json(json) => json.error(out, message, seq),
            _ => Ok(()),
        }
    }

    /// Takes a fresh reading of the clocks for wall-clock times (once per batch).
    pub(crate) fn refresh_clock(&mut self) {
        let wall = match self {
            KmsgOutput::Human(style) => style.time.wall_mut(),
            KmsgOutput::Json(json) => Some(json.wall_mut()),
            KmsgOutput::DmesgJson(_) => None,
        };
        if let Some(wall) = wall {
            wall.refresh(Clocks::now());
        }
    }

    /// Writes what ends the output (the dmesg document's closing brackets).
    pub(crate) fn finish(self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        match self {
            KmsgOutput::DmesgJson(doc) => doc.end(out),
            _ => Ok(()),
        }
    }
}

/// Writes `fdframe: {message}` on stderr. A closed stderr is not worth failing for.
pub(crate) fn warn(message: std::fmt::Arguments<'_>) -> io::Result<()> {
    let _ = writeln!(io::stderr(), "fdframe: {message}");
    Ok(())
}

#[cfg(test)]
mod tests {
    use bytes::Bytes;

    use super::*;
    use crate::time::TimeFormat;

    #[test]
    fn dict_shows_dictionary_entries_under_the_record() {
        let record = KmsgRecord::parse(Bytes::from_static(
            b"6,160,424069,-;pci_root PNP0A03:00: ok\n SUBSYSTEM=acpi\n DEVICE=+acpi:\\x0a\n",
        ))
        .unwrap();
        let mut output = KmsgOutput::Human(HumanStyle {
            dict: true,
            ..HumanStyle::new(
                Painter { color: false },
                TimePrinter::new(TimeFormat::Raw, None),
            )
        });
        let mut out = Vec::new();
        output.record(&mut out, &record).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[    0.424069] pci_root PNP0A03:00: ok\n    SUBSYSTEM=acpi\n    DEVICE=+acpi:\\x0a\n"
        );
    }
}
