//! Per-frame cost of fdframe against a raw `read(2)` loop and a one-`Bytes`-per-line ceiling.
//!
//! - `perframe pipe LINE MIB ROUNDS [NAMES]`: a writer thread fills a pipe with `LINE`-byte
//!   lines (`MIB` MiB in all), one reader per contender (raw, ceiling, blocking, tokio, smol,
//!   mio, glue); rounds interleave the contenders, and each result is printed as a ratio to the
//!   raw loop of the same round.
//! - `perframe run NAME LINE MIB`: one contender over the pipe (for `perf record` or
//!   callgrind: instructions per frame are the difference of two sizes over the frame count).
//! - `perframe mem NAME LINE MIB`: the same per-frame work without syscalls (reads are copies
//!   from memory), for `valgrind --tool=callgrind` instruction counts per frame.
//! - `perframe memtime LINE MIB ROUNDS`: in memory, wall time of the engine against the
//!   ceiling, interleaved (shows stalls that instruction counts do not).
//! - `perframe allocs LINE MIB`: allocations per frame in steady state, per contender.
//! - `perframe sizes`: the size of the value moved per frame.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::task::Poll;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use fdframe::codec::LinesDecoder;
use fdframe::{Framer, ReadBuf};
use futures_lite::StreamExt;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<std::alloc::System> = &INSTRUMENTED_SYSTEM;

const PIPE_READ: usize = 64 * 1024;

/// What a contender counted: frames and their bytes (so nothing can be optimised away).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
struct Count {
    frames: u64,
    bytes: u64,
}

impl Count {
    #[inline(always)]
    fn add(&mut self, frame: &[u8]) {
        self.frames += 1;
        self.bytes += frame.len() as u64;
    }
}

const CONTENDERS: &[&str] = &["raw", "ceiling", "blocking", "tokio", "smol", "mio", "glue"];

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let arg = |i: usize, default: &str| args.get(i).cloned().unwrap_or_else(|| default.into());
    match args.first().map(String::as_str) {
        Some("pipe") => {
            let line: usize = arg(1, "64").parse().unwrap();
            let mib: usize = arg(2, "256").parse().unwrap();
            let rounds: usize = arg(3, "3").parse().unwrap();
            let names = arg(4, &CONTENDERS.join(","));
            pipe(line, mib, rounds, &names.split(',').collect::<Vec<_>>());
        }
        Some("mem") => {
            let name = arg(1, "framer");
            let line: usize = arg(2, "64").parse().unwrap();
            let mib: usize = arg(3, "16").parse().unwrap();
            let payload = payload(line);
            let total = mib << 20;
            let count = match name.as_str() {
                "ceiling" => mem_ceiling(&payload, total),
                "framer" => mem_framer(&payload, total),
                "blocking" => mem_blocking(&payload, total),
                other => panic!("unknown in-memory contender {other}"),
            };
            println!("{name} {line} B: {count:?}");
        }
        Some("memtime") => {
            // In-memory wall time, ratio of each contender to the ceiling, interleaved: shows
            // costs instruction counts do not (store-forwarding stalls, atomics).
            let line: usize = arg(1, "64").parse().unwrap();
            let mib: usize = arg(2, "256").parse().unwrap();
            let rounds: usize = arg(3, "5").parse().unwrap();
            let payload = payload(line);
            let total = mib << 20;
            let mut ratios = Vec::new();
            let (mut best_ceiling, mut best_framer) = (f64::MAX, f64::MAX);
            for _ in 0..rounds {
                let started = Instant::now();
                let a = mem_ceiling(&payload, total);
                let ceiling = started.elapsed().as_secs_f64();
                let started = Instant::now();
                let b = mem_framer(&payload, total);
                let framer = started.elapsed().as_secs_f64();
                assert_eq!(a, b);
                ratios.push(ceiling / framer);
                best_ceiling = best_ceiling.min(ceiling);
                best_framer = best_framer.min(framer);
            }
            let list: Vec<String> = ratios.iter().map(|x| format!("{x:.3}")).collect();
            ratios.sort_by(f64::total_cmp);
            println!(
                "in memory {line} B: framer / ceiling throughput: best-of {:.3}, median {:.3} [{}]",
                best_ceiling / best_framer,
                ratios[ratios.len() / 2],
                list.join(" ")
            );
        }
        Some("run") => {
            // One contender over the pipe, for `valgrind --tool=callgrind`.
            let name = arg(1, "blocking");
            let line: usize = arg(2, "64").parse().unwrap();
            let mib: usize = arg(3, "16").parse().unwrap();
            println!("{name} {line} B: {:?}", run_pipe(&name, line, mib));
        }
        Some("sizes") => {
            type Step = fdframe::Step<Bytes, fdframe::codec::LinesError>;
            println!(
                "Step<Bytes, LinesError>: {} bytes; Error<LinesError>: {}; Loss: {}",
                std::mem::size_of::<Step>(),
                std::mem::size_of::<fdframe::Error<fdframe::codec::LinesError>>(),
                std::mem::size_of::<fdframe::Loss>()
            );
        }
        Some("allocs") => {
            let line: usize = arg(1, "64").parse().unwrap();
            let mib: usize = arg(2, "64").parse().unwrap();
            for name in ["ceiling", "blocking", "tokio", "smol", "mio", "glue"] {
                // Warm up (buffers grow to their steady size), then count.
                let region = Region::new(GLOBAL);
                let count = run_pipe(name, line, mib);
                let stats = region.change();
                println!(
                    "{name:<9} {line:>4} B: {:.5} allocations per frame ({} in {} frames)",
                    stats.allocations as f64 / count.frames as f64,
                    stats.allocations,
                    count.frames
                );
            }
        }
        _ => eprintln!(
            "usage: perframe pipe LINE MIB ROUNDS [NAMES] | run NAME LINE MIB | mem NAME LINE MIB | memtime LINE MIB ROUNDS | allocs LINE MIB | sizes"
        ),
    }
}

