//! The ceilings: the least a blocking reader can do and still hand out what fdframe hands out.
//!
//! - **Per-frame ceiling**: read into a `BytesMut` kept at least 64 KiB spare; hand out one
//!   `Bytes` per line (`memchr`, `split_to`, `freeze`, newline dropped), exactly the item
//!   fdframe's `LinesDecoder` yields, with none of an engine's bookkeeping.
//! - **Batch ceiling**: 256 KiB reads; freeze one `Bytes` per read (up to its last newline) and
//!   walk its line boundaries with `memchr_iter`: what a batch API could at best cost.

use std::os::fd::OwnedFd;

use bytes::{Bytes, BytesMut};

use super::read_spare;
use crate::harness::{Res, Tally};

/// Spare room before every read of the per-frame ceiling.
const PER_FRAME_SPARE: usize = 64 * 1024;
/// Read size of the batch ceiling.
pub(crate) const BATCH_READ: usize = 256 * 1024;

/// Hands every whole line in `buf` to `each` as its own `Bytes`, newline dropped; `searched` is
/// how far `buf` is already known to hold no newline (and is left at the new such point).
#[inline]
pub(crate) fn split_lines(buf: &mut BytesMut, searched: &mut usize, mut each: impl FnMut(Bytes)) {
    while let Some(i) = memchr::memchr(b'\n', &buf[*searched..]) {
        let end = *searched + i;
        let mut line = buf.split_to(end + 1).freeze();
        line.truncate(end);
        *searched = 0;
        each(line);
    }
    *searched = buf.len();
}

/// The per-frame ceiling: one `Bytes` per line to `each`.
pub(crate) fn per_frame(fd: OwnedFd, mut each: impl FnMut(Bytes)) -> Res<()> {
    let mut buf = BytesMut::new();
    let mut searched = 0;
    loop {
        if read_spare(&fd, &mut buf, PER_FRAME_SPARE)? == 0 {
            return at_end(&buf);
        }
        split_lines(&mut buf, &mut searched, &mut each);
    }
}

/// The per-frame ceiling, counted.
pub(crate) fn per_frame_tally(fd: OwnedFd) -> Res<Tally> {
    let mut tally = Tally::default();
    per_frame(fd, |line| tally.frame(line.len()))?;
    Ok(tally)
}

/// The batch ceiling, counted: one frozen `Bytes` per read of up to `read_size` bytes (the
/// ceiling is [`BATCH_READ`]; other sizes are the `--max-read` experiment), lines walked
/// inside it.
pub(crate) fn batch_tally(fd: OwnedFd, read_size: usize) -> Res<Tally> {
    let mut tally = Tally::default();
    let mut buf = BytesMut::new();
    loop {
        let n = read_spare(&fd, &mut buf, read_size)?;
        if n == 0 {
            at_end(&buf)?;
            return Ok(tally);
        }
        // The bytes before this read hold no newline, so the last one is in the new bytes.
        let Some(last) = memchr::memrchr(b'\n', &buf[buf.len() - n..]) else {
            continue;
        };
        let batch = buf.split_to(buf.len() - n + last + 1).freeze();
        let mut start = 0;
        for newline in memchr::memchr_iter(b'\n', &batch) {
            tally.frame(batch[start..newline].len());
            start = newline + 1;
        }
    }
}

fn at_end(buf: &BytesMut) -> Res<()> {
    if buf.is_empty() {
        Ok(())
    } else {
        Err(format!("{} bytes after the last newline", buf.len()).into())
    }
}
