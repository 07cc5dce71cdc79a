//! The batch path against the per-message path, on the scripted reader.

use bytes::{Buf, Bytes, BytesMut};
use proptest::prelude::*;

use super::super::script::{EAGAIN, Outcome, Script, Seen, describe, run};
use super::*;
use crate::codec::{FixedSizeDecoder, LengthDelimitedDecoder, LinesDecoder, Utf8LinesDecoder};
use crate::{Loss, LossCause, ReadLimits};

/// One step of the batch path.
#[derive(Debug, PartialEq)]
enum Got<T> {
    Batch(Vec<T>),
    Error(String),
    Pending,
}

/// Drives `framer` with batch calls until the end (at most `limit` steps), recording every step;
/// an empty batch fails the test.
fn run_batches<D: Decoder>(
    framer: &mut Framer<D>,
    script: &mut Script,
    limit: usize,
) -> Vec<Got<D::Item>> {
    let mut got = Vec::new();
    for _ in 0..limit {
        match framer.poll_batch_with(|buf| script.read(buf)) {
            Poll::Ready(Some(Ok(frames))) => {
                assert!(
                    !frames.is_empty(),
                    "an empty batch after {} steps",
                    got.len()
                );
                got.push(Got::Batch(frames.into_iter().collect()));
            }
            Poll::Ready(Some(Err(e))) => got.push(Got::Error(describe(&e))),
            Poll::Ready(None) => {
                assert!(framer.is_done());
                return got;
            }
            Poll::Pending => got.push(Got::Pending),
        }
    }
    panic!(
        "stream did not end within {limit} steps: {} seen",
        got.len()
    );
}

/// The batches flattened into the per-message sequence, `Pending`s left out.
fn flatten<T>(got: Vec<Got<T>>) -> Vec<Seen<T>> {
    got.into_iter()
        .flat_map(|step| match step {
            Got::Batch(items) => items.into_iter().map(Seen::Item).collect(),
            Got::Error(e) => vec![Seen::Error(e)],
            Got::Pending => Vec::new(),
        })
        .collect()
}

fn without_pending<T>(seen: Vec<Seen<T>>) -> Vec<Seen<T>> {
    seen.into_iter()
        .filter(|s| !matches!(s, Seen::Pending))
        .collect()
}

/// `input` in reads whose sizes cycle through `sizes`, each followed by a `WouldBlock`.
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

/// The same decoder and reads through both paths give the same sequence.
fn both_paths<D: Decoder>(
    make: impl Fn() -> D,
    outcomes: Vec<Outcome>,
    read_size: usize,
) -> [Vec<Seen<D::Item>>; 2] {
    let framer = || Framer::new(make()).with_initial_read_size(read_size);
    let per_frame = run(&mut framer(), &mut Script::new(outcomes.clone()), 100_000);
    let batched = run_batches(&mut framer(), &mut Script::new(outcomes), 100_000);
    [without_pending(per_frame), flatten(batched)]
}

fn bytes(s: &[u8]) -> Outcome {
    Outcome::Bytes(s.to_vec())
}

fn b(s: &str) -> Bytes {
    Bytes::copy_from_slice(s.as_bytes())
}

#[test]
fn one_read_of_lines_is_one_run() {
    let mut framer = Framer::new(LinesDecoder::new());
    let mut script = Script::new([bytes(b"a\nb\nc\npart"), bytes(b"ial\n")]);
    let got = run_batches(&mut framer, &mut script, 10);
    assert_eq!(
        got,
        [
            Got::Batch(vec![b("a"), b("b"), b("c")]),
            Got::Batch(vec![b("partial")])
        ]
    );
}

#[test]
fn frames_of_a_run_share_the_read_buffer() {
    let mut framer = Framer::new(LinesDecoder::new());
    let mut script = Script::new([bytes(b"aa\nbb\ncc\n")]);
    let Poll::Ready(Some(Ok(frames))) = framer.poll_batch_with(|buf| script.read(buf)) else {
        panic!("a batch");
    };
    let owned: Vec<Bytes> = frames.iter_bytes().collect();
    assert_eq!(owned, ["aa", "bb", "cc"]);
    assert_eq!(
        owned[1].as_ptr(),
        owned[0].as_ptr().wrapping_add(3),
        "slices of one run"
    );
}

