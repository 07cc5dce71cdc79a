//! The engine's bounded work per call: a call makes at most
//! [`MAX_READS_PER_CALL`](Framer::MAX_READS_PER_CALL) reads without a message and then pauses,
//! whatever the input (an endless line being skipped, `EINTR` and retried-error storms, a
//! decoder that never finds a message), and `is_yielding` says when a `Pending` is such a pause.

use std::io;

use bytes::BytesMut;

use super::script::{EAGAIN, EINTR, EPIPE, Outcome, Script, Seen};
use super::tests::{Bad, Lines, Records, bytes, item, record};
use super::*;

/// Polls `framer` over `script` once, returning the step, how many reads it made, and whether
/// the engine says it paused.
fn one_call<D: Decoder>(
    framer: &mut Framer<D>,
    script: &mut Script,
) -> (Seen<D::Item>, usize, bool) {
    let before = script.offered.len();
    let seen = match framer.poll_next_with(|buf| script.read(buf)) {
        Poll::Ready(Some(Ok(item))) => Seen::Item(item),
        Poll::Ready(Some(Err(e))) => Seen::Error(super::script::describe(&e)),
        Poll::Ready(None) => Seen::Error("End".into()),
        Poll::Pending => Seen::Pending,
    };
    (seen, script.offered.len() - before, framer.is_yielding())
}

/// Calls the engine until the stream ends (at most `limit` calls), checking that every call
/// reads at most `MAX_READS_PER_CALL` times and that every `Pending` is a pause. Returns what
/// came out (pauses left out) and how many pauses there were.
fn run_checking_the_budget<D: Decoder>(
    framer: &mut Framer<D>,
    script: &mut Script,
    limit: usize,
) -> (Vec<Seen<D::Item>>, usize)
where
    D::Item: std::fmt::Debug,
{
    let mut seen = Vec::new();
    let mut pauses = 0;
    for _ in 0..limit {
        let (step, reads, yielding) = one_call(framer, script);
        assert!(
            reads <= Framer::<D>::MAX_READS_PER_CALL,
            "one call made {reads} reads"
        );
        match step {
            Seen::Pending => {
                assert!(
                    yielding,
                    "this script never blocks: Pending must be a pause"
                );
                assert_eq!(reads, Framer::<D>::MAX_READS_PER_CALL);
                pauses += 1;
            }
            Seen::Error(e) if e == "End" => return (seen, pauses),
            other => {
                assert!(!yielding, "is_yielding after {other:?}");
                seen.push(other);
            }
        }
    }
    panic!("no end within {limit} calls: {} seen", seen.len());
}

fn lines_seen(seen: Vec<Seen<bytes::Bytes>>) -> Vec<String> {
    seen.into_iter()
        .map(|s| match s {
            Seen::Item(line) => String::from_utf8_lossy(&line).into_owned(),
            Seen::Error(e) => e,
            Seen::Pending => "Pending".into(),
        })
        .collect()
}

#[test]
fn endless_line_being_skipped_pauses_after_the_read_budget_and_the_next_line_still_arrives() {
    use crate::codec::LinesDecoder;
    // An over-long line is reported once, then skipped as it arrives: with no `\n` in sight the
    // engine would read and discard forever inside one call.
    let mut framer = Framer::new(LinesDecoder::new().max_line_len(16));
    let mut outcomes = vec![bytes("before\n")];
    outcomes.extend((0..1000).map(|_| Outcome::Bytes(vec![b'x'; 100])));
    outcomes.push(bytes("\nafter\n"));
    let mut script = Script::new(outcomes);
    let (seen, pauses) = run_checking_the_budget(&mut framer, &mut script, 1000);
    assert_eq!(
        lines_seen(seen),
        [
            "before",
            "Decode: line longer than the limit of 16 bytes",
            "after"
        ]
    );
    assert!(pauses >= 1000 / 32 - 1, "only {pauses} pauses");
}

