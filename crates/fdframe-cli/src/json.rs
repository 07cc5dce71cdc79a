//! JSON output: one object per line (`--json`), and a `dmesg --json` document (`--dmesg-json`).
//!
//! The JSON lines are a versioned schema a log shipper can ingest as they are; it is written
//! down, with an example of every object, in `docs/json-schema.md`. Every line is one object;
//! `type` says which (`record`, `loss`, `error`), `schema` which version of the schema
//! ([`SCHEMA`]):
//!
//! ```text
//! {"type":"record","schema":"fdframe-kmsg/1","boot_id":"…","wall_time":"2026-11-22T02:15:58.512097Z",
//!  "wall_time_uncertain":false,"seq":1137,"timestamp_us":1598236208,"priority":14,"facility":"user",
//!  "facility_num":1,"level":"info","level_num":6,"flag":"-","caller":null,"message":"...",
//!  "dictionary":{"SUBSYSTEM":"acpi"}}
//! {"type":"loss","schema":"fdframe-kmsg/1","boot_id":"…","cause":"kmsg-overrun","count":12,
//!  "first_seq":100,"last_seq":111,"message":"..."}
//! {"type":"error","schema":"fdframe-kmsg/1","boot_id":"…","message":"malformed /dev/kmsg record: ...","seq":1140}
//! ```
//!
//! The record's own fields (from `seq` on) are the library's `serde` form of `KmsgRecord`, the
//! loss's the `serde` form of `Loss`: one schema for library users and shippers.

use std::io::{self, Read as _, Write};

use clap::Args;
use fdframe::Loss;
use fdframe::kmsg::KmsgRecord;
use serde::Serialize;

use crate::failure::Failure;
use crate::time::{Clocks, SleepScan, TimePrinter, WallClock};

/// The version of the JSON-lines schema, in every object. A new field is not a new version;
/// a field renamed, removed or changed in meaning is.
pub(crate) const SCHEMA: &str = "fdframe-kmsg/1";

/// The JSON-lines options of `fdframe kmsg`.
#[derive(Debug, Default, Args)]
pub(crate) struct JsonOptions {
    /// With --json-lines: put `"hostname"` on every object: this system's host name, or NAME
    /// with --hostname=NAME.
    #[arg(
        long,
        requires = "json_lines",
        value_name = "NAME",
        num_args = 0..=1,
        require_equals = true,
        default_missing_value = ""
    )]
    hostname: Option<String>,
}

impl JsonOptions {
    /// The host name to put on each object, if asked for.
    fn hostname(&self) -> Result<Option<String>, Failure> {
        match self.hostname.as_deref() {
            None => Ok(None),
            Some("") => system_hostname()
                .map(Some)
                .map_err(|e| Failure::new(format_args!("cannot read the host name: {e}"))),
            Some(name) => Ok(Some(name.to_owned())),
        }
    }
}

/// This system's host name (of the UTS namespace), as `hostname` prints it.
fn system_hostname() -> io::Result<String> {
    let mut text = String::new();
    // The kernel's limit is 64 bytes; the read is bounded all the same.
    std::fs::File::open("/proc/sys/kernel/hostname")?
        .take(256)
        .read_to_string(&mut text)?;
    Ok(text.trim_end_matches('\n').to_owned())
}

/// The JSON-lines output of `fdframe kmsg`: what every object carries, and the wall clock.
#[derive(Debug)]
pub(crate) struct JsonLines {
    boot_id: String,
    hostname: Option<String>,
    wall: WallClock,
}

impl JsonLines {
    /// JSON lines with `time`'s wall clock (one is made when it has none: JSON records always
    /// have a wall-clock time), and a host name on each object when `options` ask for one.
    pub(crate) fn new(time: TimePrinter, options: &JsonOptions) -> Result<JsonLines, Failure> {
        let wall = time.into_wall().unwrap_or_else(|| {
            let clocks = Clocks::now();
            WallClock::new(clocks, SleepScan::default().plan(clocks.slept_us()))
        });
        let boot_id = crate::cursor::current_boot_id()
            .map_err(|e| Failure::new(format_args!("cannot read this boot's id: {e}")))?;
        Ok(JsonLines::with(boot_id, options.hostname()?, wall))
    }

