//! `fdframe-async-io` driven by the async-std runtime.

use std::cell::Cell;
use std::io;
use std::time::Duration;

use std::task::Poll;

use fdframe::follow::Checkpoint;
use fdframe::{BatchStep, Decoder, Framer, ReadFd, Step};
use fdframe_async_io::{BatchStream, FdAsyncRead, FdStream};
use fdframe_conformance::{Backend, BatchBackend, BatchReader, ByteReader, Reader};
use futures_lite::{Stream, StreamExt};

use crate::within::within;

pub(crate) struct AsyncStd;

/// A stream of messages ([`FdStream`]) or of batches ([`BatchStream`]).
pub(crate) struct AsyncStdReader<S>(S);

impl Backend for AsyncStd {
    const NAME: &'static str = "async-std";
    type Reader<D: Decoder + 'static> = AsyncStdReader<FdStream<D>>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<Self::Reader<D>> {
        FdStream::with_framer(fd, framer).map(AsyncStdReader)
    }

    fn open_bytes(fd: ReadFd) -> io::Result<Box<dyn ByteReader>> {
        Ok(Box::new(AsyncStdReader(FdAsyncRead::new(fd)?)))
    }
}

/// `FdAsyncRead`'s `AsyncRead`, one `read` future per read.
impl ByteReader for AsyncStdReader<FdAsyncRead> {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> Option<io::Result<usize>> {
        let one_read = futures_lite::AsyncReadExt::read(&mut self.0, buf);
        match async_std::task::block_on(within(one_read, async_io::Timer::after(timeout))) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }
}

impl BatchBackend for AsyncStd {
    const BATCH_NAME: &'static str = "async-std/batch";
    type BatchReader<D: Decoder + 'static> = AsyncStdReader<BatchStream<D>>;

    fn open_batches<D: Decoder + 'static>(
        fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<Self::BatchReader<D>> {
        FdStream::with_framer(fd, framer).map(|stream| AsyncStdReader(stream.batches()))
    }
}

impl<D: Decoder> Reader<D> for AsyncStdReader<FdStream<D>> {
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

impl<D: Decoder> BatchReader<D> for AsyncStdReader<BatchStream<D>> {
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

impl<S: Stream + Unpin> AsyncStdReader<S> {
    fn next_of_within(&mut self, timeout: Duration) -> Poll<Option<S::Item>> {
        let stream = &mut self.0;
        async_std::task::block_on(within(stream.next(), async_io::Timer::after(timeout)))
    }

    fn next_of_beside_other_work(&mut self, timeout: Duration) -> (Poll<Option<S::Item>>, u64) {
        // async-std spawns onto a thread pool (`spawn_local` is unstable), so the other work
        // is a future polled by the same `block_on`, next to the stream.
        let turns = Cell::new(0);
        let other = async {
            loop {
                turns.set(turns.get() + 1);
                futures_lite::future::yield_now().await;
            }
        };
        let stream = &mut self.0;
        let next = within(stream.next(), async_io::Timer::after(timeout));
        let step = async_std::task::block_on(futures_lite::future::or(next, other));
        (step, turns.get())
    }
}

fdframe_conformance::conformance_tests!(AsyncStd);

mod batch {
    fdframe_conformance::conformance_tests!(fdframe_conformance::Batched<super::AsyncStd>);
}
