//! `/dev/kmsg` read-all (root): open at the oldest record, read until `EAGAIN`, count the
//! records; every fdframe backend against a raw 8 KiB `read(2)` loop, and `dmesg --raw` as a
//! process. The ring holds only some hundreds of records, so each run repeats the read-all
//! enough times to last about 100 ms.
//!
//! Validation: the ring is live and shared, so no count can be known in advance; instead every
//! read-all must be gapless (records + reported losses = last sequence number − first + 1), and
//! each contender's records per read-all must be within 10 % of the raw loop's.

use std::os::fd::AsFd;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

use fdframe::kmsg::{self, KmsgDecoder, KmsgError, KmsgRecord, KmsgStart};
use futures_core::Stream;
use rustix::io::Errno;

use crate::drive;
use crate::harness::{
    self, Backend, Clock, Contender, Res, Role, Runs, Sample, children_cpu, process_cpu,
};
use crate::options::Options;
use crate::report::{self, Targets};

/// What one read-all saw.
#[derive(Debug, Default)]
struct ReadAll {
    records: u64,
    first: Option<u64>,
    last: Option<u64>,
    lost: u64,
    /// An overrun whose size the reader cannot know (the raw loop's `EPIPE`).
    unknown_loss: bool,
    /// One more raw `read(2)` of the descriptor after the reader stopped found a record: the
    /// reader stopped early, or a record was logged in between (rare, unless something floods
    /// the log).
    late: bool,
}

impl ReadAll {
    fn record(&mut self, seq: Option<u64>) {
        self.records += 1;
        if self.first.is_none() {
            self.first = seq;
        }
        self.last = seq;
    }

    /// Gapless: every sequence number from the first to the last was seen or reported lost.
    fn check(&self) -> Res<u64> {
        let (Some(first), Some(last)) = (self.first, self.last) else {
            return Err("a read-all saw no record (or none with a sequence number)".into());
        };
        let span = last - first + 1;
        if self.records + self.lost == span || (self.unknown_loss && self.records <= span) {
            return Ok(self.records);
        }
        Err(format!(
            "read {} records and {} lost for sequence numbers {first}..={last} ({span})",
            self.records, self.lost
        )
        .into())
    }
}

/// Whether one more read of `fd` finds it empty (`EAGAIN`): the check that a read-all really
/// reached the end, done by every contender, the raw loop included.
fn drained(fd: impl AsFd) -> Res<bool> {
    let mut buf = [0u8; 8193];
    loop {
        match rustix::io::read(fd.as_fd(), &mut buf) {
            Err(Errno::AGAIN) => return Ok(true),
            Err(Errno::INTR) => {}
            Ok(_) | Err(Errno::PIPE) => return Ok(false),
            Err(e) => return Err(e.into()),
        }
    }
}

/// One run: some read-alls; returns the records seen in all (`None` for `dmesg`, whose output
/// is not parsed) and how many read-alls it did.
type KmsgRun = dyn Fn() -> Res<(Option<u64>, usize)>;

fn contenders(reps: usize, dmesg_reps: Option<usize>) -> Vec<Contender<KmsgRun>> {
    let mut list: Vec<Contender<KmsgRun>> = vec![Contender {
        name: "raw read(2) 8 KiB until EAGAIN".into(),
        role: Role::Raw,
        run: Box::new(move || Ok((Some(repeat(reps, raw_read_all)?), reps))),
    }];
    for backend in Backend::ALL {
        list.push(Contender {
            name: format!("fdframe {backend}, KmsgDecoder"),
            role: Role::PerFrame(backend),
            run: Box::new(move || Ok((Some(repeat(reps, || fdframe_read_all(backend))?), reps))),
        });
    }
    if let Some(reps) = dmesg_reps {
        list.push(Contender {
            name: "dmesg --raw >/dev/null (a process per read-all)".into(),
            role: Role::Peer,
            run: Box::new(move || dmesg(reps).map(|()| (None, reps))),
        });
    }
    list
}

