//! Follow mode when what the path leads to changes: a directory that does not exist yet, one
//! removed and re-created, a symlink at the path.

#[path = "follow_support/mod.rs"]
#[allow(
    dead_code,
    reason = "shared by the follow test binaries, each uses part of it"
)]
mod support;

use std::fs;

use fdframe::follow::FollowStart;

use support::Seen::Notice;
use support::*;

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
