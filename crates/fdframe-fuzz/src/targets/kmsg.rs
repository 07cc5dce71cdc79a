//! Targets for the kernel log decoders: `/dev/kmsg` records and `/proc/kmsg` lines.

use std::time::Duration;

use bytes::{Bytes, BytesMut};
use fdframe::kmsg::{
    Caller, Facility, KmsgDecoder, KmsgError, KmsgRecord, Level, ProcKmsgDecoder, ProcKmsgError,
    ProcKmsgErrorKind, ProcKmsgLine,
};
use fdframe::{Decoder, Framer, Loss, LossCause};

use crate::harness::{Ev, Features, assert_split_invariant, drive, split_io};
use crate::input::{EINVAL, EPIPE, Feed, Reader, Script, Sent, ops_and_data};
use crate::targets::codecs::{framer, small_limit};

/// The engine's bound on read errors a decoder retries in a row (`MAX_RETRIES_IN_A_ROW`).
const MAX_RETRIES_IN_A_ROW: u32 = 64;

/// Appends `text` escaped as the kernel escapes it (`\xNN` for bytes below `0x20`, from `0x7f`
/// up, and `\`), plus the bytes in `also`.
fn escape(out: &mut Vec<u8>, text: &[u8], also: &[u8]) {
    for &c in text {
        if !(b' '..0x7f).contains(&c) || c == b'\\' || also.contains(&c) {
            out.extend_from_slice(format!("\\x{c:02x}").as_bytes());
        } else {
            out.push(c);
        }
    }
}

/// `record` written back in `/dev/kmsg` syntax, with escapes (and `=` escaped in keys, so that a
/// key holding one reads back as the same key).
pub(crate) fn render_kmsg(record: &KmsgRecord) -> Vec<u8> {
    let mut out = format!(
        "{},{},{},",
        record.priority(),
        record.seq(),
        record.timestamp_us()
    )
    .into_bytes();
    out.extend_from_slice(record.flag().as_bytes());
    for field in record.extra_fields() {
        out.push(b',');
        out.extend_from_slice(field);
    }
    out.push(b';');
    escape(&mut out, record.message(), b"");
    out.push(b'\n');
    for (key, value) in record.dictionary() {
        out.push(b' ');
        escape(&mut out, key, b"=");
        out.push(b'=');
        escape(&mut out, value, b"");
        out.push(b'\n');
    }
    out
}

/// Panics unless `a` and `b` have the same fields (their raw bytes aside).
fn assert_same_record(a: &KmsgRecord, b: &KmsgRecord) {
    assert_eq!(
        (a.priority(), a.seq(), a.timestamp_us(), a.flag()),
        (b.priority(), b.seq(), b.timestamp_us(), b.flag())
    );
    assert_eq!(a.extra_fields(), b.extra_fields());
    assert_eq!(a.message(), b.message());
    assert_eq!(a.dictionary(), b.dictionary());
}

/// `/dev/kmsg`, one record per read, with `EPIPE`s and refused reads among them.
///
/// The stream is exactly what the kernel's records say: each record decodes as parsing it
/// alone does, a record over 8 KiB is `FrameTooLarge`, every forward gap in sequence numbers is
/// one `Lost` with that count and range right before the record that revealed it (a resume gap
/// for the first record after a cursor), an `EPIPE` before any number is one unknown loss, a
/// refused read (`EINVAL`) ends the stream. And every record, written back in `/dev/kmsg`
/// syntax, parses to the same record.
pub(crate) fn kmsg(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let resume = if reader.bool() {
        Some(u64::from(reader.u16()))
    } else {
        None
    };
    let decoder = resume.map_or_else(KmsgDecoder::new, KmsgDecoder::resume_after);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Record);
    let run = drive(Framer::new(decoder), &mut script, |r| r, |e: KmsgError| e);

    let mut expected = Vec::new();
    let mut last = resume;
    let mut resuming = resume.is_some();
    let mut unknown_reported = false;
    let mut retries = 0;
    for sent in &script.sent {
        match sent {
            Sent::Whole(range) => {
                retries = 0;
                let raw = &script.data()[range.clone()];
                if raw.len() > KmsgDecoder::MAX_RECORD_LEN {
                    expected.push(Ev::TooLarge {
                        limit: KmsgDecoder::MAX_RECORD_LEN,
                        len: raw.len(),
                    });
                    continue;
                }
                let parsed = KmsgRecord::parse(Bytes::copy_from_slice(raw));
                let seq = match &parsed {
                    Ok(record) => Some(record.seq()),
                    Err(e) => e.seq(),
                };
                if let Some(seq) = seq {
                    let cause = if std::mem::take(&mut resuming) {
                        LossCause::KmsgResumeGap
                    } else {
                        LossCause::KmsgOverrun
                    };
                    if let Some(last) = last.filter(|&last| seq > last.saturating_add(1)) {
                        expected.push(Ev::Lost(Loss::sequence_gap(cause, last + 1, seq)));
                    }
                    last = Some(seq);
                }
                expected.push(match parsed {
                    Ok(record) => Ev::Item(record),
                    Err(e) => Ev::Decode(e),
                });
            }
            Sent::Refused => {
                expected.push(Ev::Io(EINVAL));
                break;
            }
            Sent::Errno(EPIPE) => {
                // The decoder counts the overrun before the engine weighs its retry budget.
                let unknown = last.is_none() && !std::mem::replace(&mut unknown_reported, true);
                if retries == MAX_RETRIES_IN_A_ROW {
                    expected.push(Ev::Io(EPIPE));
                    break;
                }
                retries += 1;
                if unknown {
                    expected.push(Ev::Lost(Loss::unknown(LossCause::KmsgOverrun)));
                }
            }
            Sent::Errno(errno) => {
                expected.push(Ev::Io(*errno));
                break;
            }
            Sent::Cut(_) => unreachable!("records are never cut"),
        }
    }
    assert_eq!(
        run.events, expected,
        "the stream is not what the records say"
    );

    for record in run.items() {
        let rendered = render_kmsg(record);
        let again = KmsgRecord::parse(Bytes::from(rendered.clone()))
            .unwrap_or_else(|e| panic!("{record:?} rendered as {rendered:?} fails: {e}"));
        assert_same_record(record, &again);
    }
    let mut extra = Features::default();
    for event in &run.events {
        if let Ev::Decode(e) = event {
            extra.push_debug("kmsg-error", &e.kind());
        }
    }
    run.features(extra)
}

