use std::io;

use bytes::{Buf, BytesMut};
use proptest::prelude::*;

use super::script::{EAGAIN, EINTR, EIO, EPIPE, Outcome, Script, Seen, run};
use super::*;
use crate::{Loss, LossCause, ReadErrorAction};

/// Newline-delimited test decoder: `!…` lines are malformed (consumed), a lone `?` line is
/// malformed and *not* consumed.
#[derive(Debug, Default)]
pub(super) struct Lines {
    max: Option<usize>,
    min_read: usize,
}

#[derive(Debug, PartialEq)]
pub(super) struct Bad(String);
impl std::fmt::Display for Bad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}
impl std::error::Error for Bad {}

impl Decoder for Lines {
    type Item = String;
    type Error = Bad;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<String>, Bad> {
        let Some(end) = src.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        if &src[..end] == b"?" {
            return Err(Bad("stuck".into()));
        }
        let line = String::from_utf8_lossy(&src[..end]).into_owned();
        src.advance(end + 1);
        match line.strip_prefix('!') {
            Some(rest) => Err(Bad(rest.into())),
            None => Ok(Some(line)),
        }
    }
    fn read_limits(&self) -> ReadLimits {
        let limits = ReadLimits::stream().min_read_capacity(self.min_read.max(1));
        match self.max {
            Some(max) => limits.max_frame_len(max),
            None => limits,
        }
    }
}

/// Record-per-read test decoder for records `SEQ:payload`, with kmsg-like loss accounting:
/// `EPIPE` is retried, gaps in `SEQ` are losses, `EIO` ends the input.
#[derive(Debug, Default)]
pub(super) struct Records {
    pub(super) max: usize,
    pub(super) next_seq: Option<u64>,
    pub(super) loss: Option<Loss>,
}

impl Decoder for Records {
    type Item = (u64, String);
    type Error = Bad;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<(u64, String)>, Bad> {
        let record = src.split().freeze();
        let text = String::from_utf8_lossy(&record).into_owned();
        let (seq, payload) = text.split_once(':').ok_or_else(|| Bad(text.clone()))?;
        let seq: u64 = seq.parse().map_err(|_| Bad(text.clone()))?;
        if let Some(next) = self.next_seq.filter(|&next| seq > next) {
            self.loss = Some(Loss::sequence_gap(LossCause::KmsgOverrun, next, seq));
        }
        self.next_seq = Some(seq + 1);
        Ok(Some((seq, payload.to_string())))
    }
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::one_record_per_read(self.max)
    }
    fn read_error(&mut self, error: &io::Error) -> ReadErrorAction {
        match error.raw_os_error() {
            Some(EPIPE) => ReadErrorAction::Retry,
            Some(EIO) => ReadErrorAction::EndOfInput,
            _ => ReadErrorAction::Fail,
        }
    }
    fn take_loss(&mut self) -> Option<Loss> {
        self.loss.take()
    }
}

pub(super) fn bytes(s: &str) -> Outcome {
    Outcome::Bytes(s.as_bytes().to_vec())
}

pub(super) fn record(s: &str) -> Outcome {
    Outcome::Record(s.as_bytes().to_vec())
}

pub(super) fn item<E>(s: &str) -> Seen<String> {
    let _ = std::marker::PhantomData::<E>;
    Seen::Item(s.to_string())
}

fn err<T>(s: &str) -> Seen<T> {
    Seen::Error(s.to_string())
}

fn lines(outcomes: Vec<Outcome>) -> (Vec<Seen<String>>, Script) {
    let mut framer = Framer::new(Lines::default());
    let mut script = Script::new(outcomes);
    let seen = run(&mut framer, &mut script, 1000);
    (seen, script)
}

#[test]
fn frame_split_across_reads_is_joined() {
    let (seen, _) = lines(vec![bytes("hel"), bytes("lo\nwor"), bytes("ld\n")]);
    assert_eq!(seen, [item::<()>("hello"), item::<()>("world")]);
}

