//! `frames` and `eintr`: numbered frames through a pipe at a consumer that cancels and stalls,
//! the second time with a thread signalling the reader all along.
//!
//! Frames are 11–27 bytes (`Format::new(0..=16)`), written in log-uniform sizes from 1 byte to
//! 64 KiB, so frames are split at every offset, and a single write may carry thousands.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread;
use std::time::{Duration, Instant};

use fdframe::{Framer, ReadFd};
use fdframe_conformance::fixtures;
use nix::sys::pthread::{pthread_kill, pthread_self};
use nix::sys::signal::Signal;

use super::{Config, on_thread};
use crate::chaos::{Chaos, Temper};
use crate::frames::{Checker, Format, Pace, write_frames};
use crate::report::{Row, RssSampler};
use crate::session::{Backend, Session};

/// The frames writer: writes of up to 64 KiB, a pause of up to 100 µs after one in four, and
/// a trickle of up to 32 small paced writes every ~64 writes.
const FRAMES_PACE: Pace = Pace {
    max_write: 64 * 1024,
    pause_one_in: 4,
    pause_max: Duration::from_micros(100),
    trickle_one_in: 64,
    trickle_len: 32,
};

/// The EINTR storm's writer: small writes (up to 512 bytes), each followed by a pause of up
/// to 100 µs, so the reader spends most of its time waiting, where the signals interrupt it.
const EINTR_PACE: Pace = Pace {
    max_write: 512,
    pause_one_in: 1,
    pause_max: Duration::from_micros(100),
    trickle_one_in: 0,
    trickle_len: 0,
};

/// `frames`: `config.frames` frames per backend; 0 lost, duplicated, reordered, corrupted.
pub(super) fn frames(config: &Config, out: &mut dyn FnMut(Row)) {
    for backend in Backend::ALL {
        let seed = config.seed_for("frames", backend.name());
        let count = config.frames;
        out(on_thread("frames", backend.name(), move || {
            pipe_run("frames", backend, count, FRAMES_PACE, seed, None)
        }));
    }
}

/// `eintr`: `config.frames / 50` frames (at least 20,000), written in small paced writes,
/// while another thread sends SIGUSR1 (a no-op handler) to the reading thread every ~20 µs. Every `poll(2)`/`epoll_wait(2)` the reader waits in returns `EINTR` when it
/// is hit; the backend (or, for mio, the event loop) must retry, and nothing may surface.
///
/// signal-hook installs its handler with `SA_RESTART`, so a `read(2)` blocked on a pipe
/// (`blocking (blocking fd)`) is restarted by the kernel rather than failing with `EINTR`; the
/// engine's own `EINTR` retry is covered by its scripted tests. The waits are never restarted,
/// whatever the flags.
pub(super) fn eintr(config: &Config, out: &mut dyn FnMut(Row)) {
    let count = (config.frames / 50).max(20_000);
    let delivered = Arc::new(AtomicBool::new(false));
    let handler =
        match signal_hook::flag::register(signal_hook::consts::SIGUSR1, Arc::clone(&delivered)) {
            Ok(id) => id,
            Err(e) => {
                let mut row = Row::new("eintr", "all");
                row.fail(format!("cannot install a SIGUSR1 handler: {e}"));
                out(row);
                return;
            }
        };
    let backends = [Backend::Blocking, Backend::BlockingFd]
        .into_iter()
        .chain(Backend::ALL.into_iter().skip(1));
    for backend in backends {
        let seed = config.seed_for("eintr", backend.name());
        let delivered = Arc::clone(&delivered);
        out(on_thread("eintr", backend.name(), move || {
            pipe_run("eintr", backend, count, EINTR_PACE, seed, Some(delivered))
        }));
    }
    signal_hook::low_level::unregister(handler);
}

