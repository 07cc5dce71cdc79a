//! A scripted stand-in for a file descriptor that fails exactly like real devices do.

use std::collections::VecDeque;
use std::io;
use std::task::Poll;

use super::{Framer, ReadSpace};
use crate::{Decoder, Error};

/// One outcome of `read(2)`, replayed in order.
#[derive(Clone, Debug)]
pub(crate) enum Outcome {
    /// Stream bytes (a pipe): a read takes as many as it has room for; the rest stays queued.
    Bytes(Vec<u8>),
    /// One record (kmsg, inotify): a read with less room than the record fails with `EINVAL`
    /// and, as on `/dev/kmsg`, the record is gone.
    Record(Vec<u8>),
    /// One datagram (TUN, seqpacket): a read with less room than the datagram silently gets
    /// the first bytes only, and the rest is gone.
    Datagram(Vec<u8>),
    /// A read that fails with this raw errno (e.g. `EPIPE`, `EIO`, `EINTR`, `EAGAIN`).
    Errno(i32),
    /// A read that fills nothing and signals the end of a segment (a followed file finished).
    EndSegment,
    /// A read that fills nothing and signals a notice.
    Notice(crate::follow::FollowNotice),
    /// A read that fills nothing and signals the end of a segment and a notice.
    EndSegmentThen(crate::follow::FollowNotice),
}

/// Replays [`Outcome`]s; end of input once they run out.
#[derive(Debug, Default)]
pub(crate) struct Script {
    outcomes: VecDeque<Outcome>,
    /// The room offered to every read, in order.
    pub(crate) offered: Vec<usize>,
    /// How many reads failed with `EINVAL` because the room was too small.
    pub(crate) einvals: usize,
    /// [`ReadSpace::pending`] at every read, in order.
    pub(crate) pending: Vec<usize>,
}

pub(crate) const EINTR: i32 = 4;
pub(crate) const EIO: i32 = 5;
pub(crate) const EAGAIN: i32 = 11;
pub(crate) const EINVAL: i32 = 22;
pub(crate) const EPIPE: i32 = 32;

impl Script {
    pub(crate) fn new(outcomes: impl IntoIterator<Item = Outcome>) -> Self {
        Script {
            outcomes: outcomes.into_iter().collect(),
            ..Script::default()
        }
    }

    pub(crate) fn read(&mut self, buf: &mut ReadSpace<'_>) -> io::Result<()> {
        self.offered.push(buf.capacity());
        self.pending.push(buf.pending());
        match self.outcomes.pop_front() {
            None => Ok(()),
            Some(Outcome::Bytes(mut bytes)) => {
                let n = bytes.len().min(buf.capacity());
                buf.put_slice(&bytes[..n]);
                if n < bytes.len() {
                    self.outcomes.push_front(Outcome::Bytes(bytes.split_off(n)));
                }
                Ok(())
            }
            Some(Outcome::Record(record)) if record.len() > buf.capacity() => {
                self.einvals += 1;
                Err(io::Error::from_raw_os_error(EINVAL))
            }
            Some(Outcome::Record(record)) => {
                buf.put_slice(&record);
                Ok(())
            }
            Some(Outcome::Datagram(datagram)) => {
                let n = datagram.len().min(buf.capacity());
                buf.put_slice(&datagram[..n]);
                Ok(())
            }
            Some(Outcome::Errno(errno)) => Err(io::Error::from_raw_os_error(errno)),
            Some(Outcome::EndSegment) => {
                buf.end_segment();
                Ok(())
            }
            Some(Outcome::Notice(notice)) => {
                buf.notice(notice);
                Ok(())
            }
            Some(Outcome::EndSegmentThen(notice)) => {
                buf.end_segment();
                buf.notice(notice);
                Ok(())
            }
        }
    }
}

/// What a test observes from the engine, one entry per step.
#[derive(Debug, PartialEq)]
pub(crate) enum Seen<T> {
    Item(T),
    /// An error, described as `Class: detail` so expectations stay readable.
    Error(String),
    Pending,
}

/// Drives `framer` over `script` until the end of the stream (at most `limit` steps) and records
/// every step. `Pending` steps are recorded and then polled again, as a backend would after
/// readiness.
pub(crate) fn run<D: Decoder>(
    framer: &mut Framer<D>,
    script: &mut Script,
    limit: usize,
) -> Vec<Seen<D::Item>> {
    let mut seen = Vec::new();
    for _ in 0..limit {
        match framer.poll_next_with(|buf| script.read(buf)) {
            Poll::Ready(Some(Ok(item))) => seen.push(Seen::Item(item)),
            Poll::Ready(Some(Err(e))) => seen.push(Seen::Error(describe(&e))),
            Poll::Ready(None) => return seen,
            Poll::Pending => seen.push(Seen::Pending),
        }
    }
    panic!(
        "stream did not end within {limit} steps: {} seen",
        seen.len()
    );
}

pub(crate) fn describe<E: std::fmt::Display>(e: &Error<E>) -> String {
    match e {
        Error::Io(e) => format!("Io: {}", e.raw_os_error().unwrap_or(0)),
        Error::Decode(e) => format!("Decode: {e}"),
        Error::DecodeStalled(e) => format!("DecodeStalled: {e}"),
        Error::Lost(loss) => format!("Lost: {:?} {:?}", loss.count, loss.seqs),
        Error::FrameTooLarge { limit, len, .. } => format!("FrameTooLarge: {len} > {limit}"),
        Error::Truncated(bytes) => format!("Truncated: {:?}", String::from_utf8_lossy(bytes)),
        Error::Follow(notice) => format!("Follow: {notice}"),
    }
}
