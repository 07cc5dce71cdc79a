//! `flood`: a consumer far slower than its source, reading a pipe a writer keeps full and a
//! large regular file: resident memory stays under a stated bound.
//!
//! **The bound**: the resident set may grow by at most [`GROWTH_BOUND_KIB`] (16 MiB) over what it
//! was when the row started. The engine buffers at most `max_frame_len` (5 KiB here) plus one
//! read (`Framer::DEFAULT_MAX_READ_SIZE`, 256 KiB); the rest of the 16 MiB is slack for the
//! allocator, the runtime and the writer thread. The flood is 64 MiB (16 MiB with `--quick`)
//! per source, so a reader that read ahead of its consumer — the whole file is readable at
//! once — would break the bound several times over.
//!
//! A regular file's end is its size when read, so the file is written in full first: a file
//! still growing would end the stream wherever the reader caught up with the writer.

use std::thread;
use std::time::{Duration, Instant};

use fdframe::{Framer, ReadFd};
use fdframe_conformance::fixtures::{self, TempDir};

use super::{Config, on_thread};
use crate::chaos::{Chaos, Temper};
use crate::frames::{Checker, Format, Pace, write_frames};
use crate::report::{Row, RssSampler, status_kib};
use crate::scenarios::pipes::finish;
use crate::session::{Backend, Session};

/// How much the resident set may grow during a flood row.
const GROWTH_BOUND_KIB: u64 = 16 * 1024;

/// Frames of 3–5 KB: about 4 KiB on average.
fn format() -> Format {
    Format::new(3000..=5000)
}

/// The slow consumer: a stall of up to 2 ms after one frame in 16 (≈ 1 ms per 64 KiB).
const SLOW: Temper = Temper {
    stall_one_in: 16,
    stall_max: Duration::from_millis(2),
    ..Temper::CALM
};

/// Rows `flood-pipe` and `flood-file` for every backend.
pub(super) fn flood(config: &Config, out: &mut dyn FnMut(Row)) {
    let bytes: u64 = if config.quick { 16 << 20 } else { 64 << 20 };
    let count = bytes / 4011;
    let dir = TempDir::new("stress-flood");
    let file = dir.path().join("frames");
    match std::fs::File::create_new(&file)
        .and_then(|f| write_frames(f, &format(), count, Pace::flat_out(1 << 20), config.seed))
    {
        Ok(_) => {}
        Err(e) => {
            let mut row = Row::new("flood-file", "all");
            row.fail(format!("cannot write {}: {e}", file.display()));
            out(row);
            return;
        }
    }
    for backend in Backend::ALL {
        let seed = config.seed_for("flood-pipe", backend.name());
        out(on_thread("flood-pipe", backend.name(), move || {
            let (fd, writer) = fixtures::pipe();
            let writing = thread::spawn(move || {
                write_frames(writer, &format(), count, Pace::flat_out(64 * 1024), seed)
            });
            let mut row = slow_read("flood-pipe", backend, ReadFd::from_fd(fd), count, seed);
            if !matches!(writing.join(), Ok(Ok(_))) {
                row.fail("the writer failed");
            }
            row
        }));
        let seed = config.seed_for("flood-file", backend.name());
        let path = file.clone();
        out(on_thread("flood-file", backend.name(), move || {
            slow_read("flood-file", backend, ReadFd::open(&path), count, seed)
        }));
    }
}

fn slow_read(
    scenario: &'static str,
    backend: Backend,
    fd: std::io::Result<ReadFd>,
    count: u64,
    seed: u64,
) -> Row {
    let mut row = Row::new(scenario, backend.name());
    row.expected = count;
    let baseline = status_kib("VmRSS");
    let sampler = RssSampler::start();
    let started = Instant::now();
    let mut chaos = Chaos::new(seed, SLOW);
    let mut checker = Checker::new(format(), count);
    let outcome = fd.map_err(|e| format!("open: {e}")).and_then(|fd| {
        let mut session = Session::new(backend).map_err(|e| format!("cannot set up: {e}"))?;
        session.run(
            fd,
            Framer::new(format().decoder()),
            &mut chaos,
            &mut checker,
        )
    });
    row.elapsed = started.elapsed();
    row.peak_rss_kib = sampler.stop();
    let growth = row.peak_rss_kib.saturating_sub(baseline);
    row.note("rss_start_MiB", format!("{:.1}", baseline as f64 / 1024.0));
    row.note("growth_MiB", format!("{:.1}", growth as f64 / 1024.0));
    row.note("bound_MiB", GROWTH_BOUND_KIB / 1024);
    finish(&mut row, &checker, &chaos, outcome);
    if growth > GROWTH_BOUND_KIB {
        row.fail(format!(
            "resident set grew by {growth} KiB during the flood, over the {GROWTH_BOUND_KIB} KiB bound"
        ));
    }
    row
}