/// 1 MiB of `line`-byte lines (the last byte of each is `\n`).
fn payload(line: usize) -> Vec<u8> {
    let mut out = Vec::with_capacity(1 << 20);
    let mut i = 0usize;
    while out.len() + line <= 1 << 20 {
        out.extend((0..line - 1).map(|j| b'a' + ((i + j) % 26) as u8));
        out.push(b'\n');
        i += 1;
    }
    out
}

/// Prints, per contender, the ratio of the raw loop's time to its time in the same round, by
/// wall clock and by the reader thread's CPU time. The reader's CPU time is what a per-frame
/// cost changes; on a shared machine the wall clock also measures the writer and the scheduler.
fn pipe(line: usize, mib: usize, rounds: usize, names: &[&str]) {
    println!("pipe, writer thread, {mib} MiB of {line}-byte lines, ratio to raw in the same round");
    let mut wall: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    let mut cpu: Vec<Vec<f64>> = vec![Vec::new(); names.len()];
    for _ in 0..rounds {
        let raw = timed("raw", line, mib);
        for (i, name) in names.iter().enumerate() {
            let t = if *name == "raw" {
                raw
            } else {
                timed(name, line, mib)
            };
            wall[i].push(raw.0 / t.0);
            cpu[i].push(raw.1 / t.1);
        }
    }
    let show = |r: &Vec<f64>| {
        let list: Vec<String> = r.iter().map(|x| format!("{x:.3}")).collect();
        let mut sorted = r.clone();
        sorted.sort_by(f64::total_cmp);
        format!("{:.3} [{}]", sorted[sorted.len() / 2], list.join(" "))
    };
    for (i, name) in names.iter().enumerate() {
        println!(
            "{line:>4} B {name:<9} reader CPU median {}   wall median {}",
            show(&cpu[i]),
            show(&wall[i])
        );
    }
}

/// Wall-clock and reader-thread CPU seconds of one contender.
fn timed(name: &str, line: usize, mib: usize) -> (f64, f64) {
    let payload = payload(line);
    let (count, wall, cpu) = run_pipe_timed(name, &payload, mib, thread_cpu);
    // Every contender must see every line.
    let expected = (mib * ((1 << 20) / line)) as u64;
    assert_eq!(count.frames, expected, "{name}: {count:?}");
    (wall, cpu)
}

