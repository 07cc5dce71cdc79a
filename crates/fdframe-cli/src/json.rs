//! JSON output: one object per line (`--json`), and a `dmesg --json` document (`--dmesg-json`).
//!
//! `--json` objects (every line is one object; `type` says which):
//!
//! ```text
//! {"type":"record","seq":1137,"timestamp_us":1598236208,"facility":"user","facility_num":1,
//!  "level":"info","level_num":6,"priority":14,"flag":"-","caller":null,"message":"...",
//!  "dictionary":{"SUBSYSTEM":"acpi"}}
//! {"type":"loss","count":12,"first_seq":100,"last_seq":111,"cause":"kmsg-overrun","message":"..."}
//! {"type":"error","message":"malformed /dev/kmsg record: ...","seq":1140}
//! ```
//!
//! Records gain `"wall_time"` (RFC 3339, local offset) with `--time-format ctime|iso|reltime`,
//! and `"message_hex"` (the exact bytes) when the message is not valid UTF-8, in which case
//! `"message"` has U+FFFD in place of the invalid bytes. A loss of unknown size has
//! `"count":null` and no sequence numbers.

use std::io::{self, Write};

use fdframe::kmsg::{Caller, KmsgRecord};
use fdframe::{Loss, LossCause};

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

/// The `cause` of a loss object.
pub(crate) fn cause_name(cause: LossCause) -> &'static str {
    match cause {
        LossCause::KmsgOverrun => "kmsg-overrun",
        LossCause::KmsgResumeGap => "kmsg-resume-gap",
        LossCause::InotifyOverflow => "inotify-overflow",
        LossCause::EvdevDropped => "evdev-dropped",
        _ => "other",
    }
}

/// Writes a loss notice as a line.
pub(crate) fn write_loss(out: &mut (impl Write + ?Sized), loss: &Loss) -> io::Result<()> {
    out.write_all(b"{\"type\":\"loss\",\"count\":")?;
    match loss.count {
        Some(n) => write!(out, "{n}")?,
        None => out.write_all(b"null")?,
    }
    if let Some(seqs) = &loss.seqs {
        write!(
            out,
            ",\"first_seq\":{},\"last_seq\":{}",
            seqs.start(),
            seqs.end()
        )?;
    }
    write!(
        out,
        ",\"cause\":\"{}\",\"message\":",
        cause_name(loss.cause)
    )?;
    write_str(out, &loss.to_string())?;
    out.write_all(b"}\n")
}

/// Writes an error object (a malformed record; the stream went on) as a line.
pub(crate) fn write_error(
    out: &mut (impl Write + ?Sized),
    message: &str,
    seq: Option<u64>,
) -> io::Result<()> {
    out.write_all(b"{\"type\":\"error\",\"message\":")?;
    write_str(out, message)?;
    if let Some(seq) = seq {
        write!(out, ",\"seq\":{seq}")?;
    }
    out.write_all(b"}\n")
}

/// Writes a `/dev/kmsg` record as a line; `wall_time` is added when given.
pub(crate) fn write_record(
    out: &mut (impl Write + ?Sized),
    record: &KmsgRecord,
    wall_time: Option<&str>,
) -> io::Result<()> {
    let (facility, level) = (record.facility(), record.level());
    write!(
        out,
        "{{\"type\":\"record\",\"seq\":{},\"timestamp_us\":{},\"facility\":\"{facility}\",\
         \"facility_num\":{},\"level\":\"{level}\",\"level_num\":{},\"priority\":{},\"flag\":",
        record.seq(),
        record.timestamp_us(),
        facility.number(),
        level.number(),
        record.priority(),
    )?;
    write_lossy(out, record.flag().as_bytes())?;
    out.write_all(b",\"caller\":")?;
    write_caller(out, record.caller())?;
    if let Some(wall_time) = wall_time {
        out.write_all(b",\"wall_time\":")?;
        write_str(out, wall_time)?;
    }
    out.write_all(b",\"message\":")?;
    write_lossy(out, record.message())?;
    if record.message_str().is_none() {
        out.write_all(b",\"message_hex\":")?;
        write_hex(out, record.message())?;
    }
    out.write_all(b",\"dictionary\":{")?;
    for (i, (key, value)) in record.dictionary().iter().enumerate() {
        if i > 0 {
            out.write_all(b",")?;
        }
        write_lossy(out, key)?;
        out.write_all(b":")?;
        write_lossy(out, value)?;
    }
    out.write_all(b"}}\n")
}

fn write_caller(out: &mut (impl Write + ?Sized), caller: Option<Caller>) -> io::Result<()> {
    match caller {
        Some(caller) => write_str(out, &caller.to_string()),
        None => out.write_all(b"null"),
    }
}

/// Writes one document shaped exactly like `dmesg --json` (util-linux), entry by entry, except
/// that `pri` is the correct `facility * 8 + level` for every facility.
#[derive(Debug, Default)]
pub(crate) struct DmesgJson {
    entries: u64,
}

impl DmesgJson {
    pub(crate) fn begin(out: &mut (impl Write + ?Sized)) -> io::Result<DmesgJson> {
        out.write_all(b"{\n   \"dmesg\": [\n")?;
        Ok(DmesgJson::default())
    }

    pub(crate) fn entry(
        &mut self,
        out: &mut (impl Write + ?Sized),
        record: &KmsgRecord,
    ) -> io::Result<()> {
        out.write_all(if self.entries == 0 {
            b"      {\n"
        } else {
            b",{\n"
        })?;
        self.entries += 1;
        let ts = record.timestamp_us();
        write!(
            out,
            "         \"pri\": {},\n         \"time\": {:5}.{:06},\n         \"msg\": ",
            record.priority(),
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
