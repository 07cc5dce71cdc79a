//! Following growing files (`ReadFd::follow`, `tail -F` semantics): appends, rotation under a
//! writer that never stops, truncation, copytruncate, deletion, a file that comes later,
//! descriptor hygiene over many rotations, checkpoints, partial last lines.
//!
//! A follow reader is just `B::open(ReadFd::follow(path, options)?, framer)`: every backend
//! waits for the follow source's wait descriptor in its own reactor, so these cases hold every
//! backend, per message and per batch, to the same semantics.

use std::fs::{self, OpenOptions};
use std::io::Write;
use std::os::unix::fs::FileExt;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{FollowOptions, FollowStart};

pub(crate) mod steps;

use steps::{Idle, expect_quiet, follow, line, next_past_notices, notice, take_numbered_lines};

use crate::fixtures::{
    Progress, QUIET, STEP, TempDir, append, copytruncate, inotify_watches, line_number,
    numbered_line, open_descriptors, rotate, rotate_by_hard_link, spawn_line_writer,
    spawn_rotating_writer,
};
use crate::{Backend, Outcome, Seen, next_seen};

/// Appends of every size from one byte to 256 KiB, whose ends fall mid-line, just before a
/// `\n`, just after one, with many lines in one append and one line over several appends: each
/// line arrives exactly once, in order, as soon as it is complete, and between the appends
/// the reader waits (without spinning) instead of ending or repeating anything.
pub fn appends_of_every_size_arrive_once_in_order_and_the_reader_waits_between<B: Backend>()
-> Outcome {
    const SIZES: [usize; 14] = [
        1, 1, 2, 3, 7, 64, 255, 4095, 4096, 4097, 65535, 65536, 65537, 262_144,
    ];
    const EXTRA: [usize; 18] = [
        0, 1, 2, 7, 80, 4095, 3, 65536, 5, 150_000, 12, 4096, 0, 300, 1000, 20, 1, 8190,
    ];
    let total: usize = SIZES.iter().sum();
    // Line `i` is `i:` and filler: every line differs, so a repeat or a loss shows.
    let mut lines: Vec<Vec<u8>> = Vec::new();
    let mut len = 0;
    while len < total {
        let i = lines.len();
        let mut text = format!("{i}:").into_bytes();
        text.resize(text.len() + EXTRA[i % EXTRA.len()], b'a' + (i % 26) as u8);
        len += text.len() + 1;
        lines.push(text);
    }
    let text: Vec<u8> = lines
        .iter()
        .flat_map(|l| l.iter().chain(b"\n"))
        .copied()
        .collect();
    let mut chunks: Vec<&[u8]> = Vec::new();
    let mut rest = &text[..];
    for (k, size) in SIZES.iter().enumerate() {
        let take = if k + 1 == SIZES.len() {
            rest.len()
        } else {
            *size
        };
        chunks.push(&rest[..take]);
        rest = &rest[take..];
    }
    assert_every_boundary_kind(&text, &chunks);

    let dir = TempDir::new("follow-appends");
    let path = dir.path().join("app.log");
    fs::write(&path, b"").unwrap();
    let mut reader = follow::<B>(&path, FollowOptions::new());
    let mut idle = Idle::default();
    idle.expect_waiting(&mut reader, QUIET, "an empty file");
    let mut expected = lines.iter();
    let mut complete = 0; // bytes of whole lines written so far
    let mut written = 0;
    for chunk in &chunks {
        append(&path, chunk);
        written += chunk.len();
        while let Some(next) = expected.as_slice().first()
            && complete + next.len() < written
        {
            complete += next.len() + 1;
            expected.next();
            match next_seen(&mut reader, STEP) {
                Seen::Item(item) if item == next[..] => {}
                other => panic!(
                    "after {written} bytes: expected the line of {} bytes starting {:?}, got {:?}",
                    next.len(),
                    String::from_utf8_lossy(&next[..next.len().min(12)]),
                    short(&other)
                ),
            }
        }
        let what = format!("after an append of {} bytes", chunk.len());
        idle.expect_waiting(&mut reader, Duration::from_millis(20), &what);
    }
    assert_eq!(expected.len(), 0, "every line was checked");
    idle.assert_no_busy_loop();
    Ok(())
}

