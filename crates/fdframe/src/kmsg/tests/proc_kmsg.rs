use std::time::Duration;

use bytes::BytesMut;

use crate::kmsg::{Caller, Facility, Level, ProcKmsgDecoder, ProcKmsgErrorKind, ProcKmsgLine};
use crate::{Decoder, ReadLimits};

type Decoded = Result<ProcKmsgLine, ProcKmsgErrorKind>;

/// Feeds `chunks` one read at a time, then ends the input; returns everything decoded and the
/// bytes left over (which the engine would report as truncated).
fn run(decoder: &mut ProcKmsgDecoder, chunks: &[&[u8]]) -> (Vec<Decoded>, BytesMut) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(line)) => out.push(Ok(line)),
                Ok(None) => break,
                Err(e) => out.push(Err(e.kind())),
            }
        }
    }
    loop {
        match decoder.decode_eof(&mut buf) {
            Ok(Some(line)) => out.push(Ok(line)),
            Ok(None) => break,
            Err(e) => out.push(Err(e.kind())),
        }
    }
    (out, buf)
}

fn messages(decoded: &[Decoded]) -> Vec<String> {
    decoded
        .iter()
        .map(|d| match d {
            Ok(line) => String::from_utf8_lossy(&line.message).into_owned(),
            Err(kind) => format!("error: {kind:?}"),
        })
        .collect()
}

#[test]
fn syslog_line_with_time_decodes_exactly() {
    let (out, rest) = run(
        &mut ProcKmsgDecoder::new(),
        &[b"<6>[    1.234567] NET: Registered protocol family 10\n"],
    );
    assert!(rest.is_empty());
    let line = out[0].as_ref().unwrap();
    assert_eq!(line.facility, Facility::KERN);
    assert_eq!(line.level, Level::Info);
    assert_eq!(line.timestamp, Some(Duration::from_micros(1_234_567)));
    assert_eq!(line.caller, None);
    assert_eq!(line.message, "NET: Registered protocol family 10");
}

#[test]
fn priority_carries_the_facility() {
    let (out, _) = run(
        &mut ProcKmsgDecoder::new(),
        &[b"<30>[    5.690716] udevd[80]: starting version 181\n<190>[99999.000001] x\n"],
    );
    let got: Vec<_> = out
        .iter()
        .map(|d| {
            let line = d.as_ref().unwrap();
            (line.facility, line.level, line.timestamp)
        })
        .collect();
    assert_eq!(
        got,
        [
            (
                Facility::DAEMON,
                Level::Info,
                Some(Duration::from_micros(5_690_716))
            ),
            (
                Facility::LOCAL7,
                Level::Info,
                Some(Duration::new(99_999, 1_000))
            ),
        ]
    );
}

#[test]
fn timestamp_is_optional_and_brackets_in_messages_stay() {
    let (out, _) = run(
        &mut ProcKmsgDecoder::new(),
        &[b"<4>no time\n<6>[drm] Initialized\n<6>[1.5] not the kernel's shape\n<6>[    1.000000]no space\n"],
    );
    assert_eq!(
        messages(&out),
        [
            "no time",
            "[drm] Initialized",
            "[1.5] not the kernel's shape",
            "no space"
        ]
    );
    let times: Vec<_> = out.iter().map(|d| d.as_ref().unwrap().timestamp).collect();
    assert_eq!(times, [None, None, None, Some(Duration::from_secs(1))]);
}

#[test]
fn caller_bracket_is_parsed_when_padded_like_the_kernel() {
    let (out, _) = run(
        &mut ProcKmsgDecoder::new(),
        &[b"<6>[    0.100000][    T1] init\n<6>[    C3] irq\n<6>[T1] short: message text\n"],
    );
    let got: Vec<_> = out
        .iter()
        .map(|d| {
            let line = d.as_ref().unwrap();
            (
                line.caller,
                String::from_utf8_lossy(&line.message).into_owned(),
            )
        })
        .collect();
    assert_eq!(
        got,
        [
            (Some(Caller::Thread(1)), "init".to_owned()),
            (Some(Caller::Cpu(3)), "irq".to_owned()),
            (None, "[T1] short: message text".to_owned()),
        ]
    );
}

