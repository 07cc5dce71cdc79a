//! Targets for the byte-stream codecs (lines, UTF-8 lines, length-delimited, fixed, chunks) and
//! for the engine itself.

use bytes::Bytes;
use fdframe::codec::{
    ChunksDecoder, FixedSizeDecoder, LengthDelimitedDecoder, LengthDelimitedError, LinesDecoder,
    LinesError, Utf8LinesDecoder, Utf8LinesError,
};
use fdframe::{Decoder, Framer};

use crate::harness::{Ev, Features, assert_split_invariant, drive, split_io};
use crate::input::{Feed, Reader, Script, ops_and_data};

/// A limit from one byte: mostly tiny (0..=63, where the edge cases are), sometimes up to 4 KiB
/// (255: unlimited, `usize::MAX`; that input space found the engine's read offer overflowing,
/// `tests/findings.rs`, and `LengthDelimitedDecoder` reserving a whole declared frame).
pub(crate) fn small_limit(reader: &mut Reader<'_>) -> usize {
    match reader.u8() {
        255 => usize::MAX,
        b @ 0..=191 => usize::from(b % 64),
        b => usize::from(b - 191) * 64,
    }
}

/// The engine, with read sizes from the input: small, so that frames straddle reads, or (for
/// a first byte of 255) the defaults, 8 KiB growing to 256 KiB.
pub(crate) fn framer<D: Decoder>(decoder: D, reader: &mut Reader<'_>) -> Framer<D> {
    let first = reader.u8();
    let max = reader.in_range(1, 256);
    let framer = Framer::new(decoder);
    if first == 255 {
        return framer;
    }
    framer
        .with_initial_read_size(1 + usize::from(first) % 64)
        .with_max_read_size(max)
}

fn bytes_item(b: Bytes) -> Vec<u8> {
    b.to_vec()
}

/// Decoder errors that share no buffer compare as themselves.
fn same<E>(e: E) -> E {
    e
}

/// What the lines decoders yield for `input`, written the obvious way: split at `\n`, strip
/// one `\r` if asked (a lone `\r` at the end of input is no line then), check the limit. Rejoining the frames with `\n` (and the stripped `\r`s)
/// gives the input back, an over-long line standing for itself.
fn lines_model(max_line_len: usize, strip_cr: bool, input: &[u8]) -> Vec<Result<&[u8], usize>> {
    let mut pieces: Vec<&[u8]> = input.split(|&b| b == b'\n').collect();
    if pieces.last().is_some_and(|last| last.is_empty()) {
        pieces.pop();
    } else if strip_cr && pieces.last() == Some(&&b"\r"[..]) {
        // A lone `\r` at the end of input is the rest of a cut-off `\r\n`, not a line.
        pieces.pop();
    }
    pieces
        .into_iter()
        .map(|mut line| {
            if strip_cr && line.last() == Some(&b'\r') {
                line = &line[..line.len() - 1];
            }
            if line.len() > max_line_len {
                Err(max_line_len)
            } else {
                Ok(line)
            }
        })
        .collect()
}

/// Reads the lines configuration: limit and `\r` stripping.
fn lines_config(reader: &mut Reader<'_>) -> (usize, bool) {
    (small_limit(reader), reader.bool())
}

