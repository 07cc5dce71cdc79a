//! What only the tokio backend has, over real descriptors: readiness wake-ups, `select!`
//! cancellation, ownership and `O_NONBLOCK` handling, the runtime check, [`FdAsyncRead`], the
//! `tokio-util` adapter. (`/dev/kmsg` against the naive `FramedRead` glue needs the unpublished
//! kmsg fixtures: it is in the workspace's `tests/kmsg_glue.rs`.)
//!
//! The behaviour every backend shares (pipes, FIFOs, sockets, ptys, files, devices, kmsg
//! records, cancellation, bounds) is the conformance suite's, run for tokio by the workspace's
//! `tests/` package; it is not repeated here. These tests need nothing outside this package.
//!
//! Every await runs under a timeout: a hang fails the test instead of blocking CI.

use std::future::Future;
use std::io::Write;
use std::os::fd::{AsFd, OwnedFd};
use std::time::Duration;

use fdframe::Error;
use fdframe_tokio::{FdAsyncRead, FdStream};
use tokio::io::AsyncReadExt;
use tokio_stream::StreamExt;

use fdframe::codec::{LinesDecoder, LinesError};

const PATIENCE: Duration = Duration::from_secs(10);

/// Awaits `fut`, failing the test if it takes longer than [`PATIENCE`].
async fn within<F: Future>(fut: F) -> F::Output {
    match tokio::time::timeout(PATIENCE, fut).await {
        Ok(out) => out,
        Err(_) => panic!("timed out after {PATIENCE:?}: the stream hangs"),
    }
}

/// The next line, which must come.
async fn next_line<S>(stream: &mut S) -> String
where
    S: tokio_stream::Stream<Item = Result<bytes::Bytes, Error<LinesError>>> + Unpin,
{
    match within(stream.next()).await {
        Some(Ok(line)) => String::from_utf8(line.to_vec()).expect("UTF-8 line"),
        other => panic!("expected a line, got {other:?}"),
    }
}

fn pipe() -> (OwnedFd, std::fs::File) {
    let (reader, writer) = std::io::pipe().expect("pipe");
    (reader.into(), std::fs::File::from(OwnedFd::from(writer)))
}

// ---------------------------------------------------------------------------------------------
// wake-ups

