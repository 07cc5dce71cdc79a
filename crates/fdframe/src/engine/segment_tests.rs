//! The follow signals of [`ReadSpace`]: `pending`, `end_segment` and `notice`, on both paths.

use std::path::PathBuf;
use std::task::Poll;

use proptest::prelude::*;

use super::script::{EAGAIN, Outcome, Script, Seen, describe, run};
use super::*;
use crate::codec::{LengthDelimitedDecoder, LinesDecoder};
use crate::follow::FollowNotice;

fn bytes(b: &[u8]) -> Outcome {
    Outcome::Bytes(b.to_vec())
}

fn rotated(name: &str) -> FollowNotice {
    FollowNotice::Rotated {
        path: PathBuf::from(name),
    }
}

fn item(s: &str) -> Seen<bytes::Bytes> {
    Seen::Item(bytes::Bytes::copy_from_slice(s.as_bytes()))
}

fn notice(name: &str) -> Seen<bytes::Bytes> {
    Seen::Error(describe::<std::convert::Infallible>(&Error::Follow(
        rotated(name),
    )))
}

fn lines(script: Vec<Outcome>) -> (Vec<Seen<bytes::Bytes>>, Script) {
    let mut script = Script::new(script);
    let mut framer = Framer::new(LinesDecoder::new());
    let seen = run(&mut framer, &mut script, 1000);
    assert!(framer.is_done());
    (seen, script)
}

/// The batch path over the same script, flattened, `Pending`s left out.
fn lines_batched(script: Vec<Outcome>) -> Vec<Seen<bytes::Bytes>> {
    let mut script = Script::new(script);
    let mut framer = Framer::new(LinesDecoder::new());
    let mut seen = Vec::new();
    for _ in 0..1000 {
        match framer.poll_batch_with(|buf| script.read(buf)) {
            Poll::Ready(Some(Ok(frames))) => {
                assert!(!frames.is_empty(), "an empty batch");
                seen.extend(frames.into_iter().map(Seen::Item));
            }
            Poll::Ready(Some(Err(e))) => seen.push(Seen::Error(describe(&e))),
            Poll::Ready(None) => return seen,
            Poll::Pending => {}
        }
    }
    panic!("the batch stream did not end");
}

fn without_pending<T>(seen: Vec<Seen<T>>) -> Vec<Seen<T>> {
    seen.into_iter()
        .filter(|s| !matches!(s, Seen::Pending))
        .collect()
}

#[test]
fn end_segment_delivers_the_held_partial_line_and_reading_goes_on() {
    let (seen, script) = lines(vec![
        bytes(b"one\npart"),
        Outcome::Errno(EAGAIN),
        Outcome::EndSegment,
        bytes(b"two\n"),
    ]);
    assert_eq!(
        without_pending(seen),
        [item("one"), item("part"), item("two")]
    );
    // The reads saw the partial line pending, then nothing after the segment's drain.
    assert_eq!(script.pending[..4], [0, 4, 4, 0]);
}

#[test]
fn a_notice_with_a_segment_end_comes_after_the_drained_partial_line() {
    let (seen, _) = lines(vec![
        bytes(b"one\npart"),
        Outcome::EndSegmentThen(rotated("log")),
        bytes(b"two\n"),
    ]);
    assert_eq!(
        seen,
        [item("one"), item("part"), notice("log"), item("two")]
    );
}

#[test]
fn a_notice_alone_is_delivered_between_lines_and_keeps_the_partial_line() {
    let (seen, _) = lines(vec![
        bytes(b"one\npa"),
        Outcome::Notice(rotated("log")),
        bytes(b"rt\n"),
    ]);
    assert_eq!(seen, [item("one"), notice("log"), item("part")]);
}

#[test]
fn a_segment_end_with_nothing_buffered_delivers_nothing_and_reading_goes_on() {
    let (seen, _) = lines(vec![
        bytes(b"one\n"),
        Outcome::EndSegment,
        Outcome::EndSegment,
        bytes(b"two\n"),
    ]);
    assert_eq!(seen, [item("one"), item("two")]);
}

#[test]
fn a_zero_byte_read_without_a_signal_still_ends_the_stream() {
    let mut script = Script::new(vec![bytes(b"one\n"), Outcome::EndSegment]);
    let mut framer = Framer::new(LinesDecoder::new());
    assert_eq!(run(&mut framer, &mut script, 10), [item("one")]);
    // The script ran out after the segment end: a plain 0-byte read, the end.
    assert!(framer.is_done());
    assert_eq!(script.offered.len(), 3);
}

