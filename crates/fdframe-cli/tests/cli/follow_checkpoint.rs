//! `read --follow --checkpoint FILE` refusals, the kmsg cursor's rules: a symlink, FIFO or
//! device node at FILE, a file too long to be a checkpoint, another file, a damaged checkpoint
//! (an error unless `--checkpoint-reset`, which never replaces a file that is not a
//! checkpoint), a checkpoint in use by another run. Nothing is written through a link, nothing
//! is created beside a refused path, nothing blocks or reads without bound. These need no root:
//! the same refusals protect a root-run fdframe.
//!
//! And `read --checkpoint FILE` without `--follow`, the batch run (cron): what is new since the
//! last run, a rotated file found from the checkpoint first, the checkpoint saved only once
//! stdout took the lines, exit 0; a run with nothing new prints nothing.

use std::fs::File;
use std::io::Read;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use rustix::fs::{CWD, FileType, Mode, makedev, mknodat};
use rustix::process::Signal;

use crate::follow::{Follower, Stopped, append, names, numbered, text};
use crate::support::{BACKENDS, BIN, TempDir, assert_one_line_error, fdframe, wait_exit};

fn kind(path: &str) -> Option<FileType> {
    let meta = std::fs::symlink_metadata(path).ok()?;
    Some(FileType::from_raw_mode(
        std::os::unix::fs::MetadataExt::mode(&meta),
    ))
}

/// `fdframe read [-F] --checkpoint CP [EXTRA] PATH` on an existing log (`follow`: with `-F`,
/// else a batch run), with a deadline and a 1 GiB address-space limit (an unbounded read fails
/// instead of eating the machine).
fn refused_as(
    follow: bool,
    checkpoint: &str,
    log: &str,
    extra: Option<&str>,
) -> (Option<i32>, String) {
    let mut args = vec!["read"];
    args.extend(follow.then_some("-F"));
    args.extend(["--checkpoint", checkpoint]);
    args.extend(extra);
    args.push(log);
    let mut child: Child = Command::new("sh")
        .arg("-c")
        .arg("ulimit -v 1048576 && exec \"$0\" \"$@\"")
        .arg(BIN)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fdframe");
    let code = wait_exit(&mut child, Duration::from_secs(10));
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (code, err)
}

/// [`refused_as`] with `-F`.
fn refused(checkpoint: &str, log: &str, extra: Option<&str>) -> (Option<i32>, String) {
    refused_as(true, checkpoint, log, extra)
}

#[test]
fn a_symlinked_checkpoint_is_refused_even_with_reset_and_its_target_kept() {
    let dir = TempDir::new("checkpoint-symlink");
    let log = dir.path("app.log");
    append(&log, b"x\n");
    let victim = dir.path("victim");
    std::fs::write(&victim, "precious\n").unwrap();
    let checkpoint = dir.path("app.pos");
    std::os::unix::fs::symlink(&victim, &checkpoint).unwrap();
    // Following, and a batch run: the same file rules.
    for (follow, extra) in [true, false]
        .into_iter()
        .flat_map(|follow| [None, Some("--checkpoint-reset")].map(|extra| (follow, extra)))
    {
        let (code, err) = refused_as(follow, &checkpoint, &log, extra);
        assert_eq!(code, Some(1), "follow {follow}, {extra:?}: {err}");
        assert!(
            err.contains(&checkpoint) && err.contains("symbolic link"),
            "{err}"
        );
        assert_eq!(err.lines().count(), 1, "{err}");
    }
    assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious\n");
    assert_eq!(kind(&checkpoint), Some(FileType::Symlink));
    assert_eq!(names(&dir), ["app.log", "app.pos", "victim"], "no lock");
}

