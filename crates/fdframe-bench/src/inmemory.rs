//! The per-frame and batch paths, and kmsg decoding, in memory: no syscalls, no clocks, the
//! same work every run, so that `valgrind --tool=callgrind` counts instructions per frame
//! that compare across versions (this VM has no hardware counters, and the main harness cannot
//! run under valgrind: rustix's vDSO lookup behind its CPU clocks crashes there).
//!
//! The `fdframe-bench-callgrind` binary runs these:
//!
//! ```text
//! fdframe-bench-callgrind lines NAME [LINE_LEN] [MIB]   NAME: ceiling, framer, iterator, batch
//! fdframe-bench-callgrind kmsg NAME                     NAME: decode, framer, batch, copy
//! fdframe-bench-callgrind time                          every one of them, best of N, ns/frame
//! ```
//!
//! Each measured loop is an `#[inline(never)]` function named `measure_*`, so that callgrind
//! can count it alone (`--collect-atstart=no --toggle-collect='*measure_*'`); the run prints
//! the frames it saw, and total instructions / frames is the cost per frame.

use std::hint::black_box;
use std::io;
use std::process::ExitCode;
use std::task::Poll;
use std::time::Instant;

use bytes::{Bytes, BytesMut};
use fdframe::codec::LinesDecoder;
use fdframe::kmsg::KmsgDecoder;
use fdframe::{Decoder, Framer, ReadSpace};

use crate::harness::Tally;

/// Bytes handed over per simulated read, as the pipe workloads read.
const READ: usize = 64 * 1024;

/// How many kmsg records one run decodes.
pub(crate) const RECORDS: usize = 10_000;

/// 1 MiB of `line_len`-byte lines (`\n` included), the content varying from line to line.
pub(crate) fn lines_payload(line_len: usize) -> Vec<u8> {
    let line_len = line_len.max(2);
    let mut out = Vec::with_capacity(1 << 20);
    let mut i = 0usize;
    while out.len() + line_len <= 1 << 20 {
        out.extend((0..line_len - 1).map(|j| b'a' + ((i + j) % 26) as u8));
        out.push(b'\n');
        i += 1;
    }
    out
}

/// `total` bytes of `payload`, repeated, handed out in reads of at most [`READ`] bytes.
struct MemSource<'a> {
    payload: &'a [u8],
    at: usize,
    left: usize,
}

impl MemSource<'_> {
    #[inline(never)]
    fn read(&mut self, buf: &mut ReadSpace<'_>) {
        let take = buf
            .capacity()
            .min(READ)
            .min(self.left)
            .min(self.payload.len() - self.at);
        buf.put_slice(&self.payload[self.at..self.at + take]);
        self.at = (self.at + take) % self.payload.len();
        self.left -= take;
    }
}

/// The per-frame ceiling: one `split_to` + `freeze` per line, nothing else.
#[inline(never)]
fn measure_lines_ceiling(payload: &[u8], total: usize) -> Tally {
    let mut src = MemSource {
        payload,
        at: 0,
        left: total,
    };
    let mut buf = BytesMut::new();
    let mut tally = Tally::default();
    loop {
        let mut read_buf = ReadSpace::new(&mut buf, READ);
        src.read(&mut read_buf);
        if read_buf.filled() == 0 {
            return tally;
        }
        while let Some(newline) = memchr::memchr(b'\n', &buf) {
            let mut line: Bytes = buf.split_to(newline + 1).freeze();
            line.truncate(newline);
            tally.frame(black_box(&line).len());
        }
    }
}

/// The engine's per-frame path, `Framer::poll_next_with`, as every backend drives it.
#[inline(never)]
fn measure_lines_framer(payload: &[u8], total: usize) -> Tally {
    let mut src = MemSource {
        payload,
        at: 0,
        left: total,
    };
    let mut framer = Framer::new(LinesDecoder::new());
    let mut tally = Tally::default();
    loop {
        match framer.poll_next_with(|buf| {
            src.read(buf);
            Ok(())
        }) {
            Poll::Ready(Some(line)) => tally.frame(black_box(&line.expect("a line")).len()),
            Poll::Ready(None) => return tally,
            Poll::Pending => {}
        }
    }
}

/// The per-frame path behind an `Iterator::next`, as the blocking `FdReader` hands it out.
#[inline(never)]
fn measure_lines_iterator(payload: &[u8], total: usize) -> Tally {
    let mut src = MemSource {
        payload,
        at: 0,
        left: total,
    };
    let mut framer = Framer::new(LinesDecoder::new());
    let lines = std::iter::from_fn(|| {
        loop {
            if let Poll::Ready(step) = framer.poll_next_with(|buf| {
                src.read(buf);
                Ok(())
            }) {
                return step;
            }
        }
    });
    let mut tally = Tally::default();
    for line in lines {
        tally.frame(black_box(&line.expect("a line")).len());
    }
    tally
}

