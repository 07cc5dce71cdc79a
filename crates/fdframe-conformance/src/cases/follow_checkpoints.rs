//! Restarting a follower: a checkpoint taken mid-stream and resumed through a rotation,
//! batch runs that read what is there and stop (reading once), and a restart across two
//! rotations. Like [`follow`](super::follow), on every backend and path.

use std::fs;
use std::time::Duration;

use fdframe::follow::{Checkpoint, FollowOptions, FollowStart};

use super::follow::steps::{expect_quiet, follow, next_past_notices};
use crate::fixtures::{STEP, TempDir, append, line_number, numbered_line, numbered_lines, rotate};
use crate::{Backend, Outcome, Reader, Seen, next_seen};

/// A reader is dropped mid-stream (a partial line pending) and its checkpoint kept; more is
/// written (completing that line), the log is rotated once and the new file written; a new
/// reader started from the checkpoint delivers exactly the lines after the checkpoint: nothing
/// lost, nothing repeated.
pub fn restart_from_a_checkpoint_loses_and_repeats_nothing<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-checkpoint");
    let path = dir.path().join("app.log");
    let mut text = numbered_lines("", 2000);
    text.extend_from_slice(b"20"); // line 2000, half written
    fs::write(&path, &text).unwrap();
    let options = || FollowOptions::new().rotate_wait(Duration::from_millis(100));
    let mut reader = follow::<B>(&path, options());
    // Past line 700, at the first place the reader can say where it stands (the glue of a
    // batch path only can between batches).
    let mut next = 0;
    let checkpoint = loop {
        match next_seen(&mut reader, STEP) {
            Seen::Item(item) => assert_eq!(line_number(&item), next, "first reader"),
            other => panic!("first reader: expected line {next}, got {other:?}"),
        }
        next += 1;
        if next >= 700
            && let Some(checkpoint) = reader.checkpoint()
        {
            break checkpoint;
        }
    };
    let saved = checkpoint.encode();
    assert!(
        saved.len() < 4096,
        "a checkpoint is small: {} bytes",
        saved.len()
    );
    let restored = Checkpoint::parse(&saved).expect("a checkpoint parses back");
    assert_eq!(
        restored, checkpoint,
        "encode then parse gives the same checkpoint"
    );
    drop(reader);

    let mut more = b"00\n".to_vec();
    more.extend((2001..2500).flat_map(numbered_line));
    append(&path, &more);
    rotate(&path);
    append(
        &path,
        &(2500..3000).flat_map(numbered_line).collect::<Vec<u8>>(),
    );

    let mut reader = follow::<B>(&path, options().start(FollowStart::Checkpoint(restored)));
    let mut notices = Vec::new();
    for expected in next..3000 {
        match next_past_notices(&mut reader, STEP, &["Rotated"], &mut notices) {
            Seen::Item(item) if line_number(&item) == expected => {}
            other => panic!(
                "restarted at line {next}: expected line {expected}, got {other:?} \
                 (a CheckpointMismatch or another line means lost or repeated lines)"
            ),
        }
    }
    expect_quiet(&mut reader, &["Rotated"], "after the last line");
    Ok(())
}

/// One batch run over `path` (see "Reading once" in `fdframe::follow`): a reader with no grace
/// period, read with the ready-now step until nothing is ready; the lines and the checkpoint.
fn read_once<B: Backend>(
    path: &std::path::Path,
    saved: Option<&Checkpoint>,
) -> (Vec<u64>, Checkpoint) {
    let start = saved.map_or(FollowStart::Beginning, |cp| {
        FollowStart::Checkpoint(cp.clone())
    });
    let options = FollowOptions::new()
        .start(start)
        .rotate_wait(Duration::ZERO);
    let mut reader = follow::<B>(path, options);
    let mut lines = Vec::new();
    loop {
        match reader.next_now() {
            std::task::Poll::Ready(Some(Ok(item))) => lines.push(line_number(&item)),
            std::task::Poll::Ready(other) => panic!("a run once: unexpected {other:?}"),
            std::task::Poll::Pending if reader.framer().is_yielding() => {}
            std::task::Poll::Pending => break,
        }
    }
    let checkpoint = reader
        .checkpoint()
        .expect("nothing ready: the glue holds no item, so it knows where the reader stands");
    (lines, checkpoint)
}

