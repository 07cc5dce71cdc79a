//! Measures the blocking batch reader against a raw `read(2)` + `memchr_iter` loop, on lines of
//! 64 and 512 bytes read from a file in the page cache (no writer thread to compete with on a
//! shared machine) or, with `--pipe`, from a pipe fed by a writer thread as in `cargo xtask
//! bench` (a 1 MiB pipe, 64 KiB writes, the reader pinned to CPU 0 and the writer to CPU 1);
//! and counts allocations per frame.
//!
//! Run with: `cargo run --release -p fdframe --example batch_throughput [--pipe] [MiB]
//! [line-len ...]` (default: 128 MiB, lines of 64 and 512 bytes). Reported: the best of 5 runs of each loop,
//! as throughput and as a ratio to the raw loop, by the reading thread's on-CPU time (from
//! `/proc/thread-self/schedstat`, so time spent waiting for a CPU on a busy machine does not
//! count; kernel time in `read(2)` does). For steadier numbers count instructions:
//! `valgrind --tool=callgrind target/release/examples/batch_throughput 16 64`.

use std::alloc::System;
use std::fs::File;
use std::io::{Read, Write};
use std::os::fd::OwnedFd;
use std::path::PathBuf;
use std::time::Duration;

use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use stats_alloc::{INSTRUMENTED_SYSTEM, Region, StatsAlloc};

#[global_allocator]
static GLOBAL: &StatsAlloc<System> = &INSTRUMENTED_SYSTEM;

const RUNS: usize = 5;

/// `mib` MiB of lines of `line_len` bytes (`\n` included): a file (removed when dropped), or
/// the same bytes written into a new pipe for each run.
struct Input {
    path: PathBuf,
    pipe: Option<Vec<u8>>,
}

impl Input {
    fn new(mib: usize, line_len: usize, pipe: bool) -> Input {
        let path = std::env::temp_dir().join(format!(
            "fdframe-batch-throughput-{}-{line_len}",
            std::process::id()
        ));
        let mut line = vec![b'x'; line_len - 1];
        line.push(b'\n');
        let chunk: Vec<u8> = line.repeat((1 << 20) / line_len);
        let mut file = File::create_new(&path).expect("a new temporary file");
        for _ in 0..mib {
            file.write_all(&chunk).unwrap();
        }
        Input {
            path,
            pipe: pipe.then_some(chunk),
        }
    }

    /// A descriptor to read the input from, from its start.
    fn open(&self) -> File {
        let Some(chunk) = &self.pipe else {
            return File::open(&self.path).unwrap();
        };
        let (reader, mut writer) = std::io::pipe().unwrap();
        let _ = rustix::pipe::fcntl_setpipe_size(&writer, 1 << 20);
        let chunk = chunk.clone();
        let chunks = std::fs::metadata(&self.path).unwrap().len() as usize / chunk.len();
        std::thread::spawn(move || {
            pin_to(1);
            for _ in 0..chunks {
                for piece in chunk.chunks(64 * 1024) {
                    writer.write_all(piece).unwrap();
                }
            }
        });
        File::from(OwnedFd::from(reader))
    }
}

