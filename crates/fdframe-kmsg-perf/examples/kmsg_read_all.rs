//! Read-all of `/dev/kmsg` (the "Throughput" issue's kmsg target): open at the oldest record,
//! non-blocking, and read until `EAGAIN`, with a raw 8 KiB `read(2)` loop (the baseline) and with
//! every fdframe backend. Rounds are interleaved (every contender once per round, in a rotating
//! order) so that the noise of a shared machine falls on all of them alike; each contender's
//! time is taken per record (the ring may change between passes) and summarised as the median
//! over the rounds. `ratio` is the raw loop's time per record over the contender's: 1.00 is as
//! fast as the raw loop, 0.95 is 5 % slower; it is taken within each round and the median over
//! the rounds reported.
//!
//! Opening (and registering with a reactor) is outside the timed part: what is measured is the
//! reading, one `read(2)` per record.
//!
//! Every fdframe pass also checks that no record was lost: no `Error::Lost`, no decode error, and
//! the sequence numbers it saw are consecutive.
//!
//! Run (as root, or with `CAP_SYSLOG`):
//! `cargo run --release -p fdframe-kmsg-perf --example kmsg_read_all -- [ROUNDS] [PASSES]`
//! (defaults: 41 rounds of 10 passes over the ring each). `KMSG_PERF_ONLY=0,2` runs only the
//! contenders with those indexes (0 is the raw loop), for profiling one at a time.

use std::hint::black_box;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use fdframe::blocking::FdReader;
use fdframe::kmsg::{self, KmsgDecoder, KmsgRecord, KmsgStart};
use fdframe::{Error, ReadFd};
use futures_core::Stream;
use rustix::io::Errno;

/// What one pass over the ring found: records (or reads) and the time the reading took.
struct Pass {
    records: u64,
    elapsed: Duration,
}

/// Checks that the records of one pass are consecutive, and counts them.
#[derive(Default)]
struct Tally {
    records: u64,
    first: Option<u64>,
    last: Option<u64>,
}

impl Tally {
    fn record(&mut self, item: Result<KmsgRecord, Error<fdframe::kmsg::KmsgError>>) {
        let record = match item {
            Ok(record) => record,
            Err(e) => panic!("a record was lost or malformed: {e}"),
        };
        let seq = black_box(&record).seq();
        if let Some(last) = self.last {
            assert_eq!(
                seq,
                last + 1,
                "records between {last} and {seq} were skipped"
            );
        }
        self.first.get_or_insert(seq);
        self.last = Some(seq);
        self.records += 1;
    }
}

fn open() -> OwnedFd {
    kmsg::open(KmsgStart::Oldest).expect("open /dev/kmsg (run as root)")
}

fn raw_loop() -> Pass {
    let fd = open();
    let mut buf = vec![0u8; 8 * 1024];
    let mut reads = 0;
    let start = Instant::now();
    loop {
        match rustix::io::read(&fd, &mut buf[..]) {
            Ok(n) => {
                black_box(&buf[..n]);
                reads += 1;
            }
            Err(Errno::AGAIN) => break,
            Err(Errno::INTR | Errno::PIPE) => {}
            Err(e) => panic!("read /dev/kmsg: {e}"),
        }
    }
    Pass {
        records: reads,
        elapsed: start.elapsed(),
    }
}

/// The raw loop plus what keeping a record costs at least: each read's bytes copied into an
/// allocation of their own (as the engine copies a small record out of its read buffer), then
/// dropped. Not a contender: the floor any reader that hands out owned records stands on.
fn raw_loop_copying() -> Pass {
    let fd = open();
    let mut buf = vec![0u8; 8 * 1024];
    let mut reads = 0;
    let start = Instant::now();
    loop {
        match rustix::io::read(&fd, &mut buf[..]) {
            Ok(n) => {
                black_box(bytes::Bytes::copy_from_slice(&buf[..n]));
                reads += 1;
            }
            Err(Errno::AGAIN) => break,
            Err(Errno::INTR | Errno::PIPE) => {}
            Err(e) => panic!("read /dev/kmsg: {e}"),
        }
    }
    Pass {
        records: reads,
        elapsed: start.elapsed(),
    }
}