#[test]
fn several_frames_in_one_read_are_all_delivered_before_the_next_read() {
    let mut framer = Framer::new(Lines::default());
    let mut script = Script::new([bytes("a\nb\nc\n"), bytes("d\n")]);
    for expected in ["a", "b", "c"] {
        let step = framer.poll_next_with(|buf| script.read(buf));
        assert!(
            matches!(step, Poll::Ready(Some(Ok(ref s))) if s == expected),
            "{step:?}"
        );
    }
    assert_eq!(
        script.offered.len(),
        1,
        "a, b and c must come from the first read alone"
    );
}

#[test]
fn eintr_is_retried_without_surfacing() {
    let (seen, script) = lines(vec![
        Outcome::Errno(EINTR),
        bytes("x\n"),
        Outcome::Errno(EINTR),
    ]);
    assert_eq!(seen, [item::<()>("x")]);
    assert_eq!(
        script.offered.len(),
        4,
        "each EINTR is followed by another read"
    );
}

#[test]
fn would_block_is_pending_and_the_next_poll_resumes() {
    let (seen, _) = lines(vec![bytes("a"), Outcome::Errno(EAGAIN), bytes("b\n")]);
    assert_eq!(seen, [Seen::Pending, item::<()>("ab")]);
}

#[test]
fn partial_final_frame_is_reported_as_truncated_with_its_bytes() {
    let (seen, _) = lines(vec![bytes("a\nhalf")]);
    assert_eq!(seen, [item::<()>("a"), err("Truncated: \"half\"")]);
}

#[test]
fn stream_is_fused_after_its_end() {
    let mut framer = Framer::new(Lines::default());
    let mut script = Script::new([bytes("a\n")]);
    run(&mut framer, &mut script, 10);
    let reads = script.offered.len();
    for _ in 0..3 {
        assert!(matches!(
            framer.poll_next_with(|buf| script.read(buf)),
            Poll::Ready(None)
        ));
    }
    assert_eq!(script.offered.len(), reads, "no read after the end");
    assert!(framer.is_done());
}

#[test]
fn fatal_read_error_ends_the_stream_after_buffered_frames() {
    let (seen, _) = lines(vec![bytes("a\nb"), Outcome::Errno(EIO), bytes("c\n")]);
    assert_eq!(seen, [item::<()>("a"), err("Io: 5")]);
}

#[test]
fn malformed_frame_is_skipped_and_the_stream_goes_on() {
    let (seen, _) = lines(vec![bytes("a\n!bad\nb\n")]);
    assert_eq!(seen, [item::<()>("a"), err("Decode: bad"), item::<()>("b")]);
}

#[test]
fn decode_error_that_consumes_nothing_ends_the_stream() {
    let (seen, script) = lines(vec![bytes("a\n?\nb\n")]);
    assert_eq!(seen, [item::<()>("a"), err("DecodeStalled: stuck")]);
    assert_eq!(script.offered.len(), 1);
}

#[test]
fn record_reads_are_always_offered_the_whole_minimum() {
    // 300-byte records behind a 1-byte line decoder that declares a 272-byte minimum would
    // still fail; a decoder declaring 512 never sees EINVAL, however the buffer is filled.
    let long = format!("{}\n", "x".repeat(499));
    let mut framer = Framer::new(Lines {
        min_read: 512,
        ..Lines::default()
    })
    .with_initial_read_size(1);
    let mut script = Script::new([
        Outcome::Record(b"ab".to_vec()),
        Outcome::Record(long.clone().into_bytes()),
        Outcome::Record(b"c\n".to_vec()),
        Outcome::Record(long.into_bytes()),
    ]);
    let seen = run(&mut framer, &mut script, 100);
    assert_eq!(script.einvals, 0, "offered: {:?}", script.offered);
    assert!(
        script.offered.iter().all(|&room| room >= 512),
        "{:?}",
        script.offered
    );
    assert_eq!(seen.len(), 3);
}

