//! `kmsg`: an overrun storm on `/dev/kmsg`, read by every backend at once, each on a thread
//! of its own: the reported losses plus the records read equal the sequence range, exactly.
//!
//! All readers open `/dev/kmsg` at its end, then a start marker is logged. In each of the
//! storm's rounds every reader pauses (after the start marker, later after a random number of
//! records), and records are logged until the ring buffer has overwritten every reader's
//! position; the readers go on, meet the overrun, read a little and pause again. A last round
//! logs about two buffers' worth while the readers read with random stalls, then an end marker.
//!
//! A reader's stream must then tile the range from its first record to the end marker: each
//! sequence number once, either as a record read or inside a loss notice whose count is the gap
//! exactly. Other processes log meanwhile; their records are counted by sequence number like
//! ours. Records are user.debug (`<15>`), about 1000 bytes, tagged with a marker of this run,
//! each written on a descriptor of its own (the write rate limit is per open file), and no more
//! are written than the rounds need: the ring buffer's size (128 KiB here) per round.

use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, KmsgDecoder, KmsgError, KmsgRecord, KmsgStart};
use fdframe::{Error, Framer, ReadFd};
use fdframe_conformance::Skip;
use fdframe_conformance::fixtures::{require_kmsg, unique_marker, write_kmsg_record};

use super::{Config, skipped};
use crate::chaos::{Chaos, Temper};
use crate::report::{Row, RssSampler};
use crate::session::{Backend, Session, Sink};

/// The readers' temper: cancellations as in `frames`, and a stall of up to 3 ms after one
/// record in 20, so the last round's writer overtakes them.
const KMSG_TEMPER: Temper = Temper {
    stall_one_in: 20,
    stall_max: Duration::from_millis(3),
    ..Temper::UNRULY
};

/// The storm.
pub(super) fn storm(config: &Config, out: &mut dyn FnMut(Row)) {
    if let Err(Skip(reason)) = require_kmsg() {
        for backend in Backend::ALL {
            out(skipped("kmsg", backend.name(), &reason));
        }
        return;
    }
    let rounds = if config.quick { 1 } else { 3 };
    let last_round = if config.quick { 150 } else { 260 };
    let marker = unique_marker("stress-kmsg");
    let gate = Arc::new(Gate::new(Backend::ALL.len() + 1));
    let positions = Arc::new(Mutex::new(Vec::new()));
    let started = Instant::now();
    let sampler = RssSampler::start();
    let mut readers = Vec::new();
    for backend in Backend::ALL {
        let fd = match kmsg::open(KmsgStart::New) {
            Ok(fd) => fd,
            Err(e) => {
                let mut row = Row::new("kmsg", backend.name());
                row.fail(format!("open /dev/kmsg: {e}"));
                out(row);
                gate.break_it();
                continue;
            }
        };
        let mut sink = StormSink {
            marker: marker.clone(),
            rng: fastrand::Rng::with_seed(config.seed_for("kmsg-pauses", backend.name())),
            phase: Phase::BeforeStart,
            rounds,
            gate: Arc::clone(&gate),
            positions: Arc::clone(&positions),
            events: Vec::new(),
            errors: Vec::new(),
        };
        let seed = config.seed_for("kmsg", backend.name());
        readers.push(std::thread::spawn(move || {
            let mut chaos = Chaos::new(seed, KMSG_TEMPER);
            let outcome = ReadFd::from_fd(fd)
                .map_err(|e| format!("ReadFd: {e}"))
                .and_then(|fd| {
                    let mut session =
                        Session::new(backend).map_err(|e| format!("cannot set up: {e}"))?;
                    session.run(fd, Framer::new(KmsgDecoder::new()), &mut chaos, &mut sink)
                });
            // A reader that failed must not leave the others waiting for it.
            if outcome.is_err() {
                sink.gate.break_it();
            }
            (backend, outcome, sink, chaos.describe())
        }));
    }

    let mut written = Written::default();
    let start_seq = write_marked(&marker, "start", &mut written);
    let mut storm_failure = None;
    for round in 0..rounds {
        if !gate.wait() {
            storm_failure = Some(format!("round {round}: a reader did not pause"));
            break;
        }
        let furthest = positions
            .lock()
            .map_or(0, |p| p.iter().copied().max().unwrap_or(0));
        if let Err(e) = flood_past(furthest + 1, &marker, &mut written) {
            storm_failure = Some(e);
            gate.break_it();
            break;
        }
        if !gate.wait() {
            storm_failure = Some(format!("round {round}: a reader did not go on"));
            break;
        }
    }
    for _ in 0..last_round {
        write_flood_record(&marker, &mut written);
    }
    let end_seq = write_marked(&marker, "end", &mut written);
    let results: Vec<_> = readers.into_iter().map(|r| r.join()).collect();
    let elapsed = started.elapsed();
    let peak = sampler.stop();
    for result in results {
        let Ok((backend, outcome, sink, chaos)) = result else {
            let mut row = Row::new("kmsg", "?");
            row.fail("a reader panicked");
            out(row);
            continue;
        };
        let mut row = Row::new("kmsg", backend.name());
        row.elapsed = elapsed;
        row.peak_rss_kib = peak;
        account(&mut row, &sink, start_seq, end_seq, rounds);
        row.note("ours_written", written.records);
        row.add_notes(&chaos);
        if let Err(e) = outcome {
            row.fail(e);
        }
        if let Some(e) = &storm_failure {
            row.fail(e.clone());
        }
        out(row);
    }
}