/// `LinesDecoder`: over fuzzed reads the same frames as in one piece, and those are the input
/// split at `\n` (so rejoined they give the input back, over-long lines accounted for).
pub(crate) fn lines(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let (max, strip_cr) = lines_config(&mut reader);
    let make = || LinesDecoder::new().max_line_len(max).strip_cr(strip_cr);
    let framer = framer(make(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let run = drive(framer, &mut script, bytes_item, line_limit);
    assert_split_invariant(make, &run, &script, bytes_item, line_limit);
    check_lines_model(&run.events, &script, max, strip_cr);
    run.features(Features::default())
}

/// `Utf8LinesDecoder`: as [`lines`], and every valid line is the `String` of those bytes.
pub(crate) fn utf8_lines(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let (max, strip_cr) = lines_config(&mut reader);
    let make = || Utf8LinesDecoder::new().max_line_len(max).strip_cr(strip_cr);
    let framer = framer(make(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let err = |e: Utf8LinesError| match e {
        Utf8LinesError::InvalidUtf8 { raw, valid_up_to } => Err((raw.to_vec(), valid_up_to)),
        Utf8LinesError::TooLong { limit } => Ok(limit),
        other => panic!("unexpected error {other:?}"),
    };
    let run = drive(framer, &mut script, |s| s, err);
    assert_split_invariant(make, &run, &script, |s| s, err);
    // Invalid UTF-8 is a line too: fold it back into the line model.
    let (events, io) = split_io(&run.events);
    let folded: Vec<Ev<Vec<u8>, usize>> = events
        .iter()
        .map(|e| match e {
            Ev::Item(s) => Ev::Item(s.as_bytes().to_vec()),
            Ev::Decode(Err((raw, valid_up_to))) => {
                let error = std::str::from_utf8(raw).expect_err("reported as invalid UTF-8");
                assert_eq!(error.valid_up_to(), *valid_up_to, "valid_up_to of {raw:?}");
                Ev::Item(raw.clone())
            }
            Ev::Decode(Ok(limit)) => Ev::Decode(*limit),
            other => panic!("unexpected event {other:?}"),
        })
        .collect();
    if io.is_none() {
        check_lines_model(&folded, &script, max, strip_cr);
    }
    run.features(Features::default())
}

/// The limit a [`LinesError`] names (its only variant).
fn line_limit(e: LinesError) -> usize {
    match e {
        LinesError::TooLong { limit } => limit,
        other => panic!("unexpected error {other:?}"),
    }
}

fn check_lines_model(
    events: &[Ev<Vec<u8>, usize>],
    script: &Script<'_>,
    max: usize,
    strip_cr: bool,
) {
    let (events, io) = split_io(events);
    if io.is_some() {
        // A read error ends the stream before the last line is complete; the split-invariance
        // check has compared what came before it.
        return;
    }
    let got: Vec<Result<&[u8], usize>> = events
        .iter()
        .map(|e| match e {
            Ev::Item(line) => Ok(line.as_slice()),
            Ev::Decode(limit) => Err(*limit),
            other => panic!("a lines decoder yielded {other:?}"),
        })
        .collect();
    assert_eq!(
        got,
        lines_model(max, strip_cr, script.delivered_bytes()),
        "the lines are not the input split at \\n"
    );
}

/// `LengthDelimitedDecoder`: split-invariant, and each frame re-encoded with its header is the
/// input at that point; each error names the header found there.
pub(crate) fn length_delimited(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let field_len = reader.in_range(1, 8);
    let flags = reader.u8();
    let (little_endian, includes_header) = (flags & 1 == 1, flags & 2 == 2);
    let max = small_limit(&mut reader);
    let make = || {
        let decoder = LengthDelimitedDecoder::new()
            .length_field_len(field_len)
            .length_includes_header(includes_header)
            .max_frame_len(max);
        if little_endian {
            decoder.little_endian()
        } else {
            decoder
        }
    };
    let framer = framer(make(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let run = drive(framer, &mut script, bytes_item, same);
    assert_split_invariant(make, &run, &script, bytes_item, same);

    let encode_header = |value: u64| -> Vec<u8> {
        if little_endian {
            value.to_le_bytes()[..field_len].to_vec()
        } else {
            value.to_be_bytes()[8 - field_len..].to_vec()
        }
    };
    let read_header = |at: &[u8]| -> u64 {
        let header = &at[..field_len];
        let push = |v: u64, &b: &u8| (v << 8) | u64::from(b);
        if little_endian {
            header.iter().rev().fold(0, push)
        } else {
            header.iter().fold(0, push)
        }
    };
    let input = script.delivered_bytes();
    let (events, io) = split_io(&run.events);
    let mut cur = 0usize;
    for event in events {
        assert!(cur < input.len(), "{event:?} after all the input was used");
        let rest = &input[cur..];
        match event {
            Ev::Item(payload) => {
                let declared =
                    payload.len() as u64 + if includes_header { field_len as u64 } else { 0 };
                let mut frame = encode_header(declared);
                frame.extend_from_slice(payload);
                assert!(
                    rest.starts_with(&frame),
                    "frame {payload:?} re-encoded is not the input at byte {cur}"
                );
                cur += frame.len();
            }
            Ev::Decode(LengthDelimitedError::TooLong { payload_len, limit }) => {
                let value = read_header(rest);
                let expected = if includes_header {
                    value - field_len as u64
                } else {
                    value
                };
                assert_eq!((*payload_len, *limit), (expected, max), "at byte {cur}");
                assert!(expected > max as u64);
                let skipped = (field_len as u64).saturating_add(expected);
                cur = usize::try_from(skipped).map_or(usize::MAX, |s| cur.saturating_add(s));
            }
            Ev::Decode(LengthDelimitedError::InvalidLength {
                length_field,
                header_len,
            }) => {
                assert!(includes_header && *length_field < field_len as u64);
                assert_eq!((read_header(rest), *header_len), (*length_field, field_len));
                cur += field_len;
            }
            Ev::Truncated(bytes) => {
                assert_eq!(
                    bytes.as_slice(),
                    rest,
                    "truncated bytes are not the input's tail"
                );
                assert!(io.is_none());
                cur = input.len();
            }
            other => panic!("length-delimited yielded {other:?}"),
        }
    }
    if io.is_none() {
        assert!(
            cur >= input.len(),
            "input left over unreported from byte {cur}"
        );
    }
    run.features(Features::default())
}

/// `FixedSizeDecoder`: split-invariant; records of exactly the size whose concatenation, with
/// the truncated rest, is the input.
pub(crate) fn fixed(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let record_len = reader.in_range(1, 64);
    let make = || FixedSizeDecoder::new(record_len).expect("record_len is at least 1");
    let framer = framer(make(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let run = drive(framer, &mut script, bytes_item, same);
    assert_split_invariant(make, &run, &script, bytes_item, same);
    let (events, io) = split_io(&run.events);
    let mut joined = Vec::new();
    for event in events {
        match event {
            Ev::Item(record) => {
                assert_eq!(record.len(), record_len);
                joined.extend_from_slice(record);
            }
            Ev::Truncated(rest) => {
                assert!(
                    !rest.is_empty() && rest.len() < record_len,
                    "truncated {rest:?}"
                );
                joined.extend_from_slice(rest);
            }
            other => panic!("fixed-size yielded {other:?}"),
        }
    }
    let input = script.delivered_bytes();
    if io.is_none() {
        assert_eq!(joined, input, "records rejoined are not the input");
    } else {
        assert!(input.starts_with(&joined) && input.len() - joined.len() < record_len);
    }
    run.features(Features::default())
}

/// `ChunksDecoder`: chunks of 1 to `max_chunk_len` bytes whose concatenation is the input.
pub(crate) fn chunks(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let max = small_limit(&mut reader).max(1);
    let framer = framer(ChunksDecoder::new().max_chunk_len(max), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let run = drive(framer, &mut script, bytes_item, same);
    let (events, _) = split_io(&run.events);
    let mut joined = Vec::new();
    for event in events {
        let Ev::Item(chunk) = event else {
            panic!("chunks yielded {event:?}")
        };
        assert!(
            (1..=max).contains(&chunk.len()),
            "chunk of {} bytes",
            chunk.len()
        );
        joined.extend_from_slice(chunk);
    }
    // Chunks hold nothing back: even before a read error, every byte read was delivered.
    assert_eq!(
        joined,
        script.delivered_bytes(),
        "chunks rejoined are not the input"
    );
    run.features(Features::default())
}

/// The engine over every read outcome (sizes, `EINTR`, `EAGAIN`, `EPIPE`, `EIO`, `EINVAL`, 0),
/// with the lines decoder: the frames equal those of the same bytes in one piece, the stream
/// ends with the first read error the decoder does not retry (and that error), `Pending` comes
/// exactly from `EAGAIN`, and nothing is read after end of input.
pub(crate) fn engine(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let (max, strip_cr) = lines_config(&mut reader);
    let make = || LinesDecoder::new().max_line_len(max).strip_cr(strip_cr);
    let framer = framer(make(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let run = drive(framer, &mut script, bytes_item, line_limit);
    assert_split_invariant(make, &run, &script, bytes_item, line_limit);
    let (_, io) = split_io(&run.events);
    // Lines retries nothing: the first failed read ends the stream with its errno.
    assert_eq!(
        io,
        script.errors.first().copied(),
        "read errors {:?}",
        script.errors
    );
    assert!(script.errors.len() <= 1, "read on after a fatal error");
    let mut extra = Features::default();
    extra.push("errno", io.map_or(0, |e| e as u64));
    extra.push("ended", u64::from(script.ended));
    run.features(extra)
}
