//! The core's blocking reference backend: waits in `poll(2)`.

use std::io;
use std::time::Duration;

use fdframe::blocking::FdReader;
use fdframe::{Decoder, Framer, ReadFd, Step};
use fdframe_conformance::{Backend, Reader};

pub(crate) struct Blocking;

pub(crate) struct BlockingReader<D: Decoder>(FdReader<D>);

impl Backend for Blocking {
    const NAME: &'static str = "blocking";
    type Reader<D: Decoder + 'static> = BlockingReader<D>;

    fn open<D: Decoder + 'static>(
        mut fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<BlockingReader<D>> {
        // A timeout needs reads that never block; the reader waits in poll(2) instead.
        if fd.kind().is_pollable() {
            fd.set_nonblocking(true)?;
        }
        Ok(BlockingReader(FdReader::with_framer(fd, framer)))
    }
}

impl<D: Decoder> Reader<D> for BlockingReader<D> {
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        self.0.next_timeout(timeout)
    }

    fn framer(&self) -> &Framer<D> {
        self.0.framer()
    }
}

fdframe_conformance::conformance_tests!(Blocking);
