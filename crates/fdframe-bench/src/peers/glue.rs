//! The glue a careful user writes instead of fdframe, on each runtime.
//!
//! - **The tuned glue** (tokio): tokio's pipe `Receiver`, `FramedRead::with_capacity(rx, decoder,
//!   64 KiB)` (and an 8 KiB variant), and [`ZeroCopyLines`], a line decoder that remembers how
//!   far it searched and hands out `split_to(..).freeze()` slices of the read buffer.
//! - tokio-util's own `LinesCodec` and `LengthDelimitedCodec` in the same `FramedRead`.
//! - asynchronous-codec's `FramedRead` on async-io's `Async` (the futures-io world's glue).
//! - A `mio::Poll` loop over mio's pipe `Receiver` that reads until `WouldBlock` and splits lines
//!   as the per-frame ceiling does (the latency workload's mio glue).

use std::io;
use std::os::fd::OwnedFd;

use bytes::{Bytes, BytesMut};
use futures_lite::StreamExt;

use super::ceiling::split_lines;
use super::read_spare;
use crate::drive;
use crate::harness::Res;

/// The longest line [`ZeroCopyLines`] buffers: fdframe's `LinesDecoder` default, so that both
/// promise the same memory bound.
const MAX_LINE_LEN: usize = fdframe::codec::LinesDecoder::DEFAULT_MAX_LINE_LEN;

/// A zero-copy line decoder for tokio-util and asynchronous-codec: `memchr` from where the last
/// search stopped, `split_to`, `freeze`, newline dropped; lines over 1 MiB are an error.
#[derive(Debug, Default)]
pub(crate) struct ZeroCopyLines {
    searched: usize,
}

impl ZeroCopyLines {
    fn next_line(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        match memchr::memchr(b'\n', &src[self.searched..]) {
            Some(i) => {
                let end = self.searched + i;
                self.searched = 0;
                let mut line = src.split_to(end + 1).freeze();
                line.truncate(end);
                Ok(Some(line))
            }
            None if src.len() > MAX_LINE_LEN => Err(io::Error::new(
                io::ErrorKind::InvalidData,
                "line longer than 1 MiB",
            )),
            None => {
                self.searched = src.len();
                Ok(None)
            }
        }
    }
}

impl tokio_util::codec::Decoder for ZeroCopyLines {
    type Item = Bytes;
    type Error = io::Error;

    #[inline]
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        self.next_line(src)
    }
}

impl asynchronous_codec::Decoder for ZeroCopyLines {
    type Item = Bytes;
    type Error = io::Error;

    #[inline]
    fn decode(&mut self, src: &mut BytesMut) -> io::Result<Option<Bytes>> {
        self.next_line(src)
    }
}

/// tokio's pipe `Receiver` in `FramedRead::with_capacity(.., capacity)` with `codec`, on this
/// thread's current-thread runtime.
pub(crate) fn tokio_framed<C>(
    fd: OwnedFd,
    capacity: usize,
    codec: C,
    mut each: impl FnMut(C::Item),
) -> Res<()>
where
    C: tokio_util::codec::Decoder,
    C::Error: std::error::Error + Send + Sync + 'static,
{
    drive::tokio_block_on(async {
        let rx = tokio::net::unix::pipe::Receiver::from_owned_fd(fd)?;
        let mut frames = tokio_util::codec::FramedRead::with_capacity(rx, codec, capacity);
        while let Some(frame) = frames.next().await {
            each(frame?);
        }
        Ok(())
    })
}

/// asynchronous-codec's `FramedRead` with `codec` on async-io's `Async` around the pipe.
pub(crate) fn async_codec<C>(fd: OwnedFd, codec: C, mut each: impl FnMut(C::Item)) -> Res<()>
where
    C: asynchronous_codec::Decoder,
    C::Error: std::error::Error + Send + Sync + 'static,
{
    async_io::block_on(async {
        let pipe = async_io::Async::new(std::fs::File::from(fd))?;
        let mut frames = asynchronous_codec::FramedRead::new(pipe, codec);
        while let Some(frame) = frames.next().await {
            each(frame?);
        }
        Ok(())
    })
}

/// A hand-written mio loop: mio's pipe `Receiver`, read until `WouldBlock` into a `BytesMut`
/// kept 64 KiB spare, one `Bytes` per line.
pub(crate) fn mio_lines(fd: OwnedFd, mut each: impl FnMut(Bytes)) -> Res<()> {
    let mut rx = mio::unix::pipe::Receiver::from(fd);
    rx.set_nonblocking(true)?;
    let mut poll = mio::Poll::new()?;
    poll.registry()
        .register(&mut rx, mio::Token(0), mio::Interest::READABLE)?;
    let mut events = mio::Events::with_capacity(8);
    let mut buf = BytesMut::new();
    let mut searched = 0;
    loop {
        match read_spare(&rx, &mut buf, 64 * 1024) {
            Ok(0) if buf.is_empty() => return Ok(()),
            Ok(0) => return Err("input ended inside a line".into()),
            Ok(_) => split_lines(&mut buf, &mut searched, &mut each),
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                drive::mio_wait(&mut poll, &mut events)?;
            }
            Err(e) => return Err(e.into()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio_util::codec::Decoder;

    #[test]
    fn a_line_split_across_reads_is_found_without_rescanning() {
        let mut lines = ZeroCopyLines::default();
        let mut buf = BytesMut::from(&b"hel"[..]);
        assert_eq!(lines.decode(&mut buf).unwrap(), None);
        assert_eq!(lines.searched, 3);
        buf.extend_from_slice(b"lo\nworld\n");
        assert_eq!(lines.decode(&mut buf).unwrap().unwrap(), "hello");
        assert_eq!(lines.decode(&mut buf).unwrap().unwrap(), "world");
        assert!(buf.is_empty());
    }

    #[test]
    fn a_line_over_a_mebibyte_is_an_error() {
        let mut lines = ZeroCopyLines::default();
        let mut buf = BytesMut::from(&vec![b'x'; MAX_LINE_LEN + 1][..]);
        assert!(lines.decode(&mut buf).is_err());
    }
}
