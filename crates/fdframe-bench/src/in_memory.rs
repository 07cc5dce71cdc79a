//! The engine's own cost: the same decoder over the same bytes, called directly and through
//! `Framer` (reads are `memcpy`s from memory, so no kernel time blurs the difference).

use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::BytesMut;
use fdframe::codec::LinesDecoder;
use fdframe::{Decoder, Framer};

/// Prints nanoseconds per line for the decoder alone and through the engine (median of
/// `rounds`).
pub(crate) fn report(payload: &[u8], rounds: usize) {
    let lines = memchr::memchr_iter(b'\n', payload).count() as f64;
    let mut direct = Vec::new();
    let mut engine = Vec::new();
    for _ in 0..rounds {
        direct.push(decoder_alone(payload));
        engine.push(through_engine(payload));
    }
    let ns = |times: &mut Vec<Duration>| {
        times.sort();
        times[times.len() / 2].as_nanos() as f64 / lines
    };
    println!("\nin memory (no kernel), ns per 64-byte line, median of {rounds} rounds");
    println!(
        "{:<44} {:>10.1}",
        "LinesDecoder called directly",
        ns(&mut direct)
    );
    println!(
        "{:<44} {:>10.1}",
        "LinesDecoder through Framer",
        ns(&mut engine)
    );
}

fn decoder_alone(payload: &[u8]) -> Duration {
    let started = Instant::now();
    let mut decoder = LinesDecoder::new();
    let mut buf = BytesMut::new();
    let mut n = 0u64;
    for chunk in payload.chunks(256 * 1024) {
        buf.extend_from_slice(chunk);
        while let Ok(Some(line)) = decoder.decode(&mut buf) {
            n += line.len() as u64;
        }
    }
    std::hint::black_box(n);
    started.elapsed()
}

fn through_engine(payload: &[u8]) -> Duration {
    let started = Instant::now();
    let mut framer = Framer::new(LinesDecoder::new());
    let mut at = 0;
    let mut n = 0u64;
    loop {
        let step = framer.poll_next_with(|buf| {
            let take = buf.capacity().min(payload.len() - at);
            buf.put_slice(&payload[at..at + take]);
            at += take;
            Ok(())
        });
        match step {
            Poll::Ready(Some(Ok(line))) => n += line.len() as u64,
            Poll::Ready(None) => break,
            other => panic!("unexpected {other:?}"),
        }
    }
    std::hint::black_box(n);
    started.elapsed()
}
