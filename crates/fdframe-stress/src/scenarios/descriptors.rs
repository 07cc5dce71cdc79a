//! `descriptors`: 10,000 streams per backend, each opened on a fresh pipe, read one frame from
//! and dropped, on one runtime (one `Poll`): the process's descriptor count is the same
//! before and after, exactly.

use std::io::Write;
use std::time::Instant;

use fdframe::{Framer, ReadFd};
use fdframe_conformance::fixtures::{self, open_descriptors};

use super::{Config, on_thread};
use crate::chaos::{Chaos, Temper};
use crate::frames::{Checker, Format};
use crate::report::{Row, status_kib};
use crate::session::{Backend, Session};

const CYCLES: u64 = 10_000;

/// One row per backend.
pub(super) fn cycles(config: &Config, out: &mut dyn FnMut(Row)) {
    for backend in Backend::ALL {
        let seed = config.seed_for("descriptors", backend.name());
        out(on_thread("descriptors", backend.name(), move || {
            run(backend, seed)
        }));
    }
}

fn run(backend: Backend, seed: u64) -> Row {
    let mut row = Row::new("descriptors", backend.name());
    row.expected = CYCLES;
    let format = Format::new(0..=16);
    let mut session = match Session::new(backend) {
        Ok(session) => session,
        Err(e) => {
            row.fail(format!("cannot set up: {e}"));
            return row;
        }
    };
    // Half the streams have their first `next()` dropped before the frame is read.
    let temper = Temper {
        spell_one_in: 2,
        spell_max: 1,
        ..Temper::CALM
    };
    let mut chaos = Chaos::new(seed, temper);
    let mut once = |session: &mut Session, seq: u64| -> Result<u64, String> {
        let (fd, mut writer) = fixtures::pipe();
        let mut frame = Vec::new();
        format.put(seq, &mut frame);
        writer
            .write_all(&frame)
            .map_err(|e| format!("write: {e}"))?;
        let mut checker = Checker::new(format.clone(), seq + 1).stop_after(1);
        let fd = ReadFd::from_fd(fd).map_err(|e| format!("ReadFd: {e}"))?;
        session.run(fd, Framer::new(format.decoder()), &mut chaos, &mut checker)?;
        Ok(checker.received)
    };
    // The backend's own descriptors (epoll, eventfd, reactor threads) come into being here,
    // before the count.
    if let Err(e) = once(&mut session, 0) {
        row.fail(e);
        return row;
    }
    let before = open_descriptors();
    let started = Instant::now();
    for seq in 0..CYCLES {
        match once(&mut session, seq) {
            Ok(1) => row.received += 1,
            Ok(_) => {
                row.lost += 1;
            }
            Err(e) => {
                row.errors += 1;
                row.fail(format!("cycle {seq}: {e}"));
                break;
            }
        }
    }
    row.elapsed = started.elapsed();
    let after = open_descriptors();
    row.peak_rss_kib = status_kib("VmRSS");
    row.note("fds_before", before);
    row.note("fds_after", after);
    row.add_notes(&chaos.describe());
    if after != before {
        row.fail(format!(
            "descriptor count changed: {before} before, {after} after {CYCLES} streams"
        ));
    }
    row.check_exact();
    row
}