/// One `next()` that needs several readiness events: after each read that would block, the
/// stream must register for the next event before it returns `Pending`.
#[tokio::test]
async fn one_next_is_woken_by_every_later_write() {
    let (reader, mut writer) = pipe();
    let mut lines = FdStream::from_fd(reader, LinesDecoder::new()).unwrap();
    let writing = std::thread::spawn(move || {
        for piece in ["sl", "ow", "ly", "\n"] {
            std::thread::sleep(Duration::from_millis(30));
            writer.write_all(piece.as_bytes()).unwrap();
        }
    });
    // Not `timeout(.., next())`: a timeout polls its future once more when it fires, which
    // would hide a missed wake-up. The elapsed time shows it instead.
    let started = std::time::Instant::now();
    assert_eq!(next_line(&mut lines).await, "slowly");
    let waited = started.elapsed();
    assert!(
        waited < Duration::from_secs(1),
        "a wake-up was missed: {waited:?}"
    );
    writing.join().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_writer_thread_streams_a_megabyte_in_order() {
    let (reader, mut writer) = pipe();
    let mut lines = FdStream::from_fd(reader, LinesDecoder::new()).unwrap();
    let writing = std::thread::spawn(move || {
        for i in 0..100_000u32 {
            writeln!(writer, "{i}").unwrap();
        }
    });
    for i in 0..100_000u32 {
        assert_eq!(next_line(&mut lines).await, i.to_string());
    }
    assert!(within(lines.next()).await.is_none());
    writing.join().unwrap();
}

// ---------------------------------------------------------------------------------------------
// cancel safety, drop, ownership, flags

#[tokio::test]
async fn select_on_next_and_a_timer_loses_nothing() {
    let (reader, writer) = pipe();
    let mut lines = FdStream::from_fd(reader, LinesDecoder::new()).unwrap();
    let writing = std::thread::spawn(move || {
        let mut writer = writer;
        for i in 0..200 {
            // Split each line across two writes, so cancellation lands mid-frame too.
            write!(writer, "line-").unwrap();
            std::thread::sleep(Duration::from_micros(300));
            writeln!(writer, "{i}").unwrap();
        }
    });
    let mut got = Vec::new();
    let mut cancellations = 0;
    let give_up = tokio::time::Instant::now() + PATIENCE;
    while got.len() < 200 {
        assert!(tokio::time::Instant::now() < give_up, "timed out");
        tokio::select! {
            line = lines.next() => got.push(String::from_utf8(line.unwrap().unwrap().to_vec()).unwrap()),
            () = tokio::time::sleep(Duration::from_micros(200)) => cancellations += 1,
        }
    }
    writing.join().unwrap();
    let expected: Vec<String> = (0..200).map(|i| format!("line-{i}")).collect();
    assert_eq!(got, expected);
    assert!(cancellations > 0, "the test must actually cancel next()");
}

#[tokio::test]
async fn dropping_the_stream_closes_the_descriptor() {
    let (reader, mut writer) = pipe();
    let lines = FdStream::from_fd(reader, LinesDecoder::new()).unwrap();
    drop(lines);
    // The only reader is gone: writing fails with EPIPE (Rust ignores SIGPIPE).
    let err = writer.write_all(b"anyone?\n").unwrap_err();
    assert_eq!(err.raw_os_error(), Some(32), "{err}");
}

#[tokio::test]
async fn into_inner_hands_back_the_descriptor_and_unread_bytes() {
    let (reader, mut writer) = pipe();
    let mut lines = FdStream::from_fd(reader, LinesDecoder::new()).unwrap();
    writer.write_all(b"one\ntw").unwrap();
    assert_eq!(next_line(&mut lines).await, "one");
    let _ = tokio::time::timeout(Duration::from_millis(50), lines.next()).await;

    let (fd, framer) = lines.into_inner();
    assert_eq!(framer.buffered(), b"tw");
    // Deregistered: the same descriptor registers again and the stream goes on.
    let mut lines = FdStream::with_framer(fd, framer).unwrap();
    writer.write_all(b"o\n").unwrap();
    assert_eq!(next_line(&mut lines).await, "two");
}

#[tokio::test]
async fn blocking_descriptor_is_made_nonblocking_until_drop() {
    let (reader, _writer) = pipe();
    let shared = rustix::io::fcntl_dupfd_cloexec(&reader, 0).unwrap();
    let is_nonblocking = |fd: &OwnedFd| {
        rustix::fs::fcntl_getfl(fd)
            .unwrap()
            .contains(rustix::fs::OFlags::NONBLOCK)
    };
    assert!(!is_nonblocking(&shared));

    let lines = FdStream::from_fd(reader, LinesDecoder::new()).unwrap();
    assert!(is_nonblocking(&shared), "the reactor needs O_NONBLOCK");
    drop(lines);
    assert!(!is_nonblocking(&shared), "the old flags come back on drop");
}

#[test]
fn creating_a_pollable_reader_outside_a_runtime_is_an_error() {
    let (reader, _writer) = pipe();
    let err = FdStream::from_fd(reader, LinesDecoder::new()).unwrap_err();
    assert!(err.to_string().contains("tokio runtime"), "{err}");
}

// ---------------------------------------------------------------------------------------------
// pty, devices epoll refuses

/// A pty master and its slave, the slave in raw mode (no `\n` → `\r\n`, no echo).
fn pty() -> (OwnedFd, std::fs::File) {
    use rustix::pty::{OpenptFlags, grantpt, openpt, ptsname, unlockpt};
    let master = openpt(OpenptFlags::RDWR | OpenptFlags::NOCTTY | OpenptFlags::CLOEXEC).unwrap();
    grantpt(&master).unwrap();
    unlockpt(&master).unwrap();
    let name = ptsname(&master, Vec::new()).unwrap();
    let slave = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .open(name.to_str().unwrap())
        .unwrap();
    let mut termios = rustix::termios::tcgetattr(&slave).unwrap();
    termios.make_raw();
    rustix::termios::tcsetattr(&slave, rustix::termios::OptionalActions::Now, &termios).unwrap();
    (master, slave)
}

#[tokio::test]
async fn devices_epoll_refuses_are_read_directly() {
    let mut lines = FdStream::open("/dev/null", LinesDecoder::new()).unwrap();
    assert!(!lines.is_registered());
    assert!(within(lines.next()).await.is_none());
}

// ---------------------------------------------------------------------------------------------
// FdAsyncRead

#[tokio::test]
async fn fd_read_reads_a_pipe_to_its_end() {
    let (reader, writer) = pipe();
    let writing = std::thread::spawn(move || {
        let mut writer = writer;
        for i in 0..10_000 {
            write!(writer, "{i},").unwrap();
        }
    });
    let mut text = String::new();
    within(
        FdAsyncRead::from_fd(reader)
            .unwrap()
            .read_to_string(&mut text),
    )
    .await
    .unwrap();
    writing.join().unwrap();
    let expected: String = (0..10_000).map(|i| format!("{i},")).collect();
    assert_eq!(text, expected);
}

#[tokio::test]
async fn fd_read_treats_pty_eio_as_end_of_input() {
    let (master, mut slave) = pty();
    let mut read = FdAsyncRead::from_fd(master).unwrap();
    slave.write_all(b"bye").unwrap();
    drop(slave);
    let mut got = Vec::new();
    within(read.read_to_end(&mut got)).await.unwrap();
    assert_eq!(got, b"bye");
}

#[tokio::test]
async fn fd_read_reads_a_regular_file() {
    let mut read = FdAsyncRead::open("/proc/self/status").unwrap();
    assert!(!read.is_registered());
    let mut text = String::new();
    within(read.read_to_string(&mut text)).await.unwrap();
    assert!(text.contains("Pid:"), "{text}");
}

#[tokio::test]
async fn fd_read_into_inner_deregisters() {
    let (reader, mut writer) = pipe();
    let read = FdAsyncRead::from_fd(reader).unwrap();
    let fd = read.into_inner();
    let mut again = FdAsyncRead::new(fd).unwrap();
    writer.write_all(b"x").unwrap();
    let mut byte = [0u8; 1];
    assert_eq!(within(again.read(&mut byte)).await.unwrap(), 1);
    assert_eq!(&byte, b"x");
    let _ = again.as_fd();
}

// ---------------------------------------------------------------------------------------------
// tokio-util codecs on the engine

#[cfg(feature = "tokio-util")]
mod tokio_util_decoder {
    use super::*;
    use fdframe_tokio::TokioUtilDecoder;
    use tokio_util::codec::LinesCodec;

    #[tokio::test]
    async fn lines_codec_runs_on_the_engine() {
        let (reader, mut writer) = pipe();
        let decoder = TokioUtilDecoder::new(LinesCodec::new_with_max_length(64));
        let mut lines = FdStream::from_fd(reader, decoder).unwrap();
        writer.write_all(b"alpha\nbe").unwrap();
        assert_eq!(within(lines.next()).await.unwrap().unwrap(), "alpha");
        writer.write_all(b"ta\n").unwrap();
        assert_eq!(within(lines.next()).await.unwrap().unwrap(), "beta");
        drop(writer);
        assert!(within(lines.next()).await.is_none());
    }

    #[tokio::test]
    async fn read_limits_bound_the_buffer() {
        let (reader, mut writer) = pipe();
        // No length limit in the codec: the engine's bound is what stops the frame.
        let limits = fdframe::ReadLimits::stream().max_frame_len(100);
        let decoder = TokioUtilDecoder::with_read_limits(LinesCodec::new(), limits);
        let mut lines = FdStream::from_fd(reader, decoder).unwrap();
        writer.write_all(&[b'x'; 1000]).unwrap();
        match within(lines.next()).await {
            Some(Err(Error::FrameTooLarge { limit: 100, .. })) => {}
            other => panic!("expected FrameTooLarge, got {other:?}"),
        }
    }
}