/// The appends' ends fall at every kind of place: mid-line, just before a `\n`, just after
/// one; one append holds many lines, and one line spans at least three appends.
fn assert_every_boundary_kind(text: &[u8], chunks: &[&[u8]]) {
    let (mut mid, mut before, mut after, mut many) = (0, 0, 0, 0);
    // Appends in a row without a `\n`: a run of two means a line over at least three appends.
    let (mut run, mut longest_run) = (0, 0);
    let mut end = 0;
    for chunk in chunks {
        end += chunk.len();
        if chunk.ends_with(b"\n") {
            after += 1;
        } else if text.get(end) == Some(&b'\n') {
            before += 1;
        } else {
            mid += 1;
        }
        let newlines = chunk.iter().filter(|b| **b == b'\n').count();
        if newlines >= 2 {
            many += 1;
        }
        run = if newlines == 0 { run + 1 } else { 0 };
        longest_run = longest_run.max(run);
    }
    assert!(
        mid > 0 && before > 0 && after > 0 && many > 0 && longest_run >= 2,
        "the fixture must split lines at every kind of boundary: mid-line {mid}, \
         before a \\n {before}, after one {after}, many lines {many}, appends in a row \
         inside one line {longest_run}"
    );
}

/// A step, with an item cut short for a readable failure.
fn short(seen: &Seen<Bytes>) -> String {
    match seen {
        Seen::Item(item) => format!(
            "item of {} bytes starting {:?}",
            item.len(),
            String::from_utf8_lossy(&item[..item.len().min(12)])
        ),
        other => format!("{other:?}"),
    }
}

/// The log is rotated 1,000 times by rename (to `app.log.1`, replacing the previous one, then
/// a new file) while a logger never stops writing, and writes a few lines to its old descriptor
/// after each rename: every line arrives exactly once, in order, those written to a rotated
/// file included.
pub fn thousand_rotations_under_a_writer_that_never_stops_lose_and_repeat_nothing<B: Backend>()
-> Outcome {
    let dir = TempDir::in_memory("follow-rotations");
    let path = dir.path().join("app.log");
    let progress = Progress::shared();
    let writer = spawn_rotating_writer(path.clone(), 1000, Arc::clone(&progress));
    // A long grace: the logger's lines after a rename must not miss it on a loaded machine.
    let options = FollowOptions::new().rotate_wait(Duration::from_secs(1));
    let mut reader = follow::<B>(&path, options);
    let mut notices = Vec::new();
    let mut total = None;
    let delivered = take_numbered_lines(
        &mut reader,
        &progress,
        &["Rotated", "Removed", "Created"],
        &mut notices,
        || {
            if total.is_none() && writer.is_finished() {
                total = Some(progress.written.load(Ordering::Acquire));
            }
            total
        },
    );
    let written = writer.join().expect("the writer");
    assert_eq!(delivered, written);
    expect_quiet(
        &mut reader,
        &["Rotated", "Removed", "Created"],
        "after the last line",
    );
    Ok(())
}

