//! Follow mode end to end on real files with the blocking reader: appends, rotation,
//! truncation, deletion, checkpoints, descriptor bounds.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::task::Poll;
use std::time::Duration;

use fdframe::Error;
use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{FollowNotice, FollowOptions};

/// A directory of its own under the temp dir; removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(format!(
            "fdframe-follow-{test}-{}-{:?}",
            std::process::id(),
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap()
                .as_nanos()
        ));
        fs::create_dir(&dir).unwrap();
        TempDir(dir)
    }

    fn path(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// What a test sees: a line, or a notice by name.
#[derive(Debug, PartialEq, Eq)]
enum Seen {
    Line(String),
    Notice(&'static str),
}

use Seen::{Line, Notice};

fn line(s: &str) -> Seen {
    Line(s.to_owned())
}

/// How long a test waits for something that must come before it calls the stream hung. A
/// guard against hanging, not a speed assertion.
const HANG: Duration = Duration::from_secs(60);

/// The next item; panics if the stream ends or nothing comes for a minute.
fn next(reader: &mut FdReader<LinesDecoder>) -> Seen {
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
fn take(reader: &mut FdReader<LinesDecoder>, n: usize) -> Vec<Seen> {
    (0..n).map(|_| next(reader)).collect()
}

/// Nothing is ready now (the reader would wait).
fn assert_idle(reader: &mut FdReader<LinesDecoder>) {
    match reader.poll_next_now() {
        Poll::Pending => assert!(!reader.framer().is_yielding()),
        other => panic!("expected nothing, got {other:?}"),
    }
}

fn append(path: &Path, bytes: &[u8]) {
    OpenOptions::new()
        .append(true)
        .create(true)
        .open(path)
        .unwrap()
        .write_all(bytes)
        .unwrap();
}

fn follow(path: &Path, options: FollowOptions) -> FdReader<LinesDecoder> {
    FdReader::follow(path, LinesDecoder::new(), options).unwrap()
}

fn quick() -> FollowOptions {
    FollowOptions::new().rotate_wait(Duration::from_millis(200))
}

#[test]
fn appends_of_many_sizes_arrive_whole_and_in_order() {
    let dir = TempDir::new("appends");
    let path = dir.path("log");
    File::create(&path).unwrap();
    let mut reader = follow(&path, quick());
    assert_idle(&mut reader);
    let mut file = OpenOptions::new().append(true).open(&path).unwrap();
    let mut expected = Vec::new();
    let mut text = Vec::new();
    for i in 0..300usize {
        let len = [0, 1, 7, 100, 4095, 4096, 70_000][i % 7] + i;
        let l: String = std::iter::repeat_n(char::from(b'a' + (i % 26) as u8), len).collect();
        text.extend_from_slice(l.as_bytes());
        text.push(b'\n');
        expected.push(Line(l));
    }
    let writer = std::thread::spawn(move || {
        // Cut the text at arbitrary points, so lines arrive in pieces.
        for chunk in text.chunks(3_333) {
            file.write_all(chunk).unwrap();
        }
    });
    let got = take(&mut reader, expected.len());
    writer.join().unwrap();
    assert_eq!(got.len(), expected.len());
    assert!(got == expected, "lines differ");
    assert_idle(&mut reader);
}

#[test]
fn a_line_written_in_two_parts_is_held_then_delivered_once() {
    let dir = TempDir::new("two-parts");
    let path = dir.path("log");
    fs::write(&path, "first\nsec").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("first"));
    assert_idle(&mut reader);
    append(&path, b"ond\nthird\n");
    assert_eq!(take(&mut reader, 2), [line("second"), line("third")]);
    assert_idle(&mut reader);
}
