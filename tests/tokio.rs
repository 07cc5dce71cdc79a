//! `fdframe-tokio` on a current-thread runtime, one per test thread.

use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use std::task::Poll;

use fdframe::follow::Checkpoint;
use fdframe::{BatchStep, Decoder, Framer, ReadFd, Step};
use fdframe_conformance::{Backend, BatchBackend, BatchReader, ByteReader, Reader};
use fdframe_tokio::{BatchStream, FdAsyncRead, FdStream};
use futures_lite::{Stream, StreamExt};

use crate::within::within;

thread_local! {
    static RUNTIME: Rc<tokio::runtime::Runtime> = Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    );
}

pub(crate) struct Tokio;

/// A stream of messages ([`FdStream`]) or of batches ([`BatchStream`]) on this thread's runtime.
pub(crate) struct TokioReader<S> {
    runtime: Rc<tokio::runtime::Runtime>,
    stream: S,
}

impl Backend for Tokio {
    const NAME: &'static str = "tokio";
    type Reader<D: Decoder + 'static> = TokioReader<FdStream<D>>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<Self::Reader<D>> {
        let runtime = RUNTIME.with(Rc::clone);
        let stream = {
            let _inside = runtime.enter();
            FdStream::with_framer(fd, framer)?
        };
        Ok(TokioReader { runtime, stream })
    }

    fn open_bytes(fd: ReadFd) -> io::Result<Box<dyn ByteReader>> {
        let runtime = RUNTIME.with(Rc::clone);
        let stream = {
            let _inside = runtime.enter();
            FdAsyncRead::new(fd)?
        };
        Ok(Box::new(TokioReader { runtime, stream }))
    }
}

/// `FdAsyncRead`'s `AsyncRead`, one `poll_read` future per read.
impl ByteReader for TokioReader<FdAsyncRead> {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> Option<io::Result<usize>> {
        let read = &mut self.stream;
        let one_read = std::future::poll_fn(|cx| {
            let mut buf = tokio::io::ReadBuf::new(buf);
            let poll =
                tokio::io::AsyncRead::poll_read(std::pin::Pin::new(&mut *read), cx, &mut buf);
            poll.map_ok(|()| buf.filled().len())
        });
        let step = self
            .runtime
            .block_on(async { within(one_read, tokio::time::sleep(timeout)).await });
        match step {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }
}

impl BatchBackend for Tokio {
    const BATCH_NAME: &'static str = "tokio/batch";
    type BatchReader<D: Decoder + 'static> = TokioReader<BatchStream<D>>;

    fn open_batches<D: Decoder + 'static>(
        fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<Self::BatchReader<D>> {
        let TokioReader { runtime, stream } = Self::open(fd, framer)?;
        Ok(TokioReader {
            runtime,
            stream: stream.batches(),
        })
    }
}

impl<D: Decoder> Reader<D> for TokioReader<FdStream<D>> {
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
        // Inside the runtime, as a caller on it would be; no future is polled.
        let _inside = self.runtime.enter();
        self.stream.poll_next_now()
    }

    fn framer(&self) -> &Framer<D> {
        self.stream.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.stream.checkpoint()
    }
}

impl<D: Decoder> BatchReader<D> for TokioReader<BatchStream<D>> {
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
        let _inside = self.runtime.enter();
        self.stream.poll_next_now()
    }

    fn framer(&self) -> &Framer<D> {
        self.stream.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.stream.checkpoint()
    }
}

impl<S: Stream + Unpin> TokioReader<S> {
    fn next_of_within(&mut self, timeout: Duration) -> Poll<Option<S::Item>> {
        let stream = &mut self.stream;
        // The timer must be made inside the runtime.
        self.runtime
            .block_on(async { within(stream.next(), tokio::time::sleep(timeout)).await })
    }

    fn next_of_beside_other_work(&mut self, timeout: Duration) -> (Poll<Option<S::Item>>, u64) {
        // A second task on the same current-thread runtime: it runs only when the reader's task
        // hands the thread back.
        let turns = Arc::new(AtomicU64::new(0));
        let counting = Arc::clone(&turns);
        let other = self.runtime.spawn(async move {
            loop {
                counting.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        });
        let step = self.next_of_within(timeout);
        other.abort();
        (step, turns.load(Ordering::Relaxed))
    }
}

fdframe_conformance::conformance_tests!(Tokio);

mod batch {
    fdframe_conformance::conformance_tests!(fdframe_conformance::Batched<super::Tokio>);
}
