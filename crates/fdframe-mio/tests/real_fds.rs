//! What only the mio backend has, in a real `mio::Poll` loop: one edge, one drain to
//! `WouldBlock`; stopping a drain early; registration, reregistration and deregistration
//! (also on drop); `O_NONBLOCK` handling; descriptors epoll refuses. Every poll has a timeout,
//! so a lost wake-up fails the test instead of hanging it.
//!
//! The behaviour every backend shares (pipes, FIFOs, sockets, ptys, files, devices, kmsg
//! records, bounds) is the conformance suite's, run for mio by the workspace's `tests/`
//! package; it is not repeated here. These tests need nothing outside this package.

use std::io;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fdframe::codec::LinesDecoder;
use fdframe::{Decoder, Framer, ReadFd};
use fdframe_mio::FdReader;
use mio::event::Source;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

/// How long a test waits for an event that must come.
const EVENT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a test waits to be sure an event does not come.
const QUIET_TIME: Duration = Duration::from_millis(200);

const T: Token = Token(7);

fn lines() -> LinesDecoder {
    LinesDecoder::new()
}

/// A `mio::Poll` with its event buffer.
struct EventLoop {
    poll: Poll,
    events: Events,
}

impl EventLoop {
    fn new() -> EventLoop {
        EventLoop {
            poll: Poll::new().expect("mio::Poll::new"),
            events: Events::with_capacity(16),
        }
    }

    fn register(&self, source: &mut impl Source, token: Token) {
        self.poll
            .registry()
            .register(source, token, Interest::READABLE)
            .expect("register");
    }

    /// Waits up to `timeout` for events; returns the tokens that got one.
    fn poll_tokens(&mut self, timeout: Duration) -> Vec<Token> {
        self.poll
            .poll(&mut self.events, Some(timeout))
            .expect("poll");
        self.events.iter().map(|e| e.token()).collect()
    }

    /// Waits for an event for `token`; panics after [`EVENT_TIMEOUT`].
    fn expect_event(&mut self, token: Token) {
        let deadline = Instant::now() + EVENT_TIMEOUT;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            assert!(
                !left.is_zero(),
                "no event for {token:?} within {EVENT_TIMEOUT:?}"
            );
            if self.poll_tokens(left).contains(&token) {
                return;
            }
        }
    }

    /// Asserts that no event for `token` comes within [`QUIET_TIME`].
    fn expect_no_event(&mut self, token: Token) {
        let tokens = self.poll_tokens(QUIET_TIME);
        assert!(!tokens.contains(&token), "unexpected event for {token:?}");
    }
}

fn pipe() -> (OwnedFd, OwnedFd) {
    rustix::pipe::pipe_with(rustix::pipe::PipeFlags::CLOEXEC).expect("pipe")
}

fn write_all(fd: impl AsFd, mut bytes: &[u8]) {
    while !bytes.is_empty() {
        let n = rustix::io::write(&fd, bytes).expect("write");
        bytes = &bytes[n..];
    }
}

/// Everything `drain` yields, unwrapped.
fn drain_ok<D: Decoder>(reader: &mut FdReader<D>) -> Vec<D::Item>
where
    D::Error: std::fmt::Debug,
{
    reader
        .drain()
        .map(|item| item.expect("no errors expected"))
        .collect()
}

fn numbered_lines(count: usize) -> (Vec<u8>, Vec<Bytes>) {
    let expected: Vec<Bytes> = (0..count)
        .map(|n| Bytes::from(format!("line {n:05} {}", "x".repeat(n % 50))))
        .collect();
    let mut bytes = Vec::new();
    for line in &expected {
        bytes.extend_from_slice(line);
        bytes.push(b'\n');
    }
    (bytes, expected)
}

// ---- pipes -----------------------------------------------------------------------------------

#[test]
fn burst_larger_than_one_read_is_drained_after_one_event() {
    // ~45 KiB: fits the pipe's 64 KiB buffer, so the writer never blocks, and takes many reads.
    let (bytes, expected) = numbered_lines(1300);
    assert!(bytes.len() > 40 * 1024 && bytes.len() < 60 * 1024);

    for read_size in [512, Framer::<LinesDecoder>::DEFAULT_INITIAL_READ_SIZE] {
        let (rx, tx) = pipe();
        let framer = Framer::new(lines())
            .with_initial_read_size(read_size)
            .with_max_read_size(read_size);
        let mut reader = FdReader::with_framer(ReadFd::from_fd(rx).unwrap(), framer).unwrap();
        let mut event_loop = EventLoop::new();
        event_loop.register(&mut reader, T);

        write_all(&tx, &bytes);
        event_loop.expect_event(T);
        // One event, one drain: everything, without any further event.
        assert_eq!(drain_ok(&mut reader), expected, "read size {read_size}");
        assert!(reader.is_drained());
        assert!(!reader.is_done());
        event_loop.expect_no_event(T);
    }
}

