//! What the async glue (tokio, async-std, smol) has in common, written once: a backend's stream
//! of messages or of batches on one of the runtimes, answering the suite's
//! [`Reader`]/[`BatchReader`].
//!
//! A runtime's module says only how it differs ([`Runtime`]): how it blocks on a future, makes
//! a timer, runs other work beside the reader, and whether registration needs its context.

use std::future::Future;
use std::io;
use std::task::Poll;
use std::time::Duration;

use fdframe::follow::Checkpoint;
use fdframe::{BatchStep, Decoder, Error, Framer, Frames, Step};
use fdframe_conformance::{BatchReader, Reader};
use futures_lite::{Stream, StreamExt};

use crate::within::within;

/// An async runtime as the glue drives it, one per test thread (see
/// [`Backend`](fdframe_conformance::Backend)).
pub(crate) trait Runtime: 'static {
    /// The backend's label (`Backend::NAME`).
    const NAME: &'static str;
    /// The batch path's label (`BatchBackend::BATCH_NAME`).
    const BATCH_NAME: &'static str;

    /// This thread's runtime.
    fn current() -> Self;

    /// Runs `future` to completion on this thread.
    fn block_on<F: Future>(&self, future: F) -> F::Output;

    /// A timer that fires after `timeout`; made inside [`block_on`](Runtime::block_on). By
    /// default async-io's, which drives itself (the async-std and smol glue's).
    fn sleep(timeout: Duration) -> impl Future {
        async_io::Timer::after(timeout)
    }

    /// Inside the runtime's context, as registration needs, until the returned guard is
    /// dropped: tokio's `enter`; by default nothing (async-io's reactor is global).
    fn enter(&self) -> impl Sized {}

    /// [`within`](Runtime::within) while other work shares the thread: returns the step and
    /// how many turns the other work got meanwhile (see
    /// [`Reader::next_within_beside_other_work`]).
    fn within_beside_other_work<F: Future>(
        &self,
        future: F,
        timeout: Duration,
    ) -> (Poll<F::Output>, u64);

    /// Runs `future` until it completes or `timeout` runs out (strictly: see [`within`]).
    fn within<F: Future>(&self, future: F, timeout: Duration) -> Poll<F::Output> {
        // The timer is made inside the runtime (tokio's needs its time driver).
        self.block_on(async { within(future, Self::sleep(timeout)).await })
    }
}

/// What the suite calls on a backend's stream of messages or of batches besides `next()`: the
/// same three methods on every async backend's `FdStream` and `BatchStream`.
pub(crate) trait ReadyNow<D: Decoder>: Stream + Unpin {
    /// `poll_next_now` (a `BatchStream`'s is its stream's `poll_batch_now`).
    fn poll_next_now(&mut self) -> Poll<Option<Self::Item>>;
    /// `framer`.
    fn framer(&self) -> &Framer<D>;
    /// `checkpoint`.
    fn checkpoint(&self) -> Option<Checkpoint>;
}

/// Implements [`ReadyNow`] for each stream type by its inherent methods of the same names.
macro_rules! ready_now_by_inherent_methods {
    ($krate:ident :: $stream:ident) => {
        impl<D: Decoder> ReadyNow<D> for $krate::$stream<D> {
            fn poll_next_now(&mut self) -> Poll<Option<Self::Item>> {
                $krate::$stream::poll_next_now(self)
            }
            fn framer(&self) -> &Framer<D> {
                $krate::$stream::framer(self)
            }
            fn checkpoint(&self) -> Option<Checkpoint> {
                $krate::$stream::checkpoint(self)
            }
        }
    };
}

ready_now_by_inherent_methods!(fdframe_tokio::FdStream);
ready_now_by_inherent_methods!(fdframe_tokio::BatchStream);
ready_now_by_inherent_methods!(fdframe_async_io::FdStream);
ready_now_by_inherent_methods!(fdframe_async_io::BatchStream);

/// A stream `S` (messages or batches) or a byte reader on this thread's runtime `R`.
pub(crate) struct AsyncReader<R, S> {
    pub(crate) runtime: R,
    pub(crate) stream: S,
}

impl<R: Runtime, S> AsyncReader<R, S> {
    /// Makes the stream with `open` inside this thread's runtime.
    pub(crate) fn open(open: impl FnOnce() -> io::Result<S>) -> io::Result<Self> {
        let runtime = R::current();
        let stream = {
            let _inside = runtime.enter();
            open()?
        };
        Ok(AsyncReader { runtime, stream })
    }

    /// The same runtime around `into(stream)` (a stream's `batches()`).
    pub(crate) fn map<T>(self, into: impl FnOnce(S) -> T) -> AsyncReader<R, T> {
        AsyncReader {
            runtime: self.runtime,
            stream: into(self.stream),
        }
    }
}

impl<R: Runtime, S: Stream + Unpin> AsyncReader<R, S> {
    fn next_of_within(&mut self, timeout: Duration) -> Poll<Option<S::Item>> {
        self.runtime.within(self.stream.next(), timeout)
    }

    fn next_of_beside_other_work(&mut self, timeout: Duration) -> (Poll<Option<S::Item>>, u64) {
        self.runtime
            .within_beside_other_work(self.stream.next(), timeout)
    }

    fn now<D: Decoder>(&mut self) -> Poll<Option<S::Item>>
    where
        S: ReadyNow<D>,
    {
        // Inside the runtime, as a caller on it would be; no future is polled.
        let _inside = self.runtime.enter();
        self.stream.poll_next_now()
    }
}

impl<R, D, S> Reader<D> for AsyncReader<R, S>
where
    R: Runtime,
    D: Decoder,
    S: ReadyNow<D, Item = Result<D::Item, Error<D::Error>>>,
{
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
        self.now()
    }

    fn framer(&self) -> &Framer<D> {
        self.stream.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.stream.checkpoint()
    }
}

impl<R, D, S> BatchReader<D> for AsyncReader<R, S>
where
    R: Runtime,
    D: Decoder,
    S: ReadyNow<D, Item = Result<Frames<D::Item>, Error<D::Error>>>,
{
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
        self.now()
    }

    fn framer(&self) -> &Framer<D> {
        self.stream.framer()
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        self.stream.checkpoint()
    }
}
