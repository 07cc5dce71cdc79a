//! Input that never brings a whole line — `/dev/zero`, a huge sparse file, one endless line on
//! a pipe — still lets Ctrl-C and SIGTERM stop `fdframe read` at once, on every backend.
//!
//! The engine pauses after a bounded amount of work per call, and every backend's source goes
//! back to the command's loop (and its stop flag) at each pause. Before that, one call to the
//! engine read and discarded forever and the signal was never looked at. Every wait here has a
//! generous deadline: these are hang checks, not speed checks.

use std::io::{BufRead, BufReader, Seek, Write};
use std::process::{Child, ChildStderr, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use rustix::process::Signal;

use crate::support::{BACKENDS, BIN, KillOnDrop, Lines, TempDir, signal, wait_exit};

/// How long a stopped run may take to exit, or a first sign of life to appear.
const DEADLINE: Duration = Duration::from_secs(10);

/// The warning the default codec gives for the first MiB of a line without `\n`, after which it
/// skips the rest of that line as it arrives.
const TOO_LONG: &str = "line longer than the limit";

/// Starts `fdframe read --backend BACKEND ARGS` with stdout and stderr piped.
fn start(backend: &str, args: &[&str], stdin: Stdio) -> KillOnDrop {
    let child = Command::new(BIN)
        .args(["read", "--backend", backend])
        .args(args)
        .stdin(stdin)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start fdframe");
    KillOnDrop(child)
}

/// Waits for a stderr line containing `needle`; returns the rest of stderr, collected by a
/// thread until the child exits.
fn wait_for_stderr(stderr: ChildStderr, needle: &str, what: &str) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stderr).lines() {
            let Ok(line) = line else { return };
            if tx.send(line).is_err() {
                return;
            }
        }
    });
    let found = std::iter::from_fn(|| rx.recv_timeout(DEADLINE).ok()).find(|l| l.contains(needle));
    assert!(found.is_some(), "{what}: no `{needle}` on stderr");
    rx
}

/// Signals `child`, which is busy on endless input, and checks that it exits with `code`
/// within the deadline and says nothing more on stderr.
fn stop(child: &mut Child, stderr: &mpsc::Receiver<String>, sig: Signal, code: i32, what: &str) {
    signal(child, sig);
    assert_eq!(
        wait_exit(child, DEADLINE),
        Some(code),
        "{what}: no exit with {code} within {DEADLINE:?} of {sig:?} (killed)"
    );
    let rest: Vec<String> = stderr.try_iter().collect();
    assert!(
        rest.is_empty(),
        "{what}: a clean stop says nothing: {rest:?}"
    );
}

/// `fdframe read /dev/zero` (the default codec: lines) until the signal.
fn dev_zero_stops_on(sig: Signal, code: i32) {
    for &backend in BACKENDS {
        let what = format!("{backend}: read /dev/zero, {sig:?}");
        let mut child = start(backend, &["/dev/zero"], Stdio::null());
        let stderr = wait_for_stderr(child.0.stderr.take().unwrap(), TOO_LONG, &what);
        stop(&mut child.0, &stderr, sig, code, &what);
    }
}

#[test]
fn ctrl_c_stops_reading_dev_zero_with_130_on_every_backend() {
    dev_zero_stops_on(Signal::INT, 130);
}

#[test]
fn sigterm_stops_reading_dev_zero_with_143_on_every_backend() {
    dev_zero_stops_on(Signal::TERM, 143);
}

#[test]
fn a_huge_sparse_file_shows_the_lines_before_its_holes_and_ctrl_c_stops_the_run() {
    let dir = TempDir::new("sparse");
    let path = dir.path("sparse");
    // One line, then a terabyte of holes: zeros without `\n`, far more than any run reads
    // before the signal.
    let mut file = std::fs::File::create_new(&path).expect("create the sparse file");
    file.write_all(b"before\n").unwrap();
    file.set_len(1 << 40).expect("make it sparse");
    drop(file);
    for &backend in BACKENDS {
        let what = format!("{backend}: read a sparse file");
        let mut child = start(backend, &[&path], Stdio::null());
        let lines = Lines::new(child.0.stdout.take().unwrap());
        let stderr = wait_for_stderr(child.0.stderr.take().unwrap(), TOO_LONG, &what);
        // A regular file never would block, so nothing but the engine's pause ends the batch:
        // the line before the holes is written out while the run is still reading them.
        assert!(
            lines.find("before", DEADLINE).is_some(),
            "{what}: the line before the holes was not written out"
        );
        stop(&mut child.0, &stderr, Signal::INT, 130, &what);
    }
}

#[test]
fn an_endless_line_on_a_pipe_shows_the_lines_before_it_and_ctrl_c_stops_the_run() {
    for &backend in BACKENDS {
        let what = format!("{backend}: an endless line on stdin");
        let mut child = start(backend, &["-"], Stdio::piped());
        let mut stdin = child.0.stdin.take().unwrap();
        // One line, then a line that never ends, written until the reader goes away.
        let writer = std::thread::spawn(move || {
            let endless = vec![b'x'; 64 * 1024];
            let _ = stdin.write_all(b"before\n");
            while stdin.write_all(&endless).is_ok() {}
        });
        let lines = Lines::new(child.0.stdout.take().unwrap());
        let stderr = wait_for_stderr(child.0.stderr.take().unwrap(), TOO_LONG, &what);
        // Flushed although the input goes on: the run does not sit on its output.
        assert!(
            lines.find("before", DEADLINE).is_some(),
            "{what}: the line before the endless one was not written out"
        );
        stop(&mut child.0, &stderr, Signal::INT, 130, &what);
        writer
            .join()
            .expect("the writer ends when the reader has gone");
    }
}

#[test]
fn a_sparse_file_with_a_line_after_its_holes_is_read_to_the_end_on_every_backend() {
    let dir = TempDir::new("holes");
    let path = dir.path("holes");
    // 64 MiB of holes: several of the engine's pauses, each of which must lead back to reading
    // (not to a wait for an event that no regular file ever gives).
    let mut file = std::fs::File::create_new(&path).expect("create the sparse file");
    file.write_all(b"before\n").unwrap();
    file.set_len(64 << 20).unwrap();
    file.seek(std::io::SeekFrom::End(0)).unwrap();
    file.write_all(b"\nafter\n").unwrap();
    drop(file);
    for &backend in BACKENDS {
        let mut child = start(backend, &[&path], Stdio::null());
        let lines = Lines::new(child.0.stdout.take().unwrap());
        assert_eq!(
            wait_exit(&mut child.0, DEADLINE),
            Some(0),
            "{backend}: the file was not read to its end within {DEADLINE:?}"
        );
        assert_eq!(
            lines.until_quiet(Duration::from_millis(200)),
            ["before", "after"],
            "{backend}"
        );
    }
}
