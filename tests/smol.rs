//! `fdframe-async-std` driven by smol (the same crate, another executor).

use std::io;
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

    fn framer(&self) -> &Framer<D> {
        self.0.framer()
    }
}

fdframe_conformance::conformance_tests!(Smol);
