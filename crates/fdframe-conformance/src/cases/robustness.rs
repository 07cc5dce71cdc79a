//! Cancellation, backpressure, scale, descriptor hygiene, bad input and endless input.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use fdframe::codec::{LinesDecoder, Utf8LinesDecoder};
use fdframe::kmsg::KmsgDecoder;
use fdframe::{Framer, ReadFd};
use rustix::net::SendFlags;

use crate::fixtures::{
    QUIET, STEP, TempDir, open_descriptors, pipe, socketpair_seqpacket, spawn_writer,
};
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

/// How long the endless-input case may take before it counts as hung: generous, since it only
/// has to catch a reader that never hands its thread back.
const HANG: Duration = Duration::from_secs(60);

/// Input that never brings a message — `/dev/zero` (read directly: epoll refuses it), and a pipe
/// kept full of one endless line by a writer thread (registered with the reactor) — does not
/// hold the reader's thread: while `next()` is pending, other work on the same thread gets its
/// turns (a second task on the same single-threaded runtime; for blocking and mio, the caller's
/// loop), the engine reports its pauses, and dropping the reader ends everything cleanly. And
/// the pauses lose nothing and stall nothing: a line after 64 MiB without one still arrives.
pub fn endless_input_lets_other_work_run_and_the_reader_drops_cleanly<B: Backend>() -> Outcome {
    // The body runs on a thread of its own (with its own runtime, as every glue keeps one per
    // thread), so that a reader which never returns fails this case instead of hanging it.
    let (done, finished) = std::sync::mpsc::channel();
    let body = std::thread::spawn(move || {
        dev_zero_lets_other_work_run::<B>();
        endless_line_on_a_pipe_lets_other_work_run::<B>();
        line_after_long_holes_arrives_through_the_pauses::<B>();
        let _ = done.send(());
    });
    match finished.recv_timeout(HANG) {
        Ok(()) => body.join().unwrap(),
        Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
            std::panic::resume_unwind(body.join().unwrap_err())
        }
        Err(std::sync::mpsc::RecvTimeoutError::Timeout) => panic!(
            "a reader of endless input did not hand its thread back within {HANG:?} \
             (one call into the engine must do bounded work)"
        ),
    }
    Ok(())
}

/// The first step of an endless line is the decoder's over-long-line error; after it the line
/// is skipped as it arrives, and no message ever comes.
fn expect_too_long_then_only_pauses<D, R>(reader: &mut R, what: &str)
where
    D: fdframe::Decoder,
    D::Item: std::fmt::Debug,
    D::Error: std::fmt::Display,
    R: Reader<D>,
{
    match next_seen(reader, STEP) {
        Seen::Error(e) if e.starts_with("Decode: ") => {}
        other => panic!("{what}: expected the over-long line error first, got {other:?}"),
    }
    let (step, turns) = reader.next_within_beside_other_work(QUIET * 4);
    assert!(
        step.is_pending(),
        "{what}: nothing but an endless line, yet {:?}",
        step.map(|s| s.map(|r| r.map_err(|e| e.to_string())))
    );
    assert!(
        turns > 0,
        "{what}: the other work on the reader's thread never got a turn"
    );
}

fn dev_zero_lets_other_work_run<B: Backend>() {
    let fd = ReadFd::open("/dev/zero").expect("open /dev/zero");
    let mut reader = B::open(fd, Framer::new(LinesDecoder::new())).unwrap();
    expect_too_long_then_only_pauses(&mut reader, "/dev/zero");
    // `/dev/zero` never blocks: the last call can only have ended in a pause.
    assert!(
        reader.framer().is_yielding(),
        "/dev/zero: the engine did not report its pause"
    );
    drop(reader);
}

fn endless_line_on_a_pipe_lets_other_work_run<B: Backend>() {
    let (fd, mut writer) = pipe();
    // Small reads, so that a pause comes after 32 KiB: less than the pipe holds, whether or not
    // the writer keeps up.
    const READ: usize = 1024;
    let endless = vec![b'x'; 64 * 1024];
    // 48 KiB before the reader starts: room for the first read and a whole paused call, and
    // still below the 64 KiB a pipe holds, so this write does not wait for the reader.
    writer.write_all(&endless[..48 * 1024]).unwrap();
    let writing = std::thread::spawn(move || {
        // Until the reader has gone (`EPIPE`; Rust ignores `SIGPIPE`).
        while writer.write_all(&endless).is_ok() {}
    });
    let framer = Framer::new(LinesDecoder::new().max_line_len(READ / 2))
        .with_initial_read_size(READ)
        .with_max_read_size(READ);
    let mut reader = B::open(ReadFd::from_fd(fd).unwrap(), framer).unwrap();
    expect_too_long_then_only_pauses(&mut reader, "an endless line on a pipe");
    drop(reader);
    writing
        .join()
        .expect("the writer stops once the reader is dropped");
}

/// A sparse file: one line, 64 MiB of holes (zeros, no `\n`), one more line. The reader pauses
/// again and again in the holes, and each pause must lead back to reading: a backend that
/// neither wakes its task nor reads on gives nothing more.
fn line_after_long_holes_arrives_through_the_pauses<B: Backend>() {
    use std::io::{Seek, SeekFrom};
    let dir = TempDir::new("holes");
    let path = dir.path().join("holes");
    let mut file = std::fs::File::create_new(&path).unwrap();
    file.write_all(b"first\n").unwrap();
    file.set_len(64 << 20).unwrap();
    file.seek(SeekFrom::End(0)).unwrap();
    file.write_all(b"\nlast\n").unwrap();
    drop(file);
    let mut reader = B::open(
        ReadFd::open(&path).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    assert_eq!(
        expect_items(&mut reader, 1, STEP),
        [Bytes::from_static(b"first")]
    );
    match next_seen(&mut reader, STEP) {
        Seen::Error(e) if e.starts_with("Decode: ") => {}
        other => panic!("holes: expected the over-long line error, got {other:?}"),
    }
    // Plain `next_within`, with no other work to wake the thread: the stream itself must see to
    // it that it is polled again after each pause (the glue's timeout is strict).
    assert_eq!(
        next_seen(&mut reader, STEP),
        Seen::Item(Bytes::from_static(b"last")),
        "holes: the line after them did not arrive"
    );
    assert_eq!(next_seen(&mut reader, STEP), Seen::End);
}
