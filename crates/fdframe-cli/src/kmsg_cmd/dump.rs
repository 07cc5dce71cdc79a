//! `-F FILE` and `-K FILE`: a saved log instead of the ring buffer, read as dmesg reads it.
//!
//! `-F` is the syslog format a dump holds (`dmesg -r > FILE`, `/proc/kmsg`, `syslog(2)`):
//! `<6>[    1.234567] message`, a record starting at each line that starts with `<`; lines
//! that do not (the continuation lines of a multi-line message) belong to the record before,
//! as in util-linux. Such a dump has no sequence numbers, so nothing can be said about losses.
//!
//! `-K` is a capture of `/dev/kmsg` itself (`cat /dev/kmsg > FILE`, or records separated by
//! NUL bytes, as util-linux 2.40 writes its test files): `6,1137,1598236208,-;message` with
//! its dictionary lines after it. The records keep their sequence numbers, so a gap in the
//! capture is reported as a loss with its exact count, as when reading the device.
//!
//! Both are read as a stream, one bounded line at a time: a file is never read into memory
//! whole, and only regular files are taken (a FIFO or a device would never end).

use std::fs::File;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::path::Path;

use bytes::{Bytes, BytesMut};
use fdframe::Decoder;
use fdframe::kmsg::{KmsgDecoder, KmsgError, KmsgRecord};

use crate::failure::Failure;
use crate::render::KmsgOutput;

/// The longest record line taken: `/dev/kmsg` records are at most 8 KiB, a dump line at most
/// four times that once escaped; anything longer is not a kernel log.
const MAX_LINE: u64 = 64 * 1024;

/// The longest record (a message with its continuation or dictionary lines).
const MAX_RECORD: usize = 256 * 1024;

/// Which format a file is in.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Format {
    /// `-F`: the syslog format of a dump.
    Syslog,
    /// `-K`: `/dev/kmsg` records.
    Kmsg,
}

/// What reading a file yields, in order.
pub(super) enum Item {
    /// A record, and for a dump line whose `<priority>` is negative, that number.
    Record(KmsgRecord, Option<i64>),
    /// A gap in a `-K` capture's sequence numbers.
    Lost(fdframe::Loss),
    /// A record that could not be read; reading goes on.
    Malformed(String, Option<u64>),
}

/// Opens `path`, which must be a regular file.
pub(super) fn open(path: &Path) -> Result<File, Failure> {
    let shown = path.display();
    let file =
        File::open(path).map_err(|e| Failure::new(format_args!("cannot open {shown}: {e}")))?;
    let meta = file
        .metadata()
        .map_err(|e| Failure::new(format_args!("cannot read {shown}: {e}")))?;
    if !meta.is_file() {
        return Err(Failure::new(format_args!(
            "{shown} is not a regular file; -F and -K read saved logs (a pipe or device would \
             not end)"
        )));
    }
    Ok(file)
}

/// Reads every record of `file`, handing each to `each` in order.
pub(super) fn read(
    file: impl Read,
    format: Format,
    shown: &str,
    mut each: impl FnMut(Item) -> Result<(), Failure>,
) -> Result<(), Failure> {
    let mut reader = BufReader::new(file);
    let mut record = Vec::new();
    let mut line = Vec::new();
    let mut splitter = Splitter::new(format);
    loop {
        line.clear();
        let n = (&mut reader)
            .take(MAX_LINE + 1)
            .read_until(b'\n', &mut line)
            .map_err(|e| Failure::new(format_args!("cannot read {shown}: {e}")))?;
        if n == 0 {
            break;
        }
        if n as u64 > MAX_LINE {
            return Err(Failure::new(format_args!(
                "{shown}: a line longer than {MAX_LINE} bytes: not a kernel log"
            )));
        }
        // A NUL ends a record (util-linux's -K files); each piece between is a line part.
        let mut pieces = line.split(|&b| b == 0).peekable();
        while let Some(piece) = pieces.next() {
            let starts_record = match format {
                Format::Syslog => piece.first() == Some(&b'<'),
                Format::Kmsg => piece.first().is_some_and(|&b| b != b' '),
            };
            if starts_record && !record.is_empty() {
                splitter.finish(&mut record, &mut each)?;
            }
            record.extend_from_slice(piece);
            if record.len() > MAX_RECORD {
                return Err(Failure::new(format_args!(
                    "{shown}: a record longer than {MAX_RECORD} bytes: not a kernel log"
                )));
            }
            if pieces.peek().is_some() {
                splitter.finish(&mut record, &mut each)?;
            }
        }
    }
    splitter.finish(&mut record, &mut each)
}

