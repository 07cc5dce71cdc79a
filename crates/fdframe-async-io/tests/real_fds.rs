//! What only the async-io backend has, over real descriptors: wake-ups, cancellation keeping a
//! partial frame, ownership and `O_NONBLOCK` handling, descriptors epoll refuses, [`FdAsyncRead`]
//! (`futures_io::AsyncRead`). (Its `EINVAL` on `/dev/kmsg` needs the unpublished kmsg fixtures:
//! it is in the workspace's `tests/kmsg_glue.rs`.)
//!
//! The behaviour every backend shares (pipes, FIFOs, sockets, ptys, files, devices, kmsg
//! records, cancellation, bounds) is the conformance suite's, run for async-std and smol by the
//! workspace's `tests/` package; it is not repeated here. These tests need nothing outside this
//! package.
//!
//! Every test body is one `async fn`, run twice by `on_both_runtimes!`: under async-std's
//! `block_on` (module `async_std_rt`) and smol's (module `smol_rt`). Every await that could hang
//! runs under [`within`], so a hang fails the test instead of blocking CI.

use std::future::Future;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use async_io::Timer;
use bytes::Bytes;
use fdframe::codec::{LinesDecoder, LinesError};
use fdframe::{Error, ReadFd};
use fdframe_async_io::{FdAsyncRead, FdStream};
use futures_lite::{AsyncReadExt, StreamExt, future};
use rustix::fs::OFlags;

// ---------------------------------------------------------------------------------------------
// Table of contents: each name is an `async fn` below, run on both runtimes.

macro_rules! on_both_runtimes {
    ($($name:ident),* $(,)?) => {
        mod async_std_rt {
            $( #[test] fn $name() { async_std::task::block_on(super::$name()) } )*
        }
        mod smol_rt {
            $( #[test] fn $name() { smol::block_on(super::$name()) } )*
        }
    };
}

on_both_runtimes!(
    pipe_many_wakeups_in_a_row_are_all_seen,
    fd_that_epoll_refuses_is_read_directly,
    dropping_a_pending_next_keeps_a_partial_frame,
    dropping_the_stream_closes_the_fd,
    from_fd_makes_a_blocking_pipe_nonblocking_and_restores_it_on_drop,
    into_inner_deregisters_and_keeps_buffered_bytes,
    overlong_line_is_an_error_and_the_stream_goes_on,
    raw_read_returns_every_byte_then_eof,
    raw_read_sees_every_wakeup_of_a_trickling_writer,
    raw_read_of_a_pty_ends_cleanly_when_the_slave_closes,
    raw_read_of_a_regular_file,
);

// ---------------------------------------------------------------------------------------------
// Helpers.

/// How long any single await may take before the test fails.
const HANG: Duration = Duration::from_secs(10);

/// Runs `fut`, failing the test if it takes longer than [`HANG`].
async fn within<T>(fut: impl Future<Output = T>) -> T {
    // The timer goes first: when it fires, the wake-up it causes must not get a lost-wake-up
    // bug's future polled (and rescued) before the deadline is noticed.
    let deadline = async {
        Timer::after(HANG).await;
        panic!("timed out after {HANG:?}: the stream hung");
    };
    future::or(deadline, fut).await
}

/// Runs `fut` for at most `limit`; `None` if it did not finish (the future is dropped).
async fn at_most<T>(limit: Duration, fut: impl Future<Output = T>) -> Option<T> {
    let deadline = async {
        Timer::after(limit).await;
        None
    };
    future::or(deadline, async { Some(fut.await) }).await
}

/// Lines as the examples read them; `\r` is dropped because a pty's line discipline turns
/// `\n` into `\r\n`.
fn lines_decoder() -> LinesDecoder {
    LinesDecoder::new().strip_cr(true)
}

type Item = Result<Bytes, Error<LinesError>>;

fn text(line: Bytes) -> String {
    String::from_utf8(line.to_vec()).expect("test lines are UTF-8")
}

async fn next_line(stream: &mut FdStream<LinesDecoder>) -> Option<String> {
    match within(stream.next()).await {
        Some(Ok(line)) => Some(text(line)),
        Some(Err(e)) => panic!("unexpected error: {e}"),
        None => None,
    }
}

async fn collect_lines(mut stream: FdStream<LinesDecoder>) -> Vec<String> {
    let items: Vec<Item> = within((&mut stream).collect()).await;
    items
        .into_iter()
        .map(|item| text(item.unwrap_or_else(|e| panic!("unexpected error: {e}"))))
        .collect()
}

fn pipe() -> (OwnedFd, std::fs::File) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    (reader.into(), std::fs::File::from(OwnedFd::from(writer)))
}

fn is_nonblocking(fd: impl AsFd) -> bool {
    rustix::fs::fcntl_getfl(fd)
        .expect("F_GETFL")
        .contains(OFlags::NONBLOCK)
}

/// A pty pair: (master, slave).
fn pty() -> (OwnedFd, std::fs::File) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master =
        openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).expect("openpt");
    grantpt(&master).expect("grantpt");
    unlockpt(&master).expect("unlockpt");
    let name = ptsname(&master, Vec::new()).expect("ptsname");
    let slave = rustix::fs::open(
        name.as_c_str(),
        OFlags::RDWR | OFlags::NOCTTY | OFlags::CLOEXEC,
        rustix::fs::Mode::empty(),
    )
    .expect("open pty slave");
    (master, std::fs::File::from(slave))
}

