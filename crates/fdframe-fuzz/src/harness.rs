//! Drives a [`Framer`] over a [`Script`] and checks what holds for every decoder: no panic,
//! memory under the bound, a bounded number of reads per call, a bounded number of calls, a
//! fused end, every read offered at least the decoder's `min_read_capacity`, `Pending` exactly
//! from reads that would block, and an `Io` error only as the last thing a stream yields.

use std::fmt::Debug;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::Poll;

use bytes::BytesMut;
use fdframe::{Decoder, Error, Framer, Loss};

use crate::input::Script;
use crate::memory::{self, Watch};

/// The most reads one `poll_next_with` call may perform: the engine's per-call budget (the same
/// for every decoder).
pub const MAX_READS_PER_CALL: usize = Framer::<fdframe::codec::ChunksDecoder>::MAX_READS_PER_CALL;

static MAX_READS_SEEN: AtomicUsize = AtomicUsize::new(0);
static MAX_ENGINE_PEAK: AtomicUsize = AtomicUsize::new(0);

/// The most heap any one run used above its baseline (the engine, the decoder and the
/// harness's copies of what they yielded), over all runs in this process; 0 without a meter.
pub fn max_run_peak_seen() -> usize {
    MAX_ENGINE_PEAK.load(Ordering::Relaxed)
}

/// The most reads any one `poll_next_with` call performed, over all runs in this process.
pub fn max_reads_per_call_seen() -> usize {
    MAX_READS_SEEN.load(Ordering::Relaxed)
}

/// One thing the stream yielded, owned (so that it pins no read buffer), for the checks made
/// after the run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Ev<T, E> {
    Item(T),
    /// A decoder error, converted by the target (so that it shares no read buffer).
    Decode(E),
    Lost(Loss),
    TooLarge {
        limit: usize,
        len: usize,
    },
    Truncated(Vec<u8>),
    Io(i32),
}

impl<T, E: Debug> Ev<T, E> {
    fn from_error<DE: Debug>(error: Error<DE>, err: impl FnOnce(DE) -> E) -> Self {
        match error {
            Error::Io(e) => Ev::Io(e.raw_os_error().unwrap_or(-1)),
            Error::Decode(e) => Ev::Decode(err(e)),
            Error::Lost(loss) => Ev::Lost(loss),
            Error::FrameTooLarge { limit, len, .. } => Ev::TooLarge { limit, len },
            Error::Truncated(bytes) => Ev::Truncated(bytes.to_vec()),
            other => panic!("an error variant this harness does not know: {other:?}"),
        }
    }

    /// A small number naming the kind of event, for the feedback features.
    fn kind(&self) -> u64 {
        match self {
            Ev::Item(_) => 1,
            Ev::Decode(e) => {
                let text = format!("{e:?}");
                let variant = text.split(|c: char| !c.is_alphanumeric()).next();
                16 + hash(&variant) % 64
            }
            Ev::Lost(loss) => 2 + 100 * u64::from(loss.count.is_some()),
            Ev::TooLarge { .. } => 3,
            Ev::Truncated(_) => 4,
            Ev::Io(errno) => 5 + 1000 * (*errno as u64 & 0xff),
        }
    }
}

/// What one run of the engine yielded, with the numbers the checks and the features need.
pub(crate) struct Run<T, E> {
    /// Everything yielded, in order, `Pending` left out.
    pub(crate) events: Vec<Ev<T, E>>,
    pub(crate) calls: usize,
    pub(crate) pendings: usize,
    pub(crate) max_reads_per_call: usize,
    /// Peak heap bytes above the baseline (0 without a meter).
    pub(crate) peak: usize,
}

/// Behaviour seen in a run, as hashed feature ids: the runner's cheap substitute for coverage.
#[derive(Debug, Default)]
pub struct Features(pub(crate) Vec<u64>);

impl Features {
    /// The feature ids.
    pub fn ids(&self) -> &[u64] {
        &self.0
    }

    pub(crate) fn push(&mut self, tag: &str, value: u64) {
        self.0.push(hash(&(tag, value)));
    }

    pub(crate) fn push_debug(&mut self, tag: &str, value: &impl Debug) {
        self.0.push(hash(&(tag, format!("{value:?}"))));
    }
}