/// A `/proc/kmsg` line, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Line {
    facility: Facility,
    level: Level,
    timestamp: Option<Duration>,
    caller: Option<Caller>,
    message: Vec<u8>,
}

fn line(l: ProcKmsgLine) -> Line {
    Line {
        facility: l.facility,
        level: l.level,
        timestamp: l.timestamp,
        caller: l.caller,
        message: l.message.to_vec(),
    }
}

/// `line` written back in the syslog format.
pub(crate) fn render_proc_kmsg(line: &Line) -> Vec<u8> {
    let priority = line.facility.number() * 8 + u32::from(line.level.number());
    let mut out = format!("<{priority}>").into_bytes();
    if let Some(ts) = line.timestamp {
        out.extend_from_slice(format!("[{:5}.{:06}]", ts.as_secs(), ts.subsec_micros()).as_bytes());
    }
    if let Some(caller) = line.caller {
        out.extend_from_slice(format!("[{:>6}]", caller.to_string()).as_bytes());
    }
    if line.timestamp.is_some() || line.caller.is_some() {
        out.push(b' ');
    }
    out.extend_from_slice(&line.message);
    out.push(b'\n');
    out
}

/// `/proc/kmsg`: split-invariant (a too-long line's error carries what was buffered of it, so
/// errors compare by kind), each event is the next line of the input, and every line written
/// back in the syslog format decodes to the same line.
pub(crate) fn proc_kmsg(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let max = small_limit(&mut reader).max(1);
    let make = || ProcKmsgDecoder::with_max_line_len(max);
    let framer = framer(make(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let err = |e: ProcKmsgError| (e.kind(), e.line().to_vec());
    let run = drive(framer, &mut script, line, err);
    let kind_only = |e: ProcKmsgError| e.kind();
    let kinds = |run_events: &[Ev<Line, (ProcKmsgErrorKind, Vec<u8>)>]| {
        run_events
            .iter()
            .map(|e| match e {
                Ev::Decode((kind, _)) => Ev::Decode(*kind),
                Ev::Item(l) => Ev::Item(l.clone()),
                Ev::Lost(l) => Ev::Lost(l.clone()),
                Ev::TooLarge { limit, len } => Ev::TooLarge {
                    limit: *limit,
                    len: *len,
                },
                Ev::Truncated(t) => Ev::Truncated(t.clone()),
                Ev::Io(e) => Ev::Io(*e),
            })
            .collect::<Vec<_>>()
    };
    let by_kind = crate::harness::Run {
        events: kinds(&run.events),
        calls: run.calls,
        pendings: run.pendings,
        max_reads_per_call: run.max_reads_per_call,
        peak: run.peak,
    };
    assert_split_invariant(make, &by_kind, &script, line, kind_only);

    // Each event is the next line of the input.
    let (events, io) = split_io(&run.events);
    let input = script.delivered_bytes();
    let mut lines = input.split_inclusive(|&b| b == b'\n');
    for event in events {
        let source = lines
            .next()
            .unwrap_or_else(|| panic!("{event:?} after the last line"));
        let text = source.strip_suffix(b"\n").unwrap_or(source);
        match event {
            Ev::Decode((ProcKmsgErrorKind::LineTooLong { limit }, bytes)) => {
                assert_eq!(*limit, max);
                assert!(text.len() > max, "{text:?} is not too long");
                assert!(bytes.len() > max && source.starts_with(bytes), "{bytes:?}");
            }
            Ev::Decode((_, bytes)) => assert_eq!(bytes.as_slice(), source),
            Ev::Item(l) => {
                assert!(text.len() <= max);
                let rendered = render_proc_kmsg(l);
                let mut buf = BytesMut::from(&rendered[..]);
                let again = ProcKmsgDecoder::with_max_line_len(rendered.len())
                    .decode(&mut buf)
                    .unwrap_or_else(|e| panic!("{l:?} rendered as {rendered:?} fails: {e}"))
                    .map(line);
                assert_eq!(again.as_ref(), Some(l), "rendered as {rendered:?}");
            }
            other => panic!("proc-kmsg yielded {other:?}"),
        }
    }
    if io.is_none() {
        assert!(
            lines.next().is_none(),
            "a line of the input yielded nothing"
        );
    }
    let mut extra = Features::default();
    for event in &by_kind.events {
        if let Ev::Decode(kind) = event {
            extra.push_debug("proc-error", kind);
        }
    }
    run.features(extra)
}
