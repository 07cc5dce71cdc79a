//! `FdStream::poll_next_now` / `poll_batch_now` on real descriptors: what is ready now, read
//! without a task context or a turn of async-io's reactor, and a later wait that still wakes.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::task::Poll;
use std::time::Duration;

use fdframe::ReadFd;
use fdframe::codec::LinesDecoder;
use fdframe::follow::FollowOptions;
use fdframe_async_io::FdStream;
use futures_lite::StreamExt;

/// A guard against hanging, not a speed assertion.
const HANG: Duration = Duration::from_secs(60);

/// The next item of `lines`, or a panic if nothing comes for a minute.
async fn next_or_hang(
    lines: &mut FdStream<LinesDecoder>,
) -> Option<Result<bytes::Bytes, fdframe::Error<fdframe::codec::LinesError>>> {
    futures_lite::future::or(async { Some(lines.next().await) }, async {
        async_io::Timer::after(HANG).await;
        None
    })
    .await
    .expect("hung")
}

/// Registers a pipe's read end with async-io's reactor; nothing runs the reactor afterwards
/// unless a test awaits.
fn pipe_stream() -> (FdStream<LinesDecoder>, std::io::PipeWriter) {
    let (reader, writer) = std::io::pipe().unwrap();
    let stream = FdStream::from_fd(reader.into(), LinesDecoder::new()).unwrap();
    assert!(stream.is_registered());
    (stream, writer)
}

/// The next line now, or `None` when nothing is ready (and the engine did not pause).
fn now(stream: &mut FdStream<LinesDecoder>) -> Option<String> {
    match stream.poll_next_now() {
        Poll::Ready(Some(Ok(line))) => Some(String::from_utf8(line.to_vec()).unwrap()),
        Poll::Pending => {
            assert!(
                !stream.framer().is_yielding(),
                "the engine paused on a line"
            );
            None
        }
        other => panic!("expected a line or nothing, got {other:?}"),
    }
}

#[test]
fn poll_next_now_reads_a_pipe_with_data_without_running_the_reactor() {
    let (mut lines, mut writer) = pipe_stream();
    writer.write_all(b"one\ntwo\n").unwrap();
    // The reactor never ran: its readiness for the pipe is unknown, yet the data is there.
    assert_eq!(now(&mut lines).as_deref(), Some("one"));
    assert_eq!(now(&mut lines).as_deref(), Some("two"));
    assert_eq!(now(&mut lines), None);
}

#[test]
fn poll_next_now_on_an_empty_pipe_is_pending_without_a_pause() {
    let (mut lines, _writer) = pipe_stream();
    assert_eq!(now(&mut lines), None);
    assert_eq!(now(&mut lines), None);
}

#[test]
fn poll_next_now_ends_at_end_of_input_and_stays_ended() {
    let (mut lines, mut writer) = pipe_stream();
    writer.write_all(b"last\n").unwrap();
    drop(writer);
    assert_eq!(now(&mut lines).as_deref(), Some("last"));
    assert!(matches!(lines.poll_next_now(), Poll::Ready(None)));
    assert!(matches!(lines.poll_next_now(), Poll::Ready(None)));
    // The stream agrees.
    assert!(futures_lite::future::block_on(lines.next()).is_none());
}

#[test]
fn a_wait_after_poll_next_now_still_wakes_for_new_data() {
    let (mut lines, mut writer) = pipe_stream();
    futures_lite::future::block_on(async {
        // Through the reactor first: it has reported an event for the pipe.
        writer.write_all(b"a\n").unwrap();
        assert_eq!(&lines.next().await.unwrap().unwrap()[..], b"a");
        // Read directly to `WouldBlock`, without telling the reactor.
        writer.write_all(b"b\n").unwrap();
        assert_eq!(now(&mut lines).as_deref(), Some("b"));
        assert_eq!(now(&mut lines), None);
        // The wait may read once on a stale event, then really waits, and wakes for data
        // that arrives only while it waits.
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            writer.write_all(b"c\n").unwrap();
            writer
        });
        let c = next_or_hang(&mut lines).await;
        assert_eq!(&c.unwrap().unwrap()[..], b"c");
        drop(late.join().unwrap());
        assert!(next_or_hang(&mut lines).await.is_none());
    });
}

#[test]
fn a_wait_after_poll_next_now_before_any_event_still_wakes() {
    let (mut lines, mut writer) = pipe_stream();
    // Read directly before the reactor ever saw the pipe.
    writer.write_all(b"a\n").unwrap();
    assert_eq!(now(&mut lines).as_deref(), Some("a"));
    assert_eq!(now(&mut lines), None);
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        writer.write_all(b"b\n").unwrap();
    });
    let b = futures_lite::future::block_on(next_or_hang(&mut lines));
    assert_eq!(&b.unwrap().unwrap()[..], b"b");
    late.join().unwrap();
}

#[test]
fn poll_batch_now_hands_out_what_one_read_brought() {
    let (lines, mut writer) = pipe_stream();
    let mut batches = lines.batches();
    writer.write_all(b"x\ny\nz\n").unwrap();
    match batches.poll_next_now() {
        Poll::Ready(Some(Ok(frames))) => {
            let got: Vec<&[u8]> = frames.iter().collect();
            assert_eq!(got, [b"x", b"y", b"z"]);
        }
        other => panic!("expected a batch, got {other:?}"),
    }
    assert!(batches.poll_next_now().is_pending());
    drop(writer);
    assert!(matches!(batches.poll_next_now(), Poll::Ready(None)));
}

/// A directory of its own under the temp dir; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos();
        let dir = std::env::temp_dir().join(format!(
            "fdframe-async-io-{test}-{}-{nanos}",
            std::process::id()
        ));
        fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

fn append(path: &Path, bytes: &[u8]) {
    OpenOptions::new()
        .append(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

#[test]
fn poll_next_now_reads_a_followed_file_as_it_grows() {
    let dir = TempDir::new("ready-now-follow");
    let path = dir.0.join("log");
    File::create(&path).unwrap().write_all(b"old\n").unwrap();
    let fd = ReadFd::follow(&path, FollowOptions::new()).unwrap();
    let mut lines = FdStream::new(fd, LinesDecoder::new()).unwrap();
    assert_eq!(now(&mut lines).as_deref(), Some("old"));
    assert_eq!(now(&mut lines), None);
    append(&path, b"new\n");
    assert_eq!(now(&mut lines).as_deref(), Some("new"));
    assert_eq!(now(&mut lines), None);
    // And the stream still wakes for an append after those direct reads.
    let late = std::thread::spawn({
        let path = path.clone();
        move || {
            std::thread::sleep(Duration::from_millis(50));
            append(&path, b"later\n");
        }
    });
    let later = futures_lite::future::block_on(next_or_hang(&mut lines));
    assert_eq!(&later.unwrap().unwrap()[..], b"later");
    late.join().unwrap();
}
