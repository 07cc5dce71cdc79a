//! `fdframe-tokio` on a current-thread runtime, one per test thread (the stream glue is
//! `async_glue.rs`'s).

use std::future::Future;
use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::Poll;
use std::time::Duration;

use fdframe::{Decoder, Framer, ReadFd};
use fdframe_conformance::{Backend, BatchBackend, ByteReader};
use fdframe_tokio::{BatchStream, FdAsyncRead, FdStream};

use crate::async_glue::{AsyncReader, Runtime};

thread_local! {
    static RUNTIME: Rc<tokio::runtime::Runtime> = Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    );
}

pub(crate) struct Tokio;

/// This thread's current-thread runtime.
pub(crate) struct TokioRuntime(Rc<tokio::runtime::Runtime>);

impl Runtime for TokioRuntime {
    const NAME: &'static str = "tokio";
    const BATCH_NAME: &'static str = "tokio/batch";

    fn current() -> Self {
        TokioRuntime(RUNTIME.with(Rc::clone))
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.0.block_on(future)
    }

    fn sleep(timeout: Duration) -> impl Future {
        tokio::time::sleep(timeout)
    }

    fn enter(&self) -> impl Sized {
        self.0.enter()
    }

    fn within_beside_other_work<F: Future>(
        &self,
        future: F,
        timeout: Duration,
    ) -> (Poll<F::Output>, u64) {
        // A second task on the same current-thread runtime: it runs only when the reader's task
        // hands the thread back.
        let turns = Arc::new(AtomicU64::new(0));
        let counting = Arc::clone(&turns);
        let other = self.0.spawn(async move {
            loop {
                counting.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        });
        let step = self.within(future, timeout);
        other.abort();
        (step, turns.load(Ordering::Relaxed))
    }
}

impl Backend for Tokio {
    const NAME: &'static str = TokioRuntime::NAME;
    type Reader<D: Decoder + 'static> = AsyncReader<TokioRuntime, FdStream<D>>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<Self::Reader<D>> {
        // Registration needs the runtime's reactor: `open` enters it.
        AsyncReader::open(|| FdStream::with_framer(fd, framer))
    }

    fn open_bytes(fd: ReadFd) -> io::Result<Box<dyn ByteReader>> {
        Ok(Box::new(AsyncReader::<TokioRuntime, _>::open(|| {
            FdAsyncRead::new(fd)
        })?))
    }
}

impl BatchBackend for Tokio {
    const BATCH_NAME: &'static str = TokioRuntime::BATCH_NAME;
    type BatchReader<D: Decoder + 'static> = AsyncReader<TokioRuntime, BatchStream<D>>;

    fn open_batches<D: Decoder + 'static>(
        fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<Self::BatchReader<D>> {
        Self::open(fd, framer).map(|reader| reader.map(FdStream::batches))
    }
}

/// `FdAsyncRead`'s `AsyncRead`, one `poll_read` future per read.
impl ByteReader for AsyncReader<TokioRuntime, FdAsyncRead> {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> Option<io::Result<usize>> {
        let read = &mut self.stream;
        let one_read = std::future::poll_fn(|cx| {
            let mut buf = tokio::io::ReadBuf::new(buf);
            let poll =
                tokio::io::AsyncRead::poll_read(std::pin::Pin::new(&mut *read), cx, &mut buf);
            poll.map_ok(|()| buf.filled().len())
        });
        match self.runtime.within(one_read, timeout) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }
}

fdframe_conformance::conformance_tests!(Tokio);

mod batch {
    fdframe_conformance::conformance_tests!(fdframe_conformance::Batched<super::Tokio>);
}