impl Drop for Input {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

/// Pins the calling thread to `cpu` (if there is one).
fn pin_to(cpu: usize) {
    let mut set = rustix::thread::CpuSet::new();
    set.set(cpu);
    let _ = rustix::thread::sched_setaffinity(None, &set);
}

/// The raw loop the targets are set against: 64 KiB reads, `\n`s counted with `memchr_iter`.
fn raw(input: &Input) -> usize {
    let mut file = input.open();
    let mut buf = vec![0; 64 * 1024];
    let mut lines = 0;
    loop {
        let n = file.read(&mut buf).unwrap();
        if n == 0 {
            return lines;
        }
        lines += memchr::memchr_iter(b'\n', &buf[..n]).count();
    }
}

/// The "batch ceiling": one frozen `Bytes` per read of up to 256 KiB, its lines walked with
/// `memchr_iter`, by hand, with nothing else around it.
fn ceiling(input: &Input) -> usize {
    let mut file = input.open();
    let mut carry: Vec<u8> = Vec::new();
    let (mut lines, mut bytes) = (0, 0);
    loop {
        let mut buf = Vec::with_capacity(carry.len() + 256 * 1024);
        buf.extend_from_slice(&carry);
        // `read_to_end` fills the spare capacity without zeroing it first.
        let n = (&mut file).take(256 * 1024).read_to_end(&mut buf).unwrap();
        if n == 0 {
            std::hint::black_box(bytes);
            return lines;
        }
        let Some(last) = memchr::memrchr(b'\n', &buf) else {
            carry = buf;
            continue;
        };
        let run = bytes::Bytes::from(buf);
        carry = run[last + 1..].to_vec();
        let mut line_start = 0;
        for newline in memchr::memchr_iter(b'\n', &run[..=last]) {
            lines += 1;
            bytes += newline - line_start;
            line_start = newline + 1;
        }
    }
}

/// The batch reader; each line's bytes are looked at (their length summed), as a consumer
/// would.
fn batch(input: &Input) -> usize {
    let mut reader = FdReader::from_fd(input.open().into(), LinesDecoder::new()).unwrap();
    let (mut lines, mut bytes) = (0, 0);
    for frames in reader.batches() {
        for line in &frames.unwrap() {
            lines += 1;
            bytes += line.len();
        }
    }
    std::hint::black_box(bytes);
    lines
}

/// The per-message reader, for reference.
fn per_frame(input: &Input) -> usize {
    let reader = FdReader::from_fd(input.open().into(), LinesDecoder::new()).unwrap();
    let mut bytes = 0;
    let mut lines = 0;
    for line in reader {
        lines += 1;
        bytes += line.unwrap().len();
    }
    std::hint::black_box(bytes);
    lines
}

/// This thread's time on a CPU so far (user and kernel).
fn on_cpu() -> Duration {
    let stat = std::fs::read_to_string("/proc/thread-self/schedstat").expect("schedstat");
    let ns = stat
        .split_whitespace()
        .next()
        .and_then(|ns| ns.parse().ok());
    Duration::from_nanos(ns.expect("on-CPU nanoseconds"))
}

/// The best on-CPU time of [`RUNS`] runs, the lines counted and the allocations of one run.
fn measure(input: &Input, run: fn(&Input) -> usize) -> (Duration, usize, usize) {
    let mut best = Duration::MAX;
    let mut lines = 0;
    let mut allocations = 0;
    for _ in 0..RUNS {
        let region = Region::new(GLOBAL);
        let started = on_cpu();
        lines = run(input);
        best = best.min(on_cpu() - started);
        allocations = region.change().allocations + region.change().reallocations;
    }
    (best, lines, allocations)
}

fn main() {
    let mut args = std::env::args().skip(1).peekable();
    let pipe = args.next_if(|arg| arg == "--pipe").is_some();
    if pipe {
        pin_to(0);
    }
    let mib: usize = args.next().map_or(128, |mib| mib.parse().expect("MiB"));
    let mut line_lens: Vec<usize> = args
        .map(|len| len.parse().expect("a line length"))
        .collect();
    if line_lens.is_empty() {
        line_lens = vec![64, 512];
    }
    for line_len in line_lens {
        let input = Input::new(mib, line_len, pipe);
        raw(&input); // into the page cache
        let (raw_time, raw_lines, _) = measure(&input, raw);
        let gib_s = |time: Duration| (mib as f64 / 1024.0) / time.as_secs_f64();
        let from = if pipe { "a pipe" } else { "a file" };
        println!("{line_len} B lines, {mib} MiB from {from}, best of {RUNS}, on-CPU time:");
        println!("  raw read+memchr_iter   {:6.2} GiB/s", gib_s(raw_time));
        let loops = [
            ("ceiling (hand-written)", ceiling as fn(&Input) -> usize),
            ("batch", batch),
            ("per-frame", per_frame),
        ];
        for (name, run) in loops {
            let (time, lines, allocations) = measure(&input, run);
            assert_eq!(lines, raw_lines, "{name} counted other lines");
            println!(
                "  {name:<22} {:6.2} GiB/s  {:.3}x raw  {:.5} allocations/frame",
                gib_s(time),
                raw_time.as_secs_f64() / time.as_secs_f64(),
                allocations as f64 / lines as f64
            );
        }
    }
}
