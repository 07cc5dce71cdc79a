//! The core's blocking reference backend: waits in `poll(2)`.

use std::io;
use std::time::{Duration, Instant};

use fdframe::blocking::FdReader;
use std::task::Poll;

use fdframe::follow::Checkpoint;
use fdframe::{BatchStep, Decoder, Framer, ReadFd, Step};
use fdframe_conformance::{Backend, BatchBackend, BatchReader, Reader};

pub(crate) struct Blocking;

pub(crate) struct BlockingReader<D: Decoder>(FdReader<D>);

/// The same reader, read with the batch methods.
pub(crate) struct BlockingBatchReader<D: Decoder>(FdReader<D>);

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

impl BatchBackend for Blocking {
    const BATCH_NAME: &'static str = "blocking/batch";
    type BatchReader<D: Decoder + 'static> = BlockingBatchReader<D>;

    fn open_batches<D: Decoder + 'static>(
        fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<BlockingBatchReader<D>> {
        Self::open(fd, framer).map(|BlockingReader(reader)| BlockingBatchReader(reader))
    }
}

impl<D: Decoder> Reader<D> for BlockingReader<D> {
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        self.next_within_beside_other_work(timeout).0
    }

    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64) {
        until(&mut self.0, timeout, FdReader::next_timeout)
    }

    fn next_now(&mut self) -> Step<D::Item, D::Error> {
        self.0.poll_next_now()
    }

    fn framer(&self) -> &Framer<D> {
        self.0.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.0.checkpoint()
    }
}

impl<D: Decoder> BatchReader<D> for BlockingBatchReader<D> {
    fn next_batch_within(&mut self, timeout: Duration) -> BatchStep<D::Item, D::Error> {
        self.next_batch_within_beside_other_work(timeout).0
    }

    fn next_batch_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (BatchStep<D::Item, D::Error>, u64) {
        until(&mut self.0, timeout, FdReader::next_batch_timeout)
    }

    fn next_batch_now(&mut self) -> BatchStep<D::Item, D::Error> {
        self.0.poll_batch_now()
    }

    fn framer(&self) -> &Framer<D> {
        self.0.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.0.checkpoint()
    }
}

/// Calls `next` (`next_timeout` or `next_batch_timeout`) until it is ready or `timeout` is up.
/// Those also return when the engine pauses on input without messages; the caller's loop (this
/// one) takes its turn there and calls again.
fn until<D: Decoder, T>(
    reader: &mut FdReader<D>,
    timeout: Duration,
    mut next: impl FnMut(&mut FdReader<D>, Duration) -> Poll<T>,
) -> (Poll<T>, u64) {
    let deadline = Instant::now() + timeout;
    let mut turns = 0;
    loop {
        let step = next(reader, deadline.saturating_duration_since(Instant::now()));
        if step.is_ready() || Instant::now() >= deadline {
            return (step, turns);
        }
        turns += 1;
    }
}

fdframe_conformance::conformance_tests!(Blocking);

mod batch {
    fdframe_conformance::conformance_tests!(fdframe_conformance::Batched<super::Blocking>);
}
