//! Follow mode end to end on real files with the blocking reader: appends, rotation,
//! truncation, deletion, descriptor bounds. (Checkpoints: `follow_checkpoints.rs`; directories
//! and symlinks: `follow_paths.rs`.)

#[path = "follow_support/mod.rs"]
#[allow(
    dead_code,
    reason = "shared by the follow test binaries, each uses part of it"
)]
mod support;

use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::task::Poll;
use std::time::Duration;

use fdframe::Error;
use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{FollowNotice, FollowOptions, FollowStart};

use support::Seen::{Line, Notice};
use support::*;

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
