//! Helpers shared by the end-to-end tests: running the binary, privileged-test skips, writing
//! kernel log records, reading a child's output with a deadline.

use std::fs::OpenOptions;
use std::io::{self, BufRead, BufReader, Write};
use std::process::{Child, ChildStdout, Command, Output, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// The `fdframe` binary under test.
pub(crate) const BIN: &str = env!("CARGO_BIN_EXE_fdframe");

/// The `--backend`s the binary under test was built with (the tests are built with the same
/// features: `cargo test -p fdframe-cli --all-features` runs them on every backend).
pub(crate) const BACKENDS: &[&str] = &[
    "tokio",
    #[cfg(feature = "backend-async-io")]
    "async-io",
    #[cfg(feature = "backend-mio")]
    "mio",
    "blocking",
];

/// `backend` when the binary has it, else the default one (for tests that want different
/// backends in turn, and still run on the default build).
pub(crate) fn backend_or_default(backend: &'static str) -> &'static str {
    if BACKENDS.contains(&backend) {
        backend
    } else {
        BACKENDS[0]
    }
}

/// `fdframe ARGS`, its output collected.
pub(crate) fn fdframe(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .stdin(Stdio::null())
        .output()
        .expect("run fdframe")
}

/// `fdframe ARGS` with `input` on stdin.
pub(crate) fn fdframe_with_input(args: &[&str], input: &[u8]) -> Output {
    let mut child = Command::new(BIN)
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run fdframe");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = input.to_vec();
    let writer = std::thread::spawn(move || {
        let _ = stdin.write_all(&input);
    });
    let output = child.wait_with_output().expect("wait for fdframe");
    writer.join().expect("stdin writer");
    output
}

pub(crate) fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

pub(crate) fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

/// A one-line error: exit status `code`, nothing on stdout, one `fdframe: ` line on stderr, no
/// panic. Returns the line.
pub(crate) fn assert_one_line_error(output: &Output, code: i32) -> String {
    let err = stderr(output);
    assert_eq!(output.status.code(), Some(code), "stderr: {err}");
    assert!(output.stdout.is_empty(), "stdout: {}", stdout(output));
    assert!(
        !err.contains("panicked") && !err.contains("backtrace"),
        "{err}"
    );
    if code != 2 {
        assert_eq!(err.lines().count(), 1, "{err}");
        assert!(err.starts_with("fdframe: "), "{err}");
    }
    err
}

/// Whether the test may run as root with `/dev/kmsg` readable and writable; otherwise reports
/// the skip loudly (or panics under `FDFRAME_REQUIRE_PRIVILEGED=1`).
///
/// The one check of the CLI's tests (`kmsg_flood.rs` and `kmsg_json_flood.rs` include this
/// file). The same as `fdframe_conformance::fixtures::require_kmsg` and the core's
/// `tests/kmsg_device.rs`; a copy because fdframe-cli is published (`cargo install`) and its
/// tests must build from its package, where the unpublished conformance crate does not exist.
pub(crate) fn privileged(test: &str) -> bool {
    let reason = if !rustix::process::geteuid().is_root() {
        Some("not running as root".to_owned())
    } else if let Err(e) = OpenOptions::new().read(true).write(true).open("/dev/kmsg") {
        Some(format!("cannot open /dev/kmsg: {e}"))
    } else if std::fs::read_to_string("/proc/sys/kernel/printk_devkmsg")
        .is_ok_and(|s| s.trim() == "off")
    {
        Some("kernel.printk_devkmsg=off discards records written to /dev/kmsg".to_owned())
    } else {
        None
    };
    match reason {
        None => true,
        Some(reason) => skip(test, &reason),
    }
}

/// Reports a skip past the test harness's capture; fails instead under
/// `FDFRAME_REQUIRE_PRIVILEGED=1`.
pub(crate) fn skip(test: &str, reason: &str) -> bool {
    if std::env::var_os("FDFRAME_REQUIRE_PRIVILEGED").is_some_and(|v| v == "1") {
        panic!("{test}: {reason} (and FDFRAME_REQUIRE_PRIVILEGED=1 forbids skipping)");
    }
    let _ = writeln!(
        io::stderr(),
        "\n*** SKIPPED: {test}: {reason} ***\n*** (set FDFRAME_REQUIRE_PRIVILEGED=1 to fail instead) ***\n"
    );
    false
}

/// A marker no earlier run has written.
pub(crate) fn marker(test: &str) -> String {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_nanos());
    format!("fdframe-cli-test-{test}-{}-{nanos}", std::process::id())
}

/// Writes one record (`<PRI>message\n`) with one `write(2)` on a fresh descriptor.
pub(crate) fn write_record(priority: u32, message: &[u8]) {
    let mut line = format!("<{priority}>").into_bytes();
    line.extend_from_slice(message);
    line.push(b'\n');
    let mut kmsg = OpenOptions::new()
        .write(true)
        .open("/dev/kmsg")
        .expect("open /dev/kmsg for writing");
    let written = kmsg.write(&line).expect("write to /dev/kmsg");
    assert_eq!(written, line.len(), "one write(2) per record");
}

/// The lines of a child's stdout, each available with a deadline.
pub(crate) struct Lines {
    rx: mpsc::Receiver<String>,
}

impl Lines {
    pub(crate) fn new(stdout: ChildStdout) -> Lines {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { return };
                if tx.send(line).is_err() {
                    return;
                }
            }
        });
        Lines { rx }
    }

    /// The first line (from now) that contains `needle`, if one comes within `timeout`.
    pub(crate) fn find(&self, needle: &str, timeout: Duration) -> Option<String> {
        let deadline = Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.rx.recv_timeout(left) {
                Ok(line) if line.contains(needle) => return Some(line),
                Ok(_) => {}
                Err(_) => return None,
            }
        }
    }

    /// Every line that arrives within `timeout` of the previous one.
    pub(crate) fn until_quiet(&self, timeout: Duration) -> Vec<String> {
        self.rx
            .try_iter()
            .chain(std::iter::from_fn(|| self.rx.recv_timeout(timeout).ok()))
            .collect()
    }
}

/// Waits for `child` to exit, killing it after `timeout`; returns its exit code (`None` if it
/// had to be killed or died by a signal).
pub(crate) fn wait_exit(child: &mut Child, timeout: Duration) -> Option<i32> {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().expect("try_wait") {
            return status.code();
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let _ = child.kill();
    let _ = child.wait();
    None
}

/// Kills `child` when dropped, so a failing test leaves no follower behind.
pub(crate) struct KillOnDrop(pub(crate) Child);

impl Drop for KillOnDrop {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Sends `signal` to `child`.
pub(crate) fn signal(child: &Child, signal: rustix::process::Signal) {
    let pid = rustix::process::Pid::from_child(child);
    rustix::process::kill_process(pid, signal).expect("kill");
}

/// A JSON line parsed.
pub(crate) fn json(line: &str) -> serde_json::Value {
    serde_json::from_str(line).unwrap_or_else(|e| panic!("not JSON ({e}): {line}"))
}

/// A fresh directory for one test, removed on drop.
pub(crate) struct TempDir(pub(crate) std::path::PathBuf);

impl TempDir {
    pub(crate) fn new(test: &str) -> TempDir {
        let dir = std::env::temp_dir().join(marker(test));
        std::fs::create_dir_all(&dir).expect("create temp dir");
        TempDir(dir)
    }

    pub(crate) fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}