/// Hard-link rotation (`ln app.log app.log.1`, then a new file renamed over `app.log`: the path
/// never names no file): the old file is finished first (a line its logger writes after the
/// switch included), then the new one; nothing lost, nothing twice.
pub fn hard_link_rotation_finishes_the_old_file_then_reads_the_new_one<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-hard-link");
    let path = dir.path().join("app.log");
    fs::write(&path, b"old 1\n").unwrap();
    let options = FollowOptions::new().rotate_wait(Duration::from_millis(200));
    let mut reader = follow::<B>(&path, options);
    assert_eq!(next_seen(&mut reader, STEP), line("old 1"));
    let mut logger = OpenOptions::new().append(true).open(&path).unwrap();
    logger.write_all(b"old 2\n").unwrap();
    rotate_by_hard_link(&path, b"new 1\n");
    logger.write_all(b"old 3\n").unwrap(); // after the switch, within the grace period
    drop(logger);
    let mut notices = Vec::new();
    let mut got = Vec::new();
    for _ in 0..3 {
        match next_past_notices(&mut reader, STEP, &["Rotated"], &mut notices) {
            Seen::Item(item) => got.push(String::from_utf8_lossy(&item).into_owned()),
            other => panic!("expected a line, got {other:?} after {got:?}"),
        }
    }
    // "old 3" and "new 1" were written to two files at nearly the same time: either order is
    // right; "old 2" was written before the switch and comes first.
    let mut rest = got[1..].to_vec();
    rest.sort();
    assert_eq!(
        (got[0].as_str(), rest),
        ("old 2", vec!["new 1".to_string(), "old 3".to_string()]),
        "every line once, the old file's line from before the switch first: {got:?}"
    );
    expect_quiet(&mut reader, &["Rotated"], "after the three lines");
    assert_eq!(notices.len(), 1, "one rotation, one notice: {notices:?}");
    Ok(())
}

/// A file that shrinks, is rewritten in place with the same size, or is truncated and rewritten
/// longer: each time a `Truncated` notice, then the new content from its start; appends after
/// that are read as usual.
pub fn truncation_is_a_notice_then_the_new_content_from_its_start<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-truncate");
    let path = dir.path().join("app.log");
    fs::write(&path, b"first line\nsecond line\n").unwrap();
    let mut reader = follow::<B>(&path, FollowOptions::new());
    assert_eq!(next_seen(&mut reader, STEP), line("first line"));
    assert_eq!(next_seen(&mut reader, STEP), line("second line"));
    expect_quiet(&mut reader, &[], "both lines read");

    // Shrunk: shorter than what was read.
    fs::write(&path, b"short\n").unwrap();
    assert_eq!(next_seen(&mut reader, STEP), notice("Truncated"), "shrunk");
    assert_eq!(next_seen(&mut reader, STEP), line("short"));
    expect_quiet(&mut reader, &[], "after the shrink");

    // The same size, other first bytes, never shorter: only the fingerprint can tell.
    let file = OpenOptions::new().write(true).open(&path).unwrap();
    file.write_all_at(b"other\n", 0).unwrap();
    drop(file);
    assert_eq!(
        next_seen(&mut reader, STEP),
        notice("Truncated"),
        "rewritten in place"
    );
    assert_eq!(next_seen(&mut reader, STEP), line("other"));
    expect_quiet(&mut reader, &[], "after the rewrite in place");

    // Truncated and rewritten longer than what was read.
    fs::write(&path, b"rewritten 1\nrewritten 2\n").unwrap();
    assert_eq!(
        next_seen(&mut reader, STEP),
        notice("Truncated"),
        "rewritten longer"
    );
    assert_eq!(next_seen(&mut reader, STEP), line("rewritten 1"));
    assert_eq!(next_seen(&mut reader, STEP), line("rewritten 2"));
    append(&path, b"appended\n");
    assert_eq!(next_seen(&mut reader, STEP), line("appended"));
    expect_quiet(&mut reader, &[], "after the append");
    Ok(())
}