fn thread_cpu() -> f64 {
    let t = rustix::time::clock_gettime(rustix::time::ClockId::ThreadCPUTime);
    t.tv_sec as f64 + t.tv_nsec as f64 * 1e-9
}

/// Starts the writer and runs contender `name` over the pipe's read end.
fn run_pipe(name: &str, line: usize, mib: usize) -> Count {
    // No CPU clock here: `run` is for valgrind, which cannot run rustix's vDSO lookup.
    run_pipe_timed(name, &payload(line), mib, || 0.0).0
}

/// [`run_pipe`] with the contender's wall-clock and reader-thread CPU seconds (by `cpu_clock`).
fn run_pipe_timed(
    name: &str,
    payload: &[u8],
    mib: usize,
    cpu_clock: fn() -> f64,
) -> (Count, f64, f64) {
    let payload = payload.to_vec();
    let (rx, tx) = std::io::pipe().unwrap();
    let writer = std::thread::spawn(move || {
        let mut tx = tx;
        let mut left = mib;
        while left > 0 {
            tx.write_all(&payload).unwrap();
            left -= 1;
        }
    });
    let rx: OwnedFd = rx.into();
    let (started, cpu_started) = (Instant::now(), cpu_clock());
    let count = match name {
        "raw" => raw(rx),
        "ceiling" => ceiling(rx),
        "blocking" => blocking(rx),
        "tokio" => tokio_stream(rx),
        "smol" => smol_stream(rx),
        "mio" => mio_reader(rx),
        "glue" => glue(rx),
        other => panic!("unknown contender {other}"),
    };
    let (wall, cpu) = (started.elapsed().as_secs_f64(), cpu_clock() - cpu_started);
    writer.join().unwrap();
    (count, wall, cpu)
}

/// A blocking 64 KiB `read(2)` and a `memchr_iter` count: the floor of any framing.
fn raw(rx: OwnedFd) -> Count {
    let mut buf = vec![0u8; PIPE_READ];
    let mut count = Count::default();
    loop {
        let n = rustix::io::read(&rx, &mut buf[..]).unwrap();
        if n == 0 {
            return count;
        }
        count.frames += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
        count.bytes += n as u64;
    }
}

/// The one-`Bytes`-per-line ceiling: a `BytesMut` kept at least 64 KiB spare, one read, then
/// `memchr`, `split_to`, `freeze` per line.
fn ceiling(rx: OwnedFd) -> Count {
    let mut buf = BytesMut::new();
    let mut count = Count::default();
    loop {
        let n = ReadBuf::new(&mut buf, PIPE_READ).read_from(&rx).unwrap();
        if n == 0 {
            return count;
        }
        while let Some(newline) = memchr::memchr(b'\n', &buf) {
            let mut line: Bytes = buf.split_to(newline + 1).freeze();
            line.truncate(newline);
            count.add(std::hint::black_box(&line));
        }
    }
}

fn blocking(rx: OwnedFd) -> Count {
    let reader = fdframe::blocking::FdReader::from_fd(rx, LinesDecoder::new()).unwrap();
    let mut count = Count::default();
    for line in reader {
        count.add(std::hint::black_box(&line.unwrap()));
    }
    count
}

fn tokio_stream(rx: OwnedFd) -> Count {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    rt.block_on(async move {
        let mut lines = fdframe_tokio::FdStream::from_fd(rx, LinesDecoder::new()).unwrap();
        let mut count = Count::default();
        while let Some(line) = lines.next().await {
            count.add(std::hint::black_box(&line.unwrap()));
        }
        count
    })
}

fn smol_stream(rx: OwnedFd) -> Count {
    async_io::block_on(async move {
        let mut lines = fdframe_async_std::FdStream::from_fd(rx, LinesDecoder::new()).unwrap();
        let mut count = Count::default();
        while let Some(line) = lines.next().await {
            count.add(std::hint::black_box(&line.unwrap()));
        }
        count
    })
}