#[test]
fn a_split_at_every_boundary_gives_the_per_frame_sequence() {
    let input = b"one\r\ntwo\n\nthree is too long\nfour\nfive";
    for at in 0..=input.len() {
        let (head, tail) = input.split_at(at);
        // An empty read would be the end of input.
        let outcomes = [head, tail]
            .into_iter()
            .filter(|chunk| !chunk.is_empty())
            .flat_map(|chunk| [bytes(chunk), Outcome::Errno(EAGAIN)])
            .collect();
        let [per_frame, batched] = both_paths(
            || LinesDecoder::new().max_line_len(8).strip_cr(true),
            outcomes,
            4096,
        );
        assert_eq!(batched, per_frame, "split at {at}");
        assert!(
            batched.contains(&Seen::Error(
                "Decode: line longer than the limit of 8 bytes".into()
            )),
            "{batched:?}"
        );
    }
}

#[test]
fn an_error_ends_the_batch_and_comes_before_the_frames_after_it() {
    // The limit also caps each read at 4 bytes (the engine reads no further than one byte
    // past the frame limit), so the read size is set to cover the whole input.
    let mut framer = Framer::new(LinesDecoder::new().max_line_len(64));
    let too_long = [b'x'; 65];
    let mut script = Script::new([bytes(&[&b"ab\ncd\n"[..], &too_long, b"\nef\n"].concat())]);
    let got = run_batches(&mut framer, &mut script, 10);
    assert_eq!(
        got,
        [
            Got::Batch(vec![b("ab"), b("cd")]),
            Got::Error("Decode: line longer than the limit of 64 bytes".into()),
            Got::Batch(vec![b("ef")]),
        ]
    );
}

/// Lines; a line `~N` is consumed and means N lines were lost before the next line (as an
/// inotify overflow event precedes the events after it).
#[derive(Debug, Default)]
struct LossyLines {
    lost: Option<u64>,
}

impl Decoder for LossyLines {
    type Item = String;
    type Error = std::convert::Infallible;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<String>, Self::Error> {
        loop {
            let Some(end) = memchr::memchr(b'\n', src) else {
                return Ok(None);
            };
            let line = String::from_utf8_lossy(&src[..end]).into_owned();
            src.advance(end + 1);
            match line.strip_prefix('~').and_then(|n| n.parse().ok()) {
                Some(n) => self.lost = Some(n),
                None => return Ok(Some(line)),
            }
        }
    }
    fn take_loss(&mut self) -> Option<Loss> {
        let n = self.lost.take()?;
        let mut loss = Loss::unknown(LossCause::InotifyOverflow);
        loss.count = Some(n);
        Some(loss)
    }
}

#[test]
fn a_loss_comes_between_batches_before_the_item_it_precedes() {
    let mut framer = Framer::new(LossyLines::default());
    let mut script = Script::new([bytes(b"a\nb\n~5\nc\nd\n"), bytes(b"~2\ne\n")]);
    let got = run_batches(&mut framer, &mut script, 20);
    assert_eq!(
        got,
        [
            Got::Batch(vec!["a".to_string(), "b".into()]),
            Got::Error("Lost: Some(5) None".into()),
            Got::Batch(vec!["c".into(), "d".into()]),
            Got::Error("Lost: Some(2) None".into()),
            Got::Batch(vec!["e".into()]),
        ]
    );
}

#[test]
fn per_frame_calls_after_a_batch_lose_nothing() {
    let mut framer = Framer::new(LinesDecoder::new().max_line_len(2));
    let mut script = Script::new([bytes(b"ab\nlong\ncd\n")]);
    let first = framer.poll_batch_with(|buf| script.read(buf));
    assert!(
        matches!(first, Poll::Ready(Some(Ok(ref f))) if f.len() == 1),
        "{first:?}"
    );
    let rest = without_pending(run(&mut framer, &mut script, 10));
    assert_eq!(
        rest,
        [
            Seen::Error("Decode: line longer than the limit of 2 bytes".into()),
            Seen::Item(b("cd"))
        ]
    );
}

