//! `fdframe read --follow`: appends, a line written in two parts, rotation while the old file
//! is still written, truncation, on every backend; `--from-end`; restarts from `--checkpoint`
//! with nothing lost or repeated; and the checkpoint file's refusals (the kmsg cursor's rules).
//!
//! Every wait has a deadline (a follower that hangs fails the test, it does not hang it), and
//! no assertion is about speed.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::Path;
use std::process::{ChildStderr, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use rustix::fs::{CWD, FileType, Mode, mknodat};
use rustix::process::Signal;

use crate::support::{
    BACKENDS, BIN, KillOnDrop, TempDir, assert_one_line_error, backend_or_default, fdframe, signal,
    wait_exit,
};

/// How long a step may take before the test gives up on it.
const DEADLINE: Duration = Duration::from_secs(20);

/// A process following a file: its stdout lines, collected as they come.
pub(crate) struct Follower {
    pub(crate) child: KillOnDrop,
    lines: Arc<Mutex<Vec<String>>>,
    stderr: Option<ChildStderr>,
    reader: Option<JoinHandle<()>>,
}

impl Follower {
    /// Starts `program ARGS`, stdout collected line by line, stderr kept for the end.
    pub(crate) fn start(program: &str, args: &[&str]) -> Follower {
        let mut child = Command::new(program)
            .args(args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("run {program}: {e}"));
        let mut stdout = child.stdout.take().expect("stdout");
        let stderr = child.stderr.take();
        let lines = Arc::new(Mutex::new(Vec::new()));
        let sink = Arc::clone(&lines);
        let reader = std::thread::spawn(move || {
            // Bytes, split at `\n` here: a line is only counted once it is whole.
            let (mut pending, mut buf) = (Vec::new(), [0u8; 8192]);
            while let Ok(n) = stdout.read(&mut buf) {
                if n == 0 {
                    break;
                }
                pending.extend_from_slice(&buf[..n]);
                while let Some(end) = pending.iter().position(|&b| b == b'\n') {
                    let line: Vec<u8> = pending.drain(..=end).collect();
                    let text = String::from_utf8_lossy(&line[..end]).into_owned();
                    sink.lock().unwrap().push(text);
                }
            }
        });
        Follower {
            child: KillOnDrop(child),
            lines,
            stderr,
            reader: Some(reader),
        }
    }

    /// `fdframe read --follow --codec lines --backend BACKEND EXTRA... PATH`.
    pub(crate) fn fdframe(backend: &str, path: &str, extra: &[&str]) -> Follower {
        let mut args = vec!["read", "--follow", "--codec", "lines", "--backend", backend];
        args.extend(extra);
        args.push(path);
        Follower::start(BIN, &args)
    }

    /// The lines so far.
    pub(crate) fn lines(&self) -> Vec<String> {
        self.lines.lock().unwrap().clone()
    }

    /// Waits until a line equal to `line` arrived; `false` after `timeout`.
    pub(crate) fn saw_within(&self, line: &str, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if self.lines.lock().unwrap().iter().any(|l| l == line) {
                return true;
            }
            if Instant::now() > deadline {
                return false;
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    }

    /// Waits for `line`, failing the test (with what arrived) after the deadline.
    pub(crate) fn wait_for(&self, line: &str, who: &str) {
        assert!(
            self.saw_within(line, DEADLINE),
            "{who}: {line:?} never arrived; got {:?}",
            self.lines()
        );
    }

    /// Stops the process with `sig`: its exit code (`None`: killed after the deadline),
    /// everything it wrote to stderr, and every line it printed, up to its exit.
    pub(crate) fn stop(mut self, sig: Signal) -> Stopped {
        signal(&self.child.0, sig);
        let code = wait_exit(&mut self.child.0, DEADLINE);
        let mut err = String::new();
        if let Some(mut stderr) = self.stderr.take() {
            let _ = stderr.read_to_string(&mut err);
        }
        // The pipe is at its end once the process is gone: the thread has every line then.
        if let Some(reader) = self.reader.take() {
            reader.join().expect("stdout reader");
        }
        Stopped {
            code,
            err,
            lines: self.lines(),
        }
    }
}

/// How a [`Follower`] ended.
pub(crate) struct Stopped {
    pub(crate) code: Option<i32>,
    pub(crate) err: String,
    pub(crate) lines: Vec<String>,
}

impl Stopped {
    /// Asserts the exit code and that nothing panicked.
    pub(crate) fn expect(self, code: i32, who: &str) -> Stopped {
        assert_eq!(self.code, Some(code), "{who}: stderr: {}", self.err);
        assert!(!self.err.contains("panicked"), "{who}: {}", self.err);
        self
    }
}

/// Appends `bytes` to `path` (creating it) with one `write(2)`.
pub(crate) fn append(path: &str, bytes: &[u8]) {
    let mut file = OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .unwrap_or_else(|e| panic!("open {path}: {e}"));
    file.write_all(bytes).unwrap();
}

/// `prefix1\n` to `prefixN\n` (from `first` to `last`).
pub(crate) fn numbered(prefix: &str, first: u32, last: u32) -> Vec<String> {
    (first..=last).map(|i| format!("{prefix}{i}")).collect()
}

pub(crate) fn text(lines: &[String]) -> Vec<u8> {
    let mut bytes = Vec::new();
    for line in lines {
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
    }
    bytes
}

/// The lines of each part of [`scenario`], in the order each file got them.
pub(crate) struct Written {
    /// Every line written, each file's lines in their order.
    pub(crate) all: Vec<String>,
    /// Lines of the same file, in the order they were written to it.
    pub(crate) per_file: Vec<Vec<String>>,
}

/// Drives `followers` through: appends, a line written in two parts, a rotation (rename, a
/// new file at the path) while the old file is still written after the rename, and a
/// truncation; each step waits until `watch` has seen its last line. Returns what was written.
pub(crate) fn scenario(dir: &TempDir, watch: &Follower, who: &str) -> Written {
    let path = dir.path("app.log");
    let rotated = dir.path("app.log.1");
    let mut old_file = Vec::new();
    // Appends, in several writes.
    for chunk in [(1, 1), (2, 10), (11, 200)] {
        let lines = numbered("append-", chunk.0, chunk.1);
        append(&path, &text(&lines));
        old_file.extend(lines);
        watch.wait_for(old_file.last().unwrap(), who);
    }
    // A line in two writes, the second after the follower has seen the first half (it waits
    // for the second: the half line must not be delivered as a line of its own).
    append(&path, b"two-parts-first-half");
    std::thread::sleep(Duration::from_millis(300));
    append(&path, b"-second-half\n");
    old_file.push("two-parts-first-half-second-half".into());
    watch.wait_for(old_file.last().unwrap(), who);

    // Rotation while the writer still holds the old file: lines before the rename, after it,
    // and after the new file appeared.
    let mut writer = OpenOptions::new().append(true).open(&path).unwrap();
    let before = numbered("old-before-rename-", 1, 20);
    writer.write_all(&text(&before)).unwrap();
    old_file.extend(before);
    std::fs::rename(&path, &rotated).unwrap();
    let after = numbered("old-after-rename-", 1, 20);
    writer.write_all(&text(&after)).unwrap();
    old_file.extend(after);
    let mut new_file = numbered("new-", 1, 20);
    append(&path, &text(&new_file));
    let late = numbered("old-after-new-file-", 1, 10);
    writer.write_all(&text(&late)).unwrap();
    old_file.extend(late);
    drop(writer);
    watch.wait_for(old_file.last().unwrap(), who);
    watch.wait_for(new_file.last().unwrap(), who);

    // Truncation (as copytruncate or `> file` does), then shorter content.
    File::create(&path).unwrap();
    let truncated = numbered("t", 1, 5);
    append(&path, &text(&truncated));
    watch.wait_for(truncated.last().unwrap(), who);

    let mut all = old_file.clone();
    all.append(&mut new_file.clone());
    all.extend(truncated.iter().cloned());
    new_file.extend(truncated);
    Written {
        all,
        per_file: vec![old_file, new_file],
    }
}

/// Every written line exactly once, each file's lines in order, and the old file's lines
/// written before the new file appeared ahead of the new file's (the oldest file is read
/// first). Returns a description of what is wrong, if anything.
pub(crate) fn check_exactly_once(got: &[String], written: &Written) -> Result<(), String> {
    let mut problems = Vec::new();
    for line in &written.all {
        let n = got.iter().filter(|l| *l == line).count();
        if n != 1 {
            problems.push(format!("{line:?} {n} times"));
        }
    }
    for line in got {
        if !written.all.contains(line) {
            problems.push(format!("{line:?} was never written"));
        }
    }
    for file in &written.per_file {
        let seen: Vec<&String> = got.iter().filter(|l| file.contains(l)).collect();
        let expected: Vec<&String> = file.iter().filter(|l| got.contains(l)).collect();
        if seen != expected {
            problems.push("a file's lines out of order".into());
        }
    }
    let position = |line: &str| got.iter().position(|l| l == line);
    if let (Some(old), Some(new)) = (position("old-after-rename-20"), position("new-1"))
        && old > new
    {
        problems.push("the new file was read before the old one was finished".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

#[test]
fn appends_a_split_line_rotation_and_truncation_every_line_once_on_every_backend() {
    for &backend in BACKENDS {
        let dir = TempDir::new(&format!("follow-{backend}"));
        let path = dir.path("app.log");
        append(&path, b"");
        let follower = Follower::fdframe(backend, &path, &["--rotate-wait", "5s"]);
        let written = scenario(&dir, &follower, backend);
        let Stopped {
            lines: got, err, ..
        } = follower.stop(Signal::TERM).expect(143, backend);
        if let Err(problem) = check_exactly_once(&got, &written) {
            panic!("{backend}: {problem}\ngot: {got:?}\nstderr: {err}");
        }
        // Notices on stderr, in the notices' style; none on stdout.
        assert!(got.iter().all(|l| !l.starts_with("fdframe:")), "{got:?}");
        let lower = err.to_lowercase();
        assert!(
            lower.contains("rotat") && lower.contains("truncat"),
            "{backend}: no rotation/truncation notice: {err}"
        );
        assert!(
            err.lines().all(|l| l.starts_with("fdframe: ")),
            "{backend}: {err}"
        );
    }
}

#[test]
fn what_the_file_holds_at_the_start_is_printed_without_waiting_for_a_write_on_every_backend() {
    for &backend in BACKENDS {
        let dir = TempDir::new(&format!("follow-existing-{backend}"));
        let path = dir.path("app.log");
        let lines = numbered("there-", 1, 3);
        append(&path, &text(&lines));
        // Nothing is written after the start: a backend that waits for readiness before its
        // first read must still be woken for what is already there.
        let follower = Follower::fdframe(backend, &path, &[]);
        follower.wait_for("there-3", backend);
        let stopped = follower.stop(Signal::TERM).expect(143, backend);
        assert_eq!(stopped.lines, lines, "{backend}");
    }
}

#[test]
fn from_end_prints_only_what_is_written_after_the_start() {
    let dir = TempDir::new("follow-from-end");
    let path = dir.path("app.log");
    append(&path, &text(&numbered("before-", 1, 50)));
    // The checkpoint file appears at the first save, after the start position was taken: a
    // signal that the follower is reading, without a sleep.
    let checkpoint = dir.path("pos");
    let follower = Follower::fdframe("tokio", &path, &["--from-end", "--checkpoint", &checkpoint]);
    let deadline = Instant::now() + DEADLINE;
    while !Path::new(&checkpoint).exists() {
        assert!(Instant::now() < deadline, "no checkpoint was saved");
        std::thread::sleep(Duration::from_millis(5));
    }
    let after = numbered("after-", 1, 10);
    append(&path, &text(&after));
    follower.wait_for("after-10", "from-end");
    let Stopped { lines, err, .. } = follower.stop(Signal::INT).expect(130, "from-end");
    assert_eq!(lines, after, "{err}");
}

#[test]
fn a_file_that_does_not_exist_yet_is_waited_for() {
    let dir = TempDir::new("follow-later");
    let path = dir.path("later.log");
    let follower = Follower::fdframe("blocking", &path, &[]);
    std::thread::sleep(Duration::from_millis(200));
    append(&path, b"first\nsecond\n");
    follower.wait_for("second", "created later");
    let Stopped { lines, err, .. } = follower.stop(Signal::TERM).expect(143, "created later");
    assert_eq!(lines, ["first", "second"], "{err}");
}

/// One run of `fdframe read -F --checkpoint CP PATH` on `backend`, until `last` is printed
/// (`None`: for a moment), stopped with SIGTERM; its lines.
fn checkpointed_run(
    backend: &str,
    path: &str,
    checkpoint: &str,
    last: Option<&str>,
    who: &str,
) -> Vec<String> {
    let follower = Follower::fdframe(backend, path, &["--checkpoint", checkpoint]);
    match last {
        Some(line) => follower.wait_for(line, who),
        // Time to print anything it (wrongly) would.
        None => std::thread::sleep(Duration::from_millis(700)),
    }
    follower.stop(Signal::TERM).expect(143, who).lines
}

#[test]
fn a_restart_from_the_checkpoint_loses_and_repeats_nothing_across_a_rotation() {
    let dir = TempDir::new("follow-checkpoint");
    let path = dir.path("app.log");
    let checkpoint = dir.path("app.pos");
    let mut written = numbered("line-", 1, 100);
    append(&path, &text(&written));

    // Run 1, stopped mid-stream: a writer appends while SIGTERM arrives.
    let follower = Follower::fdframe(
        backend_or_default("mio"),
        &path,
        &["--checkpoint", &checkpoint],
    );
    follower.wait_for("line-100", "run 1");
    let writer_path = path.clone();
    let writer = std::thread::spawn(move || {
        for i in 101..=600 {
            append(&writer_path, format!("line-{i}\n").as_bytes());
            if i % 50 == 0 {
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    follower.wait_for("line-200", "run 1");
    let mut got = follower.stop(Signal::TERM).expect(143, "run 1").lines;
    writer.join().unwrap();
    written.extend(numbered("line-", 101, 600));
    let saved = std::fs::read_to_string(&checkpoint).expect("run 1 saved a checkpoint");
    assert!(saved.len() < 4096, "{saved}");

    // While nobody follows: more lines, a rotation, lines to the old file after the rename,
    // the new file, and half a line.
    append(&path, &text(&numbered("line-", 601, 650)));
    written.extend(numbered("line-", 601, 650));
    let mut old = OpenOptions::new().append(true).open(&path).unwrap();
    std::fs::rename(&path, dir.path("app.log.1")).unwrap();
    old.write_all(&text(&numbered("line-", 651, 660))).unwrap();
    written.extend(numbered("line-", 651, 660));
    append(&path, &text(&numbered("line-", 661, 700)));
    append(&path, b"line-701-first-half");
    written.extend(numbered("line-", 661, 700));

    // Run 2: everything after run 1's last line, and not the half line.
    // Each run on another backend: each saves its own checkpoint at exit.
    got.extend(checkpointed_run(
        backend_or_default("async-io"),
        &path,
        &checkpoint,
        Some("line-700"),
        "run 2",
    ));
    // The half line, completed while nobody follows, and the old file written once more.
    append(&path, b"-second-half\n");
    written.push("line-701-first-half-second-half".into());
    got.extend(checkpointed_run(
        "blocking",
        &path,
        &checkpoint,
        Some("line-701-first-half-second-half"),
        "run 3",
    ));
    // Run 4: nothing new, nothing printed again.
    got.extend(checkpointed_run("tokio", &path, &checkpoint, None, "run 4"));

    let missing: Vec<_> = written.iter().filter(|l| !got.contains(l)).collect();
    let mut seen = std::collections::HashSet::new();
    let repeated: Vec<_> = got.iter().filter(|l| !seen.insert(*l)).collect();
    assert!(
        missing.is_empty() && repeated.is_empty() && got.len() == written.len(),
        "missing {missing:?}, repeated {repeated:?}"
    );
    assert_eq!(got, written, "in order");
    let names = names(&dir);
    assert_eq!(
        names,
        [".app.pos.lock", "app.log", "app.log.1", "app.pos"],
        "no temporary file left behind"
    );
}

/// The names in `dir`, sorted.
pub(crate) fn names(dir: &TempDir) -> Vec<String> {
    let mut names: Vec<_> = std::fs::read_dir(&dir.0)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    names.sort();
    names
}

#[test]
fn follow_options_without_a_followable_file_are_refused() {
    let dir = TempDir::new("follow-usage");
    let log = dir.path("app.log");
    append(&log, b"x\n");
    // Options that only mean something with --follow (--from-end: or with --checkpoint,
    // which alone is a batch run: see follow_checkpoint.rs).
    let checkpoint = dir.path("p");
    for args in [
        vec!["read", "--from-end", &log],
        vec!["read", "--from-start", &log],
        vec!["read", "--rotate-wait", "2s", &log],
        vec![
            "read",
            "--checkpoint",
            &checkpoint,
            "--rotate-wait",
            "2s",
            &log,
        ],
        vec!["read", "-F", "--from-start", "--from-end", &log],
        vec!["read", "-F", "--rotate-wait", "soon", &log],
    ] {
        let output = fdframe(&args);
        assert_one_line_error(&output, 2);
    }
    let output = fdframe(&["read", "-F", "-"]);
    let err = assert_one_line_error(&output, 2);
    assert!(err.contains("standard input"), "{err}");
    let fifo = dir.path("fifo");
    mknodat(CWD, fifo.as_str(), FileType::Fifo, Mode::from(0o600), 0).unwrap();
    let err = assert_one_line_error(&fdframe(&["read", "-F", &fifo]), 1);
    assert!(err.contains("FIFO"), "{err}");
    let err = assert_one_line_error(&fdframe(&["read", "--checkpoint", &checkpoint, &fifo]), 1);
    assert!(
        err.contains("FIFO") && err.contains("--checkpoint"),
        "{err}"
    );
    assert!(dir.0.join("p").metadata().is_err(), "nothing created");
}
