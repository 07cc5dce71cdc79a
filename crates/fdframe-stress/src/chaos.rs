//! What a misbehaving consumer does between frames: abandon `next()` right away or after a
//! short wait, stop draining midway, stall. Seeded, so a failing run replays with `--seed`.

use std::time::Duration;

/// Derives the seed of one row from the run's seed and the row's name, so `--only` replays a
/// row exactly as it ran in the full run.
pub(crate) fn row_seed(seed: u64, scenario: &str, backend: &str) -> u64 {
    let mut h = seed ^ 0x9e37_79b9_7f4a_7c15;
    for byte in scenario.bytes().chain([0]).chain(backend.bytes()) {
        h = splitmix(h ^ u64::from(byte));
    }
    h
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// How the consumer asks for its next frame.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Ask {
    /// Wait for it (up to the stall timeout).
    Wait,
    /// Poll once and drop the pending `next()` if nothing is ready.
    Once,
    /// Wait at most this long, then drop the pending `next()`.
    Briefly(Duration),
}

/// How often the consumer misbehaves.
///
/// Cancelling a `next()` that would be ready at once tests nothing, and most are: one read
/// brings hundreds of frames. So the consumer has *impatient spells*: once one starts, every
/// `next()` for a while is polled once or given a short wait and dropped if still pending —
/// which it is whenever the reader has caught up with the writer, often in mid-frame.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Temper {
    /// One `next()` call in this many starts an impatient spell (0: never).
    pub(crate) spell_one_in: u32,
    /// A spell lasts up to this many `next()` calls.
    pub(crate) spell_max: u32,
    /// Within a spell, per thousand calls given a wait of up to `brief_max` (the others are
    /// polled once).
    pub(crate) brief_per_mille: u32,
    pub(crate) brief_max: Duration,
    /// One frame in this many is followed by a stall of up to `stall_max` (0: never).
    pub(crate) stall_one_in: u32,
    pub(crate) stall_max: Duration,
    /// mio: after one frame in this many the drain is abandoned (0: never).
    pub(crate) abandon_drain_one_in: u32,
}

impl Temper {
    /// A consumer that waits for every frame and never stalls.
    pub(crate) const CALM: Temper = Temper {
        spell_one_in: 0,
        spell_max: 0,
        brief_per_mille: 0,
        brief_max: Duration::ZERO,
        stall_one_in: 0,
        stall_max: Duration::ZERO,
        abandon_drain_one_in: 0,
    };

    /// The frames scenario's consumer: an impatient spell of up to 300 calls every ~100
    /// calls, a stall of up to 2 ms every ~20,000 frames (the writer fills the pipe and blocks
    /// meanwhile), a mio drain abandoned every ~500 frames.
    pub(crate) const UNRULY: Temper = Temper {
        spell_one_in: 100,
        spell_max: 300,
        brief_per_mille: 200,
        brief_max: Duration::from_micros(100),
        stall_one_in: 20_000,
        stall_max: Duration::from_millis(2),
        abandon_drain_one_in: 500,
    };
}

/// The consumer's dice and what it did with them.
pub(crate) struct Chaos {
    rng: fastrand::Rng,
    temper: Temper,
    /// `next()` calls dropped while pending.
    pub(crate) cancelled: u64,
    /// Stalls taken.
    pub(crate) stalls: u64,
    /// mio drains abandoned midway.
    pub(crate) abandoned_drains: u64,
    /// `next()` calls left in the current impatient spell.
    spell_left: u32,
    /// Waits that were interrupted by a signal and retried by the consumer's own loop (mio).
    pub(crate) interrupted_waits: u64,
}

impl Chaos {
    /// Dice seeded with `seed`, rolled by `temper`.
    pub(crate) fn new(seed: u64, temper: Temper) -> Chaos {
        Chaos {
            rng: fastrand::Rng::with_seed(seed),
            temper,
            cancelled: 0,
            stalls: 0,
            abandoned_drains: 0,
            interrupted_waits: 0,
            spell_left: 0,
        }
    }

    /// How to ask for the next frame.
    pub(crate) fn ask(&mut self) -> Ask {
        let t = self.temper;
        if self.spell_left == 0 {
            if t.spell_one_in == 0 || self.rng.u32(..t.spell_one_in) != 0 {
                return Ask::Wait;
            }
            self.spell_left = self.rng.u32(1..=t.spell_max.max(1));
        }
        self.spell_left -= 1;
        if self.rng.u32(..1000) < t.brief_per_mille {
            let micros = self.rng.u64(..=t.brief_max.as_micros() as u64);
            Ask::Briefly(Duration::from_micros(micros))
        } else {
            Ask::Once
        }
    }

    /// After a frame: perhaps stall (sleep the consuming thread).
    pub(crate) fn after_frame(&mut self) {
        let t = self.temper;
        if t.stall_one_in == 0 || self.rng.u32(..t.stall_one_in) != 0 {
            return;
        }
        self.stalls += 1;
        let micros = self.rng.u64(..=t.stall_max.as_micros() as u64);
        std::thread::sleep(Duration::from_micros(micros));
    }

    /// mio: whether to abandon the drain after this frame.
    pub(crate) fn abandon_drain(&mut self) -> bool {
        let t = self.temper;
        let abandon = t.abandon_drain_one_in != 0 && self.rng.u32(..t.abandon_drain_one_in) == 0;
        self.abandoned_drains += u64::from(abandon);
        abandon
    }

    /// `cancelled=… stalls=…` for a row's notes.
    pub(crate) fn describe(&self) -> String {
        let mut text = format!("cancelled={} stalls={}", self.cancelled, self.stalls);
        if self.abandoned_drains > 0 {
            text.push_str(&format!(" abandoned_drains={}", self.abandoned_drains));
        }
        if self.interrupted_waits > 0 {
            text.push_str(&format!(" interrupted_waits={}", self.interrupted_waits));
        }
        text
    }
}