/// logrotate's `copytruncate`, 20 times, while a logger goes on writing through its
/// `O_APPEND` descriptor: one `Truncated` notice each time, lines in order and never twice, and
/// none lost but those the copy-then-truncate window itself loses: each truncation happens
/// once the reader has caught up to a point, lines up to it come before the notice, and every
/// line written after the truncation comes after it.
pub fn copytruncate_is_a_notice_and_the_writer_goes_on<B: Backend>() -> Outcome {
    const ROUNDS: usize = 20;
    let dir = TempDir::new("follow-copytruncate");
    let path = dir.path().join("app.log");
    fs::write(&path, b"").unwrap();
    let mut reader = follow::<B>(&path, FollowOptions::new());
    let progress = Progress::shared();
    let stop = Arc::new(AtomicBool::new(false));
    let writer = spawn_line_writer(path.clone(), Arc::clone(&progress), Arc::clone(&stop));

    // `last`: the last line delivered; `truncated`: notices so far; a gap in the numbers is
    // allowed only right after a notice, and only within that round's window.
    let mut last: Option<u64> = None;
    let mut truncated = 0;
    let mut gap_allowed_up_to: Option<u64> = None;
    let mut take_until = |reader: &mut B::Reader<LinesDecoder>,
                          target: u64,
                          truncated: &mut usize,
                          window_end: Option<u64>| {
        let started = Instant::now();
        while last.is_none_or(|last| last < target) {
            match next_seen(reader, Duration::from_millis(100)) {
                Seen::Item(item) => {
                    let n = line_number(&item);
                    let due = last.map_or(0, |last| last + 1);
                    if n != due {
                        let allowed = gap_allowed_up_to.take();
                        assert!(
                            n > due && allowed.is_some_and(|end| n <= end),
                            "line {n} where {due} was due (a gap is allowed only right after a \
                             Truncated notice, up to the first line written after it: {allowed:?})"
                        );
                    }
                    gap_allowed_up_to = None;
                    last = Some(n);
                    progress.delivered.store(n + 1, Ordering::Release);
                }
                Seen::Error(e) if e == "Follow: Truncated" => {
                    *truncated += 1;
                    gap_allowed_up_to = window_end;
                }
                Seen::Timeout => {
                    assert!(started.elapsed() < STEP, "no line {target} within {STEP:?}")
                }
                other => panic!("expected a line, got {other:?}"),
            }
        }
    };
    for round in 1..=ROUNDS {
        // Caught up to everything written before the copy...
        let before = progress.written.load(Ordering::Acquire);
        take_until(&mut reader, before.saturating_sub(1), &mut truncated, None);
        copytruncate(&path);
        // ...and every line numbered past `after` was written after the truncation.
        let after = progress.written.load(Ordering::Acquire);
        take_until(&mut reader, after + 1, &mut truncated, Some(after + 1));
        assert_eq!(truncated, round, "one Truncated notice per copytruncate");
    }
    stop.store(true, Ordering::Release);
    writer.join().expect("the writer");
    let written = progress.written.load(Ordering::Acquire);
    take_until(&mut reader, written - 1, &mut truncated, None);
    assert_eq!(truncated, ROUNDS);
    expect_quiet(&mut reader, &[], "after the last line");
    Ok(())
}

/// A deleted file is finished like a rotated one (a line its writer adds after the unlink, within
/// the grace period, still comes), then a `Removed` notice and a wait that does not spin; a new
/// file at the path gives a `Created` notice and its lines from the start.
pub fn a_deleted_file_is_finished_then_removed_then_recreated<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-delete");
    let path = dir.path().join("app.log");
    fs::write(&path, b"before\n").unwrap();
    let options = FollowOptions::new().rotate_wait(Duration::from_millis(200));
    let mut reader = follow::<B>(&path, options);
    assert_eq!(next_seen(&mut reader, STEP), line("before"));
    let mut logger = OpenOptions::new().append(true).open(&path).unwrap();
    fs::remove_file(&path).unwrap();
    logger.write_all(b"after the unlink\n").unwrap();
    drop(logger);
    assert_eq!(next_seen(&mut reader, STEP), line("after the unlink"));
    assert_eq!(next_seen(&mut reader, STEP), notice("Removed"));
    let mut idle = Idle::default();
    for _ in 0..3 {
        idle.expect_waiting(&mut reader, QUIET, "no file at the path");
    }
    idle.assert_no_busy_loop();
    fs::write(&path, b"new file 1\nnew file 2\n").unwrap();
    assert_eq!(next_seen(&mut reader, STEP), notice("Created"));
    assert_eq!(next_seen(&mut reader, STEP), line("new file 1"));
    assert_eq!(next_seen(&mut reader, STEP), line("new file 2"));
    expect_quiet(&mut reader, &[], "after the new file's lines");
    Ok(())
}

