//! The engine's own cost, without a kernel: the same 64 B lines decoded by `LinesDecoder`
//! called directly and through `Framer` (its reads are `memcpy`s from memory), so no syscall
//! blurs the difference. A view for the optimisers, with no target of its own.

use std::task::Poll;
use std::time::Instant;

use bytes::BytesMut;
use fdframe::codec::LinesDecoder;
use fdframe::{Decoder, Framer};

use crate::harness::{Res, Role, Runs, Sample, thread_cpu};
use crate::options::Options;
use crate::report::{NAME_WIDTH, Targets};

/// Prints nanoseconds per line for the decoder alone and through the engine.
pub(crate) fn run(options: &Options, _targets: &mut Targets) -> Res<()> {
    let rounds = options.rounds(7);
    let megabytes = options.megabytes();
    let line = [&[b'x'; 63][..], b"\n"].concat();
    let payload = line.repeat(megabytes * 1024 * 1024 / line.len());
    let lines = payload.len() / line.len();
    let mut direct = Runs::new("LinesDecoder called directly, 256 KiB chunks", Role::Peer);
    let mut engine = Runs::new("LinesDecoder through Framer (adaptive reads)", Role::Peer);
    for _ in 0..rounds {
        direct.push(decoder_alone(&payload, lines)?, options.clock);
        engine.push(through_engine(&payload, lines)?, options.clock);
    }
    println!("\nin memory (no kernel), 64 B lines, {megabytes} MiB; median of {rounds} rounds");
    println!("{:<NAME_WIDTH$} {:>10} {:>7}", "", "ns/line", "spread");
    for runs in [&direct, &engine] {
        let ns = runs.median().as_nanos() as f64 / lines as f64;
        println!(
            "{:<NAME_WIDTH$} {ns:>10.2} {:>6.0}%",
            runs.name,
            runs.spread() * 100.0
        );
    }
    Ok(())
}

fn decoder_alone(payload: &[u8], lines: usize) -> Res<Sample> {
    let (started, cpu) = (Instant::now(), thread_cpu());
    let mut decoder = LinesDecoder::new();
    let mut buf = BytesMut::new();
    let mut seen = 0;
    for chunk in payload.chunks(256 * 1024) {
        buf.extend_from_slice(chunk);
        while let Some(line) = decoder.decode(&mut buf)? {
            std::hint::black_box(line);
            seen += 1;
        }
    }
    let sample = Sample {
        wall: started.elapsed(),
        cpu: thread_cpu() - cpu,
    };
    check(seen, lines)?;
    Ok(sample)
}

fn through_engine(payload: &[u8], lines: usize) -> Res<Sample> {
    let (started, cpu) = (Instant::now(), thread_cpu());
    let mut framer = Framer::new(LinesDecoder::new());
    let mut at = 0;
    let mut seen = 0;
    loop {
        let step = framer.poll_next_with(|buf| {
            let take = buf.capacity().min(payload.len() - at);
            buf.put_slice(&payload[at..at + take]);
            at += take;
            Ok(())
        });
        match step {
            Poll::Ready(Some(line)) => {
                std::hint::black_box(line?);
                seen += 1;
            }
            Poll::Ready(None) => break,
            Poll::Pending => return Err("the engine returned Pending on an in-memory read".into()),
        }
    }
    let sample = Sample {
        wall: started.elapsed(),
        cpu: thread_cpu() - cpu,
    };
    check(seen, lines)?;
    Ok(sample)
}

fn check(seen: usize, lines: usize) -> Res<()> {
    if seen == lines {
        Ok(())
    } else {
        Err(format!("saw {seen} lines, expected {lines}").into())
    }
}