fn hash(value: &impl Hash) -> u64 {
    let mut hasher = DefaultHasher::new();
    value.hash(&mut hasher);
    hasher.finish()
}

/// A power-of-two bucket of `n` (0, 1, 2, 3-4, 5-8, ...), as AFL buckets hit counts.
fn bucket(n: usize) -> u64 {
    u64::from(usize::BITS - n.leading_zeros())
}

impl<T, E: Debug> Run<T, E> {
    pub(crate) fn items(&self) -> impl Iterator<Item = &T> {
        self.events.iter().filter_map(|e| match e {
            Ev::Item(item) => Some(item),
            _ => None,
        })
    }

    /// The feedback features of this run, plus `extra` from the target.
    pub(crate) fn features(&self, mut extra: Features) -> Features {
        let mut counts = std::collections::BTreeMap::<u64, usize>::new();
        let mut prev = 0;
        for event in &self.events {
            let kind = event.kind();
            *counts.entry(kind).or_default() += 1;
            extra.push("pair", prev * 1_000_003 + kind);
            prev = kind;
        }
        extra.push("last", prev);
        for (kind, n) in counts {
            extra.push("count", kind * 64 + bucket(n));
        }
        extra.push("pendings", bucket(self.pendings));
        extra.push("reads", bucket(self.max_reads_per_call));
        extra.push("calls", bucket(self.calls));
        extra.push("peak", bucket(self.peak / 256));
        extra
    }
}

/// Runs `framer` over `script` to the end of the stream, converting every item with `item`,
/// and checks the properties every decoder shares.
///
/// # Panics
///
/// On a property violation.
pub(crate) fn drive<D, T, E>(
    mut framer: Framer<D>,
    script: &mut Script<'_>,
    mut item: impl FnMut(D::Item) -> T,
    mut err: impl FnMut(D::Error) -> E,
) -> Run<T, E>
where
    D: Decoder,
    D::Error: Debug,
    E: Debug,
{
    let limits = framer.read_limits();
    let max_offer = framer.max_read_size().max(limits.min_read_capacity);
    let bound = memory::engine_bound(limits.max_frame_len, max_offer);
    // Every call either reads (and each op or data chunk is read once), or yields an event, and
    // every event consumes input or ends the stream; so a call count past this is a livelock.
    let max_calls = 4 * (script.ops_len() + script.data().len()) + 64;
    let mut events = Vec::new();
    let (mut calls, mut pendings, mut max_reads) = (0, 0, 0);

    let watch = Watch::start();
    loop {
        calls += 1;
        assert!(
            calls <= max_calls,
            "the stream did not end within {max_calls} calls (a livelock): {} events so far",
            events.len()
        );
        if script.backend_style {
            // What the async backends do before touching their reactor: take what needs no
            // read. It must not read, and must give what `poll_next_with` would have.
            match framer.poll_buffered() {
                Poll::Ready(Some(Ok(it))) => {
                    events.push(Ev::Item(item(it)));
                    continue;
                }
                Poll::Ready(Some(Err(e))) => {
                    events.push(Ev::from_error(e, &mut err));
                    continue;
                }
                Poll::Ready(None) => break,
                Poll::Pending => {}
            }
        }
        let before = script.reads;
        let step = framer.poll_next_with(|buf| script.read(buf));
        let reads = script.reads - before;
        max_reads = max_reads.max(reads);
        assert!(
            reads <= MAX_READS_PER_CALL,
            "one call performed {reads} reads, more than the budget of {MAX_READS_PER_CALL}"
        );
        match step {
            Poll::Ready(Some(Ok(it))) => events.push(Ev::Item(item(it))),
            Poll::Ready(Some(Err(e))) => events.push(Ev::from_error(e, &mut err)),
            Poll::Ready(None) => break,
            // The engine's pause: its read budget is spent, the descriptor did not block.
            Poll::Pending if framer.is_yielding() => {
                assert_eq!(
                    reads, MAX_READS_PER_CALL,
                    "a pause after {reads} reads, not after the budget"
                );
            }
            Poll::Pending => pendings += 1,
        }
    }
    // Fused: after `Ready(None)`, nothing more, and no more reads.
    for _ in 0..3 {
        let mut reads_after_end = 0;
        let step = framer.poll_next_with(|_| {
            reads_after_end += 1;
            Err(io::ErrorKind::WouldBlock.into())
        });
        assert!(
            matches!(step, Poll::Ready(None)),
            "the stream yielded again after Ready(None)"
        );
        assert_eq!(reads_after_end, 0, "the engine read after the stream ended");
    }
    assert!(framer.is_done(), "Ready(None) but is_done() is false");
    assert_eq!(
        script.reads_after_end, 0,
        "the engine read again after a 0-byte read had ended the input"
    );
    assert!(
        script.reads == 0 || script.min_offer >= limits.min_read_capacity,
        "a read was offered {} bytes, less than the decoder's min_read_capacity {}",
        script.min_offer,
        limits.min_read_capacity
    );
    assert_eq!(
        pendings, script.would_blocks,
        "Pending must come exactly from reads that would block"
    );
    drop(framer);
    let (peak, retained) = watch.finish();
    if watch.checked() {
        let allowed = bound.saturating_add(retained.saturating_mul(2));
        assert!(
            peak <= allowed,
            "peak heap {peak} bytes above the baseline, over the bound {allowed} \
             (engine bound {bound} for max_frame_len {} and reads of up to {max_offer}, \
             plus twice the {retained} bytes the harness kept)",
            limits.max_frame_len
        );
    }
    MAX_READS_SEEN.fetch_max(max_reads, Ordering::Relaxed);
    MAX_ENGINE_PEAK.fetch_max(peak, Ordering::Relaxed);

    if let Some(at) = events.iter().position(|e| matches!(e, Ev::Io(_))) {
        assert_eq!(
            at + 1,
            events.len(),
            "the stream yielded {} more events after a read error",
            events.len() - at - 1
        );
    }
    Run {
        events,
        calls,
        pendings,
        max_reads_per_call: max_reads,
        peak,
    }
}