#[test]
fn a_fifo_a_device_node_or_a_huge_file_as_checkpoint_is_refused_at_once() {
    let dir = TempDir::new("checkpoint-nodes");
    let log = dir.path("app.log");
    append(&log, b"x\n");
    let fifo = dir.path("fifo");
    mknodat(CWD, fifo.as_str(), FileType::Fifo, Mode::from(0o600), 0).unwrap();
    let zero = dir.path("zero");
    let device = mknodat(
        CWD,
        zero.as_str(),
        FileType::CharacterDevice,
        Mode::from(0o600),
        makedev(1, 5),
    );
    let mut cases = vec![(fifo.clone(), "FIFO")];
    match device {
        Ok(()) => cases.push((zero.clone(), "character device")),
        Err(e) => eprintln!("note: cannot mknod a device node here ({e}); not checking one"),
    }
    for (path, what) in &cases {
        for extra in [None, Some("--checkpoint-reset")] {
            let (code, err) = refused(path, &log, extra);
            assert_eq!(code, Some(1), "{path}: blocked, or died: {err}");
            assert!(err.contains(what), "{err}");
        }
    }
    // A long file: not a checkpoint, never read further, never replaced.
    let big = dir.path("big.pos");
    let huge = format!("fdframe-follow-checkpoint 1\n{}", "#".repeat(1 << 20));
    std::fs::write(&big, &huge).unwrap();
    for extra in [None, Some("--checkpoint-reset")] {
        let (code, err) = refused(&big, &log, extra);
        assert_eq!(code, Some(1), "{err}");
        assert!(err.contains("not an fdframe checkpoint file"), "{err}");
        assert_eq!(std::fs::read_to_string(&big).unwrap(), huge);
    }
    let mut expected = vec!["app.log", "big.pos", ".big.pos.lock", "fifo"];
    if device.is_ok() {
        expected.push("zero");
    }
    expected.sort_unstable();
    assert_eq!(names(&dir), expected, "no lock beside a FIFO or device");
}

#[test]
fn a_damaged_checkpoint_is_an_error_unless_reset_and_another_file_is_never_replaced() {
    let dir = TempDir::new("checkpoint-damaged");
    let log = dir.path("app.log");
    append(&log, &text(&numbered("l", 1, 3)));
    let checkpoint = dir.path("app.pos");
    std::fs::write(&checkpoint, "fdframe-follow-checkpoint 1\ngarbage\n").unwrap();
    let err = assert_one_line_error(
        &fdframe(&["read", "-F", "--checkpoint", &checkpoint, &log]),
        1,
    );
    assert!(
        err.contains("damaged") && err.contains("--checkpoint-reset"),
        "{err}"
    );

    // With --checkpoint-reset: a warning, a fresh start, and a good checkpoint saved.
    let follower = Follower::fdframe(
        "tokio",
        &log,
        &["--checkpoint", &checkpoint, "--checkpoint-reset"],
    );
    follower.wait_for("l3", "reset");
    let Stopped { err, .. } = follower.stop(Signal::TERM).expect(143, "reset");
    assert!(err.contains("ignoring the checkpoint file"), "{err}");
    let saved = std::fs::read_to_string(&checkpoint).unwrap();
    assert_ne!(saved, "fdframe-follow-checkpoint 1\ngarbage\n");

    // Not a checkpoint at all: never replaced, even with --checkpoint-reset.
    let other = dir.path("passwd");
    std::fs::write(&other, "root:x:0:0:root:/root:/bin/sh\n").unwrap();
    for extra in [None, Some("--checkpoint-reset")] {
        let mut args = vec!["read", "-F", "--checkpoint", &other];
        args.extend(extra);
        args.push(&log);
        let err = assert_one_line_error(&fdframe(&args), 1);
        assert!(err.contains("not an fdframe checkpoint file"), "{err}");
    }
    assert_eq!(
        std::fs::read_to_string(&other).unwrap(),
        "root:x:0:0:root:/root:/bin/sh\n"
    );
}

#[test]
fn a_checkpoint_in_use_by_another_run_is_refused() {
    let dir = TempDir::new("checkpoint-in-use");
    let log = dir.path("app.log");
    append(&log, b"one\n");
    let checkpoint = dir.path("app.pos");
    let first = Follower::fdframe("tokio", &log, &["--checkpoint", &checkpoint]);
    first.wait_for("one", "first run");
    let err = assert_one_line_error(
        &fdframe(&["read", "-F", "--checkpoint", &checkpoint, &log]),
        1,
    );
    assert!(err.contains("in use by another fdframe"), "{err}");
    first.stop(Signal::TERM).expect(143, "first run");
}

#[test]
fn a_checkpoint_whose_file_was_replaced_is_reported_on_stderr_and_the_new_file_read_whole() {
    let dir = TempDir::new("checkpoint-mismatch");
    let log = dir.path("app.log");
    let checkpoint = dir.path("app.pos");
    append(&log, &text(&numbered("old-", 1, 20)));
    let first = Follower::fdframe("blocking", &log, &["--checkpoint", &checkpoint]);
    first.wait_for("old-20", "first run");
    first.stop(Signal::TERM).expect(143, "first run");
    // While nobody follows: the file is removed and another one written at the path (the
    // kernel may even give it the old inode number: the fingerprint tells them apart).
    std::fs::remove_file(&log).unwrap();
    let new = numbered("new-", 1, 5);
    append(&log, &text(&new));
    let second = Follower::fdframe("blocking", &log, &["--checkpoint", &checkpoint]);
    second.wait_for("new-5", "second run");
    let Stopped { lines, err, .. } = second.stop(Signal::TERM).expect(143, "second run");
    assert_eq!(
        lines, new,
        "the new file from its start, nothing of the old: {err}"
    );
    assert!(
        err.contains("checkpoint") && err.contains("may be lost"),
        "the mismatch is reported: {err}"
    );
    assert!(err.lines().all(|l| l.starts_with("fdframe: ")), "{err}");
}