/// The batch path, `Framer::poll_batch_with`, each frame looked at as a slice.
#[inline(never)]
fn measure_lines_batch(payload: &[u8], total: usize) -> Tally {
    let mut src = MemSource {
        payload,
        at: 0,
        left: total,
    };
    let mut framer = Framer::new(LinesDecoder::new());
    let mut tally = Tally::default();
    loop {
        match framer.poll_batch_with(|buf| {
            src.read(buf);
            Ok(())
        }) {
            Poll::Ready(Some(frames)) => {
                for line in &frames.expect("a batch") {
                    tally.frame(black_box(line).len());
                }
            }
            Poll::Ready(None) => return tally,
            Poll::Pending => {}
        }
    }
}

type LinesRun = fn(&[u8], usize) -> Tally;

/// The in-memory line loops, by name.
pub(crate) const LINES: [(&str, LinesRun); 4] = [
    ("ceiling", measure_lines_ceiling),
    ("framer", measure_lines_framer),
    ("iterator", measure_lines_iterator),
    ("batch", measure_lines_batch),
];

/// Records as the kernel writes them: short and long, with and without escapes, a dictionary,
/// extra fields.
pub(crate) fn kmsg_records() -> Vec<Vec<u8>> {
    let long = "abcdefghijklmnopqrstuvwxyz".repeat(38);
    (0..RECORDS)
        .map(|i| {
            let seq = 1000 + i;
            let ts = 5_000_000 + 37 * i;
            let record = match i % 5 {
                0 => format!(
                    "6,{seq},{ts},-;usb 1-1: new high-speed USB device number {i} using xhci_hcd\n"
                ),
                1 => format!("15,{seq},{ts},-;flood {i} {long}\n"),
                2 => format!("4,{seq},{ts},-,caller=T{i};tab\\x09here and a \\x5c backslash\n"),
                3 => format!(
                    "3,{seq},{ts},c;sd 0:0:0:0: [sda] fragment {i}\n SUBSYSTEM=scsi\n \
                     DEVICE=+scsi:0:0:0:0\n"
                ),
                _ => format!("30,{seq},{ts},-;systemd[1]: Started Journal Service {i}.\n"),
            };
            record.into_bytes()
        })
        .collect()
}

/// `KmsgDecoder::decode` alone, one record per call; only `seq()` looked at, as a read-all
/// that counts records does. The "bytes" of the tally are the sum of the sequence numbers.
#[inline(never)]
fn measure_kmsg_decode(records: &[Vec<u8>]) -> Tally {
    let mut decoder = KmsgDecoder::new();
    let mut tally = Tally::default();
    for raw in records {
        let mut src = BytesMut::from(&raw[..]);
        let record = decoder.decode(&mut src).expect("valid").expect("a record");
        tally.frame(black_box(&record).seq() as usize);
    }
    tally
}

/// Reads of one record each (as `/dev/kmsg` gives them), `WouldBlock` at the end.
fn kmsg_reads<'a>(records: &'a [Vec<u8>]) -> impl FnMut(&mut ReadSpace<'_>) -> io::Result<()> + 'a {
    let mut next = records.iter();
    move |buf| match next.next() {
        Some(raw) => {
            buf.put_slice(raw);
            Ok(())
        }
        None => Err(io::ErrorKind::WouldBlock.into()),
    }
}

/// The engine in record mode, per record, as a backend drives it.
#[inline(never)]
fn measure_kmsg_framer(records: &[Vec<u8>]) -> Tally {
    let mut framer = Framer::new(KmsgDecoder::new());
    let mut read = kmsg_reads(records);
    let mut tally = Tally::default();
    loop {
        match framer.poll_next_with(&mut read) {
            Poll::Ready(Some(record)) => {
                tally.frame(black_box(&record.expect("valid")).seq() as usize);
            }
            Poll::Ready(None) => unreachable!("a WouldBlock reader never ends"),
            Poll::Pending => return tally,
        }
    }
}

/// The engine's batch path in record mode (one record per read, so one per batch).
#[inline(never)]
fn measure_kmsg_batch(records: &[Vec<u8>]) -> Tally {
    let mut framer = Framer::new(KmsgDecoder::new());
    let mut read = kmsg_reads(records);
    let mut tally = Tally::default();
    loop {
        match framer.poll_batch_with(&mut read) {
            Poll::Ready(Some(frames)) => {
                for record in frames.expect("valid") {
                    tally.frame(black_box(&record).seq() as usize);
                }
            }
            Poll::Ready(None) => unreachable!("a WouldBlock reader never ends"),
            Poll::Pending => return tally,
        }
    }
}

/// Only the copy a record costs at least: each record into an allocation of its own. The
/// tally counts records and their lengths, so it differs from the decoders'.
#[inline(never)]
fn measure_kmsg_copy(records: &[Vec<u8>]) -> Tally {
    let mut tally = Tally::default();
    for raw in records {
        let src = BytesMut::from(&raw[..]);
        tally.frame(black_box(src.freeze()).len());
    }
    tally
}

type KmsgRun = fn(&[Vec<u8>]) -> Tally;

/// The in-memory kmsg loops, by name.
pub(crate) const KMSG: [(&str, KmsgRun); 4] = [
    ("decode", measure_kmsg_decode),
    ("framer", measure_kmsg_framer),
    ("batch", measure_kmsg_batch),
    ("copy", measure_kmsg_copy),
];

fn find<T: Copy>(table: &[(&str, T)], name: &str) -> Result<T, String> {
    table
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(_, run)| *run)
        .ok_or_else(|| {
            let names: Vec<&str> = table.iter().map(|(n, _)| *n).collect();
            format!("unknown loop {name:?} (one of {})", names.join(", "))
        })
}