#[test]
fn per_frame_calls_after_a_batch_that_held_back_a_loss_deliver_it_before_its_item() {
    // "a" ends the first batch; the loss of 5 and "c" after it are both held back. A caller
    // switching to per-frame calls must get the loss, then "c": nothing dropped or reordered.
    let mut framer = Framer::new(LossyLines::default());
    let mut script = Script::new([bytes(b"a\n~5\nc\n")]);
    let first = framer.poll_batch_with(|buf| script.read(buf));
    assert!(
        matches!(first, Poll::Ready(Some(Ok(ref f))) if f.len() == 1),
        "{first:?}"
    );
    let rest = without_pending(run(&mut framer, &mut script, 10));
    assert_eq!(
        rest,
        [
            Seen::Error("Lost: Some(5) None".into()),
            Seen::Item("c".to_string())
        ]
    );
}

#[test]
fn end_of_input_with_a_partial_frame_is_truncated_after_the_last_batch() {
    let mut framer = Framer::new(length_delimited());
    let mut script = Script::new([bytes(b"\x02ab\x02cd\x05x")]);
    let got = run_batches(&mut framer, &mut script, 10);
    assert_eq!(
        got,
        [
            Got::Batch(vec![b("ab"), b("cd")]),
            Got::Error("Truncated: \"\\u{5}x\"".into())
        ]
    );
    assert!(
        matches!(
            framer.poll_batch_with(|buf| script.read(buf)),
            Poll::Ready(None)
        ),
        "fused"
    );
}

#[test]
fn a_final_line_without_newline_comes_as_its_own_batch() {
    let [per_frame, batched] = both_paths(LinesDecoder::new, vec![bytes(b"a\nb")], 4096);
    assert_eq!(batched, per_frame);
    assert_eq!(batched, [Seen::Item(b("a")), Seen::Item(b("b"))]);
}

/// NUL-terminated frames with no limit of their own: only the engine's limit stops them.
#[derive(Debug)]
struct Nul;

impl Decoder for Nul {
    type Item = Bytes;
    type Error = std::convert::Infallible;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Self::Error> {
        Ok(memchr::memchr(0, src).map(|end| {
            let frame = src.split_to(end + 1).freeze();
            frame.slice(..end)
        }))
    }
    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream().max_frame_len(8)
    }
}

#[test]
fn an_oversize_frame_after_a_batch_ends_the_stream_and_memory_stays_bounded() {
    let mut framer = Framer::new(Nul).with_initial_read_size(4);
    let mut script = Script::new([bytes(b"ab\0"), bytes(&[b'x'; 64])]);
    let mut most = 0;
    let mut got = Vec::new();
    loop {
        let step = framer.poll_batch_with(|buf| script.read(buf));
        most = most.max(framer.buffered().len());
        match step {
            Poll::Ready(Some(Ok(frames))) => got.push(Got::Batch(frames.into_iter().collect())),
            Poll::Ready(Some(Err(e))) => got.push(Got::Error(describe(&e))),
            Poll::Ready(None) => break,
            Poll::Pending => got.push(Got::Pending),
        }
    }
    assert_eq!(
        got,
        [
            Got::Batch(vec![b("ab")]),
            Got::Error("FrameTooLarge: 9 > 8".into())
        ]
    );
    assert!(most <= 8 + 4, "{most} bytes buffered");
}

