//! Payloads, and the pipe every throughput contender reads: a 1 MiB pipe buffer (as a busy
//! producer would have) filled by a writer thread as fast as it can, in 64 KiB writes
//! (`--write-size` changes that, for the read-size experiment).
//!
//! The writer starts only when the harness says so (a barrier), so thread creation is neither
//! timed nor counted as an allocation of the contender.

use std::io::{self, Write};
use std::os::fd::OwnedFd;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Barrier};
use std::thread::{self, JoinHandle};
use std::time::{Duration, Instant};

use crate::harness::{Res, Sample, Tally, process_cpu, thread_cpu};

/// Size of one `write(2)` by the writer thread, unless `--write-size` says otherwise.
pub(crate) const DEFAULT_WRITE_SIZE: usize = 64 * 1024;
/// Size of one `write(2)` by the writer thread (set once, from `--write-size`, before any run).
static WRITE_SIZE: AtomicUsize = AtomicUsize::new(DEFAULT_WRITE_SIZE);

/// Sets the writer's `write(2)` size for every later run.
pub(crate) fn set_write_size(bytes: usize) {
    WRITE_SIZE.store(bytes.max(1), Ordering::Relaxed);
}

/// The writer's `write(2)` size.
pub(crate) fn write_size() -> usize {
    WRITE_SIZE.load(Ordering::Relaxed)
}
/// The pipe buffer the contenders read from.
pub(crate) const PIPE_SIZE: usize = 1024 * 1024;
/// The payload is this pattern (about 1 MiB of whole frames) written over and over: the writer
/// copies from cache, like a producer that just built its data.
const PATTERN_SIZE: usize = 1024 * 1024;

/// What the writer sends: `pattern` `repeats` times.
#[derive(Debug)]
pub(crate) struct Payload {
    pattern: Vec<u8>,
    repeats: usize,
    expected: Tally,
}

impl Payload {
    /// About `megabytes` MiB of `line_len`-byte lines, newline included.
    pub(crate) fn lines(line_len: usize, megabytes: usize) -> Payload {
        let mut line: Vec<u8> = (0..line_len - 1).map(|i| b'a' + (i % 26) as u8).collect();
        line.push(b'\n');
        Payload::repeat(&line, line_len - 1, megabytes)
    }

    /// About `megabytes` MiB of frames with a `u32` big-endian length header and
    /// `payload_len`-byte payloads.
    pub(crate) fn length_delimited(payload_len: usize, megabytes: usize) -> Payload {
        let header = u32::try_from(payload_len).expect("payload fits a u32 header");
        let mut frame = header.to_be_bytes().to_vec();
        frame.extend((0..payload_len).map(|i| (i % 251) as u8));
        Payload::repeat(&frame, payload_len, megabytes)
    }

    fn repeat(frame: &[u8], content_len: usize, megabytes: usize) -> Payload {
        let per_pattern = (PATTERN_SIZE / frame.len()).max(1);
        let pattern = frame.repeat(per_pattern);
        let repeats = (megabytes * 1024 * 1024).div_ceil(pattern.len()).max(1);
        let frames = (per_pattern * repeats) as u64;
        Payload {
            pattern,
            repeats,
            expected: Tally {
                frames,
                bytes: frames * content_len as u64,
            },
        }
    }

    /// Bytes on the wire.
    pub(crate) fn len(&self) -> u64 {
        (self.pattern.len() * self.repeats) as u64
    }

    /// What a correct reader sees.
    pub(crate) fn expected(&self) -> Tally {
        self.expected
    }
}

/// The writer thread of one run, waiting for [`Writer::start`].
pub(crate) struct Writer {
    go: Arc<Barrier>,
    /// Returns the CPU time the writer used after the start.
    thread: JoinHandle<io::Result<Duration>>,
}

impl Writer {
    /// Lets the writer go. Call exactly once.
    pub(crate) fn start(&self) {
        self.go.wait();
    }

    /// Waits for the writer (which has closed its end by then, or failed); returns the CPU
    /// time it used after the start.
    pub(crate) fn finish(self) -> io::Result<Duration> {
        self.thread
            .join()
            .map_err(|_| io::Error::other("the writer thread panicked"))?
    }
}

/// A pipe with a 1 MiB buffer, and a writer thread that will send `payload` into it and close it.
pub(crate) fn with_writer(payload: &Arc<Payload>) -> io::Result<(OwnedFd, Writer)> {
    let (reader, writer) = io::pipe()?;
    // Only root may go past /proc/sys/fs/pipe-max-size; failure leaves the default (64 KiB),
    // which every contender then shares.
    let _ = rustix::pipe::fcntl_setpipe_size(&writer, PIPE_SIZE);
    let payload = Arc::clone(payload);
    let go = Arc::new(Barrier::new(2));
    let thread = {
        let go = Arc::clone(&go);
        thread::spawn(move || {
            crate::harness::pin(1);
            let mut writer = std::fs::File::from(OwnedFd::from(writer));
            go.wait();
            let write_size = write_size();
            let cpu = thread_cpu();
            for _ in 0..payload.repeats {
                for chunk in payload.pattern.chunks(write_size) {
                    writer.write_all(chunk)?;
                }
            }
            drop(writer);
            Ok(thread_cpu() - cpu)
        })
    };
    Ok((reader.into(), Writer { go, thread }))
}

/// A throughput contender: reads a pipe to its end, says what it saw.
pub(crate) type PipeRun = dyn Fn(OwnedFd) -> Res<Tally>;

/// Times one run of `run` over a fresh pipe carrying `payload`, from the writer's start to the
/// reader's end of input, and validates what the reader saw. The CPU time is the process's less
/// the writer thread's: the reader, and any thread its runtime uses.
pub(crate) fn measure(run: &PipeRun, payload: &Arc<Payload>) -> Res<Sample> {
    let (fd, writer) = with_writer(payload)?;
    writer.start();
    let cpu = process_cpu();
    let started = Instant::now();
    let seen = run(fd);
    let wall = started.elapsed();
    // The writer fails (EPIPE) if the reader gave up early: report the reader's error first.
    let written = writer.finish();
    let cpu = process_cpu() - cpu;
    seen?.check("the reader", payload.expected())?;
    let writer_cpu = written?;
    Ok(Sample {
        wall,
        cpu: cpu.saturating_sub(writer_cpu),
    })
}