/// A file in the temp dir, removed on drop.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn with_contents(tag: &str, contents: &[u8]) -> Self {
        let path = std::env::temp_dir().join(format!(
            "fdframe-async-io-{tag}-{}-{:?}",
            std::process::id(),
            std::thread::current().id()
        ));
        std::fs::write(&path, contents).expect("write temp file");
        TempFile(path)
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

// ---------------------------------------------------------------------------------------------
// Pipes.

async fn pipe_many_wakeups_in_a_row_are_all_seen() {
    // Each line wakes the task separately, from a writer thread, so readiness events land in
    // every order against the reads; a missed or swallowed wake-up hangs (and fails) here.
    let (reader, mut writer) = pipe();
    let mut lines = FdStream::from_fd(reader, lines_decoder()).unwrap();
    let writer_thread = std::thread::spawn(move || {
        for n in 0..2000 {
            writer.write_all(format!("{n}\n").as_bytes()).unwrap();
            if n % 7 == 0 {
                std::thread::yield_now();
            }
        }
    });
    for n in 0..2000 {
        assert_eq!(next_line(&mut lines).await, Some(n.to_string()));
    }
    writer_thread.join().unwrap();
    assert_eq!(next_line(&mut lines).await, None);
}

// ---------------------------------------------------------------------------------------------
// Other kinds of descriptor.

async fn fd_that_epoll_refuses_is_read_directly() {
    // `/dev/null` is a character device without a poll operation: epoll says EPERM.
    let lines = FdStream::open("/dev/null", lines_decoder()).unwrap();
    assert_eq!(collect_lines(lines).await, Vec::<String>::new());
}

// ---------------------------------------------------------------------------------------------
// Cancel safety.

async fn dropping_a_pending_next_keeps_a_partial_frame() {
    let (reader, mut writer) = pipe();
    let mut lines = FdStream::from_fd(reader, lines_decoder()).unwrap();

    writer.write_all(b"par").unwrap();
    assert!(
        at_most(Duration::from_millis(50), lines.next())
            .await
            .is_none()
    );
    assert_eq!(lines.framer().buffered(), b"par");
    writer.write_all(b"tial\nnext\n").unwrap();
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("partial"));
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("next"));
}

// ---------------------------------------------------------------------------------------------
// Ownership and flags.

async fn dropping_the_stream_closes_the_fd() {
    let (reader, mut writer) = pipe();
    let lines = FdStream::from_fd(reader, lines_decoder()).unwrap();
    writer.write_all(b"unread\n").unwrap();
    drop(lines);
    // The read end is closed: the writer gets EPIPE (Rust ignores SIGPIPE).
    let err = writer.write_all(b"more\n").unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::BrokenPipe);
}

async fn from_fd_makes_a_blocking_pipe_nonblocking_and_restores_it_on_drop() {
    let (reader, mut writer) = pipe();
    let observer = reader.try_clone().unwrap(); // same open file description
    assert!(!is_nonblocking(&observer));

    let mut lines = FdStream::from_fd(reader, lines_decoder()).unwrap();
    assert!(is_nonblocking(&observer));
    writer.write_all(b"x\n").unwrap();
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("x"));

    drop(lines);
    assert!(!is_nonblocking(&observer), "O_NONBLOCK was not restored");
}

