//! Sequence-numbered frames: how they are written (with random write sizes, split mid-frame)
//! and how the consumer checks them (lost, duplicated, reordered, corrupted).
//!
//! A frame is one line: ten decimal digits of sequence number, a space, a payload whose length
//! and bytes follow from the number, and `\n`:
//!
//! ```text
//! 0000000041 pqrstuvw\n
//! ```
//!
//! So a frame checks itself: a frame cut, spliced or shifted by the reader does not match its
//! own number.

use std::fs::File;
use std::io::{self, Write};
use std::ops::RangeInclusive;

use bytes::Bytes;
use fdframe::Error;
use fdframe::codec::{LinesDecoder, LinesError};

use crate::session::Sink;

const DIGITS: usize = 10;
const ALPHABET: &[u8] = b"abcdefghijklmnopqrstuvwxyz";

/// The shape of a run's frames.
#[derive(Clone, Debug)]
pub(crate) struct Format {
    /// Payload lengths, chosen per frame from its number.
    payload: RangeInclusive<usize>,
    /// The alphabet repeated: a payload is a window of it.
    pattern: Vec<u8>,
}

impl Format {
    /// Frames whose payloads are `payload` bytes long.
    pub(crate) fn new(payload: RangeInclusive<usize>) -> Format {
        let pattern = ALPHABET
            .iter()
            .copied()
            .cycle()
            .take(*payload.end() + ALPHABET.len())
            .collect();
        Format { payload, pattern }
    }

    /// The longest frame, `\n` excluded.
    pub(crate) fn max_frame_len(&self) -> usize {
        DIGITS + 1 + self.payload.end()
    }

    fn payload_of(&self, seq: u64) -> &[u8] {
        let span = (self.payload.end() - self.payload.start() + 1) as u64;
        let mixed = seq.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> 40;
        let len = self.payload.start() + (mixed % span) as usize;
        let from = (seq % ALPHABET.len() as u64) as usize;
        &self.pattern[from..from + len]
    }

    /// Appends frame `seq` to `out`.
    pub(crate) fn put(&self, seq: u64, out: &mut Vec<u8>) {
        let mut digits = [b'0'; DIGITS];
        let mut n = seq;
        for digit in digits.iter_mut().rev() {
            *digit = b'0' + (n % 10) as u8;
            n /= 10;
        }
        out.extend_from_slice(&digits);
        out.push(b' ');
        out.extend_from_slice(self.payload_of(seq));
        out.push(b'\n');
    }

    /// The number of a frame (without its `\n`), or `None` if it is not exactly a frame.
    pub(crate) fn check(&self, frame: &[u8]) -> Option<u64> {
        if frame.len() < DIGITS + 1 || frame[DIGITS] != b' ' {
            return None;
        }
        let mut seq = 0u64;
        for &digit in &frame[..DIGITS] {
            if !digit.is_ascii_digit() {
                return None;
            }
            seq = seq * 10 + u64::from(digit - b'0');
        }
        (&frame[DIGITS + 1..] == self.payload_of(seq)).then_some(seq)
    }

    /// A lines decoder whose limit fits these frames.
    pub(crate) fn decoder(&self) -> LinesDecoder {
        LinesDecoder::new().max_line_len(self.max_frame_len())
    }
}

/// How a writer writes.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Pace {
    /// Writes are log-uniform from 1 byte to this, so tiny writes that split a frame's digits
    /// are as common as the largest.
    pub(crate) max_write: usize,
    /// After one write in this many the writer pauses for up to `pause_max` (0: never), so
    /// the reader catches up and waits, often in mid-frame.
    pub(crate) pause_one_in: u32,
    pub(crate) pause_max: std::time::Duration,
    /// One write in this many starts a trickle (0: never): up to `trickle_len` writes of at
    /// most 256 bytes, each followed by a pause of up to `pause_max`. A reader that keeps
    /// catching up waits mid-frame again and again; that is when a cancelled `next()` matters.
    pub(crate) trickle_one_in: u32,
    pub(crate) trickle_len: u32,
}

impl Pace {
    /// As fast as it can, in writes of up to `max_write` bytes.
    pub(crate) const fn flat_out(max_write: usize) -> Pace {
        Pace {
            max_write,
            pause_one_in: 0,
            pause_max: std::time::Duration::ZERO,
            trickle_one_in: 0,
            trickle_len: 0,
        }
    }
}

/// Writes frames `0..count` to `out` at `pace`, then closes it. Returns the bytes written.
pub(crate) fn write_frames(
    mut out: File,
    format: &Format,
    count: u64,
    pace: Pace,
    seed: u64,
) -> io::Result<u64> {
    let max_write = pace.max_write;
    let mut rng = fastrand::Rng::with_seed(seed);
    let mut buf = Vec::with_capacity(4 * max_write);
    let mut at = 0;
    let mut next = 0;
    let mut written = 0u64;
    let bits = max_write.max(1).ilog2();
    let mut trickle_left = 0;
    loop {
        if trickle_left == 0 && pace.trickle_one_in != 0 && rng.u32(..pace.trickle_one_in) == 0 {
            trickle_left = rng.u32(1..=pace.trickle_len.max(1));
        }
        let bits = if trickle_left > 0 { bits.min(8) } else { bits };
        let exp = rng.u32(..=bits);
        let size = (1usize << exp) + rng.usize(..(1usize << exp));
        let size = size.clamp(1, max_write);
        while buf.len() - at < size && next < count {
            format.put(next, &mut buf);
            next += 1;
        }
        let end = (at + size).min(buf.len());
        if end == at {
            return Ok(written);
        }
        out.write_all(&buf[at..end])?;
        let trickling = trickle_left > 0;
        trickle_left = trickle_left.saturating_sub(1);
        if trickling || (pace.pause_one_in != 0 && rng.u32(..pace.pause_one_in) == 0) {
            let micros = rng.u64(..=pace.pause_max.as_micros() as u64);
            std::thread::sleep(std::time::Duration::from_micros(micros));
        }
        written += (end - at) as u64;
        at = end;
        if at > 2 * max_write {
            buf.drain(..at);
            at = 0;
        }
    }
}

