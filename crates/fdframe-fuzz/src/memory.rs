//! The memory property: peak live heap bytes while the engine runs, against a bound derived from
//! the decoder's limits.
//!
//! The counting allocator must be the process's global allocator, so it is installed by the
//! program that runs the targets (the `fdframe-fuzz` binary and the replay tests) with
//! [`install`]; a library cannot pick it. Without a meter installed the property is not
//! checked.
//!
//! # The bound
//!
//! In stream mode the engine reads only while it buffers at most `max_frame_len` bytes, and
//! offers at most `max(max_read_size, min_read_capacity)` per read, so its buffer holds at most
//! `max_frame_len + offer` bytes. `BytesMut` may double its capacity when it grows, and while it
//! reallocates the old and the new block are both live: that is 3 × (`max_frame_len` +
//! `offer`). One more of the same covers the item the engine holds back behind a loss notice and,
//! in record mode, the spare read buffer it keeps. Hence
//!
//! ```text
//! bound = 4 × (max_frame_len + max(max_read_size, min_read_capacity)) + 4 KiB
//! ```
//!
//! where the 4 KiB are the decoders' own bookkeeping (a kmsg record's field vectors, a queued
//! loss). The harness keeps an owned copy of everything the stream yields, so that it can check
//! the other properties afterwards; those copies are live at the end of the run and never freed
//! during it, so the check is `peak - baseline <= bound + 2 × retained`, with `retained` the
//! live bytes left once the engine is dropped (the factor 2 covers the harness's own vector of
//! events while it doubles).

use std::sync::OnceLock;

/// Reads a counting global allocator.
#[derive(Clone, Copy, Debug)]
pub struct Meter {
    /// Live heap bytes now.
    pub current: fn() -> usize,
    /// The most live heap bytes since the last [`reset_peak`](Meter::reset_peak).
    pub peak: fn() -> usize,
    /// Starts a new peak from the current live bytes.
    pub reset_peak: fn(),
}

static METER: OnceLock<Meter> = OnceLock::new();

/// Makes the targets check the memory property with `meter`. Call once, from the program whose
/// `#[global_allocator]` the meter reads; later calls are ignored.
pub fn install(meter: Meter) {
    let _ = METER.set(meter);
}

/// The meter installed, if any.
pub fn meter() -> Option<Meter> {
    METER.get().copied()
}

/// Slack for the decoders' own small allocations.
pub(crate) const SLACK: usize = 4096;

/// The bound on the engine's peak heap, from the limits in force.
pub(crate) fn engine_bound(max_frame_len: usize, max_offer: usize) -> usize {
    max_frame_len
        .saturating_add(max_offer)
        .saturating_mul(4)
        .saturating_add(SLACK)
}

/// Measures one run: created when the engine starts, [`finish`](Watch::finish)ed once it is
/// dropped.
pub(crate) struct Watch {
    meter: Option<Meter>,
    baseline: usize,
}

impl Watch {
    pub(crate) fn start() -> Self {
        let meter = meter();
        let baseline = meter.map_or(0, |m| {
            (m.reset_peak)();
            (m.current)()
        });
        Watch { meter, baseline }
    }

    /// Whether the property is checked at all.
    pub(crate) fn checked(&self) -> bool {
        self.meter.is_some()
    }

    /// Returns `(peak above baseline, retained above baseline)`; call after dropping the engine.
    pub(crate) fn finish(&self) -> (usize, usize) {
        match self.meter {
            Some(m) => (
                (m.peak)().saturating_sub(self.baseline),
                (m.current)().saturating_sub(self.baseline),
            ),
            None => (0, 0),
        }
    }
}