#[test]
fn short_buffer_would_be_einval_not_eof() {
    // The fake device itself: a record bigger than the room fails and is lost, as on /dev/kmsg.
    let mut script = Script::new([record("0123456789")]);
    let mut buf = BytesMut::new();
    let mut read_buf = ReadSpace::new(&mut buf, 4);
    let error = script.read(&mut read_buf).unwrap_err();
    assert_eq!(error.raw_os_error(), Some(22));
    assert_eq!(script.einvals, 1);
}

#[test]
fn one_record_per_read_hands_each_read_to_the_decoder_alone() {
    let mut framer = Framer::new(Records {
        max: 64,
        ..Records::default()
    });
    let mut script = Script::new([record("1:a"), record("2:b"), record("3:c")]);
    let seen = run(&mut framer, &mut script, 100);
    let items: Vec<_> = seen
        .into_iter()
        .map(|s| match s {
            Seen::Item((seq, payload)) => format!("{seq}{payload}"),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(items, ["1a", "2b", "3c"]);
    assert!(script.offered.iter().all(|&room| room == 65));
}

#[test]
fn epipe_is_retried_and_the_loss_comes_before_the_record_after_the_gap() {
    let mut framer = Framer::new(Records {
        max: 64,
        ..Records::default()
    });
    let mut script = Script::new([
        record("10:a"),
        Outcome::Errno(EPIPE),
        record("15:b"),
        record("16:c"),
    ]);
    let seen = run(&mut framer, &mut script, 100);
    assert_eq!(
        seen,
        [
            Seen::Item((10, "a".to_string())),
            err("Lost: Some(4) Some(11..=14)"),
            Seen::Item((15, "b".to_string())),
            Seen::Item((16, "c".to_string())),
        ]
    );
}

#[test]
fn endless_retried_errors_become_fatal() {
    let mut framer = Framer::new(Records {
        max: 64,
        ..Records::default()
    });
    let mut script = Script::new(std::iter::repeat_n(Outcome::Errno(EPIPE), 1000));
    let seen = run(&mut framer, &mut script, 10);
    // The retries span calls (each call gives way after its read budget); the limit counts
    // them in a row across calls.
    assert_eq!(items_and_errors(seen), [err("Io: 32")]);
    assert_eq!(script.offered.len(), MAX_RETRIES_IN_A_ROW as usize + 1);
}

#[test]
fn decoder_may_turn_an_error_into_end_of_input() {
    let mut framer = Framer::new(Records {
        max: 64,
        ..Records::default()
    });
    let mut script = Script::new([record("1:a"), Outcome::Errno(EIO), record("2:b")]);
    let seen = run(&mut framer, &mut script, 10);
    assert_eq!(seen, [Seen::Item((1, "a".to_string()))]);
}

#[test]
fn oversized_record_is_reported_and_the_stream_goes_on() {
    let mut framer = Framer::new(Records {
        max: 8,
        ..Records::default()
    });
    let mut script = Script::new([
        record("1:a"),
        Outcome::Datagram(b"2:123456789".to_vec()),
        record("3:c"),
    ]);
    let seen = run(&mut framer, &mut script, 10);
    assert_eq!(
        seen,
        [
            Seen::Item((1, "a".to_string())),
            err("FrameTooLarge: 9 > 8"),
            // The decoder never saw record 2, so its sequence numbers show a gap as well.
            err("Lost: Some(1) Some(2..=2)"),
            Seen::Item((3, "c".to_string())),
        ]
    );
}

#[test]
fn oversized_stream_frame_is_an_error_and_memory_stays_bounded() {
    let mut framer = Framer::new(Lines {
        max: Some(100),
        ..Lines::default()
    });
    let mut script = Script::new([bytes("ok\n"), Outcome::Bytes(vec![b'x'; 10_000])]);
    let mut seen = Vec::new();
    let mut most_buffered = 0;
    loop {
        let step = framer.poll_next_with(|buf| script.read(buf));
        most_buffered = most_buffered.max(framer.buffered().len());
        match step {
            Poll::Ready(Some(Ok(line))) => seen.push(line),
            Poll::Ready(Some(Err(e))) => seen.push(super::script::describe(&e)),
            Poll::Ready(None) => break,
            Poll::Pending => unreachable!(),
        }
    }
    assert_eq!(seen, ["ok", "FrameTooLarge: 101 > 100"]);
    assert!(most_buffered <= 101, "buffered {most_buffered}");
}

#[test]
fn read_size_doubles_while_reads_come_back_full_up_to_the_maximum() {
    let mut framer = Framer::new(Lines::default())
        .with_initial_read_size(1024)
        .with_max_read_size(8192);
    let mut script = Script::new([Outcome::Bytes(vec![b'a'; 100_000]), bytes("\n")]);
    let seen = run(&mut framer, &mut script, 100_000);
    assert_eq!(seen.len(), 1);
    assert_eq!(&script.offered[..5], [1024, 2048, 4096, 8192, 8192]);
    assert!(script.offered.iter().all(|&room| room <= 8192));
}

#[test]
fn read_size_stays_put_when_reads_come_back_short() {
    let mut framer = Framer::new(Lines::default()).with_initial_read_size(1024);
    let mut script = Script::new((0..5).map(|_| bytes("short\n")));
    run(&mut framer, &mut script, 100);
    assert!(
        script.offered.iter().all(|&room| room == 1024),
        "{:?}",
        script.offered
    );
}

#[test]
fn loss_noticed_while_decoding_precedes_the_item_and_errors_keep_their_order() {
    let mut framer = Framer::new(Records {
        max: 64,
        ..Records::default()
    });
    let mut script = Script::new([record("1:a"), record("5:b"), record("junk"), record("6:c")]);
    let seen = run(&mut framer, &mut script, 100);
    assert_eq!(
        seen,
        [
            Seen::Item((1, "a".to_string())),
            err("Lost: Some(3) Some(2..=4)"),
            Seen::Item((5, "b".to_string())),
            err("Decode: junk"),
            Seen::Item((6, "c".to_string())),
        ]
    );
}

/// Splits `input` into chunks of the given sizes (cycled), as a pipe may deliver it.
fn chunked(input: &[u8], sizes: &[usize]) -> Vec<Outcome> {
    let mut out = Vec::new();
    let mut rest = input;
    for &size in sizes.iter().cycle() {
        if rest.is_empty() {
            break;
        }
        let (head, tail) = rest.split_at(size.clamp(1, rest.len()));
        out.push(Outcome::Bytes(head.to_vec()));
        out.push(Outcome::Errno(EAGAIN));
        rest = tail;
    }
    out
}

fn items_and_errors<T>(seen: Vec<Seen<T>>) -> Vec<Seen<T>> {
    seen.into_iter()
        .filter(|s| !matches!(s, Seen::Pending))
        .collect()
}

proptest! {
    #[test]
    fn any_chunking_yields_the_same_frames(
        text in "([a-c!]{0,5}\n){0,20}[a-c]{0,3}",
        sizes in prop::collection::vec(1usize..16, 1..8),
        read_size in 1usize..32,
    ) {
        let whole = lines(vec![Outcome::Bytes(text.clone().into_bytes())]).0;
        let mut framer = Framer::new(Lines::default()).with_initial_read_size(read_size);
        let mut script = Script::new(chunked(text.as_bytes(), &sizes));
        let split = items_and_errors(run(&mut framer, &mut script, 10_000));
        prop_assert_eq!(split, whole);
    }

    #[test]
    fn every_single_split_point_yields_the_same_frames(text in "([ab!]{0,4}\n){0,6}[ab]{0,2}") {
        let whole = lines(vec![Outcome::Bytes(text.clone().into_bytes())]).0;
        for at in 0..=text.len() {
            let (a, b) = text.as_bytes().split_at(at);
            // An empty chunk would be a 0-byte read, i.e. end of input.
            let chunks = [a, b].into_iter().filter(|c| !c.is_empty());
            let split = lines(chunks.map(|c| Outcome::Bytes(c.to_vec())).collect()).0;
            prop_assert_eq!(&split, &whole, "split at {}", at);
        }
    }
}

/// Runs a real codec through the engine over `chunks` and describes what came out.
fn through_engine<D: Decoder>(decoder: D, chunks: Vec<Outcome>, read_size: usize) -> Vec<String>
where
    D::Item: std::fmt::Debug,
{
    let mut framer = Framer::new(decoder).with_initial_read_size(read_size);
    let mut script = Script::new(chunks);
    run(&mut framer, &mut script, 100_000)
        .into_iter()
        .filter(|seen| !matches!(seen, Seen::Pending))
        .map(|seen| format!("{seen:?}"))
        .collect()
}

proptest! {
    #[test]
    fn real_codecs_give_the_same_frames_through_the_engine_however_reads_fall(
        input in prop::collection::vec(prop::sample::select(&[b'a', b'\n', b'\r', 0xff, 0][..]), 0..200),
        sizes in prop::collection::vec(1usize..40, 1..8),
        read_size in 1usize..64,
    ) {
        use crate::codec::{LengthDelimitedDecoder, LinesDecoder, Utf8LinesDecoder};
        let lines = || LinesDecoder::new().max_line_len(16).strip_cr(true);
        prop_assert_eq!(
            through_engine(lines(), chunked(&input, &sizes), read_size),
            through_engine(lines(), vec![Outcome::Bytes(input.clone())], 4096)
        );
        let utf8 = || Utf8LinesDecoder::new().max_line_len(16);
        prop_assert_eq!(
            through_engine(utf8(), chunked(&input, &sizes), read_size),
            through_engine(utf8(), vec![Outcome::Bytes(input.clone())], 4096)
        );
        let framed = || LengthDelimitedDecoder::new().length_field_len(1).max_frame_len(8);
        prop_assert_eq!(
            through_engine(framed(), chunked(&input, &sizes), read_size),
            through_engine(framed(), vec![Outcome::Bytes(input.clone())], 4096)
        );
    }
}

#[test]
fn poll_buffered_hands_out_buffered_frames_and_never_reads() {
    let mut framer = Framer::new(Lines::default());
    let mut script = Script::new([bytes("a\nb\nc"), bytes("\n")]);
    let first = framer.poll_next_with(|buf| script.read(buf));
    assert!(matches!(first, Poll::Ready(Some(Ok(ref s))) if s == "a"));
    assert!(matches!(framer.poll_buffered(), Poll::Ready(Some(Ok(ref s))) if s == "b"));
    assert!(
        framer.poll_buffered().is_pending(),
        "\"c\" needs more bytes"
    );
    assert_eq!(script.offered.len(), 1, "poll_buffered performed no read");
    let third = framer.poll_next_with(|buf| script.read(buf));
    assert!(matches!(third, Poll::Ready(Some(Ok(ref s))) if s == "c"));
}

#[test]
fn a_failed_wait_ends_the_stream_like_a_failed_read() {
    let mut framer = Framer::new(Lines::default());
    let mut script = Script::new([bytes("a\n"), Outcome::Errno(EAGAIN), bytes("b\n")]);
    assert!(matches!(
        framer.poll_next_with(|buf| script.read(buf)),
        Poll::Ready(Some(Ok(_)))
    ));
    assert!(framer.poll_next_with(|buf| script.read(buf)).is_pending());
    let error = framer.fail(io::Error::from_raw_os_error(EIO));
    assert!(error.is_fatal());
    assert!(framer.is_done());
    assert!(matches!(
        framer.poll_next_with(|buf| script.read(buf)),
        Poll::Ready(None)
    ));
}