/// Checks every frame against its number: each of `0..expected` must come exactly once, in
/// order, intact.
pub(crate) struct Checker {
    format: Format,
    expected: u64,
    seen: Vec<u64>,
    /// Distinct valid frames received.
    pub(crate) received: u64,
    pub(crate) duplicated: u64,
    pub(crate) reordered: u64,
    /// Frames that were not a valid frame (cut, spliced, garbled).
    pub(crate) corrupt: u64,
    /// Errors and notices the stream yielded.
    pub(crate) errors: u64,
    /// The first few problems, for the report.
    pub(crate) first_problems: Vec<String>,
    next_in_order: u64,
    pub(crate) ended: bool,
    /// Stop after this many frames (the descriptor scenario reads one per stream).
    stop_after: Option<u64>,
}

impl Checker {
    /// Expects frames `0..expected` of `format`.
    pub(crate) fn new(format: Format, expected: u64) -> Checker {
        Checker {
            format,
            expected,
            seen: vec![0; expected.div_ceil(64) as usize],
            received: 0,
            duplicated: 0,
            reordered: 0,
            corrupt: 0,
            errors: 0,
            first_problems: Vec::new(),
            next_in_order: 0,
            ended: false,
            stop_after: None,
        }
    }

    /// Stops the run (drops the stream) after `n` frames.
    pub(crate) fn stop_after(mut self, n: u64) -> Checker {
        self.stop_after = Some(n);
        self
    }

    /// Frames expected but never received.
    pub(crate) fn lost(&self) -> u64 {
        self.expected - self.received
    }

    fn problem(&mut self, what: String) {
        if self.first_problems.len() < 3 {
            self.first_problems.push(what);
        }
    }

    fn on_frame(&mut self, frame: &[u8]) {
        let Some(seq) = self.format.check(frame).filter(|&seq| seq < self.expected) else {
            self.corrupt += 1;
            let shown = String::from_utf8_lossy(&frame[..frame.len().min(40)]).into_owned();
            self.problem(format!("corrupt frame {shown:?}"));
            return;
        };
        let (word, bit) = ((seq / 64) as usize, 1u64 << (seq % 64));
        if self.seen[word] & bit != 0 {
            self.duplicated += 1;
            self.problem(format!("frame {seq} again"));
            return;
        }
        self.seen[word] |= bit;
        self.received += 1;
        if seq == self.next_in_order {
            self.next_in_order += 1;
        } else if seq < self.next_in_order {
            self.reordered += 1;
            self.problem(format!("frame {seq} after {}", self.next_in_order - 1));
        } else {
            // A gap: counted as lost at the end unless the missing frames come later (then
            // they count as reordered).
            self.problem(format!("frame {seq} where {} was due", self.next_in_order));
            self.next_in_order = seq + 1;
        }
    }
}

impl Sink<LinesDecoder> for Checker {
    fn on_step(&mut self, step: Result<Bytes, Error<LinesError>>) -> bool {
        match step {
            Ok(frame) => self.on_frame(&frame),
            Err(e) => {
                self.errors += 1;
                self.problem(format!("error: {e}"));
            }
        }
        self.stop_after.is_none_or(|n| self.received < n)
    }

    fn on_end(&mut self) {
        self.ended = true;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_checks_itself_and_a_damaged_one_does_not() {
        let format = Format::new(0..=30);
        let mut out = Vec::new();
        for seq in [0, 41, 9_999_999_999] {
            out.clear();
            format.put(seq, &mut out);
            assert_eq!(out.last(), Some(&b'\n'));
            let frame = &out[..out.len() - 1];
            assert_eq!(format.check(frame), Some(seq));
            assert_eq!(format.check(&frame[1..]), None);
            assert_eq!(format.check(&frame[..frame.len() - 1]), None, "{seq}");
        }
    }

    #[test]
    fn the_checker_tells_loss_duplication_and_reordering_apart() {
        let format = Format::new(0..=8);
        let mut checker = Checker::new(format.clone(), 6);
        for seq in [0, 2, 1, 2, 4] {
            let mut out = Vec::new();
            format.put(seq, &mut out);
            out.pop();
            checker.on_step(Ok(Bytes::from(out)));
        }
        checker.on_step(Ok(Bytes::from_static(b"garbage")));
        assert_eq!(
            (
                checker.received,
                checker.lost(),
                checker.duplicated,
                checker.reordered,
                checker.corrupt
            ),
            (4, 2, 1, 1, 1)
        );
    }

    #[test]
    fn written_frames_arrive_whole_through_a_pipe() {
        let format = Format::new(0..=20);
        let (reader, writer) = std::io::pipe().unwrap();
        let writer = File::from(std::os::fd::OwnedFd::from(writer));
        let writing = std::thread::spawn({
            let format = format.clone();
            move || write_frames(writer, &format, 5000, Pace::flat_out(4096), 7).unwrap()
        });
        let mut checker = Checker::new(format.clone(), 5000);
        let reader = fdframe::blocking::FdReader::from_fd(reader.into(), format.decoder());
        for step in reader.unwrap() {
            checker.on_step(step);
        }
        let bytes = writing.join().unwrap();
        assert!(bytes > 5000 * 11);
        assert_eq!((checker.received, checker.corrupt), (5000, 0));
    }
}
