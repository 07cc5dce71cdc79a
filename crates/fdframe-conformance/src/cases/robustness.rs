//! Cancellation, backpressure, scale, descriptor hygiene and bad input.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use fdframe::codec::{LinesDecoder, Utf8LinesDecoder};
use fdframe::kmsg::KmsgDecoder;
use fdframe::{Framer, ReadFd};
use rustix::net::SendFlags;

use crate::fixtures::{STEP, open_descriptors, pipe, socketpair_seqpacket, spawn_writer};
use crate::{Backend, Outcome, Reader, Seen, drain_until_end, expect_items, next_seen};

/// A tiny deterministic generator, so a failing run can be replayed exactly.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % n
    }
}

/// `next()` abandoned at arbitrary points — mid-frame, mid-burst, while waiting — loses and
/// duplicates nothing: every numbered line arrives exactly once, in order.
pub fn cancelled_next_loses_and_duplicates_nothing<B: Backend>() -> Outcome {
    const LINES: usize = 3000;
    let (fd, writer) = pipe();
    let text: Vec<u8> = (0..LINES)
        .flat_map(|i| format!("seq {i}\n").into_bytes())
        .collect();
    let mut rng = Lcg(0x5eed);
    let mut chunks = Vec::new();
    let mut rest = &text[..];
    while !rest.is_empty() {
        let take = (1 + rng.below(200) as usize).min(rest.len());
        chunks.push(rest[..take].to_vec());
        rest = &rest[take..];
    }
    let writing = spawn_writer(writer, chunks, Duration::from_micros(200));
    let framer = Framer::new(LinesDecoder::new())
        .with_initial_read_size(64)
        .with_max_read_size(256);
    let mut reader = B::open(ReadFd::from_fd(fd).unwrap(), framer).unwrap();
    let mut got = Vec::with_capacity(LINES);
    let mut cancelled = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        // Timeouts from zero to a millisecond: many `next()` calls are dropped while pending.
        let timeout = Duration::from_micros(rng.below(1000));
        match next_seen(&mut reader, timeout) {
            Seen::Item(line) => got.push(line),
            Seen::Timeout => cancelled += 1,
            Seen::End => break,
            Seen::Error(e) => panic!("unexpected error {e}"),
        }
        assert!(
            std::time::Instant::now() < deadline,
            "no end after {} lines",
            got.len()
        );
    }
    writing.join().unwrap();
    let expected: Vec<Bytes> = (0..LINES)
        .map(|i| Bytes::from(format!("seq {i}")))
        .collect();
    assert_eq!(got, expected, "after {cancelled} cancelled next() calls");
    assert!(cancelled > 0, "the case must actually cancel pending calls");
    Ok(())
}

/// A consumer slower than its writer keeps the engine's buffer within its bound: the pipe
/// pushes back, the engine does not read ahead without limit.
pub fn slow_consumer_keeps_the_buffer_bounded<B: Backend>() -> Outcome {
    const MAX_READ: usize = 16 * 1024;
    const MAX_LINE: usize = 1024;
    let (fd, writer) = pipe();
    let line = format!("{}\n", "b".repeat(63));
    let chunk: Vec<u8> = line.repeat(1024).into_bytes(); // 64 KiB
    let writing = spawn_writer(writer, vec![chunk; 32], Duration::ZERO); // 2 MiB
    let framer = Framer::new(LinesDecoder::new().max_line_len(MAX_LINE))
        .with_initial_read_size(4096)
        .with_max_read_size(MAX_READ);
    let mut reader = B::open(ReadFd::from_fd(fd).unwrap(), framer).unwrap();
    let mut lines = 0;
    let mut most_buffered = 0;
    loop {
        match next_seen(&mut reader, STEP) {
            Seen::Item(_) => lines += 1,
            Seen::End => break,
            other => panic!("unexpected {other:?}"),
        }
        most_buffered = most_buffered.max(reader.framer().buffered().len());
        if lines % 2048 == 0 {
            std::thread::sleep(Duration::from_millis(2)); // the slow consumer
        }
    }
    writing.join().unwrap();
    assert_eq!(lines, 32 * 1024);
    assert!(
        most_buffered <= MAX_READ + MAX_LINE,
        "buffered up to {most_buffered} bytes"
    );
    Ok(())
}

/// Raises the soft descriptor limit as far as the hard limit allows (at least `want`).
fn allow_descriptors(want: u64) {
    use rustix::process::{Resource, getrlimit, setrlimit};
    let limit = getrlimit(Resource::Nofile);
    if limit.current.is_some_and(|current| current < want) {
        let raised = rustix::process::Rlimit {
            current: Some(limit.maximum.map_or(want, |max| max.min(want.max(8192)))),
            maximum: limit.maximum,
        };
        let _ = setrlimit(Resource::Nofile, raised);
    }
}

