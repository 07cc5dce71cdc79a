//! A shipper's pipeline, `fdframe kmsg -w --json-lines --cursor F | consumer`, as a test drives it:
//! started, its consumer killed between two batches, restarted, and the consumer's output
//! checked: every sequence number exactly once, as a record or inside a counted loss.
//!
//! Shared by the `cli` binary (kill and restart) and `kmsg_json_flood` (the same, with the
//! records written while no reader ran overwritten by a flood).

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use rustix::process::Signal;

use crate::support::{BIN, KillOnDrop, json, signal, wait_exit};

/// The flag for one JSON object per line. Another branch renames it `--json-lines`: switch it
/// here, once, at the merge.
pub(crate) const JSON_LINES: &str = "--json-lines";

/// `fdframe kmsg -w --json-lines --since-now --cursor F`, its stdout a pipe into `cat >> OUT`: the
/// consumer, as a shipper's exec source would be, whose output the test reads back.
pub(crate) struct Pipeline {
    pub(crate) fdframe: KillOnDrop,
    pub(crate) consumer: KillOnDrop,
    pub(crate) out: PathBuf,
}

impl Pipeline {
    /// Starts the pipeline; returns once `fdframe` has started following (it printed a probe
    /// record written after its start, which the consumer wrote to `out`).
    pub(crate) fn start(cursor: &str, out: &Path, tag: &str) -> Pipeline {
        let mut fdframe = Command::new(BIN)
            .args(["kmsg", "-w", JSON_LINES, "--since-now", "--cursor", cursor])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .expect("start fdframe");
        let pipe = fdframe.stdout.take().expect("stdout");
        let fdframe = KillOnDrop(fdframe);
        // The test keeps no end of the pipe: when the consumer dies, fdframe's next write is
        // EPIPE, as in a shell pipeline.
        let consumer = Command::new("sh")
            .args(["-c", "exec cat >> \"$0\""])
            .arg(out)
            .stdin(Stdio::from(pipe))
            .stdout(Stdio::null())
            .spawn()
            .expect("start the consumer");
        let pipeline = Pipeline {
            fdframe,
            consumer: KillOnDrop(consumer),
            out: out.to_owned(),
        };
        // The first run's --since-now start is saved at once, so a probe written now is
        // printed by this run however the start races with it.
        let probe = format!("{tag} probe");
        let deadline = Instant::now() + Duration::from_secs(20);
        while !consumed(out).contains(&probe) {
            assert!(
                Instant::now() < deadline,
                "the pipeline never printed {probe}"
            );
            crate::support::write_record(15, probe.as_bytes());
            std::thread::sleep(Duration::from_millis(200));
        }
        pipeline
    }

