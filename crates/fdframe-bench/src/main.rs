//! `fdframe-bench`: throughput of fdframe readers against their peers, measured in one run and
//! reported as ratios to a raw `read(2)` loop, because the machines are shared and noisy.
//!
//! Each contender reads the same stream of 64-byte lines from a pipe that a writer thread fills
//! as fast as it can; contenders take turns (round-robin, several rounds) and the median of each
//! is reported. Run with `cargo xtask bench` (a release build); options: `--megabytes N`,
//! `--rounds N`, `--only WORD` (only contenders whose name contains WORD, plus the baseline).

#![forbid(unsafe_code)]

mod contenders;
mod in_memory;

use std::io::Write;
use std::os::fd::OwnedFd;
use std::sync::Arc;
use std::thread;
use std::time::{Duration, Instant};

/// Bytes per line, newline included.
const LINE_LEN: usize = 64;

/// One way of reading lines from a pipe; returns how many lines it saw.
pub(crate) struct Contender {
    pub(crate) name: &'static str,
    pub(crate) run: fn(OwnedFd) -> u64,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let megabytes: usize = flag(&args, "--megabytes").unwrap_or(256);
    let rounds: usize = flag(&args, "--rounds").unwrap_or(5);
    let total = megabytes * 1024 * 1024 / LINE_LEN * LINE_LEN;
    let lines = (total / LINE_LEN) as u64;
    let payload = Arc::new(make_lines(total));

    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|at| args.get(at + 1));
    let contenders: Vec<Contender> = contenders::all()
        .into_iter()
        .enumerate()
        // The baseline always runs: the ratios are relative to it.
        .filter(|(i, c)| *i == 0 || only.is_none_or(|word| c.name.contains(word.as_str())))
        .map(|(_, c)| c)
        .collect();
    let mut times: Vec<Vec<Duration>> = vec![Vec::new(); contenders.len()];
    for _ in 0..rounds {
        for (i, contender) in contenders.iter().enumerate() {
            let (elapsed, seen) = measure(contender, &payload);
            assert_eq!(
                seen, lines,
                "{} saw {seen} lines, expected {lines}",
                contender.name
            );
            times[i].push(elapsed);
        }
    }

    println!(
        "pipe, {LINE_LEN}-byte lines, {megabytes} MiB per run, median of {rounds} rounds \
         (ratio: throughput relative to the raw read(2) loop; higher is better)"
    );
    println!("{:<44} {:>10} {:>8}", "reader", "MiB/s", "ratio");
    let medians: Vec<Duration> = times.iter_mut().map(|t| median(t)).collect();
    let baseline = medians[0].as_secs_f64();
    for (contender, median) in contenders.iter().zip(&medians) {
        let mib_s = megabytes as f64 / median.as_secs_f64();
        let ratio = baseline / median.as_secs_f64();
        println!("{:<44} {:>10.0} {:>7.2}x", contender.name, mib_s, ratio);
    }
    in_memory::report(&payload, rounds);
}

fn flag(args: &[String], name: &str) -> Option<usize> {
    let at = args.iter().position(|a| a == name)?;
    args.get(at + 1)?.parse().ok()
}

fn make_lines(total: usize) -> Vec<u8> {
    let mut line = [b'x'; LINE_LEN];
    line[LINE_LEN - 1] = b'\n';
    let mut payload = Vec::with_capacity(total);
    while payload.len() < total {
        payload.extend_from_slice(&line);
    }
    payload
}

/// Times one contender reading `payload` from a fresh pipe filled by a writer thread.
fn measure(contender: &Contender, payload: &Arc<Vec<u8>>) -> (Duration, u64) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    // A full-size pipe buffer, as a busy producer would have; failure only makes it slower.
    let _ = rustix::pipe::fcntl_setpipe_size(&writer, 1024 * 1024);
    let payload = Arc::clone(payload);
    let started = Instant::now();
    let writing = thread::spawn(move || {
        let mut writer = std::fs::File::from(OwnedFd::from(writer));
        for chunk in payload.chunks(64 * 1024) {
            writer.write_all(chunk).expect("write to the pipe");
        }
    });
    let seen = (contender.run)(reader.into());
    let elapsed = started.elapsed();
    writing.join().expect("writer thread");
    (elapsed, seen)
}

fn median(times: &mut [Duration]) -> Duration {
    times.sort();
    times[times.len() / 2]
}