    pub(crate) fn with(boot_id: String, hostname: Option<String>, wall: WallClock) -> JsonLines {
        JsonLines {
            boot_id,
            hostname,
            wall,
        }
    }

    /// The wall clock, to refresh once per batch.
    pub(crate) fn wall_mut(&mut self) -> &mut WallClock {
        &mut self.wall
    }

    fn envelope<T: Serialize>(&self, kind: &'static str, body: T) -> Envelope<'_, T> {
        Envelope {
            kind,
            schema: Some(SCHEMA),
            boot_id: Some(&self.boot_id),
            hostname: self.hostname.as_deref(),
            body,
        }
    }

    /// Writes a record as a line.
    pub(crate) fn record(
        &self,
        out: &mut (impl Write + ?Sized),
        record: &KmsgRecord,
    ) -> io::Result<()> {
        let ts = record.timestamp_us();
        let body = RecordBody {
            wall_time: Some(self.wall.rfc3339_utc(ts)),
            wall_time_uncertain: Some(!self.wall.is_exact(ts)),
            record,
        };
        write_line(out, &self.envelope("record", body))
    }

    /// Writes a loss notice as a line.
    pub(crate) fn loss(&self, out: &mut (impl Write + ?Sized), loss: &Loss) -> io::Result<()> {
        write_line(out, &self.envelope("loss", loss_body(loss)))
    }

    /// Writes an error object (a malformed record; the stream went on) as a line.
    pub(crate) fn error(
        &self,
        out: &mut (impl Write + ?Sized),
        message: &str,
        seq: Option<u64>,
    ) -> io::Result<()> {
        write_line(out, &self.envelope("error", ErrorBody { message, seq }))
    }
}

/// What every object has, around its own fields.
#[derive(Serialize)]
struct Envelope<'a, T> {
    #[serde(rename = "type")]
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    schema: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    boot_id: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    hostname: Option<&'a str>,
    #[serde(flatten)]
    body: T,
}

#[derive(Serialize)]
struct RecordBody<'a> {
    #[serde(skip_serializing_if = "Option::is_none")]
    wall_time: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    wall_time_uncertain: Option<bool>,
    #[serde(flatten)]
    record: &'a KmsgRecord,
}

#[derive(Serialize)]
struct LossBody<'a> {
    #[serde(flatten)]
    loss: &'a Loss,
    /// The loss said in words, as the human output says it.
    message: String,
}

fn loss_body(loss: &Loss) -> LossBody<'_> {
    LossBody {
        loss,
        message: loss.to_string(),
    }
}

#[derive(Serialize)]
struct ErrorBody<'a> {
    message: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    seq: Option<u64>,
}

