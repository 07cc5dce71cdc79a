//! `fdframe-async-std` driven by smol (the same crate, another executor).

use std::cell::Cell;
use std::io;
use std::rc::Rc;
use std::time::Duration;

use fdframe::{Decoder, Framer, ReadFd, Step};
use fdframe_async_std::FdStream;
use fdframe_conformance::{Backend, Reader};
use futures_lite::StreamExt;

use crate::within::within;

pub(crate) struct Smol;

pub(crate) struct SmolReader<D: Decoder>(FdStream<D>);

impl Backend for Smol {
    const NAME: &'static str = "smol";
    type Reader<D: Decoder + 'static> = SmolReader<D>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<SmolReader<D>> {
        FdStream::with_framer(fd, framer).map(SmolReader)
    }
}

impl<D: Decoder> Reader<D> for SmolReader<D> {
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        let stream = &mut self.0;
        smol::block_on(within(stream.next(), async_io::Timer::after(timeout)))
    }

    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64) {
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

    fn framer(&self) -> &Framer<D> {
        self.0.framer()
    }
}

fdframe_conformance::conformance_tests!(Smol);