#[test]
fn stopping_a_drain_early_loses_nothing() {
    let (rx, tx) = pipe();
    let mut reader = FdReader::from_fd(rx, lines()).unwrap();
    let mut event_loop = EventLoop::new();
    event_loop.register(&mut reader, T);

    write_all(&tx, b"1\n2\n3\n");
    event_loop.expect_event(T);
    let first: Vec<_> = reader.drain().take(1).map(Result::unwrap).collect();
    assert_eq!(first, ["1"]);
    // Not drained: the caller must come back without waiting for an event.
    assert!(!reader.is_drained());
    assert_eq!(drain_ok(&mut reader), ["2", "3"]);
    assert!(reader.is_drained());

    write_all(&tx, b"4\n");
    event_loop.expect_event(T);
    assert_eq!(drain_ok(&mut reader), ["4"]);
}

#[test]
fn a_finished_drain_stays_finished() {
    let (rx, tx) = pipe();
    let mut reader = FdReader::from_fd(rx, lines()).unwrap();
    {
        let mut drain = reader.drain();
        assert!(drain.next().is_none(), "nothing written yet");
        write_all(&tx, b"late\n");
        assert!(drain.next().is_none(), "a Drain is fused");
    }
    assert_eq!(drain_ok(&mut reader), ["late"]);
}

#[test]
fn blocking_descriptor_is_made_nonblocking_until_the_reader_is_dropped() {
    let (rx, tx) = pipe();
    let other_holder = rx.try_clone().unwrap(); // shares the open file description
    let flags = |fd: &OwnedFd| rustix::fs::fcntl_getfl(fd).unwrap();
    assert!(!flags(&other_holder).contains(rustix::fs::OFlags::NONBLOCK));

    let mut reader = FdReader::from_fd(rx, lines()).unwrap();
    assert!(reader.get_ref().is_nonblocking().unwrap());
    // Without O_NONBLOCK this would block forever instead of returning Pending.
    assert!(reader.poll_next_now().is_pending());
    assert!(flags(&other_holder).contains(rustix::fs::OFlags::NONBLOCK));

    drop(reader);
    assert!(!flags(&other_holder).contains(rustix::fs::OFlags::NONBLOCK));
    drop(tx);
}

// ---- registration --------------------------------------------------------------------------

#[test]
fn reregister_moves_events_to_the_new_token() {
    let (rx, tx) = pipe();
    let mut reader = FdReader::from_fd(rx, lines()).unwrap();
    let mut event_loop = EventLoop::new();
    event_loop.register(&mut reader, Token(1));
    event_loop
        .poll
        .registry()
        .reregister(&mut reader, Token(2), Interest::READABLE)
        .unwrap();

    write_all(&tx, b"moved\n");
    event_loop.expect_event(Token(2));
    assert_eq!(drain_ok(&mut reader), ["moved"]);
    write_all(&tx, b"again\n");
    let tokens = event_loop.poll_tokens(EVENT_TIMEOUT);
    assert_eq!(tokens, [Token(2)]);
}

#[test]
fn deregistered_reader_gets_no_events_but_can_register_again() {
    let (rx, tx) = pipe();
    let mut reader = FdReader::from_fd(rx, lines()).unwrap();
    let mut event_loop = EventLoop::new();
    event_loop.register(&mut reader, T);
    event_loop.poll.registry().deregister(&mut reader).unwrap();

    write_all(&tx, b"quiet\n");
    event_loop.expect_no_event(T);
    assert_eq!(drain_ok(&mut reader), ["quiet"]);

    event_loop.register(&mut reader, T);
    write_all(&tx, b"loud\n");
    event_loop.expect_event(T);
    assert_eq!(drain_ok(&mut reader), ["loud"]);
}

