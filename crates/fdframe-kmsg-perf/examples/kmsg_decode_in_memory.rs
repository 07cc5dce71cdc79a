//! What decoding a `/dev/kmsg` record costs, without a kernel: a fixed set of records is fed
//! through `KmsgDecoder::decode` alone, and through the engine (`Framer`, record mode, as a
//! backend drives it), with nothing but `seq()` looked at, as a read-all that counts records
//! does. Deterministic, so that instruction counts compare across versions:
//!
//! ```text
//! cargo build --release -p fdframe-kmsg-perf --example kmsg_decode_in_memory
//! valgrind --tool=callgrind --callgrind-out-file=/tmp/cg.out --collect-atstart=no \
//!     --toggle-collect='kmsg_decode_in_memory::decode_all' \
//!     target/release/examples/kmsg_decode_in_memory decode
//! callgrind_annotate /tmp/cg.out | head -30     # total Ir / RECORDS = instructions per record
//! ```
//!
//! (`framer` instead of `decode`, and `--toggle-collect='kmsg_decode_in_memory::frame_all'`,
//! for the engine path; `time` runs both many times and prints ns per record, `time-ring` does
//! the same with the records now in `/dev/kmsg` (repeated to 10,000 of them); a second
//! argument such as `framer` keeps only that run.)

use std::hint::black_box;
use std::io;
use std::task::Poll;
use std::time::Instant;

use bytes::BytesMut;
use fdframe::kmsg::KmsgDecoder;
use fdframe::{Decoder, Framer};

/// How many records one run decodes.
const RECORDS: usize = 10_000;

/// Records as the kernel writes them: short and long, with and without escapes, a dictionary,
/// extra fields.
fn records() -> Vec<Vec<u8>> {
    let long = "abcdefghijklmnopqrstuvwxyz".repeat(38);
    (0..RECORDS)
        .map(|i| {
            let seq = 1000 + i;
            let ts = 5_000_000 + 37 * i;
            let record = match i % 5 {
                0 => format!("6,{seq},{ts},-;usb 1-1: new high-speed USB device number {i} using xhci_hcd\n"),
                1 => format!("15,{seq},{ts},-;flood {i} {long}\n"),
                2 => format!("4,{seq},{ts},-,caller=T{i};tab\\x09here and a \\x5c backslash\n"),
                3 => format!("3,{seq},{ts},c;sd 0:0:0:0: [sda] fragment {i}\n SUBSYSTEM=scsi\n DEVICE=+scsi:0:0:0:0\n"),
                _ => format!("30,{seq},{ts},-;systemd[1]: Started Journal Service {i}.\n"),
            };
            record.into_bytes()
        })
        .collect()
}

#[inline(never)]
fn decode_all(records: &[Vec<u8>]) -> u64 {
    let mut decoder = KmsgDecoder::new();
    let mut sum = 0;
    for raw in records {
        let mut src = BytesMut::from(&raw[..]);
        let record = decoder.decode(&mut src).expect("valid").expect("a record");
        sum += black_box(&record).seq();
    }
    sum
}

/// Only the copy a record costs at least: each record into an allocation of its own, dropped.
#[inline(never)]
fn copy_all(records: &[Vec<u8>]) -> u64 {
    let mut sum = 0;
    for raw in records {
        let src = BytesMut::from(&raw[..]);
        sum += black_box(src.freeze()).len() as u64;
    }
    sum
}

/// Only finding the end of each message, as decoding must (to check the dictionary lines).
#[inline(never)]
fn newline_all(records: &[Vec<u8>]) -> u64 {
    let mut sum = 0;
    for raw in records {
        sum += memchr::memchr(b'\n', black_box(&raw[20..])).unwrap_or(0) as u64;
    }
    sum
}

#[inline(never)]
fn frame_all(records: &[Vec<u8>]) -> u64 {
    let mut framer = Framer::new(KmsgDecoder::new());
    let mut next = records.iter();
    let mut sum = 0;
    loop {
        let step = framer.poll_next_with(|buf| match next.next() {
            Some(raw) => {
                buf.put_slice(raw);
                Ok(())
            }
            None => Err(io::ErrorKind::WouldBlock.into()),
        });
        match step {
            Poll::Ready(Some(record)) => sum += black_box(&record.expect("valid")).seq(),
            Poll::Ready(None) => unreachable!("a WouldBlock reader never ends"),
            Poll::Pending => return sum,
        }
    }
}

/// The records in the ring buffer now, one read each (for `time-ring`: needs root).
fn ring_records() -> Vec<Vec<u8>> {
    let fd = fdframe::kmsg::open(fdframe::kmsg::KmsgStart::Oldest).expect("open /dev/kmsg");
    let mut buf = vec![0u8; 8193];
    let mut records = Vec::new();
    loop {
        match rustix::io::read(&fd, &mut buf[..]) {
            Ok(n) => records.push(buf[..n].to_vec()),
            Err(rustix::io::Errno::AGAIN) => return records,
            Err(rustix::io::Errno::INTR | rustix::io::Errno::PIPE) => {}
            Err(e) => panic!("read /dev/kmsg: {e}"),
        }
    }
}

fn main() {
    let what = std::env::args().nth(1).unwrap_or_else(|| "time".into());
    // `time-ring`: the same timing on the records now in /dev/kmsg, repeated to RECORDS of them
    // (`KMSG_RING=1` does that for `decode` and `framer` too).
    let ring = what == "time-ring" || std::env::var_os("KMSG_RING").is_some();
    let records = if ring {
        let ring = ring_records();
        ring.iter()
            .cycle()
            .take(RECORDS.max(ring.len()))
            .cloned()
            .collect()
    } else {
        records()
    };
    match what.as_str() {
        "decode" => println!("{}", decode_all(&records)),
        "framer" => println!("{}", frame_all(&records)),
        _ => {
            for (name, run) in [
                ("decode", decode_all as fn(&[Vec<u8>]) -> u64),
                ("framer", frame_all),
                ("(copy only)", copy_all),
                ("(memchr \\n only)", newline_all),
            ] {
                // A second argument keeps only the runs whose name contains it.
                if std::env::args()
                    .nth(2)
                    .is_some_and(|only| !name.contains(&only))
                {
                    continue;
                }
                let mut best = f64::MAX;
                for _ in 0..300 {
                    let start = Instant::now();
                    black_box(run(&records));
                    best = best.min(start.elapsed().as_nanos() as f64 / records.len() as f64);
                }
                println!("{name}: {best:.1} ns per record (best of 300)");
            }
        }
    }
}