fn mio_reader(rx: OwnedFd) -> Count {
    let mut lines = fdframe_mio::FdReader::from_fd(rx, LinesDecoder::new()).unwrap();
    let mut poll = mio::Poll::new().unwrap();
    poll.registry()
        .register(&mut lines, mio::Token(0), mio::Interest::READABLE)
        .unwrap();
    let mut events = mio::Events::with_capacity(8);
    let mut count = Count::default();
    loop {
        for line in lines.drain() {
            count.add(std::hint::black_box(&line.unwrap()));
        }
        if lines.is_done() {
            return count;
        }
        if lines.is_drained() {
            poll.poll(&mut events, None).unwrap();
        }
    }
}

/// The glue a careful tokio user writes: tokio's pipe `Receiver`, `FramedRead` with 64 KiB
/// capacity, a zero-copy line decoder.
fn glue(rx: OwnedFd) -> Count {
    struct Lines;
    impl tokio_util::codec::Decoder for Lines {
        type Item = Bytes;
        type Error = std::io::Error;
        fn decode(&mut self, src: &mut BytesMut) -> std::io::Result<Option<Bytes>> {
            Ok(memchr::memchr(b'\n', src).map(|newline| {
                let mut line = src.split_to(newline + 1).freeze();
                line.truncate(newline);
                line
            }))
        }
    }
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_io()
        .build()
        .unwrap();
    rt.block_on(async move {
        let rx = tokio::net::unix::pipe::Receiver::from_owned_fd(rx).unwrap();
        let mut lines = tokio_util::codec::FramedRead::with_capacity(rx, Lines, 64 * 1024);
        let mut count = Count::default();
        while let Some(line) = lines.next().await {
            count.add(std::hint::black_box(&line.unwrap()));
        }
        count
    })
}

/// Copies `total` bytes of `payload` into the offered room, at most 64 KiB per read (a pipe).
struct MemSource<'a> {
    payload: &'a [u8],
    at: usize,
    left: usize,
}

impl MemSource<'_> {
    #[inline(never)]
    fn read(&mut self, buf: &mut ReadBuf<'_>) {
        let take = buf
            .capacity()
            .min(PIPE_READ)
            .min(self.left)
            .min(self.payload.len() - self.at);
        buf.put_slice(&self.payload[self.at..self.at + take]);
        self.at = (self.at + take) % self.payload.len();
        self.left -= take;
    }
}

fn mem_ceiling(payload: &[u8], total: usize) -> Count {
    let mut src = MemSource {
        payload,
        at: 0,
        left: total,
    };
    let mut buf = BytesMut::new();
    let mut count = Count::default();
    loop {
        let mut read_buf = ReadBuf::new(&mut buf, PIPE_READ);
        src.read(&mut read_buf);
        if read_buf.filled() == 0 {
            return count;
        }
        while let Some(newline) = memchr::memchr(b'\n', &buf) {
            let mut line: Bytes = buf.split_to(newline + 1).freeze();
            line.truncate(newline);
            count.add(std::hint::black_box(&line));
        }
    }
}

fn mem_framer(payload: &[u8], total: usize) -> Count {
    let mut src = MemSource {
        payload,
        at: 0,
        left: total,
    };
    let mut framer = Framer::new(LinesDecoder::new());
    let mut count = Count::default();
    loop {
        match framer.poll_next_with(|buf| {
            src.read(buf);
            Ok(())
        }) {
            Poll::Ready(Some(line)) => count.add(std::hint::black_box(&line.unwrap())),
            Poll::Ready(None) => return count,
            Poll::Pending => assert!(framer.is_yielding()),
        }
    }
}

/// The blocking backend's iterator over a regular file would add `poll(2)`-free reads; in
/// memory its per-frame path is `Framer::poll_next_with` behind `Iterator::next`, so this
/// measures the same engine through an iterator.
fn mem_blocking(payload: &[u8], total: usize) -> Count {
    let mut src = MemSource {
        payload,
        at: 0,
        left: total,
    };
    let mut framer = Framer::new(LinesDecoder::new());
    let iter = std::iter::from_fn(|| {
        loop {
            match framer.poll_next_with(|buf| {
                src.read(buf);
                Ok(())
            }) {
                Poll::Ready(step) => return step,
                Poll::Pending => continue,
            }
        }
    });
    let mut count = Count::default();
    for line in iter {
        count.add(std::hint::black_box(&line.unwrap()));
    }
    count
}