/// A thousand readers on one runtime (the glue keeps one per thread), each delivering its
/// frame and its end.
pub fn thousand_descriptors_on_one_runtime<B: Backend>() -> Outcome {
    const N: usize = 1000;
    allow_descriptors(4 * N as u64 + 256);
    let mut writers = Vec::with_capacity(N);
    let mut readers = Vec::with_capacity(N);
    for i in 0..N {
        let (fd, mut writer) = pipe();
        writer.write_all(format!("fd {i}\n").as_bytes()).unwrap();
        writers.push(writer);
        readers.push(
            B::open(
                ReadFd::from_fd(fd).unwrap(),
                Framer::new(LinesDecoder::new()),
            )
            .unwrap(),
        );
    }
    for (i, reader) in readers.iter_mut().enumerate() {
        assert_eq!(
            expect_items(reader, 1, STEP),
            [Bytes::from(format!("fd {i}"))]
        );
    }
    drop(writers);
    for reader in &mut readers {
        assert_eq!(next_seen(reader, STEP), Seen::End);
    }
    Ok(())
}

/// Opening and dropping ten thousand readers leaves the process's descriptor count as it was
/// (or lower, see below): each reader closes (and deregisters) its descriptor.
pub fn ten_thousand_readers_leak_no_descriptors<B: Backend>() -> Outcome {
    let once = || {
        let (fd, mut writer) = pipe();
        let mut reader = B::open(
            ReadFd::from_fd(fd).unwrap(),
            Framer::new(LinesDecoder::new()),
        )
        .unwrap();
        writer.write_all(b"x\n").unwrap();
        assert_eq!(
            expect_items(&mut reader, 1, STEP),
            [Bytes::from_static(b"x")]
        );
    };
    once(); // the runtime's own descriptors come into being here, before the count
    let before = open_descriptors();
    for _ in 0..10_000 {
        once();
    }
    // Other cases are held off while this one runs, but a test thread that just finished may
    // still be closing its thread-local runtime: the count can only fall for that reason. A
    // leak of one descriptor per reader would raise it by ten thousand.
    let after = open_descriptors();
    assert!(
        after <= before,
        "descriptors leaked: {before} before, {after} after"
    );
    Ok(())
}

/// Garbage gives typed errors where the codec can resync, and the stream goes on: invalid
/// UTF-8 and an over-long line between good lines; a malformed kmsg record between good ones.
pub fn garbage_gives_typed_errors_and_the_stream_goes_on<B: Backend>() -> Outcome {
    let (fd, writer) = pipe();
    let mut text = b"ok 1\n\xff\xfe bad\nok 2\n".to_vec();
    text.extend_from_slice(&[b'x'; 100]);
    text.extend_from_slice(b"\nok 3\n");
    let writing = spawn_writer(writer, vec![text], Duration::ZERO);
    let decoder = Utf8LinesDecoder::new().max_line_len(16);
    let mut reader = B::open(ReadFd::from_fd(fd).unwrap(), Framer::new(decoder)).unwrap();
    let seen = drain_until_end(&mut reader, STEP);
    writing.join().unwrap();
    let classes: Vec<String> = seen
        .iter()
        .map(|s| match s {
            Seen::Item(line) => format!("item {line}"),
            Seen::Error(e) => e.split(':').next().unwrap_or_default().to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(
        classes,
        [
            "item ok 1",
            "Decode",
            "item ok 2",
            "Decode",
            "item ok 3",
            "End"
        ]
    );

    let (fd, peer) = socketpair_seqpacket();
    for record in [
        "6,1,100,-;good one\n",
        "garbage without a prefix\n",
        "6,2,200,-;good two\n",
    ] {
        rustix::net::send(&peer, record.as_bytes(), SendFlags::empty()).unwrap();
    }
    drop(peer);
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(KmsgDecoder::new()),
    )
    .unwrap();
    let seen = drain_until_end(&mut reader, STEP);
    let shape: Vec<String> = seen
        .iter()
        .map(|s| match s {
            Seen::Item(record) => format!("record {}", record.seq()),
            Seen::Error(e) => e.split(':').next().unwrap_or_default().to_string(),
            other => format!("{other:?}"),
        })
        .collect();
    assert_eq!(shape, ["record 1", "Decode", "record 2", "End"]);
    Ok(())
}