/// Checks that a reader's stream tiles `first..=end_seq` and fills the row.
fn account(
    row: &mut Row,
    sink: &StormSink,
    start_seq: Option<u64>,
    end_seq: Option<u64>,
    rounds: u32,
) {
    let (Some(start_seq), Some(end_seq)) = (start_seq, end_seq) else {
        row.fail("the start or end marker was not found in the ring buffer");
        return;
    };
    let tiling = tile(&sink.events);
    let first = tiling.first.unwrap_or(end_seq + 1);
    row.expected = (end_seq + 1).saturating_sub(first);
    row.received = tiling.records;
    row.lost = tiling.lost;
    row.duplicated = tiling.duplicated;
    row.reordered = tiling.reordered;
    row.errors =
        tiling.unknown_losses + tiling.silent_gaps + tiling.wrong_counts + sink.errors.len() as u64;
    let ours = sink
        .events
        .iter()
        .filter(|e| matches!(e, Event::Record { ours: true, .. }))
        .count();
    row.note("seqs", format!("{first}..={end_seq}"));
    row.note("loss_notices", tiling.notices);
    row.note("ours_read", ours);
    row.note("foreign_read", tiling.records - ours as u64);
    if first > start_seq {
        row.fail(format!(
            "the stream began at seq {first}, after the start marker ({start_seq})"
        ));
    }
    if tiling.next != end_seq + 1 {
        row.fail(format!(
            "the stream ended at seq {} instead of the end marker's {end_seq}",
            tiling.next.saturating_sub(1)
        ));
    }
    if row.errors + row.duplicated + row.reordered > 0 {
        let mut why = format!(
            "unknown-count losses {}, silent gaps {}, miscounted losses {}, errors {}",
            tiling.unknown_losses,
            tiling.silent_gaps,
            tiling.wrong_counts,
            sink.errors.len()
        );
        if let Some(first) = tiling.problems.first().or(sink.errors.first()) {
            why.push_str(&format!("; first: {first}"));
        }
        row.fail(why);
    }
    if row.received + row.lost != row.expected {
        row.fail(format!(
            "records read {} + lost {} != the range's {}",
            row.received, row.lost, row.expected
        ));
    }
    if tiling.notices < u64::from(rounds) {
        row.fail(format!(
            "{} loss notices in {rounds} overrun rounds: the storm did not overrun this reader",
            tiling.notices
        ));
    }
}

/// What a reader saw, in order.
#[derive(Debug)]
enum Event {
    Record {
        seq: u64,
        ours: bool,
    },
    Loss {
        count: Option<u64>,
        first: Option<u64>,
    },
}

#[derive(Debug, Default)]
struct Tiling {
    first: Option<u64>,
    /// The next sequence number due.
    next: u64,
    records: u64,
    lost: u64,
    notices: u64,
    duplicated: u64,
    reordered: u64,
    unknown_losses: u64,
    silent_gaps: u64,
    wrong_counts: u64,
    problems: Vec<String>,
}