async fn into_inner_deregisters_and_keeps_buffered_bytes() {
    let (reader, mut writer) = pipe();
    let mut lines = FdStream::from_fd(reader, lines_decoder()).unwrap();
    writer.write_all(b"one\ntw").unwrap();
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("one"));
    assert!(
        at_most(Duration::from_millis(20), lines.next())
            .await
            .is_none()
    );

    let (fd, framer) = lines.into_inner();
    assert_eq!(framer.buffered(), b"tw");
    // Registering the same descriptor again only works if the first registration is gone
    // (epoll would say EEXIST).
    let mut lines = FdStream::with_framer(fd, framer).unwrap();
    writer.write_all(b"o\n").unwrap();
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("two"));
}

async fn overlong_line_is_an_error_and_the_stream_goes_on() {
    let (reader, mut writer) = pipe();
    let decoder = lines_decoder().max_line_len(16);
    let mut lines = FdStream::from_fd(reader, decoder).unwrap();
    writer
        .write_all(format!("short\n{}\nafter\n", "y".repeat(100)).as_bytes())
        .unwrap();
    drop(writer);

    assert_eq!(next_line(&mut lines).await.as_deref(), Some("short"));
    match within(lines.next()).await {
        Some(Err(Error::Decode(LinesError::TooLong { limit: 16 }))) => {}
        other => panic!("expected TooLong, got {other:?}"),
    }
    assert_eq!(next_line(&mut lines).await.as_deref(), Some("after"));
    assert_eq!(next_line(&mut lines).await, None);
}

// ---------------------------------------------------------------------------------------------
// FdAsyncRead: raw bytes.

async fn raw_read_returns_every_byte_then_eof() {
    let (reader, mut writer) = pipe();
    let mut raw = FdAsyncRead::from_fd(reader).unwrap();
    let expected: Vec<u8> = (0..200_000u32).map(|n| (n % 251) as u8).collect();
    // More than a pipe buffer: the writer runs on its own thread.
    let to_write = expected.clone();
    let writer_thread = std::thread::spawn(move || writer.write_all(&to_write));

    let mut got = Vec::new();
    within(raw.read_to_end(&mut got)).await.unwrap();
    writer_thread.join().unwrap().unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "bytes differ");
    assert_eq!(within(raw.read(&mut [0; 16])).await.unwrap(), 0);
}

async fn raw_read_sees_every_wakeup_of_a_trickling_writer() {
    let (reader, mut writer) = pipe();
    let mut raw = FdAsyncRead::from_fd(reader).unwrap();
    let writer_thread = std::thread::spawn(move || {
        for n in 0..2000u32 {
            writer.write_all(&n.to_le_bytes()).unwrap();
            if n % 7 == 0 {
                std::thread::yield_now();
            }
        }
    });
    let mut got = Vec::new();
    let mut chunk = [0; 64];
    loop {
        let n = within(raw.read(&mut chunk)).await.unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&chunk[..n]);
    }
    writer_thread.join().unwrap();
    let expected: Vec<u8> = (0..2000u32).flat_map(u32::to_le_bytes).collect();
    assert!(
        got == expected,
        "{} bytes read, {} expected",
        got.len(),
        expected.len()
    );
}

async fn raw_read_of_a_pty_ends_cleanly_when_the_slave_closes() {
    let (master, mut slave) = pty();
    let mut raw = FdAsyncRead::from_fd(master).unwrap();
    slave.write_all(b"tty bytes\n").unwrap();
    drop(slave);

    let mut got = Vec::new();
    within(raw.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"tty bytes\r\n"); // the line discipline's ONLCR
}

async fn raw_read_of_a_regular_file() {
    let file = TempFile::with_contents("raw", b"file bytes");
    let mut raw = FdAsyncRead::open(&file.0).unwrap();
    let mut got = String::new();
    within(raw.read_to_string(&mut got)).await.unwrap();
    assert_eq!(got, "file bytes");
    let fd: ReadFd = raw.into_inner();
    assert_eq!(fd.kind(), fdframe::FdKind::RegularFile);
}