#[test]
fn signals_count_against_the_read_budget() {
    let reads = 2 * Framer::<LinesDecoder>::MAX_READS_PER_CALL + 8;
    let mut script = Script::new((0..reads).map(|_| Outcome::EndSegment));
    let mut framer = Framer::new(LinesDecoder::new());
    let step = framer.poll_next_with(|buf| script.read(buf));
    assert!(step.is_pending());
    assert!(framer.is_yielding());
    assert_eq!(
        script.offered.len(),
        Framer::<LinesDecoder>::MAX_READS_PER_CALL
    );
    let step = framer.poll_batch_with(|buf| script.read(buf));
    assert!(step.is_pending() && framer.is_yielding());
}

#[test]
fn a_codec_that_cannot_end_a_frame_reports_the_segments_rest_as_truncated() {
    let mut script = Script::new(vec![
        bytes(b"\x00\x02ab\x00\x05ab"),
        Outcome::EndSegmentThen(rotated("log")),
        bytes(b"\x00\x01c"),
    ]);
    let mut framer = Framer::new(LengthDelimitedDecoder::new().length_field_len(2));
    let seen = run(&mut framer, &mut script, 100);
    let expected: Vec<Seen<bytes::Bytes>> = vec![
        Seen::Item(bytes::Bytes::from_static(b"ab")),
        Seen::Error("Truncated: \"\\0\\u{5}ab\"".into()),
        notice("log"),
        Seen::Item(bytes::Bytes::from_static(b"c")),
    ];
    assert_eq!(seen, expected);
}

#[test]
fn the_batch_path_hands_out_a_segments_partial_line_then_the_notice() {
    let seen = lines_batched(vec![
        bytes(b"one\ntwo\npart"),
        Outcome::EndSegmentThen(rotated("log")),
        bytes(b"three\n"),
        Outcome::EndSegment,
        Outcome::Notice(rotated("new")),
        bytes(b"four\n"),
    ]);
    assert_eq!(
        seen,
        [
            item("one"),
            item("two"),
            item("part"),
            notice("log"),
            item("three"),
            notice("new"),
            item("four"),
        ]
    );
}

fn outcome() -> impl Strategy<Value = Outcome> {
    prop_oneof![
        4 => proptest::collection::vec(prop_oneof![Just(b'a'), Just(b'\n')], 1..12)
            .prop_map(Outcome::Bytes),
        1 => Just(Outcome::Errno(EAGAIN)),
        1 => Just(Outcome::EndSegment),
        1 => Just(Outcome::Notice(rotated("n"))),
        1 => Just(Outcome::EndSegmentThen(rotated("s"))),
    ]
}

proptest! {
    /// Both paths give the same sequence, and every byte comes out exactly once: each segment
    /// end delivers its partial line (the model: split the bytes at each segment end).
    #[test]
    fn both_paths_give_each_segments_lines_once(script in proptest::collection::vec(outcome(), 0..30)) {
        let (per_frame, _) = lines(script.clone());
        let per_frame = without_pending(per_frame);
        prop_assert_eq!(&lines_batched(script.clone()), &per_frame);

        let mut expected = Vec::new();
        let mut partial = Vec::new();
        let flush = |partial: &mut Vec<u8>, expected: &mut Vec<Seen<bytes::Bytes>>| {
            if !partial.is_empty() {
                expected.push(Seen::Item(bytes::Bytes::from(std::mem::take(partial))));
            }
        };
        for step in script {
            match step {
                Outcome::Bytes(b) => {
                    for byte in b {
                        if byte == b'\n' {
                            expected.push(Seen::Item(bytes::Bytes::from(std::mem::take(&mut partial))));
                        } else {
                            partial.push(byte);
                        }
                    }
                }
                Outcome::EndSegment => flush(&mut partial, &mut expected),
                Outcome::EndSegmentThen(n) => {
                    flush(&mut partial, &mut expected);
                    expected.push(Seen::Error(describe::<std::convert::Infallible>(&Error::Follow(n))));
                }
                Outcome::Notice(n) => {
                    expected.push(Seen::Error(describe::<std::convert::Infallible>(&Error::Follow(n))));
                }
                _ => {}
            }
        }
        flush(&mut partial, &mut expected);
        prop_assert_eq!(per_frame, expected);
    }
}