/// Walks the events: every sequence number must come once, as a record or inside a loss that
/// starts where the stream stood and counts exactly what it skips.
fn tile(events: &[Event]) -> Tiling {
    let mut t = Tiling::default();
    for event in events {
        match *event {
            Event::Record { seq, .. } => {
                t.records += 1;
                let Some(_) = t.first else {
                    t.first = Some(seq);
                    t.next = seq + 1;
                    continue;
                };
                if seq == t.next {
                    t.next += 1;
                } else if seq < t.next {
                    t.duplicated += 1;
                    t.problems.push(format!("seq {seq} after {}", t.next - 1));
                } else {
                    t.silent_gaps += 1;
                    t.problems.push(format!(
                        "seqs {}..{seq} skipped without a loss notice",
                        t.next
                    ));
                    t.next = seq + 1;
                }
            }
            Event::Loss { count, first } => {
                t.notices += 1;
                match (count, first) {
                    (Some(count), Some(first)) if t.first.is_none() || first == t.next => {
                        t.first.get_or_insert(first);
                        t.lost += count;
                        t.next = first + count;
                    }
                    (Some(count), first) => {
                        t.wrong_counts += 1;
                        t.lost += count;
                        t.problems.push(format!(
                            "a loss of {count} from {first:?} where seq {} was due",
                            t.next
                        ));
                        t.next += count;
                    }
                    (None, _) => {
                        t.unknown_losses += 1;
                        t.problems.push("a loss of unknown size".into());
                    }
                }
            }
        }
    }
    t
}

#[derive(Debug)]
enum Phase {
    /// Reading up to the start marker.
    BeforeStart,
    /// Round `round`: pause after `left` more records.
    Round { round: u32, left: u32 },
    /// The storm's pauses are over: read to the end marker.
    Free,
}

/// A reader's sink: records what comes, pauses at the gate when the round says so, stops at the
/// end marker.
struct StormSink {
    marker: String,
    rng: fastrand::Rng,
    phase: Phase,
    rounds: u32,
    gate: Arc<Gate>,
    /// The furthest sequence number any reader has read (the flood must overwrite past it).
    positions: Arc<Mutex<Vec<u64>>>,
    events: Vec<Event>,
    errors: Vec<String>,
}

impl StormSink {
    /// Pauses: reports the position, waits for the flood, and decides the next round.
    fn pause(&mut self, seq: u64, round: u32) {
        if let Ok(mut positions) = self.positions.lock() {
            positions.push(seq);
        }
        if !(self.gate.wait() && self.gate.wait()) {
            self.phase = Phase::Free;
            return;
        }
        self.phase = if round + 1 < self.rounds {
            // After an overrun the buffer holds ~130 of these records: 60 are always there.
            Phase::Round {
                round: round + 1,
                left: self.rng.u32(1..=60),
            }
        } else {
            Phase::Free
        };
    }
}

impl Sink<KmsgDecoder> for StormSink {
    fn on_step(&mut self, step: Result<KmsgRecord, Error<KmsgError>>) -> bool {
        let record = match step {
            Ok(record) => record,
            Err(Error::Lost(loss)) => {
                self.events.push(Event::Loss {
                    count: loss.count,
                    first: loss.seqs.map(|s| *s.start()),
                });
                return true;
            }
            Err(e) => {
                self.errors.push(e.to_string());
                return true;
            }
        };
        let seq = record.seq();
        let message = record.message();
        let ours = message.starts_with(self.marker.as_bytes());
        self.events.push(Event::Record { seq, ours });
        let tail = ours.then(|| &message[self.marker.len()..]);
        if tail == Some(&b" end"[..]) {
            return false;
        }
        match self.phase {
            Phase::BeforeStart if tail == Some(&b" start"[..]) => self.pause(seq, 0),
            Phase::Round { round, left } if left <= 1 => self.pause(seq, round),
            Phase::Round { round, left } => {
                self.phase = Phase::Round {
                    round,
                    left: left - 1,
                }
            }
            _ => {}
        }
        true
    }

    fn on_end(&mut self) {
        self.errors.push("/dev/kmsg ended".into());
    }
}

/// A reusable rendezvous of `parties` threads that can be broken (a party failed) and gives up
/// after a minute, so a failed reader never hangs the run.
struct Gate {
    parties: usize,
    state: Mutex<GateState>,
    changed: Condvar,
}

#[derive(Default)]
struct GateState {
    generation: u64,
    arrived: usize,
    broken: bool,
}

impl Gate {
    fn new(parties: usize) -> Gate {
        Gate {
            parties,
            state: Mutex::new(GateState::default()),
            changed: Condvar::new(),
        }
    }

