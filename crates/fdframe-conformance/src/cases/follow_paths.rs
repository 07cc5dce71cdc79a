//! Following a path whose directories change: a directory removed and re-created (or renamed
//! away and replaced), a directory that does not exist yet, a symlink at the path whose target
//! lives in another directory. Like [`follow`](super::follow), on every backend and path.

use std::fs;
use std::time::Duration;

use bytes::Bytes;
use fdframe::codec::LinesDecoder;
use fdframe::follow::{FollowOptions, FollowStart};

use super::follow::steps::{Idle, expect_quiet, follow, line, next_past_notices, notice};
use crate::fixtures::{QUIET, STEP, TempDir, append, line_number, numbered_line};
use crate::{Backend, Outcome, Reader, Seen, next_seen};

/// Whether `seen` is a `DirectoryRemoved` notice.
fn is_directory_removed(seen: &Seen<Bytes>) -> bool {
    matches!(seen, Seen::Error(e) if e == "Follow: DirectoryRemoved")
}

/// The next line, passing over `DirectoryRemoved` and the notices in `allowed` (all counted
/// in `notices`).
fn next_line_past_directory_notices<R: Reader<LinesDecoder>>(
    reader: &mut R,
    allowed: &[&str],
    notices: &mut Vec<String>,
) -> Seen<Bytes> {
    loop {
        let seen = next_past_notices(reader, STEP, allowed, notices);
        if is_directory_removed(&seen) {
            notices.push("DirectoryRemoved".to_string());
            continue;
        }
        return seen;
    }
}

/// The followed file's directory is removed (`rm -rf`): a `DirectoryRemoved` notice, the file
/// finished and `Removed`, a wait that does not spin while there is no directory; the directory
/// is created again and a file in it is followed (`Created`, its lines from the start, its
/// appends). Then `rm -rf d && mkdir d && echo x >> d/log` faster than the reader looks, and a
/// directory renamed away with a new one in its place: each time the new file's line comes.
/// (That one directory watch is kept whatever the rounds is the core's unit test: counting
/// the process's watches here would count the other cases' too.)
pub fn a_directory_removed_and_re_created_is_followed_again<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-dir-gone");
    let app = dir.path().join("app");
    let path = app.join("app.log");
    fs::create_dir(&app).unwrap();
    fs::write(&path, b"before\n").unwrap();
    let options = FollowOptions::new().rotate_wait(Duration::from_millis(50));
    let mut reader = follow::<B>(&path, options);
    assert_eq!(next_seen(&mut reader, STEP), line("before"));
    fs::remove_dir_all(&app).unwrap();
    let seen = next_seen(&mut reader, STEP);
    assert!(is_directory_removed(&seen), "directory removed: {seen:?}");
    assert_eq!(next_seen(&mut reader, STEP), notice("Removed"));
    let mut idle = Idle::default();
    for _ in 0..3 {
        idle.expect_waiting(&mut reader, QUIET, "no directory");
    }
    fs::create_dir(&app).unwrap();
    idle.expect_waiting(&mut reader, QUIET, "an empty new directory");
    idle.assert_no_busy_loop();
    fs::write(&path, b"new 1\nnew 2\n").unwrap();
    assert_eq!(next_seen(&mut reader, STEP), notice("Created"));
    assert_eq!(next_seen(&mut reader, STEP), line("new 1"));
    assert_eq!(next_seen(&mut reader, STEP), line("new 2"));
    append(&path, b"new 3\n");
    assert_eq!(next_seen(&mut reader, STEP), line("new 3"));
    expect_quiet(&mut reader, &[], "after the new file's lines");

    let allowed = ["Removed", "Rotated", "Created"];
    let mut notices = Vec::new();
    for round in 0..50u64 {
        if round % 2 == 0 {
            fs::remove_dir_all(&app).unwrap();
        } else {
            let old = dir.path().join("app.old");
            let _ = fs::remove_dir_all(&old);
            fs::rename(&app, &old).unwrap();
        }
        fs::create_dir(&app).unwrap();
        append(&path, &numbered_line(round));
        match next_line_past_directory_notices(&mut reader, &allowed, &mut notices) {
            Seen::Item(item) if line_number(&item) == round => {}
            other => panic!("round {round}: expected line {round}, got {other:?}"),
        }
        assert!(
            notices.iter().any(|n| n == "DirectoryRemoved"),
            "round {round}: the replaced directory is said: {notices:?}"
        );
        notices.clear();
    }
    Ok(())
}

