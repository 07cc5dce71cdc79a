//! The async-io backend (`--backend async-io`, or `async-std`, `smol`): fdframe-async-io's
//! `FdStream` on async-io's reactor (the one under async-std and smol), driven by
//! `async_io::block_on`, with the stop pipe as an `Async` polled next to it.

use std::future::poll_fn;
use std::io;
use std::os::fd::OwnedFd;
use std::pin::Pin;
use std::task::Poll;

use async_io::Async;
use fdframe::follow::Checkpoint;
use fdframe::{Decoder, ReadFd};
use fdframe_async_io::FdStream;
use futures_core::Stream;

use super::{Item, Next, Source, next_now};
use crate::stop::{Stop, StopFlag};

pub(super) struct AsyncIoSource<D: Decoder> {
    stream: FdStream<D>,
    stop_fd: Async<OwnedFd>,
    stop_requested: StopFlag,
}

impl<D: Decoder> AsyncIoSource<D> {
    pub(super) fn new(fd: ReadFd, decoder: D, stop: &Stop) -> io::Result<Self> {
        Ok(AsyncIoSource {
            stream: FdStream::new(fd, decoder)?,
            stop_fd: Async::new(stop.wait_fd()?)?,
            stop_requested: stop.flag(),
        })
    }
}

impl<D: Decoder> Source<D> for AsyncIoSource<D> {
    fn next(&mut self, wait: bool) -> Next<Item<D>> {
        if self.stop_requested.is_set() {
            return Next::Stopped;
        }
        if !wait {
            // What is there now, read directly: no reactor turn.
            return next_now(self.stream.poll_next_now(), self.stream.framer());
        }
        let AsyncIoSource {
            stream, stop_fd, ..
        } = self;
        async_io::block_on(poll_fn(|cx| {
            if stop_fd.poll_readable(cx).is_ready() {
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
