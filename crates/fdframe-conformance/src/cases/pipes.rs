//! Pipes: splitting, bursts (the edge-triggered trap), large frames, end of input.

use std::io::Write;
use std::time::Duration;

use bytes::Bytes;
use fdframe::codec::{FixedSizeDecoder, LinesDecoder};
use fdframe::{Framer, ReadFd};

use super::lines_then_end;
use crate::fixtures::{QUIET, STEP, pipe, spawn_writer};
use crate::{Backend, Outcome, Reader, Seen, drain_until_end, expect_items, next_seen};

/// Frames written one byte per `write(2)` arrive whole, in order.
pub fn frames_split_across_one_byte_writes<B: Backend>() -> Outcome {
    let (fd, writer) = pipe();
    let text = b"alpha\nbeta\n\ngamma\n";
    let bytes = text.iter().map(|&b| vec![b]).collect();
    let writing = spawn_writer(writer, bytes, Duration::from_millis(1));
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    let seen = drain_until_end(&mut reader, STEP);
    writing.join().unwrap();
    assert_eq!(seen, lines_then_end(&["alpha", "beta", "", "gamma"]));
    Ok(())
}

/// A burst many reads long, written at once while the writer stays open, is delivered without
/// any further write: a backend that waits for readiness before reading until `WouldBlock`
/// stops after the first read, with the rest sitting in the pipe.
pub fn burst_larger_than_one_read_arrives_without_further_writes<B: Backend>() -> Outcome {
    let (fd, mut writer) = pipe();
    let lines: Vec<String> = (0..4000).map(|i| format!("burst-{i:05}")).collect();
    let burst: Vec<u8> = lines
        .iter()
        .flat_map(|l| format!("{l}\n").into_bytes())
        .collect();
    assert!(
        burst.len() < 64 * 1024,
        "the burst must fit the pipe buffer"
    );
    // Small reads: the burst takes about a dozen of them.
    let framer = Framer::new(LinesDecoder::new())
        .with_initial_read_size(4096)
        .with_max_read_size(4096);
    let mut reader = B::open(ReadFd::from_fd(fd).unwrap(), framer).unwrap();
    // One readiness edge, then nothing more from the writer while the reader works.
    writer.write_all(&burst).unwrap();
    let got = expect_items(&mut reader, lines.len(), STEP);
    assert_eq!(
        got,
        lines
            .iter()
            .map(|l| Bytes::from(l.clone()))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        next_seen(&mut reader, QUIET),
        Seen::Timeout,
        "nothing more was written"
    );
    drop(writer);
    assert_eq!(next_seen(&mut reader, STEP), Seen::End);
    Ok(())
}

/// A frame hundreds of times the first read size is assembled whole.
pub fn frames_larger_than_the_initial_capacity<B: Backend>() -> Outcome {
    let (fd, writer) = pipe();
    let big: String = (b'a'..=b'z')
        .cycle()
        .take(300_000)
        .map(char::from)
        .collect();
    let text = format!("small\n{big}\nafter\n").into_bytes();
    let writing = spawn_writer(writer, vec![text], Duration::ZERO);
    let framer = Framer::new(LinesDecoder::new()).with_initial_read_size(16);
    let mut reader = B::open(ReadFd::from_fd(fd).unwrap(), framer).unwrap();
    let seen = drain_until_end(&mut reader, STEP);
    writing.join().unwrap();
    assert_eq!(seen, lines_then_end(&["small", &big, "after"]));
    Ok(())
}

/// Input that ends inside a frame reports the partial frame with its bytes; nothing is dropped.
pub fn partial_final_frame_is_reported_at_end_of_input<B: Backend>() -> Outcome {
    let (fd, writer) = pipe();
    let writing = spawn_writer(writer, vec![b"12345678abcd".to_vec()], Duration::ZERO);
    let decoder = FixedSizeDecoder::new(8).unwrap();
    let mut reader = B::open(ReadFd::from_fd(fd).unwrap(), Framer::new(decoder)).unwrap();
    let seen = drain_until_end(&mut reader, STEP);
    writing.join().unwrap();
    assert_eq!(
        seen,
        [
            Seen::Item(Bytes::from_static(b"12345678")),
            Seen::Error("Truncated: 4 bytes".into()),
            Seen::End,
        ]
    );
    Ok(())
}

/// The end of the stream is reported once, and every later poll says the same without
/// reading or waiting.
pub fn end_of_stream_comes_once_then_the_stream_is_fused<B: Backend>() -> Outcome {
    let (fd, writer) = pipe();
    let writing = spawn_writer(writer, vec![b"only\n".to_vec()], Duration::ZERO);
    let mut reader = B::open(
        ReadFd::from_fd(fd).unwrap(),
        Framer::new(LinesDecoder::new()),
    )
    .unwrap();
    assert_eq!(
        drain_until_end(&mut reader, STEP),
        lines_then_end(&["only"])
    );
    writing.join().unwrap();
    for _ in 0..3 {
        assert_eq!(
            next_seen(&mut reader, QUIET),
            Seen::End,
            "fused after the end"
        );
    }
    assert!(reader.framer().is_done());
    Ok(())
}
