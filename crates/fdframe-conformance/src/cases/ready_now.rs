//! The "ready now" path: [`Reader::next_now`] (each backend's `poll_next_now`, per batch its
//! `poll_batch_now`), which neither waits nor needs a task context, and the waiting path
//! after it. The property that matters on edge-triggered reactors: reading directly to
//! `WouldBlock` must not lose the next readiness edge, so a later wait still wakes.

use std::fs::File;
use std::io::Write;
use std::sync::mpsc;
use std::thread::{self, JoinHandle};
use std::time::Duration;

use bytes::Bytes;
use fdframe::codec::LinesDecoder;
use fdframe::follow::FollowOptions;
use fdframe::{Framer, ReadFd};

use crate::fixtures::{QUIET, STEP, TempDir, append, pipe};
use crate::observe::describe;
use crate::{Backend, Outcome, Reader, Seen, next_seen};

/// What `next_now` gave, as [`Seen`]; `Pending` shows as [`Seen::Timeout`] and must not be
/// the engine pausing (short lines give it no reason to).
fn now<R: Reader<LinesDecoder>>(reader: &mut R) -> Seen<Bytes> {
    match reader.next_now() {
        std::task::Poll::Ready(Some(Ok(item))) => Seen::Item(item),
        std::task::Poll::Ready(Some(Err(e))) => Seen::Error(describe(&e)),
        std::task::Poll::Ready(None) => Seen::End,
        std::task::Poll::Pending => {
            assert!(
                !reader.framer().is_yielding(),
                "next_now was pending because the engine paused, on short lines"
            );
            Seen::Timeout
        }
    }
}

fn line(text: &str) -> Seen<Bytes> {
    Seen::Item(Bytes::copy_from_slice(text.as_bytes()))
}

/// A lines reader over a pipe's read end.
fn pipe_reader<B: Backend>() -> (B::Reader<LinesDecoder>, File) {
    let (fd, writer) = pipe();
    let reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    (reader, writer)
}

/// Keeps `writer` open until the returned sender is dropped, or at most [`STEP`]: a `next_now`
/// that waits for data instead of returning then sees the end and fails the case, rather than
/// hanging it.
fn hold_open(writer: File) -> (mpsc::Sender<()>, JoinHandle<()>) {
    let (done, until) = mpsc::channel::<()>();
    let holding = thread::spawn(move || {
        let _ = until.recv_timeout(STEP);
        drop(writer);
    });
    (done, holding)
}

/// Writes `bytes` after `pause`, from another thread: data that arrives only while the reader
/// waits.
fn write_later(mut writer: File, bytes: &'static [u8], pause: Duration) -> JoinHandle<File> {
    thread::spawn(move || {
        thread::sleep(pause);
        writer.write_all(bytes).unwrap();
        writer
    })
}

/// Lines already in a pipe come out of `next_now` one by one, without a wait, and once they
/// are drained it is `Pending` (not an error, not the end, not a pause), again and again while
/// the writer stays open.
pub fn lines_in_a_pipe_are_ready_now_then_pending_while_the_writer_stays<B: Backend>() -> Outcome {
    let (mut reader, mut writer) = pipe_reader::<B>();
    writer.write_all(b"one\ntwo\nthree\n").unwrap();
    let (done, holding) = hold_open(writer);
    assert_eq!(now(&mut reader), line("one"));
    assert_eq!(now(&mut reader), line("two"));
    assert_eq!(now(&mut reader), line("three"));
    for _ in 0..3 {
        assert_eq!(
            now(&mut reader),
            Seen::Timeout,
            "drained, with the writer open: Pending"
        );
    }
    assert!(!reader.framer().is_done(), "Pending is not the end");
    drop(done);
    holding.join().unwrap();
    Ok(())
}

