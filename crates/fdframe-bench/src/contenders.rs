//! The readers being compared. The first is the baseline the ratios are relative to.

use std::os::fd::OwnedFd;

use fdframe::Framer;
use fdframe::blocking::FdReader;
use fdframe::codec::LinesDecoder;

use crate::Contender;

/// Every contender, baseline first.
pub(crate) fn all() -> Vec<Contender> {
    vec![
        Contender {
            name: "raw read(2), 64 KiB buffer, memchr count",
            run: raw_read_loop,
        },
        Contender {
            name: "fdframe blocking, LinesDecoder (adaptive)",
            run: fdframe_blocking,
        },
        Contender {
            name: "fdframe blocking, LinesDecoder, 8 KiB reads",
            run: fdframe_blocking_8k,
        },
    ]
}

fn raw_read_loop(fd: OwnedFd) -> u64 {
    let mut buf = vec![0u8; 64 * 1024];
    let mut lines = 0;
    loop {
        match rustix::io::read(&fd, &mut buf[..]) {
            Ok(0) => return lines,
            Ok(n) => lines += memchr::memchr_iter(b'\n', &buf[..n]).count() as u64,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => panic!("read: {e}"),
        }
    }
}

fn count<D: fdframe::Decoder>(reader: FdReader<D>) -> u64 {
    let mut lines = 0;
    for frame in reader {
        frame.expect("a line");
        lines += 1;
    }
    lines
}

fn fdframe_blocking(fd: OwnedFd) -> u64 {
    count(FdReader::from_fd(fd, LinesDecoder::new()).expect("reader"))
}

fn fdframe_blocking_8k(fd: OwnedFd) -> u64 {
    let framer = Framer::new(LinesDecoder::new()).with_max_read_size(8 * 1024);
    count(FdReader::with_framer(
        fdframe::ReadFd::from_fd(fd).expect("fd"),
        framer,
    ))
}
