//! Kernel log records, loss notices and malformed records, in the output form chosen: human
//! lines, JSON lines, or a `dmesg --json` document. Shared by `kmsg` and `read --codec kmsg`.

use std::io::{self, Write};

use fdframe::Loss;
use fdframe::kmsg::KmsgRecord;

use crate::human::{self, Line, Painter};
use crate::json::{DmesgJson, JsonLines};
use crate::time::{Clocks, TimePrinter};

/// How human lines look.
#[derive(Debug)]
pub(crate) struct HumanStyle {
    pub(crate) painter: Painter,
    pub(crate) time: TimePrinter,
    /// Show `facility:level:` in front, as `dmesg -x`.
    pub(crate) decode: bool,
    /// Show dictionary entries under each record.
    pub(crate) dict: bool,
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
            KmsgOutput::Human(style) => {
                let (time, emphasis) = style.time.prefix(record.timestamp_us());
                let line = Line {
                    time: &time,
                    emphasis,
                    decode: style.decode.then(|| (record.facility(), record.level())),
                    caller: record.caller(),
                    level: record.level(),
                    message: record.message(),
                };
                human::write_line(out, style.painter, &line)?;
                if style.dict {
                    for (key, value) in record.dictionary() {
                        human::write_dict_entry(out, key, value)?;
                    }
                }
                Ok(())
            }
            KmsgOutput::Json(json) => json.record(out, record),
            KmsgOutput::DmesgJson(doc) => doc.entry(out, record),
        }
    }

    /// Notes a record the filters left out: the next human line's delta counts from it, as in
    /// dmesg.
    pub(crate) fn skipped(&mut self, record: &KmsgRecord) {
        if let KmsgOutput::Human(style) = self {
            style.time.skipped(record.timestamp_us());
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
            painter: Painter { color: false },
            time: TimePrinter::new(TimeFormat::Raw, None),
            decode: false,
            dict: true,
        });
        let mut out = Vec::new();
        output.record(&mut out, &record).unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "[    0.424069] pci_root PNP0A03:00: ok\n    SUBSYSTEM=acpi\n    DEVICE=+acpi:\\x0a\n"
        );
    }
}