/// Turns the bytes of one record into an [`Item`].
struct Splitter {
    format: Format,
    /// `-F` records get sequence numbers in file order (the dump has none).
    next_seq: u64,
    decoder: KmsgDecoder,
}

impl Splitter {
    fn new(format: Format) -> Splitter {
        Splitter {
            format,
            next_seq: 0,
            decoder: KmsgDecoder::new(),
        }
    }

    fn finish(
        &mut self,
        record: &mut Vec<u8>,
        each: &mut impl FnMut(Item) -> Result<(), Failure>,
    ) -> Result<(), Failure> {
        let bytes = std::mem::take(record);
        if bytes.iter().all(|b| b.is_ascii_whitespace()) {
            return Ok(());
        }
        match self.format {
            Format::Syslog => {
                let seq = self.next_seq;
                self.next_seq += 1;
                match syslog_record(&bytes, seq) {
                    Ok((record, negative)) => each(Item::Record(record, negative)),
                    Err(why) => each(Item::Malformed(why, None)),
                }
            }
            Format::Kmsg => {
                let mut buf = BytesMut::from(&bytes[..]);
                let decoded = self.decoder.decode(&mut buf);
                if let Some(loss) = self.decoder.take_loss() {
                    each(Item::Lost(loss))?;
                }
                match decoded {
                    Ok(Some(record)) => each(Item::Record(record, None)),
                    Ok(None) => Ok(()),
                    Err(e) => each(Item::Malformed(malformed(&e), e.seq())),
                }
            }
        }
    }
}

fn malformed(e: &KmsgError) -> String {
    e.to_string()
}

