//! FIFOs, sockets, ptys and regular files.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use fdframe::codec::LinesDecoder;
use fdframe::devices::DatagramDecoder;
use fdframe::{Framer, ReadFd};
use rustix::fs::{Mode, OFlags};
use rustix::net::SendFlags;

use super::lines_then_end;
use crate::fixtures::{
    QUIET, STEP, TempDir, mkfifo, pty, socketpair_seqpacket, socketpair_stream, spawn_writer,
};
use crate::{Backend, Outcome, Seen, drain_until_end, expect_items, next_seen};

/// A FIFO read end opened read-only ends its stream when the last writer closes: a writer that
/// reconnects later is not seen by that stream (open the FIFO read-write to keep it alive; see
/// the next case).
pub fn fifo_ends_when_its_last_writer_closes<B: Backend>() -> Outcome {
    let dir = TempDir::new("fifo");
    let path = dir.path().join("fifo");
    mkfifo(&path);
    // Non-blocking open of the read end succeeds without a writer; the writer must connect
    // before the first read, or that read would already see end of input.
    let read_end = ReadFd::open(&path).unwrap();
    let writer = OpenOptions::new().write(true).open(&path).unwrap();
    let writing = spawn_writer(writer, vec![b"one\ntwo\n".to_vec()], Duration::ZERO);
    let mut reader = B::open(read_end, Framer::new(LinesDecoder::new())).unwrap();
    assert_eq!(
        drain_until_end(&mut reader, STEP),
        lines_then_end(&["one", "two"])
    );
    writing.join().unwrap();
    Ok(())
}

/// A FIFO opened before any writer waits for its first writer instead of ending at once (the
/// kernel's 0-byte read there is not end of input), then ends when that writer closes.
pub fn fifo_without_a_writer_waits_for_its_first_writer<B: Backend>() -> Outcome {
    let dir = TempDir::new("fifo-wait");
    let path = dir.path().join("fifo");
    mkfifo(&path);
    let mut reader = B::open(
        ReadFd::open(&path).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    assert_eq!(
        next_seen(&mut reader, QUIET),
        Seen::Timeout,
        "no writer yet: waiting, not ended"
    );
    let writer = OpenOptions::new().write(true).open(&path).unwrap();
    let writing = spawn_writer(writer, vec![b"at last\n".to_vec()], Duration::ZERO);
    assert_eq!(
        drain_until_end(&mut reader, STEP),
        lines_then_end(&["at last"])
    );
    writing.join().unwrap();
    Ok(())
}

/// A FIFO opened read-write never sees end of input, so writers may come and go.
pub fn fifo_opened_read_write_survives_writer_reconnects<B: Backend>() -> Outcome {
    let dir = TempDir::new("fifo-rw");
    let path = dir.path().join("fifo");
    mkfifo(&path);
    let fd = rustix::fs::open(
        &path,
        OFlags::RDWR | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )
    .unwrap();
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    for (i, text) in ["first writer\n", "second writer\n"].iter().enumerate() {
        let mut writer = OpenOptions::new().write(true).open(&path).unwrap();
        writer.write_all(text.as_bytes()).unwrap();
        drop(writer);
        let got = expect_items(&mut reader, 1, STEP);
        assert_eq!(
            got,
            [Bytes::from(text.trim_end().to_string())],
            "writer {i}"
        );
        assert_eq!(
            next_seen(&mut reader, QUIET),
            Seen::Timeout,
            "no end after writer {i}"
        );
    }
    Ok(())
}

/// A stream socket is read like a pipe.
pub fn socketpair_stream_delivers_lines<B: Backend>() -> Outcome {
    let (fd, writer) = socketpair_stream();
    let chunks = vec![b"over a\nsock".to_vec(), b"et\n".to_vec()];
    let writing = spawn_writer(writer, chunks, Duration::from_millis(5));
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    assert_eq!(
        drain_until_end(&mut reader, STEP),
        lines_then_end(&["over a", "socket"])
    );
    writing.join().unwrap();
    Ok(())
}

/// Seqpacket records up to the configured maximum arrive whole, one per read; a larger one is
/// reported as too large (never silently truncated), and the stream goes on.
pub fn seqpacket_records_up_to_the_maximum_are_never_truncated<B: Backend>() -> Outcome {
    const MAX: usize = 4096;
    let (fd, peer) = socketpair_seqpacket();
    let sizes = [1, 100, MAX - 1, MAX, MAX + 1, 10];
    for (i, &size) in sizes.iter().enumerate() {
        let record: Vec<u8> = (0..size).map(|j| (i * 31 + j) as u8).collect();
        rustix::net::send(&peer, &record, SendFlags::empty()).unwrap();
    }
    drop(peer);
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(DatagramDecoder::new(MAX)),
    )
    .unwrap();
    let seen = drain_until_end(&mut reader, STEP);
    let expected: Vec<Seen<Bytes>> = sizes
        .iter()
        .enumerate()
        .map(|(i, &size)| {
            if size > MAX {
                Seen::Error(format!("FrameTooLarge: {} > {MAX}", MAX + 1))
            } else {
                Seen::Item((0..size).map(|j| (i * 31 + j) as u8).collect())
            }
        })
        .chain([Seen::End])
        .collect();
    assert_eq!(seen, expected);
    Ok(())
}

/// Lines written on a pty's slave side arrive; closing the slave ends the stream cleanly (the
/// master's `EIO` is end of input, not an error).
pub fn pty_lines_then_hangup_is_a_clean_end<B: Backend>() -> Outcome {
    let (master, mut slave) = pty();
    let mut reader = B::open(
        ReadFd::from_fd(master).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    slave.write_all(b"from the slave\n").unwrap();
    assert_eq!(
        expect_items(&mut reader, 1, STEP),
        [Bytes::from_static(b"from the slave")]
    );
    slave.write_all(b"last words\n").unwrap();
    drop(slave);
    assert_eq!(
        drain_until_end(&mut reader, STEP),
        lines_then_end(&["last words"])
    );
    Ok(())
}

/// A regular file (not pollable: epoll refuses it) is read to its end on every backend.
pub fn regular_file_is_read_to_its_end<B: Backend>() -> Outcome {
    let dir = TempDir::new("file");
    let path = dir.path().join("lines.txt");
    let lines: Vec<String> = (0..5000).map(|i| format!("line {i}")).collect();
    let mut text = lines.join("\n");
    text.push_str("\nno newline at the end");
    std::fs::write(&path, &text).unwrap();
    let file = File::open(&path).unwrap();
    let mut reader = B::open(
        ReadFd::from_fd(file.into()).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    let mut expected: Vec<&str> = lines.iter().map(String::as_str).collect();
    expected.push("no newline at the end");
    assert_eq!(
        drain_until_end(&mut reader, STEP),
        lines_then_end(&expected)
    );
    Ok(())
}
