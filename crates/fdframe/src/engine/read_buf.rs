use std::io;
use std::os::fd::AsFd;

use bytes::{BufMut, BytesMut};

use crate::sys;

/// The free space the engine offers to one `read(2)`: at most [`capacity`](ReadBuf::capacity)
/// bytes, appended to the engine's buffer.
///
/// A backend fills it from a descriptor with [`read_from`](ReadBuf::read_from); a test double
/// fills it with [`put_slice`](ReadBuf::put_slice). Filling nothing and returning `Ok(())` means
/// end of input, as a 0-byte `read(2)` does.
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::ReadBuf;
///
/// let mut buf = BytesMut::new();
/// let mut read_buf = ReadBuf::new(&mut buf, 4);
/// read_buf.put_slice(b"abc");
/// assert_eq!(read_buf.filled(), 3);
/// assert_eq!(read_buf.capacity(), 1);
/// assert_eq!(&buf[..], b"abc");
/// ```
#[derive(Debug)]
pub struct ReadBuf<'a> {
    buf: &'a mut BytesMut,
    start: usize,
    limit: usize,
}

impl<'a> ReadBuf<'a> {
    /// Offers room for up to `capacity` bytes after the end of `buf`, reserving it if needed.
    pub fn new(buf: &'a mut BytesMut, capacity: usize) -> Self {
        buf.reserve(capacity);
        let start = buf.len();
        ReadBuf {
            buf,
            start,
            limit: start + capacity,
        }
    }

    /// How many more bytes this read may add.
    pub fn capacity(&self) -> usize {
        self.limit - self.buf.len()
    }

    /// How many bytes this read has added so far.
    pub fn filled(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Appends bytes as if a `read(2)` had returned them.
    ///
    /// # Panics
    ///
    /// If `src` is longer than [`capacity`](ReadBuf::capacity): a test double must respect the
    /// room it was offered, exactly as the kernel does.
    pub fn put_slice(&mut self, src: &[u8]) {
        assert!(
            src.len() <= self.capacity(),
            "ReadBuf::put_slice: {} bytes offered room for {}",
            src.len(),
            self.capacity()
        );
        self.buf.put_slice(src);
    }

    /// Performs one `read(2)` from `fd` into the free space and returns how many bytes it added
    /// (0 at end of input). Errors, including `WouldBlock` and `EINTR`, are returned unchanged.
    pub fn read_from(&mut self, fd: impl AsFd) -> io::Result<usize> {
        let room = self.capacity();
        sys::read_into_spare(fd.as_fd(), self.buf, room)
    }
}
