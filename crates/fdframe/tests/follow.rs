//! Follow mode end to end on real files with the blocking reader: appends, rotation,
//! truncation, deletion, checkpoints, descriptor bounds.

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::Path;
use std::task::Poll;
use std::time::Duration;

use fdframe::Error;
use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{Checkpoint, FollowNotice, FollowOptions, FollowStart};

/// A directory of its own under the temp dir, named after the test; removed on drop.
fn temp_dir(test: &str) -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix(&format!("fdframe-follow-{test}-"))
        .tempdir()
        .unwrap()
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
                    FollowNotice::DirectoryRemoved { .. } => "directory removed",
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
    let dir = temp_dir("appends");
    let path = dir.path().join("log");
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
    let dir = temp_dir("two-parts");
    let path = dir.path().join("log");
    fs::write(&path, "first\nsec").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("first"));
    assert_idle(&mut reader);
    append(&path, b"ond\nthird\n");
    assert_eq!(take(&mut reader, 2), [line("second"), line("third")]);
    assert_idle(&mut reader);
}

fn long_grace() -> FollowOptions {
    FollowOptions::new().rotate_wait(Duration::from_secs(3600))
}

fn open_append(path: &Path) -> File {
    OpenOptions::new().append(true).open(path).unwrap()
}

#[test]
fn rename_rotation_delivers_lines_written_to_the_old_file_after_the_rename_first() {
    let dir = temp_dir("rename");
    let (path, old_path) = (dir.path().join("log"), dir.path().join("log.1"));
    fs::write(&path, "a1\n").unwrap();
    let mut old = open_append(&path);
    let mut reader = follow(&path, long_grace());
    assert_eq!(next(&mut reader), line("a1"));
    fs::rename(&path, &old_path).unwrap();
    old.write_all(b"a2\n").unwrap();
    fs::write(&path, "b1\n").unwrap();
    assert_eq!(
        take(&mut reader, 3),
        [line("a2"), Notice("rotated"), line("b1")]
    );
    assert_idle(&mut reader);
    // Still within the grace period: the old file is still read, and first.
    old.write_all(b"a3\n").unwrap();
    append(&path, b"b2\n");
    assert_eq!(take(&mut reader, 2), [line("a3"), line("b2")]);
    assert_idle(&mut reader);
}

#[test]
fn a_rotated_files_partial_last_line_is_delivered_when_its_grace_period_ends() {
    let dir = temp_dir("grace");
    let (path, old_path) = (dir.path().join("log"), dir.path().join("log.1"));
    fs::write(&path, "a1\na-part").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("a1"));
    fs::rename(&path, &old_path).unwrap();
    fs::write(&path, "b1\n").unwrap();
    // The partial line's file is kept until its grace period is over (the timerfd wakes the
    // reader), then its last line comes, then the new file.
    assert_eq!(
        take(&mut reader, 3),
        [Notice("rotated"), line("a-part"), line("b1")]
    );
    assert_idle(&mut reader);
}

