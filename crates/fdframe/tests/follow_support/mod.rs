//! What the follow tests share: temp directories, the reader's view of a stream, writers.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::task::Poll;
use std::time::Duration;

use fdframe::Error;
use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{Checkpoint, FollowNotice, FollowOptions, FollowStart};

/// A directory of its own under the temp dir, named after the test; removed on drop.
pub(crate) fn temp_dir(test: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("fdframe-follow-{test}-"))
        .tempdir()
        .unwrap()
}

/// What a test sees: a line, or a notice by name.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Seen {
    Line(String),
    Notice(&'static str),
}

use Seen::{Line, Notice};

pub(crate) fn line(s: &str) -> Seen {
    Line(s.to_owned())
}

/// How long a test waits for something that must come before it calls the stream hung. A
/// guard against hanging, not a speed assertion.
pub(crate) const HANG: Duration = Duration::from_secs(60);

/// The next item; panics if the stream ends or nothing comes for a minute.
pub(crate) fn next(reader: &mut FdReader<LinesDecoder>) -> Seen {
    let deadline = std::time::Instant::now() + HANG;
    loop {
        match reader.next_timeout(HANG) {
            Poll::Ready(Some(Ok(line))) => {
                return Line(String::from_utf8(line.to_vec()).unwrap());
            }
            Poll::Ready(Some(Err(Error::Follow(notice)))) => {
                return Notice(match notice {
                    FollowNotice::Truncated { .. } => "truncated",
                    FollowNotice::Rotated { .. } => "rotated",
                    FollowNotice::Removed { .. } => "removed",
                    FollowNotice::Created { .. } => "created",
                    FollowNotice::CheckpointMismatch { .. } => "checkpoint mismatch",
                    FollowNotice::DirectoryRemoved { .. } => "directory removed",
                    FollowNotice::RotatedUnread { .. } => "rotated unread",
                    other => panic!("unknown notice {other:?}"),
                });
            }
            Poll::Ready(Some(Err(e))) => panic!("unexpected error: {e}"),
            Poll::Ready(None) => panic!("a followed file never ends"),
            Poll::Pending => assert!(
                std::time::Instant::now() < deadline,
                "nothing came for {HANG:?}"
            ),
        }
    }
}

/// The next `n` items.
pub(crate) fn take(reader: &mut FdReader<LinesDecoder>, n: usize) -> Vec<Seen> {
    (0..n).map(|_| next(reader)).collect()
}

/// Nothing is ready now (the reader would wait).
pub(crate) fn assert_idle(reader: &mut FdReader<LinesDecoder>) {
    match reader.poll_next_now() {
        Poll::Pending => assert!(!reader.framer().is_yielding()),
        other => panic!("expected nothing, got {other:?}"),
    }
}

pub(crate) fn append(path: &Path, bytes: &[u8]) {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

pub(crate) fn follow(path: &Path, options: FollowOptions) -> FdReader<LinesDecoder> {
    FdReader::follow(path, LinesDecoder::new(), options).unwrap()
}

pub(crate) fn quick() -> FollowOptions {
    FollowOptions::new().rotate_wait(Duration::from_millis(200))
}

pub(crate) fn long_grace() -> FollowOptions {
    FollowOptions::new().rotate_wait(Duration::from_secs(3600))
}

pub(crate) fn open_append(path: &Path) -> File {
    OpenOptions::new().append(true).open(path).unwrap()
}

/// Whether the reader's wait descriptor becomes readable within `within`.
pub(crate) fn wakes_within(reader: &FdReader<LinesDecoder>, within: Duration) -> bool {
    use rustix::event::{PollFd, PollFlags, Timespec, poll};
    use std::os::fd::AsFd;
    let fd = reader.get_ref().as_fd();
    let mut fds = [PollFd::new(&fd, PollFlags::IN)];
    let timeout = Timespec {
        tv_sec: within.as_secs() as i64,
        tv_nsec: within.subsec_nanos().into(),
    };
    poll(&mut fds, Some(&timeout)).unwrap() > 0
}

/// The next line, passing over the notices in `allowed` (collected in `notices`).
pub(crate) fn next_line_past(
    reader: &mut FdReader<LinesDecoder>,
    allowed: &[&str],
    notices: &mut Vec<&'static str>,
) -> String {
    loop {
        match next(reader) {
            Line(l) => return l,
            Notice(n) if allowed.contains(&n) => notices.push(n),
            Notice(n) => panic!("unexpected notice {n:?} (after {notices:?})"),
        }
    }
}

pub(crate) fn resume(
    path: &Path,
    checkpoint: &str,
    options: FollowOptions,
) -> FdReader<LinesDecoder> {
    let checkpoint = Checkpoint::parse(checkpoint).unwrap();
    follow(path, options.start(FollowStart::Checkpoint(checkpoint)))
}

/// One batch run (see "Reading once" in `fdframe::follow`): everything ready now, then the
/// checkpoint.
pub(crate) fn read_once(path: &Path, saved: Option<&Checkpoint>) -> (Vec<Seen>, Checkpoint) {
    let start = saved.map_or(FollowStart::Beginning, |cp| {
        FollowStart::Checkpoint(cp.clone())
    });
    let mut reader = follow(
        path,
        FollowOptions::new()
            .start(start)
            .rotate_wait(Duration::ZERO),
    );
    let mut seen = Vec::new();
    loop {
        match reader.poll_next_now() {
            Poll::Ready(Some(Ok(line))) => {
                seen.push(Line(String::from_utf8(line.to_vec()).unwrap()))
            }
            Poll::Ready(Some(Err(Error::Follow(notice)))) => panic!("unexpected notice {notice}"),
            Poll::Ready(other) => panic!("unexpected {other:?}"),
            Poll::Pending if reader.framer().is_yielding() => {}
            Poll::Pending => break,
        }
    }
    let checkpoint = reader.checkpoint().unwrap();
    (seen, checkpoint)
}

/// How long a test waits for a wake-up that must come (a guard, not a speed assertion).
pub(crate) const WAKE: Duration = Duration::from_secs(10);