/// A decoder that does nothing but take the read's bytes: what the engine costs by itself.
#[derive(Debug)]
struct WholeRead;

impl fdframe::Decoder for WholeRead {
    type Item = bytes::Bytes;
    type Error = std::convert::Infallible;

    fn decode(
        &mut self,
        src: &mut bytes::BytesMut,
    ) -> Result<Option<bytes::Bytes>, std::convert::Infallible> {
        Ok((!src.is_empty()).then(|| std::mem::take(src).freeze()))
    }

    fn read_limits(&self) -> fdframe::ReadLimits {
        fdframe::ReadLimits::one_record_per_read(KmsgDecoder::MAX_RECORD_LEN)
    }
}

/// The blocking backend with [`WholeRead`]: the engine and its copy-out, without kmsg decoding.
fn fdframe_engine_only() -> Pass {
    let fd = ReadFd::from_fd(open()).expect("ReadFd");
    let mut reader = FdReader::new(fd, WholeRead);
    let mut records = 0;
    let start = Instant::now();
    loop {
        for item in reader.ready() {
            black_box(item.expect("a read"));
            records += 1;
        }
        if !reader.framer().is_yielding() {
            break;
        }
    }
    Pass {
        records,
        elapsed: start.elapsed(),
    }
}

fn fdframe_blocking() -> Pass {
    let fd = ReadFd::from_fd(open()).expect("ReadFd");
    let mut reader = FdReader::new(fd, KmsgDecoder::new());
    let mut tally = Tally::default();
    let start = Instant::now();
    loop {
        for item in reader.ready() {
            tally.record(item);
        }
        if !reader.framer().is_yielding() {
            break;
        }
    }
    Pass {
        records: tally.records,
        elapsed: start.elapsed(),
    }
}

