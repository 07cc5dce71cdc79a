//! `FdStream::poll_next_now` / `poll_batch_now` on real descriptors: what is ready now, read
//! without a task context or a turn of the reactor, and a later wait that still wakes.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::task::Poll;
use std::time::Duration;

use fdframe::ReadFd;
use fdframe::codec::LinesDecoder;
use fdframe::follow::FollowOptions;
use fdframe_tokio::FdStream;
use tokio::runtime::Runtime;
use tokio_stream::StreamExt;

/// A guard against hanging, not a speed assertion.
const HANG: Duration = Duration::from_secs(60);

fn runtime() -> Runtime {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap()
}

/// Registers a pipe's read end with `runtime`'s reactor; the runtime is not run afterwards
/// unless a test awaits.
fn pipe_stream(runtime: &Runtime) -> (FdStream<LinesDecoder>, std::io::PipeWriter) {
    let (reader, writer) = std::io::pipe().unwrap();
    let _guard = runtime.enter();
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
    let runtime = runtime();
    let (mut lines, mut writer) = pipe_stream(&runtime);
    writer.write_all(b"one\ntwo\n").unwrap();
    // The reactor never ran: its readiness for the pipe is unknown, yet the data is there.
    assert_eq!(now(&mut lines).as_deref(), Some("one"));
    assert_eq!(now(&mut lines).as_deref(), Some("two"));
    assert_eq!(now(&mut lines), None);
}

#[test]
fn poll_next_now_on_an_empty_pipe_is_pending_without_a_pause() {
    let runtime = runtime();
    let (mut lines, _writer) = pipe_stream(&runtime);
    assert_eq!(now(&mut lines), None);
    assert_eq!(now(&mut lines), None);
}

#[test]
fn poll_next_now_ends_at_end_of_input_and_stays_ended() {
    let runtime = runtime();
    let (mut lines, mut writer) = pipe_stream(&runtime);
    writer.write_all(b"last\n").unwrap();
    drop(writer);
    assert_eq!(now(&mut lines).as_deref(), Some("last"));
    assert!(matches!(lines.poll_next_now(), Poll::Ready(None)));
    assert!(matches!(lines.poll_next_now(), Poll::Ready(None)));
    // The stream agrees.
    assert!(runtime.block_on(lines.next()).is_none());
}

#[test]
fn a_wait_after_poll_next_now_still_wakes_for_new_data() {
    let runtime = runtime();
    let (mut lines, mut writer) = pipe_stream(&runtime);
    runtime.block_on(async {
        // Through the reactor first: its readiness is now cached as set.
        writer.write_all(b"a\n").unwrap();
        assert_eq!(&lines.next().await.unwrap().unwrap()[..], b"a");
        // Read directly to `WouldBlock`, which leaves that stale readiness in place.
        writer.write_all(b"b\n").unwrap();
        assert_eq!(now(&mut lines).as_deref(), Some("b"));
        assert_eq!(now(&mut lines), None);
        // The wait reads once on the stale readiness, then really waits, and wakes for data
        // that arrives only while it waits.
        let late = std::thread::spawn(move || {
            std::thread::sleep(Duration::from_millis(50));
            writer.write_all(b"c\n").unwrap();
            writer
        });
        let c = tokio::time::timeout(HANG, lines.next())
            .await
            .expect("hung");
        assert_eq!(&c.unwrap().unwrap()[..], b"c");
        drop(late.join().unwrap());
        assert!(
            tokio::time::timeout(HANG, lines.next())
                .await
                .expect("hung")
                .is_none()
        );
    });
}

#[test]
fn a_wait_after_poll_next_now_with_no_cached_readiness_still_wakes() {
    let runtime = runtime();
    let (mut lines, mut writer) = pipe_stream(&runtime);
    // Read directly before the reactor ever saw the pipe.
    writer.write_all(b"a\n").unwrap();
    assert_eq!(now(&mut lines).as_deref(), Some("a"));
    assert_eq!(now(&mut lines), None);
    let late = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(50));
        writer.write_all(b"b\n").unwrap();
    });
    let b = runtime
        .block_on(async { tokio::time::timeout(HANG, lines.next()).await })
        .expect("hung");
    assert_eq!(&b.unwrap().unwrap()[..], b"b");
    late.join().unwrap();
}

#[test]
fn poll_batch_now_hands_out_what_one_read_brought() {
    let runtime = runtime();
    let (lines, mut writer) = pipe_stream(&runtime);
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
            "fdframe-tokio-{test}-{}-{nanos}",
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
    let runtime = runtime();
    let fd = ReadFd::follow(&path, FollowOptions::new()).unwrap();
    let mut lines = {
        let _guard = runtime.enter();
        FdStream::new(fd, LinesDecoder::new()).unwrap()
    };
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
    let later = runtime
        .block_on(async { tokio::time::timeout(HANG, lines.next()).await })
        .expect("hung");
    assert_eq!(&later.unwrap().unwrap()[..], b"later");
    late.join().unwrap();
}
