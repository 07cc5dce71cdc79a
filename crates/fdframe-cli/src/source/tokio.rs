//! The tokio backend: fdframe-tokio's `FdStream` on a current-thread runtime built once, and
//! the stop pipe read as a second `FdStream` (of raw chunks) polled next to it.

use std::future::poll_fn;
use std::io;
use std::pin::Pin;
use std::task::Poll;

use fdframe::codec::ChunksDecoder;
use fdframe::follow::Checkpoint;
use fdframe::{Decoder, ReadFd};
use fdframe_tokio::FdStream;
use futures_core::Stream;
use tokio::runtime::Runtime;

use super::{Item, Next, Source, next_now};
use crate::stop::{Stop, StopFlag};

pub(super) struct TokioSource<D: Decoder> {
    // Fields drop in order: the registrations go before the runtime that holds the reactor.
    stream: FdStream<D>,
    /// Yields a chunk when a stop is asked for.
    stop_fd: FdStream<ChunksDecoder>,
    stop_requested: StopFlag,
    runtime: Runtime,
}

impl<D: Decoder> TokioSource<D> {
    pub(super) fn new(fd: ReadFd, decoder: D, stop: &Stop) -> io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_io()
            .build()?;
        // Registration needs the runtime's reactor.
        let guard = runtime.enter();
        let stream = FdStream::new(fd, decoder)?;
        let stop_fd = FdStream::from_fd(stop.wait_fd()?, ChunksDecoder::new())?;
        drop(guard);
        Ok(TokioSource {
            stream,
            stop_fd,
            stop_requested: stop.flag(),
            runtime,
        })
    }
}

impl<D: Decoder> Source<D> for TokioSource<D> {
    fn next(&mut self, wait: bool) -> Next<Item<D>> {
        if self.stop_requested.is_set() {
            return Next::Stopped;
        }
        if !wait {
            // What is there now, read directly: no runtime turn, no cached readiness.
            return next_now(self.stream.poll_next_now(), self.stream.framer());
        }
        let TokioSource {
            stream,
            stop_fd,
            runtime,
            ..
        } = self;
        runtime.block_on(poll_fn(|cx| {
            if Pin::new(&mut *stop_fd).poll_next(cx).is_ready() {
                return Poll::Ready(Next::Stopped);
            }
            match Pin::new(&mut *stream).poll_next(cx) {
                Poll::Ready(Some(item)) => Poll::Ready(Next::Item(item)),
                Poll::Ready(None) => Poll::Ready(Next::End),
                // The engine paused with input left: back to the caller's loop (and its stop
                // flag) instead of polling on inside `block_on`.
                Poll::Pending if stream.framer().is_yielding() => Poll::Ready(Next::Yielded),
                Poll::Pending => Poll::Pending,
            }
        }))
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        fdframe::follow::checkpoint(self.stream.get_ref(), self.stream.framer())
    }
}