/// The `fdframe-bench-callgrind` binary.
pub(crate) fn main(args: Vec<String>) -> ExitCode {
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fdframe-bench-callgrind: {e}");
            eprintln!(
                "usage: fdframe-bench-callgrind lines NAME [LINE_LEN] [MIB] | kmsg NAME | time"
            );
            ExitCode::from(2)
        }
    }
}

fn run(args: &[String]) -> Result<(), String> {
    let arg = |i: usize| args.get(i).map(String::as_str);
    let number = |i: usize, default: usize| -> Result<usize, String> {
        arg(i).map_or(Ok(default), |s| {
            s.parse().map_err(|e| format!("{s:?}: {e}"))
        })
    };
    match arg(0) {
        Some("lines") => {
            let name = arg(1).unwrap_or("framer");
            let run = find(&LINES, name)?;
            let (line_len, mib) = (number(2, 64)?, number(3, 16)?);
            let tally = run(&lines_payload(line_len), mib << 20);
            println!(
                "lines {name}, {line_len} B, {mib} MiB: {} frames, {} content bytes",
                tally.frames, tally.bytes
            );
            Ok(())
        }
        Some("kmsg") => {
            let name = arg(1).unwrap_or("decode");
            let tally = find(&KMSG, name)?(&kmsg_records());
            println!("kmsg {name}: {} records", tally.frames);
            Ok(())
        }
        Some("time") => {
            time();
            Ok(())
        }
        _ => Err("which loop?".into()),
    }
}

/// Every loop, best of a few runs by wall clock, in ns per frame (for a quick look; the
/// instruction counts under callgrind are the numbers to compare).
fn time() {
    let best = |runs: usize, frames: u64, mut run: Box<dyn FnMut() -> Tally + '_>| {
        let mut best = f64::MAX;
        for _ in 0..runs {
            let started = Instant::now();
            assert_eq!(run().frames, frames);
            best = best.min(started.elapsed().as_nanos() as f64 / frames as f64);
        }
        best
    };
    for line_len in [64, 512] {
        let payload = lines_payload(line_len);
        let total = 64 << 20;
        let frames = measure_lines_ceiling(&payload, total).frames;
        for (name, run) in LINES {
            let ns = best(5, frames, Box::new(|| run(&payload, total)));
            println!("lines {line_len:>3} B {name:<9} {ns:7.1} ns/frame (best of 5)");
        }
    }
    let records = kmsg_records();
    for (name, run) in KMSG {
        let ns = best(100, RECORDS as u64, Box::new(|| run(&records)));
        println!("kmsg        {name:<9} {ns:7.1} ns/record (best of 100)");
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_in_memory_line_loop_sees_the_same_lines() {
        for line_len in [64, 512] {
            let payload = lines_payload(line_len);
            let frames = (3 << 20) / payload.len() as u64 * (payload.len() / line_len) as u64;
            let expected = Tally {
                frames,
                bytes: frames * (line_len as u64 - 1),
            };
            for (name, run) in LINES {
                assert_eq!(run(&payload, 3 << 20), expected, "{name} at {line_len} B");
            }
        }
    }

    #[test]
    fn every_kmsg_decoding_loop_sees_every_record_in_order() {
        let records = kmsg_records();
        let seqs: u64 = (1000..1000 + RECORDS as u64).sum();
        let expected = Tally {
            frames: RECORDS as u64,
            bytes: seqs,
        };
        for (name, run) in &KMSG[..3] {
            assert_eq!(run(&records), expected, "{name}");
        }
        assert_eq!(KMSG[3].1(&records).frames, RECORDS as u64);
    }
}