#[test]
fn input_without_frames_pauses_the_batch_path_too() {
    let zeros = vec![b'z'; 1 << 20];
    let outcomes: Vec<Outcome> = (0..8)
        .map(|_| bytes(&zeros))
        .chain([bytes(b"\nlast\n")])
        .collect();
    let mut framer = Framer::new(LinesDecoder::new().max_line_len(16)).with_max_read_size(4096);
    let mut script = Script::new(outcomes);
    let got = run_batches(&mut framer, &mut script, 100_000);
    let pauses = got.iter().filter(|g| matches!(g, Got::Pending)).count();
    assert!(pauses > 8, "{pauses} pauses");
    assert_eq!(
        got.into_iter()
            .filter(|g| !matches!(g, Got::Pending))
            .collect::<Vec<_>>(),
        [
            Got::Error("Decode: line longer than the limit of 16 bytes".into()),
            Got::Batch(vec![b("last")])
        ]
    );
    let reads_per_call = Framer::<LinesDecoder>::MAX_READS_PER_CALL;
    assert!(script.offered.len() <= (pauses + 3) * reads_per_call);
}

#[test]
fn record_reads_are_batches_of_one_with_losses_first() {
    // The per-message tests' record decoder lives there; kmsg-like losses come from a gap.
    let mut framer = Framer::new(crate::devices::DatagramDecoder::new(16));
    let mut script = Script::new([
        Outcome::Datagram(b"one".to_vec()),
        Outcome::Datagram(b"two".to_vec()),
    ]);
    let got = run_batches(&mut framer, &mut script, 10);
    assert_eq!(
        got,
        [Got::Batch(vec![b("one")]), Got::Batch(vec![b("two")])]
    );
    assert!(
        script.offered.iter().all(|&room| room >= 17),
        "room before every read: {:?}",
        script.offered
    );
}

#[test]
fn many_small_items_are_cut_into_bounded_batches() {
    let input: Vec<u8> = b"x\n".repeat(10_000);
    let mut framer = Framer::new(LossyLines::default()).with_initial_read_size(1 << 20);
    let mut script = Script::new([bytes(&input)]);
    let got = run_batches(&mut framer, &mut script, 100);
    let sizes: Vec<usize> = got
        .iter()
        .map(|g| match g {
            Got::Batch(items) => items.len(),
            other => panic!("{other:?}"),
        })
        .collect();
    assert_eq!(sizes.iter().sum::<usize>(), 10_000);
    assert!(sizes.iter().all(|&n| n <= MAX_BATCH_ITEMS), "{sizes:?}");
}

fn length_delimited() -> LengthDelimitedDecoder {
    LengthDelimitedDecoder::new()
        .length_field_len(1)
        .max_frame_len(6)
}

proptest! {
    #[test]
    fn batches_flatten_to_the_per_frame_sequence_for_every_fast_path_codec(
        input in prop::collection::vec(prop::sample::select(&[b'a', b'\n', b'\r', 0xff, 0xc3, 0xa9, 0, 3][..]), 0..300),
        sizes in prop::collection::vec(1usize..40, 1..8),
        read_size in 1usize..64,
    ) {
        let split = || chunked(&input, &sizes);
        let lines = || LinesDecoder::new().max_line_len(16).strip_cr(true);
        let [per_frame, batched] = both_paths(lines, split(), read_size);
        prop_assert_eq!(batched, per_frame);
        // The default limit: every run is short enough to be handed out unindexed.
        let unlimited = || LinesDecoder::new().strip_cr(true);
        let [per_frame, batched] = both_paths(unlimited, split(), read_size);
        prop_assert_eq!(batched, per_frame);
        let [per_frame, batched] = both_paths(Utf8LinesDecoder::new, split(), read_size);
        prop_assert_eq!(batched, per_frame);
        let utf8 = || Utf8LinesDecoder::new().max_line_len(16);
        let [per_frame, batched] = both_paths(utf8, split(), read_size);
        prop_assert_eq!(batched, per_frame);
        let [per_frame, batched] = both_paths(length_delimited, split(), read_size);
        prop_assert_eq!(batched, per_frame);
        let fixed = || FixedSizeDecoder::new(3).unwrap();
        let [per_frame, batched] = both_paths(fixed, split(), read_size);
        prop_assert_eq!(batched, per_frame);
    }
}