/// What the engine would yield for `bytes` buffered in one piece: `decode` until it has
/// nothing more, then (with `eof`) `decode_eof` until it has nothing more, with losses first
/// and leftovers as `Truncated`, exactly as the engine's state machine does it.
pub(crate) fn one_piece<D, T, E>(
    mut decoder: D,
    bytes: &[u8],
    eof: bool,
    mut item: impl FnMut(D::Item) -> T,
    mut err: impl FnMut(D::Error) -> E,
) -> Vec<Ev<T, E>>
where
    D: Decoder,
    D::Error: Debug,
    E: Debug,
{
    let mut buf = BytesMut::from(bytes);
    let mut out = Vec::new();
    let push = |decoder: &mut D, out: &mut Vec<Ev<T, E>>, ev: Ev<T, E>| {
        if let Some(loss) = decoder.take_loss() {
            out.push(Ev::Lost(loss));
        }
        out.push(ev);
    };
    // The engine offers bytes to `decode` only once some have arrived.
    while !buf.is_empty() {
        let before = buf.len();
        match decoder.decode(&mut buf) {
            Ok(Some(it)) => push(&mut decoder, &mut out, Ev::Item(item(it))),
            Ok(None) => {
                if let Some(loss) = decoder.take_loss() {
                    out.push(Ev::Lost(loss));
                }
                break;
            }
            Err(e) => {
                push(&mut decoder, &mut out, Ev::Decode(err(e)));
                if buf.len() == before {
                    return out;
                }
            }
        }
    }
    if !eof {
        return out;
    }
    loop {
        let before = buf.len();
        match decoder.decode_eof(&mut buf) {
            Ok(Some(it)) => push(&mut decoder, &mut out, Ev::Item(item(it))),
            Ok(None) => {
                if let Some(loss) = decoder.take_loss() {
                    out.push(Ev::Lost(loss));
                    continue;
                }
                if !buf.is_empty() {
                    out.push(Ev::Truncated(buf.to_vec()));
                }
                return out;
            }
            Err(e) => {
                push(&mut decoder, &mut out, Ev::Decode(err(e)));
                if buf.len() == before {
                    return out;
                }
            }
        }
    }
}

/// The engine's events with a final read error taken off, and that error.
pub(crate) fn split_io<T, E>(events: &[Ev<T, E>]) -> (&[Ev<T, E>], Option<i32>) {
    match events.split_last() {
        Some((Ev::Io(errno), rest)) => (rest, Some(*errno)),
        _ => (events, None),
    }
}