/// `fdframe read --checkpoint CP --codec lines [EXTRA] LOG` (no --follow) with stdout to
/// `stdout`: its exit code (`None`: it did not exit within 10 s and was killed), stdout, stderr.
fn batch_run(
    checkpoint: &str,
    log: &str,
    extra: &[&str],
    stdout: Stdio,
) -> (Option<i32>, String, String) {
    let mut args = vec!["read", "--checkpoint", checkpoint, "--codec", "lines"];
    args.extend(extra);
    args.push(log);
    let mut child = Command::new(BIN)
        .args(&args)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fdframe");
    // Small outputs: they fit the pipes, so waiting before reading them cannot deadlock.
    let code = wait_exit(&mut child, Duration::from_secs(10));
    let (mut out, mut err) = (String::new(), String::new());
    if let Some(mut pipe) = child.stdout.take() {
        pipe.read_to_string(&mut out).unwrap();
    }
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (code, out, err)
}

/// A batch run that must exit 0 with `expected` on stdout and nothing on stderr.
fn expect_batch(checkpoint: &str, log: &str, extra: &[&str], expected: &[String], who: &str) {
    let (code, out, err) = batch_run(checkpoint, log, extra, Stdio::piped());
    assert_eq!(code, Some(0), "{who}: exit (stderr: {err})");
    assert_eq!(
        out,
        String::from_utf8(text(expected)).unwrap(),
        "{who}: stdout"
    );
    assert_eq!(err, "", "{who}: stderr");
}

#[test]
fn a_batch_run_prints_what_is_new_since_the_last_one_through_a_rotation_and_exits() {
    for &backend in BACKENDS {
        let dir = TempDir::new(&format!("checkpoint-batch-{backend}"));
        let (log, checkpoint) = (dir.path("app.log"), dir.path("app.pos"));
        let extra = ["--backend", backend];
        let mut first = text(&numbered("l", 1, 3));
        first.extend_from_slice(b"l4-par"); // a line still being written
        append(&log, &first);
        expect_batch(&checkpoint, &log, &extra, &numbered("l", 1, 3), backend);
        assert!(
            std::fs::read_to_string(&checkpoint)
                .unwrap()
                .starts_with("fdframe-follow-checkpoint"),
            "{backend}: the checkpoint is saved"
        );
        expect_batch(
            &checkpoint,
            &log,
            &extra,
            &[],
            &format!("{backend}, nothing new"),
        );
        // Between two runs: the line completed and more written, the last line without its
        // newline (the logger stopped mid-line), the log rotated, a new one started.
        append(&log, b"t\n");
        append(&log, &text(&numbered("l", 5, 6)));
        append(&log, b"l6-end");
        let rotated = dir.path("app.log.1");
        std::fs::rename(&log, &rotated).unwrap();
        append(&log, &text(&numbered("l", 7, 8)));
        let mut expected = vec!["l4-part".to_string()];
        expected.extend(numbered("l", 5, 6));
        expected.push("l6-end".to_string());
        expected.extend(numbered("l", 7, 8));
        let who = format!("{backend}, rotated");
        expect_batch(&checkpoint, &log, &extra, &expected, &who);
        // The rotated file was finished: its removal (logrotate's) is nothing to report.
        std::fs::remove_file(&rotated).unwrap();
        let who = format!("{backend}, nothing new again");
        expect_batch(&checkpoint, &log, &extra, &[], &who);
        append(&log, &text(&numbered("l", 9, 9)));
        expect_batch(
            &checkpoint,
            &log,
            &extra,
            &numbered("l", 9, 9),
            &format!("{backend}, appended"),
        );
    }
}

