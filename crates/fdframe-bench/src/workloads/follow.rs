//! Follow throughput: a writer thread appends 64 B lines to a regular file (4 KiB `write(2)`s,
//! as a buffered logger flushes) while a follower reads it as it grows, until it has seen every
//! line. fdframe's followed file (`ReadFd::follow`) on every backend, per frame, against a raw
//! follow loop as the ceiling (64 KiB `read(2)`s counted with `memchr`, an inotify `IN_MODIFY`
//! wait at end of file: the least a follower can do) and `tail -n +1 -F` as a process (its CPU
//! time from the scheduler's count for it, its output counted from a pipe by us, which is not
//! charged to it).
//!
//! The file lives on tmpfs (`/dev/shm`) when there is one, so that no disk writeback blurs the
//! numbers. Validation: every follower must see exactly the lines and content bytes written.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::mem::MaybeUninit;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc::{self, Receiver, Sender};
use std::thread;
use std::time::{Duration, Instant};

use fdframe::ReadFd;
use fdframe::codec::LinesDecoder;
use fdframe::follow::FollowOptions;
use futures_lite::StreamExt;
use rustix::fs::inotify::{self, CreateFlags, WatchFlags};
use rustix::io::Errno;

use crate::drive;
use crate::harness::{
    self, Backend, Contender, Res, Role, Sample, Tally, children_cpu, process_cpu, thread_cpu,
};
use crate::options::Options;
use crate::report::{self, Ratio, Targets};

/// Line length, newline included.
const LINE_LEN: usize = 64;
/// The writer's `write(2)` size.
const WRITE_SIZE: usize = 4 * 1024;

/// What the writer appends: `repeats` times a pattern of whole lines.
struct Payload {
    pattern: Vec<u8>,
    repeats: usize,
    expected: Tally,
}

impl Payload {
    fn new(megabytes: usize) -> Payload {
        let mut line: Vec<u8> = (0..LINE_LEN - 1).map(|i| b'a' + (i % 26) as u8).collect();
        line.push(b'\n');
        // A multiple of the write size, so each write is whole lines.
        let pattern = line.repeat(WRITE_SIZE / LINE_LEN * 16);
        let repeats = (megabytes << 20).div_ceil(pattern.len()).max(1);
        let frames = (pattern.len() / LINE_LEN * repeats) as u64;
        Payload {
            pattern,
            repeats,
            expected: Tally {
                frames,
                bytes: frames * (LINE_LEN as u64 - 1),
            },
        }
    }

    fn len(&self) -> u64 {
        (self.pattern.len() * self.repeats) as u64
    }
}

/// Lets the writer go; dropped unused (a follower that failed to start), it lets the writer
/// end without writing, so no failure leaves a thread waiting for ever.
struct Start(Sender<()>);

impl Start {
    fn wait(self) {
        let _ = self.0.send(());
    }
}

/// A follower: reads the file at the path until it has seen `expected` lines, calling
/// [`Start::wait`] once it is ready; what it saw, and the CPU time to charge it when it is not
/// this process's (a child's).
type FollowRun = dyn Fn(&Path, Tally, Start) -> Res<(Tally, Option<Duration>)>;