/// One dump record (`<PRI>[  SS.UUUUUU] [CALLER] message`, the message perhaps over several
/// lines) as a `/dev/kmsg` record numbered `seq`, parsed as util-linux parses it: the
/// timestamp and caller brackets are optional.
///
/// A negative `<PRI>` (util-linux 2.38's `-r` writes `<-1>` for a facility above 12: its
/// `LOG_MAKEPRI` ORs -1 with the level) is no priority. dmesg reads it as facility "none" and
/// level `PRI & 7` (`LOG_PRI`): it prints the record without `facility:level:`, and leaves it
/// out when filtering by level or facility. The record then has that level and facility kern,
/// and the number comes back beside it, for [`write()`] to show the record as dmesg does.
fn syslog_record(bytes: &[u8], seq: u64) -> Result<(KmsgRecord, Option<i64>), String> {
    let text = bytes.strip_suffix(b"\n").unwrap_or(bytes);
    let rest = text
        .strip_prefix(b"<")
        .ok_or_else(|| "a dump line without a <priority>".to_owned())?;
    let close = rest
        .iter()
        .position(|&b| b == b'>')
        .filter(|&i| {
            let digits = rest[..i].strip_prefix(b"-").unwrap_or(&rest[..i]);
            // At most 18 digits: any i64.
            (1..=18).contains(&digits.len()) && digits.iter().all(u8::is_ascii_digit)
        })
        .ok_or_else(|| "a dump line with a malformed <priority>".to_owned())?;
    let number: i64 = std::str::from_utf8(&rest[..close])
        .ok()
        .and_then(|s| s.parse().ok())
        .ok_or_else(|| "a dump line with a malformed <priority>".to_owned())?;
    let negative = (number < 0).then_some(number);
    let priority = match negative {
        Some(n) => (n & 7) as u32,
        None => u32::try_from(number)
            .ok()
            .filter(|&p| p < 1 << 13)
            .ok_or_else(|| "a dump line with a priority out of range".to_owned())?,
    };
    let mut rest = &rest[close + 1..];
    let mut ts_us = 0;
    if rest.first() == Some(&b'[')
        && rest
            .get(1)
            .is_some_and(|&b| b == b' ' || b.is_ascii_digit())
    {
        if let Some((ts, after)) = timestamp(&rest[1..]) {
            ts_us = ts;
            rest = after.strip_prefix(b" ").unwrap_or(after);
        }
    }
    let mut caller = None;
    if rest.first() == Some(&b'[')
        && rest
            .get(1)
            .is_some_and(|&b| matches!(b, b' ' | b'T' | b'C'))
    {
        if let Some(end) = rest.iter().position(|&b| b == b']') {
            let id = rest[1..end].trim_ascii_start();
            if !id.is_empty() && id.len() < 20 && id.iter().all(u8::is_ascii_alphanumeric) {
                caller = Some(id.to_vec());
                rest = rest.get(end + 2..).unwrap_or_default();
            }
        }
    }
    let mut raw = format!("{priority},{seq},{ts_us},-").into_bytes();
    if let Some(caller) = caller {
        raw.extend_from_slice(b",caller=");
        raw.extend_from_slice(&caller);
    }
    raw.push(b';');
    escape_into(&mut raw, rest);
    raw.push(b'\n');
    let record = KmsgRecord::parse(Bytes::from(raw)).map_err(|e| e.to_string())?;
    Ok((record, negative))
}

/// Writes a record of a file: one with a negative `<PRI>` (see [`syslog_record`]) as dmesg
/// shows it: without `facility:level:` (`-x`), `pri` and `fac` (`-J`), and with its `<PRI>`
/// as the dump has it (`-r`). JSON lines have no form without a facility and level: there it
/// is an error object that quotes the message (and a warning on stderr).
pub(super) fn write(
    output: &mut KmsgOutput,
    out: &mut impl Write,
    record: &KmsgRecord,
    negative: Option<i64>,
) -> io::Result<()> {
    let Some(number) = negative else {
        return output.record(out, record);
    };
    match output {
        KmsgOutput::Human(style) if style.raw => {
            let mut line = Vec::new();
            output.record(&mut line, record)?;
            // `<7>[...]`, with the level dmesg reads, becomes `<-1>[...]` again.
            let after = line.iter().position(|&b| b == b'>').map_or(0, |i| i + 1);
            write!(out, "<{number}>")?;
            out.write_all(&line[after..])
        }
        KmsgOutput::Human(style) => {
            let decode = std::mem::take(&mut style.decode);
            let written = output.record(out, record);
            if let KmsgOutput::Human(style) = output {
                style.decode = decode;
            }
            written
        }
        KmsgOutput::DmesgJson(doc) => doc.entry_without_priority(out, record),
        KmsgOutput::Json(_) => output.malformed(
            out,
            &format!(
                "a dump line with no priority (<{number}>), which JSON lines cannot show \
                 without a facility and level: {:?}",
                record.message_lossy()
            ),
            None,
        ),
    }
}

/// `  12.345678]` -> (12345678 µs, what follows the `]`).
fn timestamp(text: &[u8]) -> Option<(u64, &[u8])> {
    let end = text.iter().position(|&b| b == b']')?;
    let inner = std::str::from_utf8(&text[..end]).ok()?.trim_start();
    let (secs, frac) = inner.split_once('.').unwrap_or((inner, ""));
    let secs: u64 = secs.parse().ok()?;
    let frac = &frac[..frac.len().min(6)];
    let micros: u64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<u64>().ok()? * 10u64.pow(6 - frac.len() as u32)
    };
    Some((
        secs.checked_mul(1_000_000)?.checked_add(micros)?,
        &text[end + 1..],
    ))
}

