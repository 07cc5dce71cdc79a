//! `fdframe-async-std` driven by the async-std runtime.

use std::cell::Cell;
use std::io;
use std::time::Duration;

use fdframe::{Decoder, Framer, ReadFd, Step};
use fdframe_async_std::FdStream;
use fdframe_conformance::{Backend, Reader};
use futures_lite::StreamExt;

use crate::within::within;

pub(crate) struct AsyncStd;

pub(crate) struct AsyncStdReader<D: Decoder>(FdStream<D>);

impl Backend for AsyncStd {
    const NAME: &'static str = "async-std";
    type Reader<D: Decoder + 'static> = AsyncStdReader<D>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<AsyncStdReader<D>> {
        FdStream::with_framer(fd, framer).map(AsyncStdReader)
    }
}

impl<D: Decoder> Reader<D> for AsyncStdReader<D> {
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        let stream = &mut self.0;
        async_std::task::block_on(within(stream.next(), async_io::Timer::after(timeout)))
    }

    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64) {
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

    fn framer(&self) -> &Framer<D> {
        self.0.framer()
    }
}

fdframe_conformance::conformance_tests!(AsyncStd);