/// Whether the reader's wait descriptor becomes readable within `within`.
fn wakes_within(reader: &FdReader<LinesDecoder>, within: Duration) -> bool {
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

#[test]
fn an_expired_rotated_file_behind_a_pending_partial_line_does_not_wake_the_reader_in_a_loop() {
    let dir = temp_dir("no-spin");
    let (path, old_path) = (dir.path().join("log"), dir.path().join("log.1"));
    fs::write(&path, "a1\n").unwrap();
    let mut reader = follow(
        &path,
        FollowOptions::new().rotate_wait(Duration::from_millis(50)),
    );
    assert_eq!(next(&mut reader), line("a1"));
    fs::rename(&path, &old_path).unwrap();
    fs::write(&path, "b-part").unwrap();
    assert_eq!(next(&mut reader), Notice("rotated"));
    assert_idle(&mut reader);
    // The old file's grace period runs out while the new file's partial line is pending, so
    // the old file cannot be finished yet (its turn comes after that line).
    assert!(
        wakes_within(&reader, Duration::from_secs(60)),
        "the grace timer fires"
    );
    assert_idle(&mut reader);
    assert!(
        !wakes_within(&reader, Duration::from_millis(200)),
        "woken again with nothing to do"
    );
    append(&path, b"\nb2\n");
    assert_eq!(take(&mut reader, 2), [line("b-part"), line("b2")]);
    assert_idle(&mut reader);
}

#[test]
fn hard_link_rotation_finishes_the_old_inode_then_reads_the_new_file() {
    let dir = temp_dir("hardlink");
    let (path, old_path, new_path) = (
        dir.path().join("log"),
        dir.path().join("log.1"),
        dir.path().join("log.new"),
    );
    fs::write(&path, "a1\n").unwrap();
    let mut reader = follow(&path, long_grace());
    assert_eq!(next(&mut reader), line("a1"));
    // `ln log log.1 && mv log.new log`
    fs::hard_link(&path, &old_path).unwrap();
    append(&old_path, b"a2\n");
    fs::write(&new_path, "b1\n").unwrap();
    fs::rename(&new_path, &path).unwrap();
    assert_eq!(
        take(&mut reader, 3),
        [line("a2"), Notice("rotated"), line("b1")]
    );
    append(&old_path, b"a3\n");
    assert_eq!(next(&mut reader), line("a3"));
    assert_idle(&mut reader);
}

#[test]
fn copytruncate_gives_a_truncated_notice_then_the_new_content() {
    let dir = temp_dir("copytruncate");
    let path = dir.path().join("log");
    fs::write(&path, "first line\nsecond line\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(
        take(&mut reader, 2),
        [line("first line"), line("second line")]
    );
    fs::copy(&path, dir.path().join("log.1")).unwrap();
    open_append(&path).set_len(0).unwrap();
    // The writer goes on: more bytes than were read, so only the first bytes tell.
    append(&path, b"third line is longer than before\n");
    assert_eq!(
        take(&mut reader, 2),
        [
            Notice("truncated"),
            line("third line is longer than before")
        ]
    );
    assert_idle(&mut reader);
}

#[test]
fn truncation_to_a_smaller_size_restarts_from_the_start() {
    let dir = temp_dir("shrink");
    let path = dir.path().join("log");
    fs::write(&path, "one\ntwo\nthree\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(
        take(&mut reader, 3),
        [line("one"), line("two"), line("three")]
    );
    fs::write(&path, "x\n").unwrap();
    assert_eq!(take(&mut reader, 2), [Notice("truncated"), line("x")]);
    assert_idle(&mut reader);
}

#[test]
fn a_same_size_rewrite_is_a_truncation() {
    let dir = temp_dir("rewrite");
    let path = dir.path().join("log");
    fs::write(&path, "one\ntwo\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(take(&mut reader, 2), [line("one"), line("two")]);
    // Same size, other bytes, same inode.
    let mut file = OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all(b"uno\ndos\n").unwrap();
    drop(file);
    assert_eq!(
        take(&mut reader, 3),
        [Notice("truncated"), line("uno"), line("dos")]
    );
    assert_idle(&mut reader);
}

#[test]
fn truncation_delivers_the_held_partial_line_first() {
    let dir = temp_dir("truncate-partial");
    let path = dir.path().join("log");
    fs::write(&path, "one\npartial").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("one"));
    assert_idle(&mut reader);
    fs::write(&path, "new\n").unwrap();
    assert_eq!(
        take(&mut reader, 3),
        [line("partial"), Notice("truncated"), line("new")]
    );
}

#[test]
fn deletion_then_re_creation_gives_removed_then_created() {
    let dir = temp_dir("delete");
    let path = dir.path().join("log");
    fs::write(&path, "one\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("one"));
    fs::remove_file(&path).unwrap();
    // After the grace period (the timer wakes the reader).
    assert_eq!(next(&mut reader), Notice("removed"));
    assert_idle(&mut reader);
    fs::write(&path, "two\n").unwrap();
    assert_eq!(take(&mut reader, 2), [Notice("created"), line("two")]);
    assert_idle(&mut reader);
}

#[test]
fn a_file_created_after_the_start_is_read_from_its_start() {
    let dir = temp_dir("later");
    let path = dir.path().join("log");
    let mut reader = follow(&path, quick().start(FollowStart::End));
    assert_idle(&mut reader);
    let writer = std::thread::spawn({
        let path = path.clone();
        move || fs::write(&path, "one\ntwo\n").unwrap()
    });
    assert_eq!(
        take(&mut reader, 3),
        [Notice("created"), line("one"), line("two")]
    );
    writer.join().unwrap();
    assert_idle(&mut reader);
}

/// The next line, passing over the notices in `allowed` (collected in `notices`).
fn next_line_past(
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

#[test]
fn a_missing_directory_is_waited_for_then_the_file_in_it_is_read() {
    let dir = temp_dir("no-dir");
    let path = dir.path().join("a/b/log");
    let mut reader = follow(&path, quick().start(FollowStart::End));
    assert_idle(&mut reader);
    fs::create_dir(dir.path().join("a")).unwrap();
    assert_idle(&mut reader);
    fs::create_dir(dir.path().join("a/b")).unwrap();
    assert!(
        wakes_within(&reader, WAKE),
        "the directory's creation wakes"
    );
    assert_idle(&mut reader);
    fs::write(&path, "one\ntwo\n").unwrap();
    assert!(
        wakes_within(&reader, WAKE),
        "a file in the new directory wakes"
    );
    // Read from its start, as any file that came after the start.
    assert_eq!(
        take(&mut reader, 3),
        [Notice("created"), line("one"), line("two")]
    );
    append(&path, b"three\n");
    assert_eq!(next(&mut reader), line("three"));
    assert_idle(&mut reader);
}

#[test]
fn a_directory_removed_and_re_created_is_followed_again() {
    let dir = temp_dir("dir-gone");
    let app = dir.path().join("app");
    let path = app.join("log");
    fs::create_dir(&app).unwrap();
    fs::write(&path, "one\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("one"));
    fs::remove_dir_all(&app).unwrap();
    // Said at once; the file is finished for its grace period, then removed.
    assert_eq!(
        take(&mut reader, 2),
        [Notice("directory removed"), Notice("removed")]
    );
    assert_idle(&mut reader);
    fs::create_dir(&app).unwrap();
    assert_idle(&mut reader);
    fs::write(&path, "two\n").unwrap();
    assert!(
        wakes_within(&reader, WAKE),
        "a file in the new directory wakes"
    );
    assert_eq!(take(&mut reader, 2), [Notice("created"), line("two")]);
    // `rm -rf app && mkdir app && echo x >> app/log`, faster than the reader looks.
    let allowed = ["directory removed", "removed", "rotated", "created"];
    let mut notices = Vec::new();
    for round in 3..10 {
        fs::remove_dir_all(&app).unwrap();
        fs::create_dir(&app).unwrap();
        append(&path, format!("{round}\n").as_bytes());
        assert_eq!(
            next_line_past(&mut reader, &allowed, &mut notices),
            round.to_string()
        );
        assert!(notices.contains(&"directory removed"), "{notices:?}");
        notices.clear();
    }
    // A directory renamed away and another one put in its place.
    fs::rename(&app, dir.path().join("app.old")).unwrap();
    fs::create_dir(&app).unwrap();
    append(&path, b"renamed\n");
    assert_eq!(
        next_line_past(&mut reader, &allowed, &mut notices),
        "renamed"
    );
    assert!(notices.contains(&"directory removed"), "{notices:?}");
}

#[test]
fn start_at_end_delivers_only_what_is_appended() {
    let dir = temp_dir("end");
    let path = dir.path().join("log");
    fs::write(&path, "old\nolder\n").unwrap();
    let mut reader = follow(&path, quick().start(FollowStart::End));
    assert_idle(&mut reader);
    append(&path, b"new\n");
    assert_eq!(next(&mut reader), line("new"));
    assert_idle(&mut reader);
}

fn resume(path: &Path, checkpoint: &str, options: FollowOptions) -> FdReader<LinesDecoder> {
    let checkpoint = Checkpoint::parse(checkpoint).unwrap();
    follow(path, options.start(FollowStart::Checkpoint(checkpoint)))
}

#[test]
fn a_checkpoint_mid_stream_resumes_with_exactly_the_rest() {
    let dir = temp_dir("checkpoint");
    let path = dir.path().join("log");
    fs::write(&path, "l1\nl2\nl3\npar").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(take(&mut reader, 2), [line("l1"), line("l2")]);
    // "l3" has been read but not handed out, "par" is a partial line: both come again.
    let saved = reader.checkpoint().unwrap().encode();
    assert_eq!(reader.checkpoint().unwrap().files()[0].offset, 6);
    drop(reader);
    append(&path, b"tial\nl5\n");
    let mut reader = resume(&path, &saved, quick());
    assert_eq!(
        take(&mut reader, 3),
        [line("l3"), line("partial"), line("l5")]
    );
    assert_idle(&mut reader);
}

#[test]
fn a_checkpoint_resumes_a_file_rotated_meanwhile_by_its_inode() {
    let dir = temp_dir("checkpoint-rotated");
    let (path, old_path) = (dir.path().join("log"), dir.path().join("log.1"));
    fs::write(&path, "a1\na2\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("a1"));
    let saved = reader.checkpoint().unwrap().encode();
    drop(reader);
    fs::rename(&path, &old_path).unwrap();
    append(&old_path, b"a3\n");
    fs::write(&path, "b1\n").unwrap();
    let mut reader = resume(&path, &saved, quick());
    assert_eq!(take(&mut reader, 3), [line("a2"), line("a3"), line("b1")]);
    assert_idle(&mut reader);
}

#[test]
fn a_checkpoint_whose_inode_holds_other_bytes_is_a_mismatch_and_the_file_is_read_from_its_start() {
    let dir = temp_dir("checkpoint-reused");
    let path = dir.path().join("log");
    fs::write(&path, "a1\na2\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(take(&mut reader, 2), [line("a1"), line("a2")]);
    let saved = reader.checkpoint().unwrap().encode();
    drop(reader);
    // Same inode, other content: what an inode reuse looks like.
    let mut file = OpenOptions::new()
        .write(true)
        .truncate(true)
        .open(&path)
        .unwrap();
    file.write_all(b"other\nfile\n").unwrap();
    drop(file);
    let mut reader = resume(&path, &saved, quick());
    assert_eq!(
        take(&mut reader, 3),
        [Notice("checkpoint mismatch"), line("other"), line("file")]
    );
    assert_idle(&mut reader);
}

#[test]
fn a_checkpoint_whose_file_is_gone_is_a_mismatch() {
    let dir = temp_dir("checkpoint-gone");
    let path = dir.path().join("log");
    fs::write(&path, "a1\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("a1"));
    let saved = reader.checkpoint().unwrap();
    drop(reader);
    fs::remove_file(&path).unwrap();
    // A new file that cannot be the old one (kept open so its inode is not the old one's).
    let keep = File::create(dir.path().join("other")).unwrap();
    fs::write(&path, "b1\n").unwrap();
    let mut reader = follow(&path, quick().start(FollowStart::Checkpoint(saved.clone())));
    let mut notices = Vec::new();
    loop {
        match next(&mut reader) {
            Notice(n) => notices.push(n),
            l => {
                assert_eq!(l, line("b1"));
                break;
            }
        }
    }
    assert_eq!(notices, ["checkpoint mismatch"]);
    drop(keep);
    assert_idle(&mut reader);
}

/// A writer that never stops writing, and rotates its file (rename, a few more lines to the
/// old file, a new file) 200 times. It rotates only once the reader has delivered a line of
/// the current file, as real rotation (minutes apart) always does: a file renamed away and
/// overwritten before anyone opened it is gone for every reader. Meanwhile it keeps writing.
#[test]
fn a_writer_that_never_stops_through_200_rotations_loses_and_repeats_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let dir = temp_dir("writer");
    let (path, old_path) = (dir.path().join("log"), dir.path().join("log.1"));
    File::create(&path).unwrap();
    let mut reader = follow(&path, FollowOptions::new());
    const ROTATIONS: usize = 200;
    const PER_FILE: usize = 50;
    // How many lines the reader has delivered.
    let delivered = Arc::new(AtomicUsize::new(0));
    let writer = std::thread::spawn({
        let (path, old_path) = (path.clone(), old_path.clone());
        let delivered = Arc::clone(&delivered);
        move || {
            let mut file = open_append(&path);
            let mut n = 0usize;
            let line = |file: &mut File, n: &mut usize| {
                file.write_all(format!("{n}\n").as_bytes()).unwrap();
                *n += 1;
            };
            for _ in 0..ROTATIONS {
                let first = n;
                for _ in 0..PER_FILE {
                    line(&mut file, &mut n);
                }
                while delivered.load(Ordering::Acquire) <= first {
                    line(&mut file, &mut n);
                    std::thread::sleep(Duration::from_micros(50));
                }
                fs::rename(&path, &old_path).unwrap();
                // Written to the old file after the rename, as a slow application does.
                for _ in 0..3 {
                    line(&mut file, &mut n);
                }
                file = OpenOptions::new()
                    .append(true)
                    .create_new(true)
                    .open(&path)
                    .unwrap();
            }
            file.write_all(b"end\n").unwrap();
            n
        }
    });
    let mut expected = 0usize;
    let mut rotations = 0;
    loop {
        match next(&mut reader) {
            Line(l) if l == "end" => break,
            Line(l) => {
                assert_eq!(l, expected.to_string(), "line out of order or lost");
                expected += 1;
                delivered.store(expected, Ordering::Release);
            }
            Notice("rotated") => rotations += 1,
            Notice(n) => {
                panic!("unexpected notice {n} after line {expected}, {rotations} rotations")
            }
        }
    }
    assert_eq!(writer.join().unwrap(), expected);
    assert_eq!(rotations, ROTATIONS);
    assert_idle(&mut reader);
}

#[test]
fn the_batch_path_follows_a_rotation_with_a_partial_line_in_the_same_order() {
    let dir = temp_dir("batches");
    let (path, old_path) = (dir.path().join("log"), dir.path().join("log.1"));
    fs::write(&path, "a1\na2\na-part").unwrap();
    let mut reader = follow(&path, quick());
    let mut seen = Vec::new();
    let batch = |reader: &mut FdReader<LinesDecoder>, seen: &mut Vec<Seen>| loop {
        match reader.next_batch_timeout(HANG) {
            Poll::Ready(Some(Ok(frames))) => {
                for l in &frames {
                    seen.push(Line(String::from_utf8(l.to_vec()).unwrap()));
                }
                return;
            }
            Poll::Ready(Some(Err(Error::Follow(FollowNotice::Rotated { .. })))) => {
                seen.push(Notice("rotated"));
                return;
            }
            Poll::Ready(other) => panic!("unexpected {other:?}"),
            Poll::Pending => assert!(reader.framer().is_yielding(), "nothing came"),
        }
    };
    batch(&mut reader, &mut seen);
    fs::rename(&path, &old_path).unwrap();
    fs::write(&path, "b1\nb2\n").unwrap();
    while seen.len() < 6 {
        batch(&mut reader, &mut seen);
    }
    assert_eq!(
        seen,
        [
            line("a1"),
            line("a2"),
            Notice("rotated"),
            line("a-part"),
            line("b1"),
            line("b2")
        ]
    );
}

#[test]
fn a_file_rotated_away_before_the_reader_looked_is_still_read_in_its_turn() {
    let dir = temp_dir("double");
    let path = dir.path().join("log");
    fs::write(&path, "a1\n").unwrap();
    let mut reader = follow(&path, long_grace());
    assert_eq!(next(&mut reader), line("a1"));
    assert_idle(&mut reader);
    // Two rotations (logrotate's numbered scheme) before the reader looks again: the file
    // with b1 is never at the path when the reader looks.
    fs::rename(&path, dir.path().join("log.1")).unwrap();
    fs::write(&path, "b1\n").unwrap();
    fs::rename(dir.path().join("log.1"), dir.path().join("log.2")).unwrap();
    fs::rename(&path, dir.path().join("log.1")).unwrap();
    fs::write(&path, "c1\n").unwrap();
    assert_eq!(
        take(&mut reader, 4),
        [Notice("rotated"), Notice("rotated"), line("b1"), line("c1")]
    );
    assert_idle(&mut reader);
}

/// The writer never waits for the reader except to stay at most 8 files ahead; its files get
/// names of their own (`log.N`), so a file the reader has not looked at yet still exists.
#[test]
fn a_writer_rotating_faster_than_the_reader_looks_loses_nothing() {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicUsize, Ordering};

    let dir = temp_dir("fast-writer");
    let path = dir.path().join("log");
    File::create(&path).unwrap();
    let mut reader = follow(&path, FollowOptions::new());
    const ROTATIONS: usize = 200;
    const PER_FILE: usize = 20;
    let delivered = Arc::new(AtomicUsize::new(0));
    let writer = std::thread::spawn({
        let (path, dir) = (path.clone(), dir.path().to_owned());
        let delivered = Arc::clone(&delivered);
        move || {
            let mut file = open_append(&path);
            let mut n = 0usize;
            for r in 0..ROTATIONS {
                for _ in 0..PER_FILE {
                    file.write_all(format!("{n}\n").as_bytes()).unwrap();
                    n += 1;
                }
                while n - delivered.load(Ordering::Acquire) > 8 * PER_FILE {
                    std::thread::sleep(Duration::from_micros(100));
                }
                fs::rename(&path, dir.join(format!("log.{r}"))).unwrap();
                file = OpenOptions::new()
                    .append(true)
                    .create_new(true)
                    .open(&path)
                    .unwrap();
            }
            file.write_all(b"end\n").unwrap();
            n
        }
    });
    let mut expected = 0usize;
    let mut rotations = 0;
    loop {
        match next(&mut reader) {
            Line(l) if l == "end" => break,
            Line(l) => {
                assert_eq!(l, expected.to_string(), "line out of order or lost");
                expected += 1;
                delivered.store(expected, Ordering::Release);
            }
            Notice("rotated") => rotations += 1,
            Notice(n) => panic!("unexpected notice {n} after line {expected}"),
        }
    }
    assert_eq!(writer.join().unwrap(), expected);
    assert_eq!(rotations, ROTATIONS);
}

#[test]
fn a_file_that_was_at_the_path_while_the_current_one_was_away_is_read_without_a_removed_notice() {
    let dir = temp_dir("away-and-back");
    let path = dir.path().join("log");
    fs::write(&path, "c1\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("c1"));
    assert_idle(&mut reader);
    // The current file goes away and comes back; meanwhile another file was at the path.
    fs::rename(&path, dir.path().join("away")).unwrap();
    fs::write(&path, "n1\n").unwrap();
    fs::rename(&path, dir.path().join("log.1")).unwrap();
    fs::rename(dir.path().join("away"), &path).unwrap();
    assert_eq!(take(&mut reader, 2), [Notice("rotated"), line("n1")]);
    assert_idle(&mut reader);
    // The other file's grace period ends: it is closed, and the path still has its file.
    assert!(wakes_within(&reader, HANG), "the grace timer fires");
    assert_idle(&mut reader);
    append(&path, b"c2\n");
    assert_eq!(next(&mut reader), line("c2"));
    assert_idle(&mut reader);
}

#[test]
fn a_checkpoint_while_a_rotated_file_holds_a_partial_line_resumes_both_files_in_order() {
    let dir = temp_dir("checkpoint-two-files");
    let (path, old_path) = (dir.path().join("log"), dir.path().join("log.1"));
    fs::write(&path, "a1\na-part").unwrap();
    let mut reader = follow(&path, long_grace());
    assert_eq!(next(&mut reader), line("a1"));
    fs::rename(&path, &old_path).unwrap();
    fs::write(&path, "b1\n").unwrap();
    // The old file's partial line holds the new file back (its grace period is long).
    assert_eq!(next(&mut reader), Notice("rotated"));
    assert_idle(&mut reader);
    let checkpoint = reader.checkpoint().unwrap();
    let offsets: Vec<u64> = checkpoint.files().iter().map(|f| f.offset).collect();
    assert_eq!(
        offsets,
        [3, 0],
        "after a1 in the old file; nothing of the new one"
    );
    drop(reader);
    append(&old_path, b"-done\n");
    let mut reader = resume(&path, &checkpoint.encode(), quick());
    assert_eq!(take(&mut reader, 2), [line("a-part-done"), line("b1")]);
    assert_idle(&mut reader);
}

/// A reactor that waits for readiness before its first read (tokio's `AsyncFd`) must find the
/// wait descriptor readable at once: what the file holds at the start is there to read.
#[test]
fn the_wait_descriptor_is_readable_right_after_opening() {
    use std::os::fd::AsFd;
    let dir = temp_dir("readable-at-start");
    let path = dir.path().join("log");
    fs::write(&path, "already here\n").unwrap();
    let fd = fdframe::ReadFd::follow(&path, FollowOptions::new()).unwrap();
    let wait = fd.as_fd();
    let mut fds = [rustix::event::PollFd::new(
        &wait,
        rustix::event::PollFlags::IN,
    )];
    let zero = rustix::event::Timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    rustix::event::poll(&mut fds, Some(&zero)).unwrap();
    assert!(
        fds[0].revents().contains(rustix::event::PollFlags::IN),
        "a new follower's wait descriptor is not readable: a readiness-first backend would \
         never read the file's present content"
    );
}

/// One batch run (see "Reading once" in `fdframe::follow`): everything ready now, then the
/// checkpoint.
fn read_once(path: &Path, saved: Option<&Checkpoint>) -> (Vec<Seen>, Checkpoint) {
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

#[test]
fn reading_once_finishes_a_file_rotated_since_the_checkpoint_and_holds_the_partial_line() {
    let dir = temp_dir("once");
    let (path, old) = (dir.path().join("log"), dir.path().join("log.1"));
    fs::write(&path, "one\ntw").unwrap();
    let (seen, saved) = read_once(&path, None);
    assert_eq!(seen, [line("one")], "the partial line is held");
    let (seen, saved) = read_once(&path, Some(&saved));
    assert_eq!(seen, [], "nothing new: nothing printed");
    // Between two runs: the line completed, another one and a partial one, then rotated; the
    // new file has a line and a partial one.
    append(&path, b"o\nthree\nfou");
    fs::rename(&path, &old).unwrap();
    fs::write(&path, "five\nsi").unwrap();
    let (seen, saved) = read_once(&path, Some(&saved));
    assert_eq!(
        seen,
        [line("two"), line("three"), line("fou"), line("five")],
        "the rotated file first, to its end (its last partial line too: it is finished)"
    );
    assert_eq!(
        saved.files().len(),
        1,
        "only the file at the path is left: {saved:?}"
    );
    assert_eq!(saved.files()[0].offset, 5, "before the held \"si\"");
    append(&path, b"x\n");
    let (seen, saved) = read_once(&path, Some(&saved));
    assert_eq!(seen, [line("six")], "the held line, whole");
    let (seen, _) = read_once(&path, Some(&saved));
    assert_eq!(seen, []);
}

/// How long a test waits for a wake-up that must come (a guard, not a speed assertion).
const WAKE: Duration = Duration::from_secs(10);

#[test]
fn a_symlinked_path_follows_rotation_and_re_creation_in_the_targets_directory() {
    let dir = temp_dir("symlink");
    let (logs, data) = (dir.path().join("logs"), dir.path().join("data"));
    fs::create_dir(&logs).unwrap();
    fs::create_dir(&data).unwrap();
    let target = data.join("current.log");
    fs::write(&target, "one\n").unwrap();
    let path = logs.join("app.log");
    std::os::unix::fs::symlink("../data/current.log", &path).unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("one"));
    // Removed in the target's directory: finished, then waited for; a file created there
    // later (after the grace period, with nothing open that could wake the reader) is seen.
    fs::remove_file(&target).unwrap();
    assert_eq!(next(&mut reader), Notice("removed"));
    assert_idle(&mut reader);
    fs::write(&target, "two\n").unwrap();
    assert!(
        wakes_within(&reader, WAKE),
        "a file created in the target's directory wakes"
    );
    assert_eq!(take(&mut reader, 2), [Notice("created"), line("two")]);
    // Renamed away there, the new file only after the grace period.
    fs::rename(&target, data.join("current.log.1")).unwrap();
    assert_eq!(next(&mut reader), Notice("removed"));
    assert_idle(&mut reader);
    fs::write(&target, "three\n").unwrap();
    assert!(
        wakes_within(&reader, WAKE),
        "after a rename in the target's directory"
    );
    assert_eq!(take(&mut reader, 2), [Notice("created"), line("three")]);
    // The link retargeted (`ln -sfn`) to a file in a third directory: that one is watched.
    let other = dir.path().join("other");
    fs::create_dir(&other).unwrap();
    fs::write(other.join("new.log"), "four\n").unwrap();
    let tmp = logs.join("app.log.tmp");
    std::os::unix::fs::symlink("../other/new.log", &tmp).unwrap();
    fs::rename(&tmp, &path).unwrap();
    let mut notices = Vec::new();
    assert_eq!(
        next_line_past(&mut reader, &["rotated"], &mut notices),
        "four"
    );
    fs::remove_file(other.join("new.log")).unwrap();
    assert_eq!(next(&mut reader), Notice("removed"));
    assert_idle(&mut reader);
    fs::write(other.join("new.log"), "five\n").unwrap();
    assert!(wakes_within(&reader, WAKE), "in the new target's directory");
    assert_eq!(take(&mut reader, 2), [Notice("created"), line("five")]);
    assert_idle(&mut reader);
}

#[test]
fn a_checkpoint_through_a_symlink_finds_the_target_rotated_in_its_own_directory() {
    let dir = temp_dir("symlink-resume");
    let (logs, data) = (dir.path().join("logs"), dir.path().join("data"));
    fs::create_dir(&logs).unwrap();
    fs::create_dir(&data).unwrap();
    let target = data.join("current.log");
    fs::write(&target, "one\n").unwrap();
    let path = logs.join("app.log");
    std::os::unix::fs::symlink(&target, &path).unwrap();
    let (seen, saved) = read_once(&path, None);
    assert_eq!(seen, [line("one")]);
    append(&target, b"two\n");
    fs::rename(&target, data.join("current.log.1")).unwrap();
    fs::write(&target, "three\n").unwrap();
    // No CheckpointMismatch (`read_once` fails on any notice): found by its inode in `data`.
    let (seen, _) = read_once(&path, Some(&saved));
    assert_eq!(seen, [line("two"), line("three")]);
}