/// Escapes a message as the kernel does in `/dev/kmsg` (`\xNN` for control bytes, bytes
/// above 126 and the backslash), so that parsing it gives back exactly these bytes.
fn escape_into(out: &mut Vec<u8>, message: &[u8]) {
    for &b in message {
        if !(b' '..127).contains(&b) || b == b'\\' {
            out.extend_from_slice(format!("\\x{b:02x}").as_bytes());
        } else {
            out.push(b);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(format: Format, input: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        read(input, format, "test", |item| {
            out.push(match item {
                Item::Record(r, _) => format!(
                    "{} {} {} {:?} {:?}",
                    r.seq(),
                    r.priority(),
                    r.timestamp_us(),
                    r.caller().map(|c| c.to_string()),
                    String::from_utf8_lossy(r.message())
                ),
                Item::Lost(loss) => format!("lost {:?}", loss.count),
                Item::Malformed(why, _) => format!("malformed {why}"),
            });
            Ok(())
        })
        .unwrap();
        out
    }

    #[test]
    fn a_dump_is_read_as_dmesg_reads_it() {
        let dump = b"<6>[    0.000000] Linux version\n<30>[   12.000001] [  T412] udevd: x\n\
                     <4>no time \\ here\n<12>[    1.5] multi\n    line two\n";
        assert_eq!(
            items(Format::Syslog, dump),
            [
                "0 6 0 None \"Linux version\"",
                "1 30 12000001 Some(\"T412\") \"udevd: x\"",
                "2 4 0 None \"no time \\\\ here\"",
                "3 12 1500000 None \"multi\\n    line two\"",
            ]
        );
    }

    #[test]
    fn dump_lines_without_a_priority_are_malformed_not_fatal() {
        let got = items(Format::Syslog, b"garbage\n<6>[    1.000000] ok\n<x>bad\n");
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(got[0].starts_with("malformed"), "{got:?}");
        assert_eq!(got[1], "1 6 1000000 None \"ok\"");
        assert!(got[2].starts_with("malformed"), "{got:?}");
    }

    #[test]
    fn a_negative_priority_is_a_record_without_one_as_in_dmesg() {
        // util-linux 2.38's `dmesg -r` writes `<-1>` for a facility above 12.
        let dump = b"<-1>[    4.000000] local0 record\n<-2>x\n<-x>bad\n<->bad\n";
        let mut got = Vec::new();
        read(&dump[..], Format::Syslog, "test", |item| {
            got.push(match item {
                Item::Record(r, negative) => {
                    format!("{} {negative:?} {:?}", r.priority(), r.message_lossy())
                }
                Item::Lost(_) => "lost".to_owned(),
                Item::Malformed(why, _) => format!("malformed {why}"),
            });
            Ok(())
        })
        .unwrap();
        // The level dmesg reads is `PRI & 7`: -1 is debug, -2 info.
        assert_eq!(got[0], "7 Some(-1) \"local0 record\"");
        assert_eq!(got[1], "6 Some(-2) \"x\"");
        assert!(
            got[2].starts_with("malformed") && got[3].starts_with("malformed"),
            "{got:?}"
        );
        assert_eq!(got.len(), 4);
    }

    /// What `-x`, `-J` and `-r` make of a record without a priority.
    #[test]
    fn a_record_without_a_priority_is_shown_as_dmesg_shows_it() {
        use crate::human::Painter;
        use crate::json::DmesgJson;
        use crate::render::HumanStyle;
        use crate::time::{TimeFormat, TimePrinter};

        let (record, negative) = syslog_record(b"<-1>[    4.000000] bare\n", 0).unwrap();
        let human = |raw: bool| {
            let mut output = KmsgOutput::Human(HumanStyle {
                decode: true,
                raw,
                ..HumanStyle::new(
                    Painter { color: false },
                    TimePrinter::new(TimeFormat::Raw, None),
                )
            });
            let mut out = Vec::new();
            write(&mut output, &mut out, &record, negative).unwrap();
            // The style is as it was: the next record is decoded.
            let (next, _) = syslog_record(b"<6>[    5.000000] kern\n", 1).unwrap();
            write(&mut output, &mut out, &next, None).unwrap();
            String::from_utf8(out).unwrap()
        };
        assert_eq!(
            human(false),
            "[    4.000000] bare\nkern  :info  : [    5.000000] kern\n"
        );
        assert_eq!(
            human(true),
            "<-1>[    4.000000] bare\n<6>[    5.000000] kern\n"
        );
        let mut doc = KmsgOutput::DmesgJson(DmesgJson::default().decoding(true));
        let mut out = Vec::new();
        write(&mut doc, &mut out, &record, negative).unwrap();
        let text = String::from_utf8(out).unwrap();
        assert!(
            !text.contains("\"pri\"") && !text.contains("\"fac\""),
            "{text}"
        );
        assert!(text.contains("\"msg\": \"bare\""), "{text}");
    }

    #[test]
    fn a_kmsg_capture_keeps_its_sequence_numbers_and_gaps() {
        let capture = b"6,10,5000,-;first\n SUBSYSTEM=acpi\n6,11,6000,-;second\n\
                        14,15,7000,-;after a gap\n";
        assert_eq!(
            items(Format::Kmsg, capture),
            [
                "10 6 5000 None \"first\"",
                "11 6 6000 None \"second\"",
                "lost Some(3)",
                "15 14 7000 None \"after a gap\"",
            ]
        );
        let nul_separated = b"6,1,5000,-;one\n\x006,2,6000,-;two\n\x00";
        assert_eq!(
            items(Format::Kmsg, nul_separated),
            ["1 6 5000 None \"one\"", "2 6 6000 None \"two\""]
        );
    }

    #[test]
    fn an_endless_line_is_refused_not_buffered() {
        let long = vec![b'a'; (MAX_LINE + 10) as usize];
        let result = read(&long[..], Format::Kmsg, "test", |_| Ok(()));
        assert!(result.is_err());
    }

    proptest::proptest! {
        /// A saved log (`-F`, `-K`) is user-controlled input: any bytes give records, malformed
        /// items or a clear error, never a panic; records of a `-F` dump are numbered in order.
        #[test]
        fn any_dump_bytes_are_read_without_panic(
            bytes in proptest::collection::vec(proptest::prop_oneof![
                proptest::strategy::Just(b'<'), proptest::strategy::Just(b'>'),
                proptest::strategy::Just(b'['), proptest::strategy::Just(b']'),
                proptest::strategy::Just(b'\n'), proptest::strategy::Just(0u8),
                proptest::strategy::Just(b' '), proptest::strategy::Just(b','),
                proptest::strategy::Just(b';'), proptest::strategy::Just(b'-'),
                proptest::strategy::Just(b'T'), proptest::strategy::Just(b'\\'),
                b'0'..=b'9', proptest::num::u8::ANY,
            ], 0..400),
            kmsg: bool,
        ) {
            let format = if kmsg { Format::Kmsg } else { Format::Syslog };
            let mut seqs = Vec::new();
            let _ = read(&bytes[..], format, "test", |item| {
                if let Item::Record(record, _) = item {
                    seqs.push(record.seq());
                }
                Ok(())
            });
            if !kmsg {
                proptest::prop_assert!(seqs.windows(2).all(|w| w[0] < w[1]), "{seqs:?}");
            }
        }
    }
}
