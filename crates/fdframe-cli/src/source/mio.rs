//! The mio backend: fdframe-mio's `FdReader` and the stop pipe registered with one `mio::Poll`.

use std::io;
use std::os::fd::{AsRawFd, OwnedFd};
use std::task::Poll as TaskPoll;

use fdframe::follow::Checkpoint;
use fdframe::{Decoder, Error, ReadFd};
use fdframe_mio::FdReader;
use mio::unix::SourceFd;
use mio::{Events, Interest, Poll, Token};

use super::{Item, Next, Source};
use crate::stop::{Stop, StopFlag};

const READER: Token = Token(0);
const STOP: Token = Token(1);

pub(super) struct MioSource<D: Decoder> {
    poll: Poll,
    events: Events,
    reader: FdReader<D>,
    /// Registered with `poll`; kept open for as long as the registration.
    stop_fd: OwnedFd,
    stop_requested: StopFlag,
}

impl<D: Decoder> MioSource<D> {
    pub(super) fn new(fd: ReadFd, decoder: D, stop: &Stop) -> io::Result<Self> {
        let poll = Poll::new()?;
        let mut reader = FdReader::new(fd, decoder)?;
        // Regular files are not registrable: their drain never would block.
        if reader.needs_registration() {
            poll.registry()
                .register(&mut reader, READER, Interest::READABLE)?;
        }
        let stop_fd = stop.wait_fd()?;
        poll.registry().register(
            &mut SourceFd(&stop_fd.as_raw_fd()),
            STOP,
            Interest::READABLE,
        )?;
        Ok(MioSource {
            poll,
            events: Events::with_capacity(4),
            reader,
            stop_fd,
            stop_requested: stop.flag(),
        })
    }
}

impl<D: Decoder> Source<D> for MioSource<D> {
    fn next(&mut self, wait: bool) -> Next<Item<D>> {
        loop {
            if self.stop_requested.is_set() {
                return Next::Stopped;
            }
            match self.reader.poll_next_now() {
                TaskPoll::Ready(Some(item)) => return Next::Item(item),
                TaskPoll::Ready(None) => return Next::End,
                // The engine paused with data left (`is_drained()` is false): waiting for an
                // edge would hang; the caller's loop checks the stop flag and calls again.
                TaskPoll::Pending if !self.reader.is_drained() => return Next::Yielded,
                TaskPoll::Pending if !wait => return Next::Idle,
                // Otherwise the reader read until WouldBlock: safe to wait for the next edge.
                TaskPoll::Pending => match self.poll.poll(&mut self.events, None) {
                    Ok(()) => {}
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => return Next::Item(Err(Error::Io(e))),
                },
            }
        }
    }

    fn checkpoint(&self) -> Option<Checkpoint> {
        fdframe::follow::checkpoint(self.reader.get_ref(), self.reader.framer())
    }
}

impl<D: Decoder> Drop for MioSource<D> {
    fn drop(&mut self) {
        // Best effort: the Poll is dropped right after, which forgets everything anyway.
        let _ = self
            .poll
            .registry()
            .deregister(&mut SourceFd(&self.stop_fd.as_raw_fd()));
    }
}