/// Batch runs (cron): each reads what is there now and stops, with a checkpoint; the next run
/// resumes from it. A run with nothing new gives nothing; a partial last line is held for the
/// next run, which delivers it whole; a file rotated between two runs (written to after the
/// checkpoint, ending in a partial line) is found by its inode and finished first, then the new
/// file. Every line exactly once, in order, over the runs.
pub fn reading_once_from_a_checkpoint_delivers_each_line_once_over_runs<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-once");
    let path = dir.path().join("app.log");
    let mut text = numbered_lines("", 300);
    text.extend_from_slice(b"30"); // line 300, half written
    fs::write(&path, &text).unwrap();
    let (lines, saved) = read_once::<B>(&path, None);
    assert_eq!(lines, (0..300).collect::<Vec<_>>(), "first run");
    let (lines, saved) = read_once::<B>(&path, Some(&saved));
    assert_eq!(lines, [] as [u64; 0], "nothing new: nothing");
    let mut more = b"0\n".to_vec();
    more.extend((301..400).flat_map(numbered_line));
    more.extend_from_slice(b"400"); // the rotated file's partial last line
    append(&path, &more);
    rotate(&path);
    let mut new = (401..500).flat_map(numbered_line).collect::<Vec<u8>>();
    new.extend_from_slice(b"50"); // line 500, half written
    append(&path, &new);
    let (lines, saved) = read_once::<B>(&path, Some(&saved));
    assert_eq!(
        lines,
        (300..500).collect::<Vec<_>>(),
        "the rotated file to its end (its partial last line too), then the new file"
    );
    append(&path, b"0\n");
    let (lines, saved) = read_once::<B>(&path, Some(&saved));
    assert_eq!(lines, [500], "the held line, whole");
    let (lines, _) = read_once::<B>(&path, Some(&saved));
    assert_eq!(lines, [] as [u64; 0], "nothing new again");
    Ok(())
}

/// Two rotations while no reader ran: the checkpoint's file went to `app.log.2`, a file that
/// came after it was written and went to `app.log.1`, and a third is at the path. The
/// restarted reader finishes the checkpoint's file, names `app.log.1` in one `RotatedUnread`
/// notice (the checkpoint does not know it, so it is not read), and reads the file at the
/// path — where the file in between used to be passed over in silence.
pub fn a_restart_across_two_rotations_names_the_file_in_between<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-two-rotations");
    let path = dir.path().join("app.log");
    let (one, two) = (dir.path().join("app.log.1"), dir.path().join("app.log.2"));
    fs::write(&path, (0..3).flat_map(numbered_line).collect::<Vec<u8>>()).unwrap();
    let (lines, checkpoint) = read_once::<B>(&path, None);
    assert_eq!(lines, [0, 1, 2], "the first run");
    append(&path, &numbered_line(3)); // written to the checkpoint's file after the checkpoint
    // File times tick coarsely (a few ms): apart, so that the file in between is written
    // after the checkpoint's file.
    std::thread::sleep(Duration::from_millis(20));
    fs::rename(&path, &one).unwrap();
    fs::write(&path, (4..6).flat_map(numbered_line).collect::<Vec<u8>>()).unwrap();
    fs::rename(&one, &two).unwrap();
    fs::rename(&path, &one).unwrap();
    fs::write(&path, (6..8).flat_map(numbered_line).collect::<Vec<u8>>()).unwrap();

    let options = FollowOptions::new()
        .start(FollowStart::Checkpoint(checkpoint))
        .rotate_wait(Duration::ZERO);
    let mut reader = follow::<B>(&path, options);
    let allowed = ["Rotated", "RotatedUnread"];
    let mut notices = Vec::new();
    for expected in [3, 6, 7] {
        match next_past_notices(&mut reader, STEP, &allowed, &mut notices) {
            Seen::Item(item) if line_number(&item) == expected => {}
            other => panic!("expected line {expected}, got {other:?}"),
        }
    }
    expect_quiet(&mut reader, &allowed, "after the last line");
    let unread = notices
        .iter()
        .filter(|n| *n == "Follow: RotatedUnread")
        .count();
    assert_eq!(unread, 1, "app.log.1 is named once: {notices:?}");
    Ok(())
}
