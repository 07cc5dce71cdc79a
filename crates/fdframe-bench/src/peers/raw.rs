//! The raw loops: a blocking `read(2)` into one reused buffer and the least work that still
//! counts the frames. Every throughput ratio is relative to one of these, measured in the same
//! rounds.

use std::os::fd::{AsFd, OwnedFd};

use rustix::io::Errno;

use crate::harness::{Res, Tally};

/// The raw loop's read size for pipes.
const READ_SIZE: usize = 64 * 1024;

/// One blocking read, retried on `EINTR`; 0 at end of input.
fn read(fd: impl AsFd, buf: &mut [u8]) -> Res<usize> {
    loop {
        match rustix::io::read(fd.as_fd(), &mut *buf) {
            Ok(n) => return Ok(n),
            Err(Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
}

/// Lines: 64 KiB reads, `memchr_iter` counts the newlines.
pub(crate) fn lines(fd: OwnedFd) -> Res<Tally> {
    let mut buf = vec![0u8; READ_SIZE];
    let (mut frames, mut total) = (0u64, 0u64);
    loop {
        let n = read(&fd, &mut buf)?;
        if n == 0 {
            break;
        }
        total += n as u64;
        frames += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64;
    }
    Ok(Tally {
        frames,
        bytes: total - frames,
    })
}

/// Length-delimited frames (`u32` big-endian header): 64 KiB reads; the loop reads each header
/// (which may straddle two reads) and skips the payload.
pub(crate) fn length_delimited(fd: OwnedFd) -> Res<Tally> {
    let mut buf = vec![0u8; READ_SIZE];
    let mut walker = HeaderWalker::default();
    loop {
        let n = read(&fd, &mut buf)?;
        if n == 0 {
            return walker.finish();
        }
        walker.feed(&buf[..n]);
    }
}

/// Walks `u32` big-endian length headers across reads, skipping payloads.
#[derive(Debug, Default)]
struct HeaderWalker {
    tally: Tally,
    header: [u8; 4],
    header_len: usize,
    skip: usize,
}

impl HeaderWalker {
    #[inline]
    fn feed(&mut self, bytes: &[u8]) {
        let mut at = 0;
        while at < bytes.len() {
            if self.skip > 0 {
                let step = self.skip.min(bytes.len() - at);
                at += step;
                self.skip -= step;
                continue;
            }
            let take = (4 - self.header_len).min(bytes.len() - at);
            self.header[self.header_len..self.header_len + take]
                .copy_from_slice(&bytes[at..at + take]);
            self.header_len += take;
            at += take;
            if self.header_len == 4 {
                self.header_len = 0;
                self.skip = u32::from_be_bytes(self.header) as usize;
                self.tally.frame(self.skip);
            }
        }
    }

    fn finish(self) -> Res<Tally> {
        if self.skip > 0 || self.header_len > 0 {
            return Err("input ended inside a frame".into());
        }
        Ok(self.tally)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frames() -> Vec<u8> {
        let mut bytes = Vec::new();
        for len in [0u32, 1, 300, 5] {
            bytes.extend(len.to_be_bytes());
            bytes.extend(std::iter::repeat_n(7u8, len as usize));
        }
        bytes
    }

    #[test]
    fn headers_straddling_reads_are_counted_once() {
        let bytes = frames();
        for piece in [1, 2, 3, 5, 64, bytes.len()] {
            let mut walker = HeaderWalker::default();
            for chunk in bytes.chunks(piece) {
                walker.feed(chunk);
            }
            let tally = walker.finish().unwrap();
            assert_eq!(
                tally,
                Tally {
                    frames: 4,
                    bytes: 306
                },
                "pieces of {piece}"
            );
        }
    }

    #[test]
    fn input_ending_inside_a_frame_is_an_error() {
        let bytes = frames();
        let mut walker = HeaderWalker::default();
        walker.feed(&bytes[..bytes.len() - 1]);
        assert!(walker.finish().is_err());
    }
}
