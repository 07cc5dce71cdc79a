//! `fdframe-async-io` driven by smol (the same crate, another executor).

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use std::task::Poll;

use fdframe::follow::Checkpoint;
use fdframe::{BatchStep, Decoder, Framer, ReadFd, Step};
use fdframe_async_io::{BatchStream, FdAsyncRead, FdStream};
use fdframe_conformance::{Backend, BatchBackend, BatchReader, ByteReader, Reader};
use futures_lite::{Stream, StreamExt};

use crate::within::within;

pub(crate) struct Smol;

/// A stream of messages ([`FdStream`]) or of batches ([`BatchStream`]).
pub(crate) struct SmolReader<S>(S);

impl Backend for Smol {
    const NAME: &'static str = "smol";
    type Reader<D: Decoder + 'static> = SmolReader<FdStream<D>>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<Self::Reader<D>> {
        FdStream::with_framer(fd, framer).map(SmolReader)
    }

    fn open_bytes(fd: ReadFd) -> io::Result<Box<dyn ByteReader>> {
        Ok(Box::new(SmolReader(FdAsyncRead::new(fd)?)))
    }
}

/// `FdAsyncRead`'s `AsyncRead`, one `read` future per read.
impl ByteReader for SmolReader<FdAsyncRead> {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> Option<io::Result<usize>> {
        let one_read = futures_lite::AsyncReadExt::read(&mut self.0, buf);
        match smol::block_on(within(one_read, async_io::Timer::after(timeout))) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }
}

impl BatchBackend for Smol {
    const BATCH_NAME: &'static str = "smol/batch";
    type BatchReader<D: Decoder + 'static> = SmolReader<BatchStream<D>>;

    fn open_batches<D: Decoder + 'static>(
        fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<Self::BatchReader<D>> {
        FdStream::with_framer(fd, framer).map(|stream| SmolReader(stream.batches()))
    }
}

impl<D: Decoder> Reader<D> for SmolReader<FdStream<D>> {
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        self.next_of_within(timeout)
    }

    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64) {
        self.next_of_beside_other_work(timeout)
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

impl<D: Decoder> BatchReader<D> for SmolReader<BatchStream<D>> {
    fn next_batch_within(&mut self, timeout: Duration) -> BatchStep<D::Item, D::Error> {
        self.next_of_within(timeout)
    }

    fn next_batch_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (BatchStep<D::Item, D::Error>, u64) {
        self.next_of_beside_other_work(timeout)
    }

    fn next_batch_now(&mut self) -> BatchStep<D::Item, D::Error> {
        // `BatchStream::poll_next_now` is the stream's `poll_batch_now`.
        self.0.poll_next_now()
    }

    fn framer(&self) -> &Framer<D> {
        self.0.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.0.checkpoint()
    }
}

impl<S: Stream + Unpin> SmolReader<S> {
    fn next_of_within(&mut self, timeout: Duration) -> Poll<Option<S::Item>> {
        let stream = &mut self.0;
        smol::block_on(within(stream.next(), async_io::Timer::after(timeout)))
    }

    fn next_of_beside_other_work(&mut self, timeout: Duration) -> (Poll<Option<S::Item>>, u64) {
        // A second task on a local executor run by the same `block_on` (one thread).
        let executor = smol::LocalExecutor::new();
        let turns = Rc::new(Cell::new(0));
        let counting = Rc::clone(&turns);
        let other = executor.spawn(async move {
            loop {
                counting.set(counting.get() + 1);
                futures_lite::future::yield_now().await;
            }
        });
        let stream = &mut self.0;
        let next = within(stream.next(), async_io::Timer::after(timeout));
        let step = smol::block_on(executor.run(next));
        drop(other);
        (step, turns.get())
    }
}

fdframe_conformance::conformance_tests!(Smol);

mod batch {
    fdframe_conformance::conformance_tests!(fdframe_conformance::Batched<super::Smol>);
}
