//! [`Drain`]: the messages an [`FdReader`] has ready, read until the descriptor would block.

use std::iter::FusedIterator;
use std::task::Poll;

use fdframe::{Decoder, Error};

use crate::FdReader;

/// The messages an [`FdReader`] can deliver without waiting; returned by [`FdReader::drain`].
///
/// Yields messages, notices and errors until the descriptor would block or the stream ends, then
/// `None` for good: this `Drain` is [fused](FusedIterator). Call [`FdReader::drain`] again on
/// the reader's next event. After a full drain, [`FdReader::is_drained`] is `true`, the condition
/// for edge-triggered readiness to report the next change.
///
/// # Example
///
/// A regular file is never registered; one drain reads it to the end:
///
/// ```
/// use fdframe::{Decoder, ReadLimits};
/// use fdframe_mio::FdReader;
/// # #[derive(Debug)] struct Never;
/// # impl std::fmt::Display for Never { fn fmt(&self, _: &mut std::fmt::Formatter<'_>) -> std::fmt::Result { Ok(()) } }
/// # impl std::error::Error for Never {}
/// # struct LinesDecoder;
/// # impl LinesDecoder { fn new() -> Self { LinesDecoder } }
/// # impl Decoder for LinesDecoder {
/// #     type Item = String; type Error = Never;
/// #     fn decode(&mut self, src: &mut bytes::BytesMut) -> Result<Option<String>, Never> {
/// #         Ok(src.iter().position(|&b| b == b'\n').map(|end| {
/// #             let line = src.split_to(end + 1);
/// #             String::from_utf8_lossy(&line[..end]).into_owned()
/// #         }))
/// #     }
/// # }
///
/// let mut status = FdReader::open("/proc/self/status", LinesDecoder::new())?;
/// assert!(!status.needs_registration());
/// let lines: Vec<String> = status.drain().collect::<Result<_, _>>()?;
/// assert!(lines[0].starts_with("Name:"));
/// assert!(status.is_done());
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Debug)]
pub struct Drain<'a, D: Decoder> {
    reader: &'a mut FdReader<D>,
    finished: bool,
}

impl<'a, D: Decoder> Drain<'a, D> {
    pub(crate) fn new(reader: &'a mut FdReader<D>) -> Self {
        Drain {
            reader,
            finished: false,
        }
    }
}

impl<D: Decoder> Iterator for Drain<'_, D> {
    type Item = Result<D::Item, Error<D::Error>>;

    fn next(&mut self) -> Option<Self::Item> {
        if self.finished {
            return None;
        }
        match self.reader.poll_next_now() {
            Poll::Ready(Some(step)) => Some(step),
            Poll::Ready(None) | Poll::Pending => {
                self.finished = true;
                None
            }
        }
    }
}

impl<D: Decoder> FusedIterator for Drain<'_, D> {}