/// After `next_now` read to `WouldBlock` (with the reactor's readiness for the pipe already
/// set by an earlier wait, so now stale), data written later is found by `next_now` again, and
/// data that arrives only while the reader waits wakes `next_within`: no edge is lost.
pub fn data_after_ready_now_is_pending_is_found_now_and_wakes_a_wait<B: Backend>() -> Outcome {
    let (mut reader, mut writer) = pipe_reader::<B>();
    // Through the waiting path first: the reactor has seen the pipe readable.
    writer.write_all(b"a\n").unwrap();
    assert_eq!(next_seen(&mut reader, STEP), line("a"));
    // Directly, to `WouldBlock`.
    writer.write_all(b"b\n").unwrap();
    assert_eq!(now(&mut reader), line("b"));
    assert_eq!(now(&mut reader), Seen::Timeout);
    // Written after the `Pending`: found without a wait.
    writer.write_all(b"c\n").unwrap();
    assert_eq!(now(&mut reader), line("c"), "written after a Pending");
    assert_eq!(now(&mut reader), Seen::Timeout);
    // Written only while the reader waits: the wait must wake for it.
    let writing = write_later(writer, b"d\n", QUIET);
    assert_eq!(
        next_seen(&mut reader, STEP),
        line("d"),
        "a wait after a direct read to WouldBlock"
    );
    let writer = writing.join().unwrap();
    // And once more without any wait having seen the pipe since the direct reads.
    assert_eq!(now(&mut reader), Seen::Timeout);
    let writing = write_later(writer, b"e\n", QUIET);
    assert_eq!(next_seen(&mut reader, STEP), line("e"));
    drop(writing.join().unwrap());
    assert_eq!(next_seen(&mut reader, STEP), Seen::End);
    Ok(())
}

/// `next_now` on a pipe that never had data is `Pending` (not a pause), and after lines read
/// now to `WouldBlock` before any wait (so before the reactor ever reported the pipe, with the
/// edge of those lines perhaps still queued in it), a wait wakes for data that arrives only
/// while it waits.
pub fn a_wait_after_reading_now_before_any_wait_wakes_for_new_data<B: Backend>() -> Outcome {
    let (mut reader, mut writer) = pipe_reader::<B>();
    assert_eq!(
        now(&mut reader),
        Seen::Timeout,
        "a pipe that never had data"
    );
    writer.write_all(b"a\n").unwrap();
    assert_eq!(now(&mut reader), line("a"));
    assert_eq!(now(&mut reader), Seen::Timeout);
    let writing = write_later(writer, b"b\n", QUIET);
    assert_eq!(
        next_seen(&mut reader, STEP),
        line("b"),
        "the first wait, after direct reads only"
    );
    drop(writing.join().unwrap());
    assert_eq!(next_seen(&mut reader, STEP), Seen::End);
    Ok(())
}

/// At the end of input `next_now` is `Ready(None)`, on every call after it too, and the
/// waiting path agrees.
pub fn end_of_input_is_ready_now_and_stays_ended<B: Backend>() -> Outcome {
    let (mut reader, mut writer) = pipe_reader::<B>();
    writer.write_all(b"last\n").unwrap();
    drop(writer);
    assert_eq!(now(&mut reader), line("last"));
    for _ in 0..3 {
        assert_eq!(now(&mut reader), Seen::End, "ended, and it stays ended");
    }
    assert!(reader.framer().is_done());
    assert_eq!(next_seen(&mut reader, QUIET), Seen::End);
    assert_eq!(now(&mut reader), Seen::End);
    Ok(())
}

/// A followed file's existing lines come out of `next_now`, then it is `Pending` (a followed
/// file has no end); an append is found by `next_now` too, and delivered by `next_within`,
/// also one made only while the reader waits.
pub fn a_followed_file_is_ready_now_then_appends_wake_a_wait<B: Backend>() -> Outcome {
    let dir = TempDir::new("ready-now-follow");
    let path = dir.path().join("app.log");
    std::fs::write(&path, b"old-1\nold-2\n").unwrap();
    let fd = ReadFd::follow(&path, FollowOptions::new()).expect("ReadFd::follow");
    let mut reader = B::open(fd, Framer::new(LinesDecoder::new())).unwrap();
    assert_eq!(now(&mut reader), line("old-1"));
    assert_eq!(now(&mut reader), line("old-2"));
    assert_eq!(
        now(&mut reader),
        Seen::Timeout,
        "at the file's end: Pending"
    );
    assert_eq!(now(&mut reader), Seen::Timeout);
    append(&path, b"new-0\n");
    assert_eq!(
        now(&mut reader),
        line("new-0"),
        "an append, found without a wait"
    );
    assert_eq!(now(&mut reader), Seen::Timeout);
    append(&path, b"new-1\n");
    assert_eq!(next_seen(&mut reader, STEP), line("new-1"));
    assert_eq!(now(&mut reader), Seen::Timeout);
    let late = {
        let path = path.clone();
        thread::spawn(move || {
            thread::sleep(QUIET);
            append(&path, b"new-2\n");
        })
    };
    assert_eq!(
        next_seen(&mut reader, STEP),
        line("new-2"),
        "an append made while the reader waits, after a direct read to the end"
    );
    late.join().unwrap();
    assert_eq!(now(&mut reader), Seen::Timeout, "nothing repeated");
    Ok(())
}
