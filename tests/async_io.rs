//! `fdframe-async-io` on a runtime over async-io's reactor: the one glue of the async-std and
//! smol backends, which differ only in their executor (their [`Runtime`]s, in `async_std.rs`
//! and `smol.rs`).

use std::io;
use std::marker::PhantomData;
use std::task::Poll;
use std::time::Duration;

use fdframe::{Decoder, Framer, ReadFd};
use fdframe_async_io::{BatchStream, FdAsyncRead, FdStream};
use fdframe_conformance::{Backend, BatchBackend, ByteReader};

use crate::async_glue::{AsyncReader, Runtime};

/// `fdframe-async-io`'s readers, driven by the executor `R`.
pub(crate) struct AsyncIo<R>(PhantomData<fn() -> R>);

impl<R: Runtime> Backend for AsyncIo<R> {
    const NAME: &'static str = R::NAME;
    type Reader<D: Decoder + 'static> = AsyncReader<R, FdStream<D>>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<Self::Reader<D>> {
        AsyncReader::open(|| FdStream::with_framer(fd, framer))
    }

    fn open_bytes(fd: ReadFd) -> io::Result<Box<dyn ByteReader>> {
        Ok(Box::new(AsyncReader::<R, _>::open(|| {
            FdAsyncRead::new(fd)
        })?))
    }
}

impl<R: Runtime> BatchBackend for AsyncIo<R> {
    const BATCH_NAME: &'static str = R::BATCH_NAME;
    type BatchReader<D: Decoder + 'static> = AsyncReader<R, BatchStream<D>>;

    fn open_batches<D: Decoder + 'static>(
        fd: ReadFd,
        framer: Framer<D>,
    ) -> io::Result<Self::BatchReader<D>> {
        Self::open(fd, framer).map(|reader| reader.map(FdStream::batches))
    }
}

/// `FdAsyncRead`'s `AsyncRead`, one `read` future per read.
impl<R: Runtime> ByteReader for AsyncReader<R, FdAsyncRead> {
    fn read_within(&mut self, buf: &mut [u8], timeout: Duration) -> Option<io::Result<usize>> {
        let one_read = futures_lite::AsyncReadExt::read(&mut self.stream, buf);
        match self.runtime.within(one_read, timeout) {
            Poll::Ready(result) => Some(result),
            Poll::Pending => None,
        }
    }
}