/// An object without the schema envelope (`fdframe read --output json`, which has other
/// object types besides).
fn bare<T>(kind: &'static str, body: T) -> Envelope<'static, T> {
    Envelope {
        kind,
        schema: None,
        boot_id: None,
        hostname: None,
        body,
    }
}

/// Writes `value` as JSON and a newline.
fn write_line(out: &mut (impl Write + ?Sized), value: &impl Serialize) -> io::Result<()> {
    let mut line = serde_json::to_vec(value)?;
    line.push(b'\n');
    out.write_all(&line)
}

/// Writes `text` as a JSON string, quotes included.
pub(crate) fn write_str(out: &mut (impl Write + ?Sized), text: &str) -> io::Result<()> {
    out.write_all(b"\"")?;
    let mut start = 0;
    for (i, byte) in text.bytes().enumerate() {
        let escape: &[u8] = match byte {
            b'"' => b"\\\"",
            b'\\' => b"\\\\",
            b'\n' => b"\\n",
            b'\r' => b"\\r",
            b'\t' => b"\\t",
            0x08 => b"\\b",
            0x0c => b"\\f",
            0..0x20 => b"",
            _ => continue,
        };
        out.write_all(&text.as_bytes()[start..i])?;
        if escape.is_empty() {
            write!(out, "\\u{byte:04x}")?;
        } else {
            out.write_all(escape)?;
        }
        start = i + 1;
    }
    out.write_all(&text.as_bytes()[start..])?;
    out.write_all(b"\"")
}

/// Writes bytes as a JSON string, invalid UTF-8 replaced by U+FFFD.
pub(crate) fn write_lossy(out: &mut (impl Write + ?Sized), bytes: &[u8]) -> io::Result<()> {
    write_str(out, &String::from_utf8_lossy(bytes))
}

/// Writes bytes as a JSON string of lowercase hex digits.
pub(crate) fn write_hex(out: &mut (impl Write + ?Sized), bytes: &[u8]) -> io::Result<()> {
    out.write_all(b"\"")?;
    for byte in bytes {
        write!(out, "{byte:02x}")?;
    }
    out.write_all(b"\"")
}

/// Writes a loss notice as a line (`fdframe read --output json`).
pub(crate) fn write_loss(out: &mut (impl Write + ?Sized), loss: &Loss) -> io::Result<()> {
    write_line(out, &bare("loss", loss_body(loss)))
}

/// Writes an error object (a malformed record; the stream went on) as a line
/// (`fdframe read --output json`).
pub(crate) fn write_error(
    out: &mut (impl Write + ?Sized),
    message: &str,
    seq: Option<u64>,
) -> io::Result<()> {
    write_line(out, &bare("error", ErrorBody { message, seq }))
}

/// Writes a `/dev/kmsg` record as a line, without boot id or schema (`fdframe read --codec
/// kmsg`: the records of a file, of no known boot); `wall_time` is added when given.
pub(crate) fn write_record(
    out: &mut (impl Write + ?Sized),
    record: &KmsgRecord,
    wall_time: Option<&str>,
) -> io::Result<()> {
    let body = RecordBody {
        wall_time: wall_time.map(str::to_owned),
        wall_time_uncertain: None,
        record,
    };
    write_line(out, &bare("record", body))
}

/// Writes one document shaped exactly like `dmesg --json` (util-linux), entry by entry, except
/// that `pri` is the correct `facility * 8 + level` for every facility. With `-x`, as dmesg
/// `-J -x`: `"fac"` and `"pri"` are the facility's and level's names instead (a facility without
/// a name, above 23, by its number, as `-x` shows it on a line).
#[derive(Debug, Default)]
pub(crate) struct DmesgJson {
    entries: u64,
    decode: bool,
}

impl DmesgJson {
    pub(crate) fn begin(out: &mut (impl Write + ?Sized)) -> io::Result<DmesgJson> {
        out.write_all(b"{\n   \"dmesg\": [\n")?;
        Ok(DmesgJson::default())
    }

    /// `-x`: names for the facility and level (`"fac": "kern", "pri": "info"`).
    pub(crate) fn decoding(self, decode: bool) -> DmesgJson {
        DmesgJson { decode, ..self }
    }

    pub(crate) fn entry(
        &mut self,
        out: &mut (impl Write + ?Sized),
        record: &KmsgRecord,
    ) -> io::Result<()> {
        self.write_entry(out, record, true)
    }

    /// An entry without `fac` and `pri`, as dmesg writes a record whose priority it cannot
    /// read (a `<-1>` line of a dump).
    pub(crate) fn entry_without_priority(
        &mut self,
        out: &mut (impl Write + ?Sized),
        record: &KmsgRecord,
    ) -> io::Result<()> {
        self.write_entry(out, record, false)
    }

    fn write_entry(
        &mut self,
        out: &mut (impl Write + ?Sized),
        record: &KmsgRecord,
        priority: bool,
    ) -> io::Result<()> {
        out.write_all(if self.entries == 0 {
            b"      {\n"
        } else {
            b",{\n"
        })?;
        self.entries += 1;
        match (priority, self.decode) {
            (false, _) => {}
            (true, false) => writeln!(out, "         \"pri\": {},", record.priority())?,
            (true, true) => write!(
                out,
                "         \"fac\": \"{}\",\n         \"pri\": \"{}\",\n",
                record.facility(),
                record.level()
            )?,
        }
        let ts = record.timestamp_us();
        write!(
            out,
            "         \"time\": {:5}.{:06},\n         \"msg\": ",
            ts / 1_000_000,
            ts % 1_000_000
        )?;
        write_lossy(out, record.message())?;
        out.write_all(b"\n      }")
    }

    pub(crate) fn end(self, out: &mut (impl Write + ?Sized)) -> io::Result<()> {
        if self.entries > 0 {
            out.write_all(b"\n")?;
        }
        out.write_all(b"   ]\n}\n")
    }
}

#[cfg(test)]
#[path = "json_tests.rs"]
mod tests;