/// Following a path that names no file yet waits (without spinning) for it, then reads the file
/// from its start.
pub fn a_file_created_after_the_reader_started_is_read_from_its_start<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-later");
    let path = dir.path().join("app.log");
    let mut reader = follow::<B>(&path, FollowOptions::new());
    let mut idle = Idle::default();
    for _ in 0..3 {
        idle.expect_waiting(&mut reader, QUIET, "no file yet");
    }
    idle.assert_no_busy_loop();
    fs::write(&path, b"one\ntwo\n").unwrap();
    let mut notices = Vec::new();
    assert_eq!(
        next_past_notices(&mut reader, STEP, &["Created"], &mut notices),
        line("one")
    );
    assert_eq!(next_seen(&mut reader, STEP), line("two"));
    assert!(
        notices.len() <= 1,
        "one Created notice at most: {notices:?}"
    );
    append(&path, b"three\n");
    assert_eq!(next_seen(&mut reader, STEP), line("three"));
    expect_quiet(&mut reader, &[], "after the lines");
    Ok(())
}

/// Over 10,000 rotations (one line each, every line checked) the reader's descriptors and
/// inotify watches stay bounded (the current file, up to 16 rotated files within their grace
/// period), and fall back once the grace periods are over; dropping the reader frees them all.
pub fn descriptors_and_watches_do_not_grow_over_ten_thousand_rotations<B: Backend>() -> Outcome {
    const ROTATIONS: u64 = 10_000;
    /// Rotated files the follow source keeps at most (finishing the oldest early past that).
    const KEPT: usize = 16;
    /// Room for descriptors not the reader's (a runtime's lazily opened ones).
    const SLACK: usize = 4;
    // In memory where there is a tmpfs: 10,000 renames and creations on a journaling disk file
    // system cost seconds per backend, and the follow source does not care.
    let dir = TempDir::in_memory("follow-descriptors");
    let path = dir.path().join("app.log");
    fs::write(&path, numbered_line(0)).unwrap();
    let options = || FollowOptions::new().rotate_wait(Duration::from_millis(10));
    let allowed = ["Rotated", "Removed", "Created"];
    let mut notices = Vec::new();
    // The backend's own descriptors (a thread's runtime or `Poll`) come into being with its
    // first reader: before the counts.
    let mut first = follow::<B>(&path, options());
    assert_eq!(next_seen(&mut first, STEP), line("0"));
    drop(first);
    let (fds_before, watches_before) = (open_descriptors(), inotify_watches());
    let mut reader = follow::<B>(&path, options());
    assert_eq!(
        next_past_notices(&mut reader, STEP, &allowed, &mut notices),
        line("0")
    );
    let (fds_open, watches_open) = (open_descriptors(), inotify_watches());
    let (mut fds_max, mut watches_max) = (fds_open, watches_open);
    for n in 1..=ROTATIONS {
        // The line is written into the new file and read before that file is rotated away in
        // turn: the reader has then seen every generation at the path.
        rotate(&path);
        append(&path, &numbered_line(n));
        match next_past_notices(&mut reader, STEP, &allowed, &mut notices) {
            Seen::Item(item) if line_number(&item) == n => {}
            other => panic!("rotation {n}: expected line {n}, got {other:?}"),
        }
        if n % 100 == 0 {
            fds_max = fds_max.max(open_descriptors());
            watches_max = watches_max.max(inotify_watches());
            assert!(
                fds_max <= fds_open + KEPT + SLACK && watches_max <= watches_open + KEPT + SLACK,
                "rotation {n}: {fds_max} descriptors ({fds_open} once open), \
                 {watches_max} inotify watches ({watches_open} once open)"
            );
        }
    }
    // Let every grace period end; the reader closes those files as it handles its timer.
    let settle = Instant::now() + Duration::from_millis(500);
    while Instant::now() < settle {
        let step = next_past_notices(
            &mut reader,
            Duration::from_millis(50),
            &allowed,
            &mut notices,
        );
        assert_eq!(step, Seen::Timeout, "nothing after the last line");
    }
    let (fds_after, watches_after) = (open_descriptors(), inotify_watches());
    assert!(
        fds_after <= fds_open + 1 && watches_after <= watches_open + 1,
        "after the grace periods: {fds_after} descriptors ({fds_open} once open), \
         {watches_after} watches ({watches_open} once open)"
    );
    drop(reader);
    let (fds_dropped, watches_dropped) = (open_descriptors(), inotify_watches());
    assert!(
        fds_dropped <= fds_before && watches_dropped <= watches_before,
        "after dropping the reader: {fds_dropped} descriptors ({fds_before} before), \
         {watches_dropped} watches ({watches_before} before)"
    );
    Ok(())
}

