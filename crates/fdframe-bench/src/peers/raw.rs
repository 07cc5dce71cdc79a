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
    let mut tally = Tally::default();
    let mut header = [0u8; 4];
    let mut header_len = 0;
    let mut skip = 0usize;
    loop {
        let n = read(&fd, &mut buf)?;
        if n == 0 {
            break;
        }
        let mut at = 0;
        while at < n {
            if skip > 0 {
                let step = skip.min(n - at);
                at += step;
                skip -= step;
                continue;
            }
            let take = (4 - header_len).min(n - at);
            header[header_len..header_len + take].copy_from_slice(&buf[at..at + take]);
            header_len += take;
            at += take;
            if header_len == 4 {
                header_len = 0;
                skip = u32::from_be_bytes(header) as usize;
                tally.frame(skip);
            }
        }
    }
    if skip > 0 || header_len > 0 {
        return Err("input ended inside a frame".into());
    }
    Ok(tally)
}