/// Writes `count` frames through a pipe on a writer thread and reads them on this thread with
/// `backend`; with `storm`, this thread is signalled all along (`storm` is set by each
/// delivery).
fn pipe_run(
    scenario: &'static str,
    backend: Backend,
    count: u64,
    pace: Pace,
    seed: u64,
    storm: Option<Arc<AtomicBool>>,
) -> Row {
    let mut row = Row::new(scenario, backend.name());
    row.expected = count;
    let format = Format::new(0..=16);
    let (fd, writer) = fixtures::pipe();
    let sampler = RssSampler::start();
    let started = Instant::now();
    let writing = thread::spawn({
        let format = format.clone();
        move || write_frames(writer, &format, count, pace, seed ^ 1)
    });
    let mut chaos = Chaos::new(seed, Temper::UNRULY);
    let mut checker = Checker::new(format.clone(), count);
    let signaller = storm.map(Signaller::start);
    let outcome = Session::new(backend)
        .map_err(|e| format!("cannot set up {}: {e}", backend.name()))
        .and_then(|mut session| {
            let fd = ReadFd::from_fd(fd).map_err(|e| format!("ReadFd: {e}"))?;
            let framer = Framer::new(format.decoder());
            session.run(fd, framer, &mut chaos, &mut checker)
        });
    if let Some(signaller) = signaller {
        let (sent, seen) = signaller.stop();
        row.note("signals_sent", sent);
        row.note("deliveries_seen", seen);
        if seen == 0 {
            row.fail("no signal was delivered: the storm did not happen");
        }
    }
    row.elapsed = started.elapsed();
    row.peak_rss_kib = sampler.stop();
    match writing.join() {
        Ok(Ok(bytes)) => row.note("MiB", format!("{:.0}", bytes as f64 / (1 << 20) as f64)),
        Ok(Err(e)) => row.fail(format!("writer: {e}")),
        Err(_) => row.fail("the writer panicked"),
    }
    finish(&mut row, &checker, &chaos, outcome);
    row
}

/// Fills the row from the checker and checks it: everything received, exactly, then the end.
pub(super) fn finish(row: &mut Row, checker: &Checker, chaos: &Chaos, outcome: Result<(), String>) {
    row.received = checker.received;
    row.lost = checker.lost();
    row.duplicated = checker.duplicated;
    row.reordered = checker.reordered;
    row.errors = checker.errors + checker.corrupt;
    row.add_notes(&chaos.describe());
    if let Err(e) = outcome {
        row.fail(e);
    }
    row.check_exact();
    if !checker.ended && matches!(row.verdict, crate::report::Verdict::Ok) {
        row.fail("the stream did not end after the writer closed");
    }
    if let (crate::report::Verdict::Fail(why), false) =
        (&row.verdict, checker.first_problems.is_empty())
    {
        let why = format!("{why}; first: {}", checker.first_problems.join(", "));
        row.verdict = crate::report::Verdict::Fail(why);
    }
}

/// A thread that signals one thread with SIGUSR1 every ~20 µs until stopped.
/// Dropping it (even while unwinding) stops it too: it must never signal a thread that has
/// ended.
struct Signaller {
    stop: Arc<AtomicBool>,
    thread: Option<thread::JoinHandle<(u64, u64)>>,
}

impl Signaller {
    /// Starts signalling the calling thread; `delivered` is set by each delivery.
    fn start(delivered: Arc<AtomicBool>) -> Signaller {
        let target = pthread_self();
        let stop = Arc::new(AtomicBool::new(false));
        let thread = thread::spawn({
            let stop = Arc::clone(&stop);
            move || {
                let (mut sent, mut seen) = (0, 0);
                // The target is alive until `stop` joins this thread.
                while !stop.load(Ordering::Relaxed) {
                    if delivered.swap(false, Ordering::Relaxed) {
                        seen += 1;
                    }
                    if pthread_kill(target, Signal::SIGUSR1).is_ok() {
                        sent += 1;
                    }
                    thread::sleep(Duration::from_micros(20));
                }
                (sent, seen)
            }
        });
        Signaller {
            stop,
            thread: Some(thread),
        }
    }

    /// Stops and joins the thread: (signals sent, deliveries seen).
    fn stop(mut self) -> (u64, u64) {
        self.join()
    }

    fn join(&mut self) -> (u64, u64) {
        self.stop.store(true, Ordering::Relaxed);
        self.thread
            .take()
            .map_or((0, 0), |thread| thread.join().unwrap_or((0, 0)))
    }
}

impl Drop for Signaller {
    fn drop(&mut self) {
        self.join();
    }
}