#[test]
fn lines_split_across_reads_are_joined() {
    let (out, rest) = run(
        &mut ProcKmsgDecoder::new(),
        &[
            b"<6>[    1.0",
            b"00000] hel",
            b"lo\n<3>",
            b"[    2.000000] bye\n",
        ],
    );
    assert!(rest.is_empty());
    assert_eq!(messages(&out), ["hello", "bye"]);
}

#[test]
fn message_bytes_are_not_unescaped() {
    let (out, _) = run(&mut ProcKmsgDecoder::new(), &[b"<6>a\\x41\tb\xff\n"]);
    assert_eq!(out[0].as_ref().unwrap().message, &b"a\\x41\tb\xff"[..]);
}

#[test]
fn malformed_lines_are_errors_and_decoding_goes_on() {
    let (out, _) = run(
        &mut ProcKmsgDecoder::new(),
        &[b"plain\n<x>bad\n<6\n<4294967296>big\n\n<6>ok\n<006>zeros\n"],
    );
    assert_eq!(
        messages(&out),
        [
            "error: MissingPriority",
            "error: BadPriority",
            "error: BadPriority",
            "error: BadPriority",
            "error: MissingPriority",
            "ok",
            "zeros"
        ]
    );
}

#[test]
fn last_line_without_newline_is_decoded_at_eof() {
    let (out, rest) = run(&mut ProcKmsgDecoder::new(), &[b"<6>one\n<5>two"]);
    assert!(rest.is_empty());
    assert_eq!(messages(&out), ["one", "two"]);
    assert_eq!(out[1].as_ref().unwrap().level, Level::Notice);
}

#[test]
fn overlong_line_is_reported_once_and_skipped_to_its_newline() {
    let mut decoder = ProcKmsgDecoder::with_max_line_len(10);
    let (out, rest) = run(
        &mut decoder,
        &[b"<6>0123456", b"789abcdef", b"ghijk", b"lmn\n<6>next\n"],
    );
    assert!(rest.is_empty());
    assert_eq!(messages(&out), ["error: LineTooLong { limit: 10 }", "next"]);
}

#[test]
fn overlong_line_arriving_whole_is_consumed() {
    let mut decoder = ProcKmsgDecoder::with_max_line_len(12);
    let (out, _) = run(&mut decoder, &[b"<6>0123456789ab\n<6>exactly12\n"]);
    assert_eq!(
        messages(&out),
        ["error: LineTooLong { limit: 12 }", "exactly12"]
    );
}

#[test]
fn buffer_never_grows_past_the_limit_while_discarding() {
    let mut decoder = ProcKmsgDecoder::with_max_line_len(16);
    let mut buf = BytesMut::new();
    let mut errors = 0;
    for _ in 0..100 {
        buf.extend_from_slice(&[b'a'; 7]);
        while let Some(result) = decoder.decode(&mut buf).transpose() {
            assert!(result.is_err());
            errors += 1;
        }
        assert!(buf.len() <= 17, "buffered {}", buf.len());
    }
    assert_eq!(errors, 1);
    buf.extend_from_slice(b"\n<6>after\n");
    assert_eq!(decoder.decode(&mut buf).unwrap().unwrap().message, "after");
}

#[test]
fn overlong_line_cut_by_eof_leaves_nothing() {
    let mut decoder = ProcKmsgDecoder::with_max_line_len(4);
    let (out, rest) = run(&mut decoder, &[b"<6>abcdefgh"]);
    assert!(rest.is_empty());
    assert_eq!(messages(&out), ["error: LineTooLong { limit: 4 }"]);
}

#[test]
fn read_limits_leave_room_for_the_newline() {
    let limits = ProcKmsgDecoder::with_max_line_len(100).read_limits();
    assert_eq!(limits, ReadLimits::stream().max_frame_len(101));
    assert_eq!(
        ProcKmsgDecoder::new().max_line_len(),
        ProcKmsgDecoder::DEFAULT_MAX_LINE_LEN
    );
    assert_eq!(ProcKmsgDecoder::with_max_line_len(0).max_line_len(), 1);
}
