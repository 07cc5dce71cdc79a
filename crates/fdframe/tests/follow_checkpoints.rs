//! Follow mode's checkpoints end to end: resuming mid-stream, after a rotation, with a
//! mismatch, with a partial line pending; reading once (batch runs).

#[path = "follow_support/mod.rs"]
#[allow(
    dead_code,
    reason = "shared by the follow test binaries, each uses part of it"
)]
mod support;

use std::fs::{self, File, OpenOptions};
use std::io::Write;

use fdframe::follow::FollowStart;

use support::Seen::Notice;
use support::*;

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

/// Two rotations while nothing ran: the checkpoint's file went to `log.2`, a file that came
/// after it was written and went to `log.1`, and a third is at the path. The checkpoint does
/// not know `log.1`: it is not read (which of the directory's files belong to the log would
/// take the rotation's naming scheme), but it is said, where it used to be lost silently.
#[test]
fn a_file_rotated_in_and_away_again_while_nothing_ran_is_a_notice_not_a_silent_loss() {
    let dir = temp_dir("checkpoint-two-rotations");
    let path = dir.path().join("log");
    let (one, two) = (dir.path().join("log.1"), dir.path().join("log.2"));
    // Older generations and files that only look alike: never reported.
    fs::write(dir.path().join("log.3"), "z\n").unwrap();
    // File times tick coarsely (a few ms): apart, so that "written after" is well defined.
    let tick = || std::thread::sleep(std::time::Duration::from_millis(20));
    tick();
    fs::write(&path, "a1\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("a1"));
    let saved = reader.checkpoint().unwrap().encode();
    drop(reader);
    fs::rename(&path, &one).unwrap();
    tick();
    fs::write(&path, "b1\n").unwrap();
    fs::rename(&one, &two).unwrap();
    fs::rename(&path, &one).unwrap();
    fs::write(&path, "c1\n").unwrap();
    fs::write(dir.path().join("log.pos"), "a checkpoint of another tool\n").unwrap();
    fs::write(dir.path().join("log.1.gz"), "compressed\n").unwrap();
    let mut reader = follow(
        &path,
        quick().start(FollowStart::Checkpoint(
            fdframe::follow::Checkpoint::parse(&saved).unwrap(),
        )),
    );
    let mut notices = Vec::new();
    let mut lines = Vec::new();
    while lines.is_empty() {
        match reader.poll_next_now() {
            std::task::Poll::Ready(Some(Ok(l))) => {
                lines.push(String::from_utf8_lossy(&l).into_owned())
            }
            std::task::Poll::Ready(Some(Err(fdframe::Error::Follow(notice)))) => {
                notices.push(notice)
            }
            other => panic!("unexpected {other:?}"),
        }
    }
    assert_eq!(lines, ["c1"], "the file at the path is read");
    assert_eq!(
        notices,
        [fdframe::follow::FollowNotice::RotatedUnread {
            path: path.clone(),
            file: one.clone().into_boxed_path()
        }],
        "log.1 is named, and nothing else"
    );
    assert_idle(&mut reader);
    // One rotation only (the common case): no such notice.
    let dir = temp_dir("checkpoint-one-rotation");
    let path = dir.path().join("log");
    fs::write(dir.path().join("log.2"), "older\n").unwrap();
    tick();
    fs::write(&path, "a1\n").unwrap();
    let mut reader = follow(&path, quick());
    assert_eq!(next(&mut reader), line("a1"));
    let saved = reader.checkpoint().unwrap().encode();
    drop(reader);
    fs::rename(&path, dir.path().join("log.1")).unwrap();
    fs::write(&path, "b1\n").unwrap();
    let mut reader = resume(&path, &saved, quick());
    assert_eq!(next(&mut reader), line("b1"));
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