    /// Waits for every party; `false` if the gate is or gets broken, or after a minute.
    fn wait(&self) -> bool {
        let Ok(mut state) = self.state.lock() else {
            return false;
        };
        if state.broken {
            return false;
        }
        state.arrived += 1;
        if state.arrived == self.parties {
            state.arrived = 0;
            state.generation += 1;
            self.changed.notify_all();
            return true;
        }
        let generation = state.generation;
        let deadline = Instant::now() + Duration::from_secs(60);
        while state.generation == generation && !state.broken {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                state.broken = true;
                self.changed.notify_all();
                return false;
            }
            state = match self.changed.wait_timeout(state, left) {
                Ok((state, _)) => state,
                Err(_) => return false,
            };
        }
        state.generation != generation
    }

    fn break_it(&self) {
        if let Ok(mut state) = self.state.lock() {
            state.broken = true;
        }
        self.changed.notify_all();
    }
}

/// What this run logged.
#[derive(Debug, Default)]
pub(super) struct Written {
    pub(super) records: u64,
}

/// Logs `<marker> <what>` and returns its sequence number, found in the ring buffer.
pub(super) fn write_marked(marker: &str, what: &str, written: &mut Written) -> Option<u64> {
    let message = format!("{marker} {what}");
    write_kmsg_record(&format!("<15>{message}\n"));
    written.records += 1;
    find_seq(&message)
}

/// Logs one ~1000-byte flood record.
pub(super) fn write_flood_record(marker: &str, written: &mut Written) {
    let head = format!("<15>{marker} flood {} ", written.records);
    let pad = "f".repeat(1000usize.saturating_sub(head.len() + 1));
    write_kmsg_record(&format!("{head}{pad}\n"));
    written.records += 1;
}

/// Logs flood records until the ring buffer's oldest record is past `position` (checked every
/// eight records, so at most a few more than the buffer holds).
pub(super) fn flood_past(position: u64, marker: &str, written: &mut Written) -> Result<(), String> {
    let limit = written.records + 20_000;
    while oldest_seq().is_some_and(|oldest| oldest <= position) {
        for _ in 0..8 {
            write_flood_record(marker, written);
        }
        if written.records > limit {
            return Err("the ring buffer never overwrote the readers' position".into());
        }
    }
    Ok(())
}

/// The records in the ring buffer now, oldest first, through a probe descriptor.
fn ring() -> Vec<KmsgRecord> {
    kmsg::open(KmsgStart::Oldest)
        .and_then(|fd| FdReader::from_fd(fd, KmsgDecoder::new()))
        .map(|mut probe| probe.ready().filter_map(Result::ok).collect())
        .unwrap_or_default()
}

/// The oldest sequence number in the ring buffer.
pub(super) fn oldest_seq() -> Option<u64> {
    kmsg::open(KmsgStart::Oldest)
        .and_then(|fd| FdReader::from_fd(fd, KmsgDecoder::new()))
        .ok()?
        .ready()
        .find_map(Result::ok)
        .map(|record| record.seq())
}

/// The newest sequence number in the ring buffer.
pub(super) fn newest_seq() -> Option<u64> {
    ring().last().map(KmsgRecord::seq)
}

/// The sequence number of the newest record whose message is `message`.
pub(super) fn find_seq(message: &str) -> Option<u64> {
    ring()
        .iter()
        .rev()
        .find(|record| record.message() == message.as_bytes())
        .map(KmsgRecord::seq)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn record(seq: u64) -> Event {
        Event::Record { seq, ours: false }
    }

    fn loss(first: u64, count: u64) -> Event {
        Event::Loss {
            count: Some(count),
            first: Some(first),
        }
    }

    #[test]
    fn a_stream_with_exact_losses_tiles_its_range() {
        let t = tile(&[
            record(10),
            record(11),
            loss(12, 5),
            record(17),
            loss(18, 1),
            record(19),
        ]);
        assert_eq!(
            (t.first, t.next, t.records, t.lost, t.notices),
            (Some(10), 20, 4, 6, 2)
        );
        assert_eq!(
            t.silent_gaps + t.wrong_counts + t.duplicated + t.unknown_losses,
            0
        );
    }

    #[test]
    fn a_silent_gap_a_miscounted_loss_and_a_repeat_are_each_caught() {
        let t = tile(&[record(10), record(12), loss(14, 3), record(16), record(16)]);
        assert_eq!((t.silent_gaps, t.wrong_counts, t.duplicated), (1, 1, 1));
        let t = tile(&[
            record(1),
            Event::Loss {
                count: None,
                first: None,
            },
            record(9),
        ]);
        assert_eq!((t.unknown_losses, t.silent_gaps), (1, 1));
    }
}
