//! Reading a follow reader the way the follow cases state expectations: past allowed notices,
//! quiet checks, numbered lines in order, and waits measured for busy loops.

use std::path::Path;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use bytes::Bytes;
use fdframe::codec::LinesDecoder;
use fdframe::follow::FollowOptions;
use fdframe::{Framer, ReadFd};

use crate::fixtures::{Progress, QUIET, STEP, line_number, thread_cpu_time};
use crate::{Backend, Reader, Seen, next_seen};

/// A follow reader of lines over `path`.
pub(crate) fn follow<B: Backend>(path: &Path, options: FollowOptions) -> B::Reader<LinesDecoder> {
    let fd = ReadFd::follow(path, options).expect("ReadFd::follow");
    B::open(fd, Framer::new(LinesDecoder::new())).expect("open the follow reader")
}

/// A follow notice as [`Seen`] shows it.
pub(crate) fn notice(kind: &str) -> Seen<Bytes> {
    Seen::Error(format!("Follow: {kind}"))
}

/// A line as [`Seen`] shows it.
pub(crate) fn line(text: &str) -> Seen<Bytes> {
    Seen::Item(Bytes::copy_from_slice(text.as_bytes()))
}

/// The next step that is not a follow notice of one of the `allowed` kinds (those are counted
/// in `notices`).
pub(crate) fn next_past_notices<R: Reader<LinesDecoder>>(
    reader: &mut R,
    timeout: Duration,
    allowed: &[&str],
    notices: &mut Vec<String>,
) -> Seen<Bytes> {
    loop {
        match next_seen(reader, timeout) {
            Seen::Error(e) if allowed.iter().any(|kind| e == format!("Follow: {kind}")) => {
                notices.push(e);
            }
            other => return other,
        }
    }
}

/// Nothing more comes (follow notices of the `allowed` kinds aside): no item repeated, no
/// stray error. The reader waits, which for a follow reader is all it can do.
pub(crate) fn expect_quiet<R: Reader<LinesDecoder>>(reader: &mut R, allowed: &[&str], what: &str) {
    let mut notices = Vec::new();
    let step = next_past_notices(reader, QUIET, allowed, &mut notices);
    assert_eq!(step, Seen::Timeout, "{what}: nothing more may come");
}

/// Numbered lines, in order, each exactly once, until `done` says how many there are: a line
/// out of order (lost or repeated) or anything but an `allowed` notice fails the case, and so
/// does a stall of [`STEP`]. Publishes each delivered line to `progress` (writers pace on it).
pub(crate) fn take_numbered_lines<R: Reader<LinesDecoder>>(
    reader: &mut R,
    progress: &Progress,
    allowed: &[&str],
    notices: &mut Vec<String>,
    mut done: impl FnMut() -> Option<u64>,
) -> u64 {
    let mut next = 0;
    let mut last_progress = Instant::now();
    loop {
        if done().is_some_and(|total| next >= total) {
            return next;
        }
        match next_past_notices(reader, Duration::from_millis(100), allowed, notices) {
            Seen::Item(item) => {
                let n = line_number(&item);
                assert_eq!(
                    n,
                    next,
                    "line {n} came where line {next} was due (notices so far: {})",
                    notices.len()
                );
                next += 1;
                progress.delivered.store(next, Ordering::Release);
                last_progress = Instant::now();
            }
            Seen::Timeout => assert!(
                last_progress.elapsed() < STEP,
                "no line for {STEP:?}: line {next} is due, {} written",
                progress.written.load(Ordering::Acquire)
            ),
            other => panic!("expected line {next}, got {other:?}"),
        }
    }
}

/// Time spent waiting with nothing written, and the CPU time the reader's thread used
/// meanwhile: a reader that busy-polls a regular file instead of waiting for inotify burns a
/// core while it "waits".
#[derive(Default)]
pub(crate) struct Idle {
    wall: Duration,
    cpu: Duration,
}

impl Idle {
    /// Nothing comes within `wait`: the reader waits (and the time is measured).
    pub(crate) fn expect_waiting<R: Reader<LinesDecoder>>(
        &mut self,
        reader: &mut R,
        wait: Duration,
        what: &str,
    ) {
        let (cpu, started) = (thread_cpu_time(), Instant::now());
        let step = next_seen(reader, wait);
        self.cpu += thread_cpu_time().saturating_sub(cpu);
        self.wall += started.elapsed();
        assert_eq!(
            step,
            Seen::Timeout,
            "{what}: nothing was written, the reader must wait"
        );
    }

    /// A waiting reader sleeps: it used well under a tenth of a core while it waited. (A busy
    /// loop gets a good share of a core even on a loaded machine; a sleeping thread uses
    /// microseconds.)
    pub(crate) fn assert_no_busy_loop(&self) {
        assert!(
            self.cpu * 10 < self.wall,
            "the reader used {:?} of CPU while waiting {:?} for a file that did not change: \
             a busy loop, not a wait",
            self.cpu,
            self.wall
        );
    }
}