/// Following a path whose directories do not exist yet waits (without spinning) while they are
/// created a level at a time, then reads the file from its start, whatever the start option.
pub fn a_path_whose_directory_does_not_exist_yet_is_waited_for<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-no-dir");
    let path = dir.path().join("a/b/app.log");
    let mut reader = follow::<B>(&path, FollowOptions::new().start(FollowStart::End));
    let mut idle = Idle::default();
    idle.expect_waiting(&mut reader, QUIET, "no directory yet");
    fs::create_dir(dir.path().join("a")).unwrap();
    idle.expect_waiting(&mut reader, QUIET, "only the first level");
    fs::create_dir(dir.path().join("a/b")).unwrap();
    idle.expect_waiting(&mut reader, QUIET, "a directory without the file");
    idle.assert_no_busy_loop();
    fs::write(&path, b"one\ntwo\n").unwrap();
    let mut notices = Vec::new();
    assert_eq!(
        next_past_notices(&mut reader, STEP, &["Created"], &mut notices),
        line("one")
    );
    assert_eq!(next_seen(&mut reader, STEP), line("two"));
    append(&path, b"three\n");
    assert_eq!(next_seen(&mut reader, STEP), line("three"));
    expect_quiet(&mut reader, &[], "after the lines");
    Ok(())
}

/// The path is a symlink to a file in another directory (`logs/app.log -> ../data/current.log`):
/// the file is removed there and, once the reader has finished it and waits with nothing open,
/// created again; then renamed away and another one created. Each new file wakes the reader
/// (the target's directory is watched, not only the link's) and is read from its start.
pub fn a_symlinked_path_sees_rotation_in_the_targets_directory<B: Backend>() -> Outcome {
    let dir = TempDir::new("follow-symlink");
    let (logs, data) = (dir.path().join("logs"), dir.path().join("data"));
    fs::create_dir(&logs).unwrap();
    fs::create_dir(&data).unwrap();
    let target = data.join("current.log");
    fs::write(&target, b"one\n").unwrap();
    let path = logs.join("app.log");
    std::os::unix::fs::symlink("../data/current.log", &path).unwrap();
    let options = FollowOptions::new().rotate_wait(Duration::from_millis(50));
    let mut reader = follow::<B>(&path, options);
    assert_eq!(next_seen(&mut reader, STEP), line("one"));
    fs::remove_file(&target).unwrap();
    assert_eq!(next_seen(&mut reader, STEP), notice("Removed"));
    expect_quiet(&mut reader, &[], "the target removed");
    // Written while the reader waits: only a watch of the target's directory wakes it.
    let writer = std::thread::spawn({
        let target = target.clone();
        move || {
            std::thread::sleep(QUIET);
            fs::write(&target, b"two\n").unwrap();
        }
    });
    assert_eq!(next_seen(&mut reader, STEP), notice("Created"));
    assert_eq!(next_seen(&mut reader, STEP), line("two"));
    writer.join().unwrap();
    fs::rename(&target, data.join("current.log.1")).unwrap();
    assert_eq!(next_seen(&mut reader, STEP), notice("Removed"));
    expect_quiet(&mut reader, &[], "the target renamed away");
    let writer = std::thread::spawn({
        let target = target.clone();
        move || {
            std::thread::sleep(QUIET);
            fs::write(&target, b"three\n").unwrap();
        }
    });
    assert_eq!(next_seen(&mut reader, STEP), notice("Created"));
    assert_eq!(next_seen(&mut reader, STEP), line("three"));
    writer.join().unwrap();
    expect_quiet(&mut reader, &[], "after the lines");
    Ok(())
}
