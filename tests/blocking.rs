//! The core's blocking reference backend: waits in `poll(2)`.

use std::io;
use std::time::{Duration, Instant};

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
        self.next_within_beside_other_work(timeout).0
    }

    /// `next_timeout` also returns when the engine pauses on input without messages; the
    /// caller's loop (this one) takes its turn there and calls again until the time is up.
    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64) {
        let deadline = Instant::now() + timeout;
        let mut turns = 0;
        loop {
            let step = self
                .0
                .next_timeout(deadline.saturating_duration_since(Instant::now()));
            if step.is_ready() || Instant::now() >= deadline {
                return (step, turns);
            }
            turns += 1;
        }
    }

    fn framer(&self) -> &Framer<D> {
        self.0.framer()
    }
}

fdframe_conformance::conformance_tests!(Blocking);