/// `reps` read-alls, each checked; a late record is tolerated in one read-all out of 20 (a
/// concurrent writer), a reader that stops early fails.
fn repeat(reps: usize, read_all: impl Fn() -> Res<ReadAll>) -> Res<u64> {
    let (mut records, mut late) = (0, 0);
    for _ in 0..reps {
        let seen = read_all()?;
        records += seen.check()?;
        late += usize::from(seen.late);
    }
    if late > reps / 20 + 1 {
        return Err(format!(
            "{late} of {reps} read-alls stopped while the descriptor still had records"
        )
        .into());
    }
    Ok(records)
}

/// The sequence number of a raw record: `PRIO,SEQ,TS,FLAGS;...`.
fn seq_of(record: &[u8]) -> Option<u64> {
    let rest = &record[memchr::memchr(b',', record)? + 1..];
    let text = &rest[..memchr::memchr(b',', rest)?];
    std::str::from_utf8(text).ok()?.parse().ok()
}

fn raw_read_all() -> Res<ReadAll> {
    let fd = kmsg::open(KmsgStart::Oldest)?;
    let mut buf = [0u8; 8192];
    let mut seen = ReadAll::default();
    let mut last_len = 0;
    loop {
        match rustix::io::read(&fd, &mut buf) {
            Ok(0) | Err(Errno::AGAIN) => break,
            Ok(n) => {
                if seen.records == 0 {
                    seen.first = seq_of(&buf[..n]);
                }
                seen.records += 1;
                last_len = n;
            }
            Err(Errno::PIPE) => seen.unknown_loss = true,
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    // EAGAIN leaves the buffer alone: it still holds the last record.
    seen.last = seq_of(&buf[..last_len]);
    seen.late = !drained(&fd)?;
    Ok(seen)
}

fn fdframe_read_all(backend: Backend) -> Res<ReadAll> {
    let mut seen = ReadAll::default();
    let mut on = |item: Result<KmsgRecord, fdframe::Error<KmsgError>>| -> Res<()> {
        match item {
            Ok(record) => seen.record(Some(record.seq())),
            Err(e) => match e.as_loss() {
                Some(loss) => match loss.count {
                    Some(count) => seen.lost += count,
                    None => seen.unknown_loss = true,
                },
                None => return Err(e.into()),
            },
        }
        Ok(())
    };
    seen.late = !match backend {
        Backend::Blocking => {
            let fd = kmsg::open(KmsgStart::Oldest)?;
            let mut reader = fdframe::blocking::FdReader::from_fd(fd, KmsgDecoder::new())?;
            for item in reader.ready() {
                on(item)?;
            }
            drained(reader.get_ref())?
        }
        Backend::Tokio => drive::tokio_block_on(async {
            let mut stream = fdframe_tokio::FdStream::kmsg(KmsgStart::Oldest)?;
            until_would_block(&mut stream, &mut on, tokio::task::yield_now).await?;
            drained(stream.get_ref())
        })?,
        Backend::AsyncIo => async_io::block_on(async {
            let mut stream = fdframe_async_io::FdStream::kmsg(KmsgStart::Oldest)?;
            // This backend reads before it waits: its Pending follows a real EAGAIN.
            until_would_block(&mut stream, &mut on, || std::future::ready(())).await?;
            drained(stream.get_ref())
        })?,
        Backend::Mio => {
            let mut reader = fdframe_mio::FdReader::kmsg(KmsgStart::Oldest)?;
            let poll = mio::Poll::new()?;
            poll.registry()
                .register(&mut reader, mio::Token(0), mio::Interest::READABLE)?;
            for item in reader.drain() {
                on(item)?;
            }
            poll.registry().deregister(&mut reader)?;
            drained(reader.get_ref())?
        }
    };
    Ok(seen)
}

/// Set when a stream wakes its task itself: its `Pending` was a cooperative yield (tokio's
/// budget), not "the descriptor would block".
struct Woken(AtomicBool);

impl Wake for Woken {
    fn wake(self: Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// Hands out the stream's items until it has read everything there is (read-all).
///
/// A stream's `Pending` is not yet "the descriptor would block": tokio's cooperative budget
/// makes a stream yield (it wakes itself: `Woken`), and a freshly registered tokio stream knows
/// no readiness before the reactor's first turn. So after a `Pending` the runtime gets one
/// `turn` (tokio's `yield_now` runs the I/O driver before the task again), and reading goes on if
/// anything woke the stream meanwhile.
async fn until_would_block<S, T>(
    stream: &mut S,
    on: &mut impl FnMut(S::Item) -> Res<()>,
    mut turn: impl FnMut() -> T,
) -> Res<()>
where
    S: Stream + Unpin,
    T: std::future::Future<Output = ()>,
{
    let woken = Arc::new(Woken(AtomicBool::new(false)));
    let waker = Waker::from(Arc::clone(&woken));
    loop {
        let ended = std::future::poll_fn(|outer| {
            let mut cx = Context::from_waker(&waker);
            loop {
                match Pin::new(&mut *stream).poll_next(&mut cx) {
                    Poll::Ready(Some(item)) => {
                        if let Err(e) = on(item) {
                            return Poll::Ready(Err(e));
                        }
                    }
                    Poll::Ready(None) => return Poll::Ready(Ok(true)),
                    Poll::Pending if woken.0.swap(false, Ordering::SeqCst) => {
                        outer.waker().wake_by_ref();
                        return Poll::Pending;
                    }
                    Poll::Pending => return Poll::Ready(Ok(false)),
                }
            }
        })
        .await?;
        if ended {
            return Ok(());
        }
        turn().await;
        if !woken.0.swap(false, Ordering::SeqCst) {
            return Ok(());
        }
    }
}

/// `dmesg --raw >/dev/null`, `reps` times.
fn dmesg(reps: usize) -> Res<()> {
    for _ in 0..reps {
        let status = std::process::Command::new("dmesg")
            .arg("--raw")
            .stdout(std::process::Stdio::null())
            .status()?;
        if !status.success() {
            return Err(format!("dmesg --raw: {status}").into());
        }
    }
    Ok(())
}

/// Repetitions so that one run lasts about `target`.
fn calibrate(target: Duration, once: impl Fn() -> Res<()>) -> Res<usize> {
    once()?; // warm up: the first open also faults in the code
    let started = Instant::now();
    once()?;
    let one = started.elapsed().max(Duration::from_micros(1));
    Ok(((target.as_secs_f64() / one.as_secs_f64()).ceil() as usize).clamp(1, 100_000))
}

/// Runs the read-all contenders and `dmesg`.
pub(crate) fn run(options: &Options, targets: &mut Targets) -> Res<()> {
    if let Err(e) = kmsg::open(KmsgStart::Oldest) {
        harness::skip(
            "kmsg read-all",
            &format!("cannot open /dev/kmsg ({e}): run as root"),
        )?;
        for backend in Backend::ALL {
            let what = format!("kmsg read-all: fdframe {backend} / raw 8 KiB loop");
            targets.at_least(what, None, 0.95, "SKIPPED: /dev/kmsg not readable");
        }
        return Ok(());
    }
    let rounds = options.rounds(5);
    let target = options.pick(Duration::from_millis(100), Duration::from_millis(20));
    let reps = calibrate(target, || raw_read_all().map(drop))?;
    let dmesg_reps = match calibrate(target, || dmesg(1)) {
        Ok(reps) => Some(reps.max(3)),
        Err(e) => {
            harness::skip(
                "kmsg read-all: dmesg --raw",
                &format!("dmesg did not run: {e}"),
            )?;
            None
        }
    };
    let contenders = harness::select(
        contenders(reps, dmesg_reps),
        |name| options.selects(name),
        true,
    );
    // Per contender: records seen and read-alls done, over all rounds.
    let mut seen = vec![(0u64, 0usize); contenders.len()];
    let runs = harness::interleave(&contenders, rounds, options.clock, |c| {
        let (started, cpu, children) = (Instant::now(), process_cpu(), children_cpu()?);
        let (records, reps) = (c.run)()?;
        let sample = Sample {
            wall: started.elapsed(),
            // dmesg's own CPU time comes in through its parent's children's count.
            cpu: process_cpu() - cpu + children_cpu()?.saturating_sub(children),
        };
        let at = contenders
            .iter()
            .position(|x| x.name == c.name)
            .unwrap_or(0);
        seen[at].0 += records.unwrap_or(0);
        seen[at].1 += reps;
        Ok(sample)
    })?;
    let raw_count = seen[0].0 as f64 / seen[0].1 as f64;
    let mut rows = Vec::new();
    for (run, &(records, reps)) in runs.iter().zip(&seen) {
        // dmesg prints every record of the same ring: the raw loop's count.
        let count = if run.role == Role::Peer {
            raw_count
        } else {
            records as f64 / reps as f64
        };
        if (count - raw_count).abs() > 0.1 * raw_count {
            return Err(format!(
                "{}: {count:.1} records per read-all, the raw loop {raw_count:.1}",
                run.name
            )
            .into());
        }
        let per_run = (reps / rounds) as f64;
        rows.push(Row {
            records_s: count * per_run / run.median_wall().as_secs_f64(),
            wall_us: run.median_wall().as_secs_f64() * 1e6 / per_run,
            cpu_us: run.median_cpu().as_secs_f64() * 1e6 / per_run,
            // Records per unit of the ratio clock.
            rate: count * per_run / run.median().as_secs_f64(),
            runs: run,
        });
    }
    print(options, &rows, raw_count, reps, rounds);
    for backend in Backend::ALL {
        let measured = rows
            .iter()
            .find(|r| r.runs.role == Role::PerFrame(backend))
            .map(|r| r.rate / rows[0].rate);
        let what = format!("kmsg read-all: fdframe {backend} / raw 8 KiB loop");
        targets.at_least(what, measured, 0.95, "not selected");
    }
    Ok(())
}

/// One contender's line of the table.
struct Row<'a> {
    runs: &'a Runs,
    /// Wall clock.
    records_s: f64,
    wall_us: f64,
    cpu_us: f64,
    /// Records per second of the ratio clock.
    rate: f64,
}

fn print(options: &Options, rows: &[Row<'_>], per_read_all: f64, reps: usize, rounds: usize) {
    let width = report::NAME_WIDTH;
    println!(
        "\n/dev/kmsg read-all, {per_read_all:.0} records per read-all, {reps} read-alls per run \
         (dmesg: fewer); median of {rounds} interleaved rounds"
    );
    println!(
        "(records/s, us/read-all: wall clock; cpu us: CPU time per read-all, dmesg's included; \
         x raw and spread: on {} time)",
        if options.clock == Clock::Cpu {
            "CPU"
        } else {
            "wall-clock"
        }
    );
    println!(
        "{:<width$} {:>10} {:>12} {:>8} {:>8} {:>7}",
        "contender", "records/s", "us/read-all", "cpu us", "x raw", "spread"
    );
    for row in rows {
        println!(
            "{:<width$} {:>10.0} {:>12.1} {:>8.1} {:>7.2}x {:>6.0}%",
            row.runs.name,
            row.records_s,
            row.wall_us,
            row.cpu_us,
            row.rate / rows[0].rate,
            row.runs.spread() * 100.0
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_numbers_are_read_from_raw_records() {
        assert_eq!(seq_of(b"6,1234,5678,-;message\n"), Some(1234));
        assert_eq!(seq_of(b"6,1234;message\n"), None);
        assert_eq!(seq_of(b""), None);
    }

    #[test]
    fn a_read_all_with_a_gap_fails_and_a_reported_loss_fills_it() {
        let mut seen = ReadAll::default();
        for seq in [10, 11, 13] {
            seen.record(Some(seq));
        }
        assert!(seen.check().is_err());
        seen.lost = 1;
        assert_eq!(seen.check().unwrap(), 3);
    }

    #[test]
    fn every_kmsg_reader_reads_the_whole_ring() {
        if let Err(e) = kmsg::open(KmsgStart::Oldest) {
            harness::skip("every_kmsg_reader_reads_the_whole_ring", &format!("{e}")).unwrap();
            return;
        }
        let counts: Vec<(String, u64)> = contenders(3, None)
            .iter()
            .map(|c| {
                let (records, _) = (c.run)().unwrap_or_else(|e| panic!("{}: {e}", c.name));
                (c.name.clone(), records.unwrap())
            })
            .collect();
        let raw = counts[0].1 as f64;
        for (name, records) in &counts {
            // The ring is live: other processes may log meanwhile.
            assert!(
                (*records as f64 - raw).abs() <= 0.1 * raw,
                "{name}: {records} vs raw {raw}"
            );
        }
    }
}