/// Checks the engine's events over a fuzzed split against the same bytes decoded in one
/// piece (stream decoders: chunking must not matter).
pub(crate) fn assert_split_invariant<D, T, E>(
    make: impl Fn() -> D,
    run: &Run<T, E>,
    script: &Script<'_>,
    item: impl FnMut(D::Item) -> T,
    err: impl FnMut(D::Error) -> E,
) where
    D: Decoder,
    D::Error: Debug,
    T: PartialEq + Debug,
    E: PartialEq + Debug,
{
    let (events, io) = split_io(&run.events);
    let whole = one_piece(make(), script.delivered_bytes(), io.is_none(), item, err);
    assert_eq!(
        events,
        &whole[..],
        "fuzzed reads and one piece disagree (delivered {} bytes, read error {io:?})",
        script.delivered
    );
}

#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::convert::Infallible;

    use bytes::{Bytes, BytesMut};
    use fdframe::{Decoder, Framer, ReadLimits};

    use super::*;
    use crate::input::{Feed, Op, Script};
    use crate::memory::Meter;

    thread_local! {
        /// A stand-in for the allocator's counters, per test thread.
        static FAKE_LIVE: Cell<usize> = const { Cell::new(0) };
        static FAKE_PEAK: Cell<usize> = const { Cell::new(0) };
    }

    fn fake_meter() {
        memory::install(Meter {
            current: || FAKE_LIVE.get(),
            peak: || FAKE_PEAK.get(),
            reset_peak: || FAKE_PEAK.set(FAKE_LIVE.get()),
        });
    }

    /// Splits the buffer into chunks; optionally "allocates" a megabyte per call, or yields
    /// without consuming.
    struct Toy {
        leak: bool,
        stuck: bool,
    }

    impl Decoder for Toy {
        type Item = Bytes;
        type Error = Infallible;

        fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Infallible> {
            if self.leak {
                FAKE_PEAK.set(FAKE_PEAK.get() + (1 << 20));
            }
            if self.stuck {
                return Ok(Some(Bytes::new()));
            }
            Ok((!src.is_empty()).then(|| src.split().freeze()))
        }

        fn read_limits(&self) -> ReadLimits {
            ReadLimits::stream().max_frame_len(16)
        }
    }

    fn run_toy(toy: Toy, ops: Vec<Op>, data: &[u8]) -> Run<Vec<u8>, Infallible> {
        fake_meter();
        let mut script = Script::new(ops, data, Feed::Stream);
        drive(
            Framer::new(toy),
            &mut script,
            |b| b.to_vec(),
            |e| match e {},
        )
    }

    #[test]
    fn a_well_behaved_decoder_passes() {
        let run = run_toy(
            Toy {
                leak: false,
                stuck: false,
            },
            vec![Op::Fill(3), Op::Errno(crate::input::EAGAIN), Op::Fill(2)],
            b"hello",
        );
        assert_eq!(run.pendings, 1);
        assert_eq!(
            run.items().cloned().collect::<Vec<_>>(),
            [b"hel".to_vec(), b"lo".to_vec()]
        );
    }

    #[test]
    #[should_panic(expected = "over the bound")]
    fn memory_over_the_bound_is_a_violation() {
        run_toy(
            Toy {
                leak: true,
                stuck: false,
            },
            vec![Op::Fill(3)],
            b"abc",
        );
    }

    #[test]
    #[should_panic(expected = "a livelock")]
    fn a_stream_that_never_ends_is_a_livelock() {
        run_toy(
            Toy {
                leak: false,
                stuck: true,
            },
            vec![Op::Fill(3)],
            b"abc",
        );
    }

    #[test]
    fn reads_in_one_call_are_counted() {
        let mut ops = vec![Op::Errno(crate::input::EINTR); 40];
        ops.push(Op::Fill(1));
        let run = run_toy(
            Toy {
                leak: false,
                stuck: false,
            },
            ops,
            b"x",
        );
        // 40 interrupted reads and one that fills: the first call pauses after the budget.
        assert_eq!(run.max_reads_per_call, MAX_READS_PER_CALL);
        assert!(max_reads_per_call_seen() >= MAX_READS_PER_CALL);
    }
}