/// A partial last line is held while it is incomplete, completed by later writes, those to the
/// file after it was rotated away included, and delivered once, when its file's grace period is
/// over; then the new file's lines, and the reader sleeps again (no busy loop on the finished
/// file).
pub fn a_partial_last_line_is_held_until_completed_and_delivered_once_rotated_away<B: Backend>()
-> Outcome {
    let dir = TempDir::new("follow-partial");
    let path = dir.path().join("app.log");
    fs::write(&path, b"one\ntw").unwrap();
    let options = FollowOptions::new().rotate_wait(Duration::from_millis(200));
    let mut reader = follow::<B>(&path, options);
    let mut idle = Idle::default();
    assert_eq!(next_seen(&mut reader, STEP), line("one"));
    idle.expect_waiting(&mut reader, QUIET, "\"tw\" is not a line yet");
    append(&path, b"o\nthr");
    assert_eq!(next_seen(&mut reader, STEP), line("two"));
    idle.expect_waiting(&mut reader, QUIET, "\"thr\" is not a line yet");
    idle.assert_no_busy_loop();

    let mut logger = OpenOptions::new().append(true).open(&path).unwrap();
    rotate(&path);
    logger.write_all(b"ee").unwrap(); // still no `\n`: the rotated file's last line
    drop(logger);
    append(&path, b"four\n");
    let mut notices = Vec::new();
    let allowed = ["Rotated"];
    assert_eq!(
        next_past_notices(&mut reader, STEP, &allowed, &mut notices),
        line("three"),
        "the rotated file's partial last line, completed after the rename, once its grace is over"
    );
    assert_eq!(
        next_past_notices(&mut reader, STEP, &allowed, &mut notices),
        line("four")
    );
    assert!(
        notices.len() <= 1,
        "one rotation, one notice at most: {notices:?}"
    );
    // "three" comes once, and the reader sleeps again with its rotated file closed.
    let mut idle = Idle::default();
    for _ in 0..3 {
        idle.expect_waiting(&mut reader, QUIET, "after the new file's line");
    }
    idle.assert_no_busy_loop();
    Ok(())
}

/// `FollowStart::End` skips what the file holds at the start and delivers what is appended.
pub fn following_from_the_end_sees_only_new_lines<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-end");
    let path = dir.path().join("app.log");
    fs::write(&path, b"old 1\nold 2\n").unwrap();
    let mut reader = follow::<B>(&path, FollowOptions::new().start(FollowStart::End));
    expect_quiet(&mut reader, &[], "only old lines so far");
    append(&path, b"new 1\n");
    assert_eq!(next_seen(&mut reader, STEP), line("new 1"));
    expect_quiet(&mut reader, &[], "after the new line");
    Ok(())
}