#[test]
fn eintr_storm_pauses_after_the_read_budget_and_keeps_the_bytes_around_it() {
    let mut framer = Framer::new(Lines::default());
    let mut outcomes = vec![bytes("a")];
    outcomes.extend(std::iter::repeat_n(Outcome::Errno(EINTR), 500));
    outcomes.push(bytes("b\n"));
    let mut script = Script::new(outcomes);
    let (seen, pauses) = run_checking_the_budget(&mut framer, &mut script, 100);
    assert_eq!(seen, [item::<()>("ab")]);
    assert!(pauses >= 500 / 32, "only {pauses} pauses");
}

#[test]
fn retried_error_storm_pauses_after_the_read_budget_and_the_next_record_still_arrives() {
    let mut framer = Framer::new(Records {
        max: 64,
        ..Records::default()
    });
    // Fewer than the fatal limit in a row, more than one call's budget.
    let storm = MAX_RETRIES_IN_A_ROW as usize - 4;
    let mut outcomes = vec![record("1:a")];
    outcomes.extend(std::iter::repeat_n(Outcome::Errno(EPIPE), storm));
    outcomes.push(record("2:b"));
    let mut script = Script::new(outcomes);
    let (seen, pauses) = run_checking_the_budget(&mut framer, &mut script, 100);
    assert_eq!(
        seen,
        [
            Seen::Item((1, "a".to_string())),
            Seen::Item((2, "b".to_string()))
        ]
    );
    assert_eq!(pauses, storm / Framer::<Records>::MAX_READS_PER_CALL);
}

/// Consumes everything it is given and never finds a message, counting its calls.
#[derive(Debug, Default)]
struct Swallow {
    decodes: usize,
}

impl Decoder for Swallow {
    type Item = ();
    type Error = Bad;
    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<()>, Bad> {
        self.decodes += 1;
        src.clear();
        Ok(None)
    }
}

#[test]
fn decoder_that_consumes_everything_and_never_finds_a_message_gets_bounded_work_per_call() {
    let mut framer = Framer::new(Swallow::default());
    for call in 0..100 {
        let mut reads = 0;
        let step = framer.poll_next_with(|buf| {
            reads += 1;
            if reads > 10 * Framer::<Swallow>::MAX_READS_PER_CALL {
                // A guard so that an engine without a budget fails here instead of hanging.
                return Err(io::ErrorKind::WouldBlock.into());
            }
            buf.put_slice(&vec![0; buf.capacity()]);
            Ok(())
        });
        assert!(step.is_pending(), "call {call}: {step:?}");
        assert!(framer.is_yielding(), "call {call}");
        assert_eq!(reads, Framer::<Swallow>::MAX_READS_PER_CALL, "call {call}");
        let decodes = std::mem::take(&mut framer.decoder_mut().decodes);
        assert!(
            decodes <= Framer::<Swallow>::MAX_READS_PER_CALL + 1,
            "call {call}: {decodes} decodes"
        );
        assert!(framer.buffered().is_empty());
    }
}

#[test]
fn is_yielding_is_false_after_a_message_a_would_block_and_the_end() {
    let mut framer = Framer::new(Lines::default());
    let mut outcomes = vec![bytes("a\n")];
    outcomes.extend(std::iter::repeat_n(Outcome::Errno(EINTR), 40));
    outcomes.extend([bytes("b\n"), Outcome::Errno(EAGAIN)]);
    let mut script = Script::new(outcomes);
    assert!(!framer.is_yielding(), "before the first call");
    let steps: Vec<_> = (0..6)
        .map(|_| {
            let (seen, _, yielding) = one_call(&mut framer, &mut script);
            (seen, yielding)
        })
        .collect();
    assert_eq!(
        steps,
        [
            (item::<()>("a"), false),
            (Seen::Pending, true),
            (item::<()>("b"), false),
            (Seen::Pending, false), // EAGAIN: the descriptor would block
            (Seen::Error("End".into()), false),
            (Seen::Error("End".into()), false),
        ]
    );
}