#[test]
fn registering_again_moves_the_registration() {
    let (rx, tx) = pipe();
    let mut reader = FdReader::from_fd(rx, lines()).unwrap();
    let mut old_loop = EventLoop::new();
    let mut new_loop = EventLoop::new();
    old_loop.register(&mut reader, Token(1));
    // Same Poll, new token: replaces the registration instead of failing with EEXIST.
    old_loop.register(&mut reader, Token(2));
    new_loop.register(&mut reader, Token(3));

    write_all(&tx, b"moved\n");
    new_loop.expect_event(Token(3));
    assert_eq!(old_loop.poll_tokens(QUIET_TIME), []);
    assert_eq!(drain_ok(&mut reader), ["moved"]);
}

#[test]
fn dropping_the_reader_deregisters_it_even_while_a_dup_keeps_the_pipe_open() {
    let (rx, tx) = pipe();
    // Without an explicit deregistration, epoll would keep watching the pipe through this dup.
    let dup = rx.try_clone().unwrap();
    let reader = {
        let mut reader = FdReader::from_fd(rx, lines()).unwrap();
        let event_loop = EventLoop::new();
        event_loop.register(&mut reader, T);
        (reader, event_loop)
    };
    let (reader, mut event_loop) = reader;
    drop(reader);

    write_all(&tx, b"nobody listens\n");
    event_loop.expect_no_event(T);
    drop(dup);
}

#[test]
fn dropping_the_reader_closes_the_descriptor() {
    let (rx, tx) = pipe();
    let mut reader = FdReader::from_fd(rx, lines()).unwrap();
    let event_loop = EventLoop::new();
    event_loop.register(&mut reader, T);
    drop(reader);
    // The only read end is closed: the writer gets EPIPE (Rust ignores SIGPIPE).
    assert_eq!(rustix::io::write(&tx, b"x"), Err(rustix::io::Errno::PIPE));
}

#[test]
fn into_inner_deregisters_and_returns_descriptor_and_buffered_bytes() {
    let (rx, tx) = pipe();
    let framer = Framer::new(lines())
        .with_initial_read_size(64)
        .with_max_read_size(64);
    let mut reader = FdReader::with_framer(ReadFd::from_fd(rx).unwrap(), framer).unwrap();
    let mut event_loop = EventLoop::new();
    event_loop.register(&mut reader, T);

    write_all(&tx, b"done\npartial");
    event_loop.expect_event(T);
    assert_eq!(drain_ok(&mut reader), ["done"]);

    let (fd, framer) = reader.into_inner();
    assert_eq!(framer.buffered(), b"partial");
    // Registering the same descriptor again only works if it was deregistered (else EEXIST).
    let raw = fd.as_raw_fd();
    event_loop
        .poll
        .registry()
        .register(&mut SourceFd(&raw), Token(9), Interest::READABLE)
        .expect("into_inner deregistered the descriptor");
    write_all(&tx, b"\n");
    event_loop.expect_event(Token(9));
}

// ---- other descriptor kinds ----------------------------------------------------------------

#[test]
fn regular_file_is_drained_to_its_end_without_registration() {
    let path = std::env::temp_dir().join(format!(
        "fdframe-mio-test-{}-{:?}",
        std::process::id(),
        std::thread::current().id()
    ));
    let (bytes, expected) = numbered_lines(5000); // several reads' worth
    std::fs::write(&path, &bytes).unwrap();
    let opened = FdReader::open(&path, lines());
    std::fs::remove_file(&path).unwrap();
    let mut reader = opened.unwrap();

    assert!(!reader.needs_registration());
    let event_loop = EventLoop::new();
    let err = event_loop
        .poll
        .registry()
        .register(&mut reader, T, Interest::READABLE)
        .unwrap_err();
    assert_eq!(err.kind(), io::ErrorKind::Unsupported);
    assert!(
        err.to_string().contains("drain"),
        "the error says what to do: {err}"
    );

    assert_eq!(drain_ok(&mut reader), expected);
    assert!(reader.is_done());
}

#[test]
fn device_epoll_refuses_is_detected_and_read_directly() {
    // /dev/null has no poll operation: epoll_ctl fails with EPERM.
    let mut reader = FdReader::open("/dev/null", lines()).unwrap();
    assert!(!reader.needs_registration());
    assert_eq!(drain_ok(&mut reader), Vec::<Bytes>::new());
    assert!(reader.is_done());
}