/// Whether `tail` runs here.
fn has_tail() -> bool {
    Command::new("tail")
        .arg("--version")
        .stdout(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

/// Every follower; then, for each of `max_reads` (the `--max-read` experiment), the fdframe
/// followers with that largest read size.
fn contenders(max_reads: &[usize]) -> Vec<Contender<FollowRun>> {
    let mut list: Vec<Contender<FollowRun>> = vec![Contender {
        name: "raw read(2) 64 KiB + inotify wait (ceiling)".into(),
        role: Role::Raw,
        run: Box::new(|path, expected, go| Ok((raw_follow(path, expected, go)?, None))),
    }];
    for max_read in std::iter::once(None).chain(max_reads.iter().copied().map(Some)) {
        let suffix = max_read.map_or(String::new(), |b| format!(", max read {} KiB", b / 1024));
        let role = |role: Role| {
            if max_read.is_some() {
                Role::Variant
            } else {
                role
            }
        };
        for backend in Backend::ALL {
            list.push(Contender {
                name: format!("fdframe {backend}, ReadFd::follow{suffix}"),
                role: role(Role::PerFrame(backend)),
                run: Box::new(move |path, expected, go| {
                    Ok((fdframe_follow(backend, path, expected, go, max_read)?, None))
                }),
            });
        }
        // The batch path: one `Frames` per read, so what is left over the ceiling is follow
        // mode's own cost (the end-of-file checks), not one `Bytes` per line.
        list.push(Contender {
            name: format!("fdframe blocking, ReadFd::follow, batches{suffix}"),
            role: role(Role::Batch(Backend::Blocking)),
            run: Box::new(move |path, expected, go| {
                Ok((follow_batches(path, expected, go, max_read)?, None))
            }),
        });
    }
    if has_tail() {
        list.push(Contender {
            name: "tail -n +1 -F (a process; output counted)".into(),
            role: Role::Peer,
            run: Box::new(|path, expected, go| {
                let (tally, cpu) = tail_follow(path, expected, go)?;
                Ok((tally, Some(cpu)))
            }),
        });
    }
    list
}

/// Counts whole lines in chunks read from anywhere: newlines, and the bytes between them.
#[derive(Default)]
struct LineCount {
    tally: Tally,
    partial: u64,
}

impl LineCount {
    fn add(&mut self, chunk: &[u8]) {
        let mut start = 0;
        for end in memchr::memchr_iter(b'\n', chunk) {
            self.tally.frames += 1;
            self.tally.bytes += self.partial + (end - start) as u64;
            self.partial = 0;
            start = end + 1;
        }
        self.partial += (chunk.len() - start) as u64;
    }
}

/// The ceiling: read to the end of the file, then wait for inotify to say it was modified.
fn raw_follow(path: &Path, expected: Tally, go: Start) -> Res<Tally> {
    let events = inotify::init(CreateFlags::CLOEXEC)?;
    inotify::add_watch(&events, path, WatchFlags::MODIFY)?;
    let mut file = File::open(path)?;
    go.wait();
    let (mut buf, mut event_buf) = (vec![0u8; 64 * 1024], [MaybeUninit::<u8>::uninit(); 4096]);
    let mut count = LineCount::default();
    let mut queue = inotify::Reader::new(&events, &mut event_buf);
    while count.tally.frames < expected.frames {
        let n = file.read(&mut buf)?;
        if n > 0 {
            count.add(&buf[..n]);
            continue;
        }
        // Blocks until the writer appends (events queued since the watch count too).
        match queue.next() {
            Ok(_) | Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    Ok(count.tally)
}

/// fdframe: the followed file on `backend`, one `Bytes` per line, until every line was seen.
fn fdframe_follow(
    backend: Backend,
    path: &Path,
    expected: Tally,
    go: Start,
    max_read: Option<usize>,
) -> Res<Tally> {
    let fd = ReadFd::follow(path, FollowOptions::new())?;
    let framer = drive::framer(LinesDecoder::new(), max_read);
    let mut tally = Tally::default();
    let done = |t: &Tally| t.frames >= expected.frames;
    match backend {
        Backend::Blocking => {
            let reader = fdframe::blocking::FdReader::with_framer(fd, framer);
            go.wait();
            for line in reader {
                tally.frame(line?.len());
                if done(&tally) {
                    break;
                }
            }
        }
        Backend::Tokio => drive::tokio_block_on(async {
            let mut stream = fdframe_tokio::FdStream::with_framer(fd, framer)?;
            go.wait();
            while let Some(line) = stream.next().await {
                tally.frame(line?.len());
                if done(&tally) {
                    break;
                }
            }
            Res::Ok(())
        })?,
        Backend::AsyncIo => async_io::block_on(async {
            let mut stream = fdframe_async_io::FdStream::with_framer(fd, framer)?;
            go.wait();
            while let Some(line) = stream.next().await {
                tally.frame(line?.len());
                if done(&tally) {
                    break;
                }
            }
            Res::Ok(())
        })?,
        Backend::Mio => {
            let mut reader = fdframe_mio::FdReader::with_framer(fd, framer)?;
            let mut poll = mio::Poll::new()?;
            poll.registry()
                .register(&mut reader, mio::Token(0), mio::Interest::READABLE)?;
            let mut events = mio::Events::with_capacity(8);
            go.wait();
            'follow: loop {
                for line in reader.drain() {
                    tally.frame(line?.len());
                    if done(&tally) {
                        break 'follow;
                    }
                }
                drive::mio_wait(&mut poll, &mut events)?;
            }
        }
    }
    Ok(tally)
}

/// fdframe's blocking reader on the followed file, one batch per read, until every line was
/// seen.
fn follow_batches(path: &Path, expected: Tally, go: Start, max_read: Option<usize>) -> Res<Tally> {
    let fd = ReadFd::follow(path, FollowOptions::new())?;
    let framer = drive::framer(LinesDecoder::new(), max_read);
    let mut reader = fdframe::blocking::FdReader::with_framer(fd, framer);
    let mut tally = Tally::default();
    go.wait();
    while let Some(batch) = reader.next_batch() {
        // Each frame as a slice of the batch's buffer (no `Bytes` per line).
        for line in &batch? {
            tally.frame(line.len());
        }
        if tally.frames >= expected.frames {
            break;
        }
    }
    Ok(tally)
}

/// The CPU time of process `pid`'s threads so far, in nanoseconds from the scheduler
/// (`/proc/PID/task/*/schedstat`): the children's count in `/proc/self/stat` is in 10 ms ticks,
/// too coarse for a `--quick` run of `tail`.
fn task_cpu(pid: u32) -> Res<Duration> {
    let mut total = Duration::ZERO;
    for task in std::fs::read_dir(format!("/proc/{pid}/task"))? {
        let stat = std::fs::read_to_string(task?.path().join("schedstat"))?;
        let ns: u64 = stat
            .split_whitespace()
            .next()
            .ok_or("empty schedstat")?
            .parse()?;
        total += Duration::from_nanos(ns);
    }
    Ok(total)
}

/// `tail -n +1 -F PATH` with its output counted here; returns the tally and tail's CPU time.
fn tail_follow(path: &Path, expected: Tally, go: Start) -> Res<(Tally, Duration)> {
    let before = children_cpu()?;
    let mut child = Command::new("tail")
        .args(["-n", "+1", "-F"])
        .arg(path)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot run tail: {e}"))?;
    let mut out = child.stdout.take().ok_or("tail's stdout")?;
    go.wait();
    let (mut buf, mut count) = (vec![0u8; 64 * 1024], LineCount::default());
    let read = (|| -> Res<()> {
        while count.tally.frames < expected.frames {
            let n = out.read(&mut buf)?;
            if n == 0 {
                return Err("tail ended early".into());
            }
            count.add(&buf[..n]);
        }
        Ok(())
    })();
    // Taken before the kill, while the process is there; the ticks are the fallback.
    let precise = task_cpu(child.id());
    let _ = child.kill();
    child.wait()?;
    read?;
    let cpu = match precise {
        Ok(cpu) if cpu > Duration::ZERO => cpu,
        _ => children_cpu()? - before,
    };
    Ok((count.tally, cpu))
}

/// The file of one run: fresh and empty, on tmpfs if there is one.
fn fresh_file() -> Res<PathBuf> {
    let shm = Path::new("/dev/shm");
    let dir = if shm.is_dir() {
        shm.to_path_buf()
    } else {
        std::env::temp_dir()
    };
    let path = dir.join(format!("fdframe-bench-follow-{}.log", std::process::id()));
    File::create(&path)?;
    Ok(path)
}

/// One run of `run`, timed from the writer's start to the follower's last line, validated.
fn measure(run: &FollowRun, payload: &Arc<Payload>) -> Res<Sample> {
    let path = fresh_file()?;
    let (start, go): (Sender<()>, Receiver<()>) = mpsc::channel();
    let writer = {
        let (payload, path) = (Arc::clone(payload), path.clone());
        thread::spawn(move || -> std::io::Result<Duration> {
            harness::pin(1);
            let mut file = OpenOptions::new().append(true).open(&path)?;
            if go.recv().is_err() {
                return Ok(Duration::ZERO);
            }
            let cpu = thread_cpu();
            for _ in 0..payload.repeats {
                for chunk in payload.pattern.chunks(WRITE_SIZE) {
                    file.write_all(chunk)?;
                }
            }
            Ok(thread_cpu() - cpu)
        })
    };
    let cpu = process_cpu();
    let started = Instant::now();
    let seen = run(&path, payload.expected, Start(start));
    let wall = started.elapsed();
    let written = writer
        .join()
        .map_err(|_| "the writer thread panicked")?
        .map_err(|e| format!("the writer: {e}"));
    let cpu = process_cpu() - cpu;
    let _ = std::fs::remove_file(&path);
    let (tally, child_cpu) = seen?;
    tally.check("the follower", payload.expected)?;
    let writer_cpu = written?;
    Ok(Sample {
        wall,
        cpu: child_cpu.unwrap_or_else(|| cpu.saturating_sub(writer_cpu)),
    })
}

/// Runs the workload.
pub(crate) fn run(options: &Options, targets: &mut Targets) -> Res<()> {
    let rounds = options.rounds(5);
    let megabytes = options.megabytes();
    let payload = Arc::new(Payload::new(megabytes));
    let contenders = harness::select(
        contenders(&options.max_reads),
        |name| options.selects(name),
        !options.solo,
    );
    let runs = harness::interleave(&contenders, rounds, options.clock, |c| {
        measure(&*c.run, &payload)
    })?;
    report::throughput(
        options.clock,
        &format!(
            "follow a growing file: {LINE_LEN} B lines appended in {} KiB writes, {megabytes} MiB \
             per run, writer thread; median of {rounds} interleaved rounds",
            WRITE_SIZE / 1024
        ),
        &runs,
        payload.len(),
        payload.expected.frames,
        &[
            Ratio {
                heading: "x raw",
                baseline: report::baseline(&runs, Role::Raw),
            },
            Ratio {
                heading: "x tail",
                baseline: report::baseline(&runs, Role::Peer),
            },
        ],
        options.print_runs,
    );
    let tail = report::baseline(&runs, Role::Peer);
    targets.at_least(
        format!("follow {LINE_LEN} B: fdframe blocking batches / raw (CPU)"),
        report::ratio_of(
            &runs,
            Role::Batch(Backend::Blocking),
            report::baseline(&runs, Role::Raw),
        ),
        0.85,
        "not selected",
    );
    for backend in Backend::ALL {
        targets.at_least(
            format!("follow {LINE_LEN} B: fdframe {backend} / tail -F (CPU)"),
            report::ratio_of(&runs, Role::PerFrame(backend), tail),
            1.0,
            "not selected, or tail not installed",
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_are_counted_across_chunks() {
        let mut count = LineCount::default();
        for chunk in [&b"ab"[..], b"c\nd", b"", b"\n\nxyz"] {
            count.add(chunk);
        }
        assert_eq!(
            count.tally,
            Tally {
                frames: 3,
                bytes: 4
            }
        );
    }

    #[test]
    fn every_follower_sees_every_line() {
        let payload = Arc::new(Payload::new(1));
        for c in contenders(&[64 * 1024]) {
            measure(&*c.run, &payload).unwrap_or_else(|e| panic!("{}: {e}", c.name));
        }
    }
}