/// Polls `stream` until it would wait: the ring is read to its end.
/// Returns how many records it took.
fn poll_until_pending<S>(stream: &mut S, tally: &mut Tally, cx: &mut std::task::Context<'_>) -> u64
where
    S: Stream<Item = Result<KmsgRecord, Error<fdframe::kmsg::KmsgError>>> + Unpin,
{
    let before = tally.records;
    loop {
        match Pin::new(&mut *stream).poll_next(cx) {
            Poll::Ready(Some(item)) => tally.record(item),
            Poll::Ready(None) => panic!("the kmsg stream ended"),
            Poll::Pending => return tally.records - before,
        }
    }
}

fn fdframe_tokio(runtime: &tokio::runtime::Runtime) -> Pass {
    runtime.block_on(async {
        let mut stream = fdframe_tokio::FdStream::kmsg(KmsgStart::Oldest).expect("FdStream");
        let mut tally = Tally::default();
        let start = Instant::now();
        // The first poll may find no readiness known yet (tokio learns it from the reactor's
        // first turn), so the first record is awaited; the rest is polled until `Pending`.
        let first = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
        tally.record(first.expect("the ring buffer is never empty"));
        // tokio's cooperative budget makes the stream return `Pending` after 128 records (its
        // waker already woken): a task yields to the runtime and goes on, as
        // `while let Some(..) = stream.next().await` would. Read-all is over when a poll right
        // after the yield brings nothing.
        loop {
            let got = std::future::poll_fn(|cx| {
                Poll::Ready(poll_until_pending(&mut stream, &mut tally, cx))
            })
            .await;
            if got == 0 && !stream.framer().is_yielding() {
                break;
            }
            tokio::task::yield_now().await;
        }
        Pass {
            records: tally.records,
            elapsed: start.elapsed(),
        }
    })
}

fn fdframe_async_io() -> Pass {
    futures_lite::future::block_on(async {
        let mut stream = fdframe_async_std::FdStream::kmsg(KmsgStart::Oldest).expect("FdStream");
        let mut tally = Tally::default();
        let start = Instant::now();
        // The first poll may find no readiness known yet (tokio learns it from the reactor's
        // first turn), so the first record is awaited; the rest is polled until `Pending`.
        let first = std::future::poll_fn(|cx| Pin::new(&mut stream).poll_next(cx)).await;
        tally.record(first.expect("the ring buffer is never empty"));
        loop {
            std::future::poll_fn(|cx| {
                poll_until_pending(&mut stream, &mut tally, cx);
                Poll::Ready(())
            })
            .await;
            if !stream.framer().is_yielding() {
                break;
            }
        }
        Pass {
            records: tally.records,
            elapsed: start.elapsed(),
        }
    })
}

fn fdframe_mio() -> Pass {
    let mut reader = fdframe_mio::FdReader::kmsg(KmsgStart::Oldest).expect("mio FdReader");
    let mut tally = Tally::default();
    let start = Instant::now();
    while !reader.is_drained() {
        for item in reader.drain() {
            tally.record(item);
        }
    }
    Pass {
        records: tally.records,
        elapsed: start.elapsed(),
    }
}

/// One way of reading the ring, timed.
type Contender<'a> = Box<dyn Fn() -> Pass + 'a>;

fn median(values: &mut [f64]) -> f64 {
    values.sort_by(f64::total_cmp);
    values[values.len() / 2]
}

fn main() {
    let mut args = std::env::args().skip(1);
    let rounds: usize = args.next().map_or(41, |a| a.parse().expect("ROUNDS"));
    let passes: usize = args.next().map_or(10, |a| a.parse().expect("PASSES"));

    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .expect("tokio runtime");
    let contenders: Vec<(&str, Contender<'_>)> = vec![
        ("raw read(2), 8 KiB buffer", Box::new(raw_loop)),
        ("fdframe blocking FdReader", Box::new(fdframe_blocking)),
        (
            "fdframe-tokio FdStream (current-thread)",
            Box::new(|| fdframe_tokio(&runtime)),
        ),
        (
            "fdframe-async-std FdStream (async-io/smol)",
            Box::new(fdframe_async_io),
        ),
        ("fdframe-mio FdReader drain", Box::new(fdframe_mio)),
        (
            "(floor) raw read(2) + copy into a Bytes",
            Box::new(raw_loop_copying),
        ),
        (
            "(engine only) blocking FdReader, no decoding",
            Box::new(fdframe_engine_only),
        ),
    ];

    // `KMSG_PERF_ONLY=0,1` keeps only those contenders (by index), for profiling one at a time.
    let contenders: Vec<_> = match std::env::var("KMSG_PERF_ONLY") {
        Ok(only) => {
            let keep: Vec<usize> = only.split(',').map(|i| i.parse().expect("index")).collect();
            contenders
                .into_iter()
                .enumerate()
                .filter(|(i, _)| keep.contains(i))
                .map(|(_, c)| c)
                .collect()
        }
        Err(_) => contenders,
    };
    // Warm up: page in, fill caches, let the allocator settle.
    for (_, run) in &contenders {
        run();
    }
    let mut ns_per_record = vec![Vec::with_capacity(rounds); contenders.len()];
    let mut records = vec![0u64; contenders.len()];
    for round in 0..rounds {
        for k in 0..contenders.len() {
            let i = (round + k) % contenders.len();
            let (mut n, mut t) = (0u64, Duration::ZERO);
            for _ in 0..passes {
                let pass = contenders[i].1();
                n += pass.records;
                t += pass.elapsed;
            }
            records[i] = n / passes as u64;
            ns_per_record[i].push(t.as_nanos() as f64 / n.max(1) as f64);
        }
    }
    // Ratios are taken within each round (the raw loop's time over the contender's, measured
    // moments apart) and their median reported: the load of a shared machine drifts between
    // rounds far more than within one.
    let ratios: Vec<f64> = (0..contenders.len())
        .map(|i| {
            let mut per_round: Vec<f64> = (0..rounds)
                .map(|r| ns_per_record[0][r] / ns_per_record[i][r])
                .collect();
            median(&mut per_round)
        })
        .collect();
    let medians: Vec<f64> = ns_per_record.iter_mut().map(|v| median(v)).collect();
    println!("{rounds} rounds x {passes} passes over the ring; medians over the rounds");
    println!(
        "{:<44} {:>8} {:>10} {:>6}",
        "contender", "records", "ns/record", "ratio"
    );
    for (i, (name, _)) in contenders.iter().enumerate() {
        println!(
            "{name:<44} {:>8} {:>10.1} {:>6.2}",
            records[i], medians[i], ratios[i]
        );
    }
}