    /// Waits until the consumer has written a line containing `needle`.
    pub(crate) fn wait_for(&self, needle: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while !consumed(&self.out).contains(needle) {
            assert!(Instant::now() < deadline, "the consumer never got {needle}");
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the consumer with `sig` between two batches: `fdframe` is stopped first and the
    /// consumer waits in `read(2)` on the empty pipe, so nothing is in flight. Then `fdframe`
    /// goes on, and exits at its next write (`EPIPE`), which `wake` (a record written to the
    /// log) brings. Returns its exit code.
    pub(crate) fn kill_consumer_between_batches(mut self, sig: Signal, wake: &str) -> Option<i32> {
        signal(&self.fdframe.0, Signal::STOP);
        let pid = self.consumer.0.id();
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            assert!(
                Instant::now() < deadline,
                "the consumer never drained the pipe"
            );
            if reading_a_pipe(pid) {
                std::thread::sleep(Duration::from_millis(50));
                if reading_a_pipe(pid) {
                    break;
                }
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        signal(&self.consumer.0, sig);
        let status = self.consumer.0.wait().expect("wait for the consumer");
        assert!(status.code().is_none(), "the consumer died of {sig:?}");
        signal(&self.fdframe.0, Signal::CONT);
        crate::support::write_record(15, wake.as_bytes());
        let deadline = Instant::now() + Duration::from_secs(20);
        loop {
            if let Some(status) = self.fdframe.0.try_wait().expect("try_wait") {
                return status.code();
            }
            assert!(Instant::now() < deadline, "fdframe outlived its consumer");
            std::thread::sleep(Duration::from_millis(10));
        }
    }

    /// Stops `fdframe` as a service manager would (SIGTERM); the consumer then sees the end
    /// of its input.
    pub(crate) fn stop(mut self) {
        signal(&self.fdframe.0, Signal::TERM);
        let code = wait_exit(&mut self.fdframe.0, Duration::from_secs(20));
        assert!(code.is_some(), "fdframe did not exit on SIGTERM");
        let code = wait_exit(&mut self.consumer.0, Duration::from_secs(20));
        assert_eq!(code, Some(0), "the consumer did not end with its input");
    }
}

/// Whether the process sleeps in a pipe read (it has written all it read).
fn reading_a_pipe(pid: u32) -> bool {
    let state = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    let wchan = std::fs::read_to_string(format!("/proc/{pid}/wchan")).unwrap_or_default();
    let sleeping = state
        .rsplit_once(") ")
        .is_some_and(|(_, rest)| rest.starts_with('S'));
    sleeping && wchan.contains("pipe_read")
}

/// What the consumer has written so far.
fn consumed(out: &Path) -> String {
    std::fs::read_to_string(out).unwrap_or_default()
}

/// The whole objects the consumer wrote (a line cut short by a run that ended is not one).
pub(crate) fn objects(out: &Path) -> Vec<serde_json::Value> {
    let text = consumed(out);
    let whole = text.rfind('\n').map_or("", |end| &text[..end]);
    whole.lines().map(json).collect()
}

/// What the runs' outputs, in order, hold: each marker's count, and the losses.
#[derive(Debug, Default)]
pub(crate) struct Seen {
    /// Records whose message starts with the tag, by message.
    pub(crate) markers: std::collections::BTreeMap<String, usize>,
    /// (cause, count, first_seq, last_seq) of each loss.
    pub(crate) losses: Vec<(String, u64, u64, u64)>,
}

impl Seen {
    pub(crate) fn count(&self, message: &str) -> usize {
        self.markers.get(message).copied().unwrap_or(0)
    }

    pub(crate) fn lost(&self) -> u64 {
        self.losses.iter().map(|l| l.1).sum()
    }
}

/// Checks the outputs of consecutive runs sharing a cursor, as one stream: from the first
/// object on, every sequence number exactly once, as a record or inside a loss with an exact
/// count, in order; every record with the schema's fields. Returns what it saw of `tag`.
pub(crate) fn check_stream(runs: &[Vec<serde_json::Value>], tag: &str) -> Seen {
    let mut seen = Seen::default();
    let mut next: Option<u64> = None;
    let mut boot = None;
    for (run, objects) in runs.iter().enumerate() {
        for item in objects {
            assert_eq!(item["schema"], "fdframe-kmsg/1", "run {run}: {item}");
            let boot_id = item["boot_id"].as_str().expect("boot_id").to_owned();
            assert_eq!(boot.get_or_insert_with(|| boot_id.clone()), &boot_id);
            let (from, to) = match item["type"].as_str() {
                Some("record") => {
                    assert!(item["wall_time"].as_str().is_some_and(|t| t.ends_with('Z')));
                    assert!(item["wall_time_uncertain"].is_boolean(), "{item}");
                    assert!(item["timestamp_us"].is_u64() && item["priority"].is_u64());
                    let message = item["message"].as_str().expect("message");
                    if message.starts_with(tag) {
                        *seen.markers.entry(message.to_owned()).or_default() += 1;
                    }
                    let seq = item["seq"].as_u64().expect("seq");
                    (seq, seq)
                }
                Some("loss") => {
                    let count = item["count"].as_u64().expect("an exact count");
                    let from = item["first_seq"].as_u64().expect("first_seq");
                    let to = item["last_seq"].as_u64().expect("last_seq");
                    assert_eq!(count, to - from + 1, "{item}");
                    let cause = item["cause"].as_str().expect("cause").to_owned();
                    seen.losses.push((cause, count, from, to));
                    (from, to)
                }
                _ => panic!("run {run}: unexpected object {item}"),
            };
            if let Some(next) = next {
                assert_eq!(from, next, "run {run}: a gap or a repeat at {item}");
            }
            next = Some(to + 1);
        }
    }
    seen
}
