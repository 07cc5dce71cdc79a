//! The blocking backend: fdframe's reference `FdReader`, waiting in poll(2) for the descriptor
//! or the stop pipe.

use std::io;
use std::os::fd::OwnedFd;
use std::task::Poll;

use fdframe::blocking::FdReader;
use fdframe::follow::Checkpoint;
use fdframe::{Decoder, Error, ReadFd};

use super::{Item, Next, Source, wait_either};
use crate::stop::{Stop, StopFlag};

pub(super) struct BlockingSource<D: Decoder> {
    reader: FdReader<D>,
    stop_fd: OwnedFd,
    stop_requested: StopFlag,
}

impl<D: Decoder> BlockingSource<D> {
    pub(super) fn new(fd: ReadFd, decoder: D, stop: &Stop) -> io::Result<Self> {
        Ok(BlockingSource {
            reader: FdReader::new(fd, decoder),
            stop_fd: stop.wait_fd()?,
            stop_requested: stop.flag(),
        })
    }
}

impl<D: Decoder> Source<D> for BlockingSource<D> {
    fn next(&mut self, wait: bool) -> Next<Item<D>> {
        loop {
            if self.stop_requested.is_set() {
                return Next::Stopped;
            }
            match self.reader.poll_next_now() {
                Poll::Ready(Some(item)) => return Next::Item(item),
                Poll::Ready(None) => return Next::End,
                // The engine paused with input left: no wait, and the caller's loop checks
                // the stop flag.
                Poll::Pending if self.reader.framer().is_yielding() => return Next::Yielded,
                Poll::Pending if !wait => return Next::Idle,
                Poll::Pending => {
                    if let Err(e) = wait_either(self.reader.get_ref(), &self.stop_fd) {
                        return Next::Item(Err(Error::Io(e)));
                    }
                }
            }
        }
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        fdframe::follow::checkpoint(self.reader.get_ref(), self.reader.framer())
    }
}