#[test]
fn a_batch_run_whose_output_fails_keeps_the_old_checkpoint() {
    let dir = TempDir::new("checkpoint-batch-full");
    let (log, checkpoint) = (dir.path("app.log"), dir.path("app.pos"));
    append(&log, &text(&numbered("l", 1, 2)));
    expect_batch(&checkpoint, &log, &[], &numbered("l", 1, 2), "first run");
    let saved = std::fs::read_to_string(&checkpoint).unwrap();
    append(&log, &text(&numbered("l", 3, 4)));
    // stdout cannot take the lines: the run fails and the position stays before them.
    let full = File::create("/dev/full").expect("/dev/full");
    let (code, _, err) = batch_run(&checkpoint, &log, &[], Stdio::from(full));
    assert_ne!(code, Some(0), "a failed write is a failure: {err}");
    assert_eq!(
        std::fs::read_to_string(&checkpoint).unwrap(),
        saved,
        "{err}"
    );
    expect_batch(
        &checkpoint,
        &log,
        &[],
        &numbered("l", 3, 4),
        "after the failed run",
    );
}

#[test]
fn a_first_batch_run_from_the_end_prints_nothing_and_the_next_one_what_came_since() {
    let dir = TempDir::new("checkpoint-batch-end");
    let (log, checkpoint) = (dir.path("app.log"), dir.path("app.pos"));
    append(&log, &text(&numbered("old", 1, 3)));
    expect_batch(&checkpoint, &log, &["--from-end"], &[], "first run");
    append(&log, &text(&numbered("new", 1, 2)));
    // --from-end only matters while there is no checkpoint.
    expect_batch(
        &checkpoint,
        &log,
        &["--from-end"],
        &numbered("new", 1, 2),
        "second run",
    );
}

#[test]
fn a_batch_run_refuses_standard_input_and_follow_only_options() {
    let dir = TempDir::new("checkpoint-batch-refusals");
    let checkpoint = dir.path("app.pos");
    let err = assert_one_line_error(&fdframe(&["read", "--checkpoint", &checkpoint, "-"]), 2);
    assert!(err.contains("by its path"), "{err}");
    let log = dir.path("app.log");
    append(&log, b"x\n");
    let out = fdframe(&[
        "read",
        "--checkpoint",
        &checkpoint,
        "--rotate-wait",
        "2s",
        &log,
    ]);
    assert_eq!(out.status.code(), Some(2), "--rotate-wait needs --follow");
    assert!(!std::path::Path::new(&checkpoint).exists(), "nothing saved");
}

#[test]
fn a_batch_run_of_a_missing_path_says_so_and_a_later_run_reads_the_file() {
    let dir = TempDir::new("checkpoint-batch-missing");
    let (log, checkpoint) = (dir.path("app.log"), dir.path("app.pos"));
    // A mistyped path or a log not created yet: nothing printed, exit 0, but not silent.
    let (code, out, err) = batch_run(&checkpoint, &log, &[], Stdio::piped());
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(out, "");
    assert!(
        err.contains("app.log does not exist (yet): nothing read from it"),
        "stderr: {err}"
    );
    append(&log, &text(&numbered("l", 1, 2)));
    expect_batch(
        &checkpoint,
        &log,
        &[],
        &numbered("l", 1, 2),
        "once it exists",
    );
}

#[test]
fn a_batch_run_after_two_rotations_names_the_file_it_could_not_know() {
    let dir = TempDir::new("checkpoint-batch-two-rotations");
    let (log, checkpoint) = (dir.path("app.log"), dir.path("app.pos"));
    let (one, two) = (dir.path("app.log.1"), dir.path("app.log.2"));
    append(&log, &text(&numbered("a", 1, 1)));
    expect_batch(&checkpoint, &log, &[], &numbered("a", 1, 1), "first run");
    // Two rotations before the next run: the file in between (now app.log.1) is unknown to
    // the checkpoint. File times tick coarsely: apart, so that it was written after app.log.
    std::thread::sleep(Duration::from_millis(20));
    std::fs::rename(&log, &one).unwrap();
    append(&log, &text(&numbered("b", 1, 1)));
    std::fs::rename(&one, &two).unwrap();
    std::fs::rename(&log, &one).unwrap();
    append(&log, &text(&numbered("c", 1, 1)));
    let (code, out, err) = batch_run(&checkpoint, &log, &[], Stdio::piped());
    assert_eq!(code, Some(0), "stderr: {err}");
    assert_eq!(out, String::from_utf8(text(&numbered("c", 1, 1))).unwrap());
    assert!(
        err.contains("app.log.1 looks like a file rotated in and away again")
            && err.contains("it was not read"),
        "the unread file is named on stderr: {err}"
    );
}
