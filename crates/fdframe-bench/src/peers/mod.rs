//! What fdframe is measured against: the raw `read(2)` loops (the ×raw baselines), the minimal
//! loops that set the ceilings, and the glue a careful user writes with tokio-util or
//! asynchronous-codec instead of fdframe.

pub(crate) mod ceiling;
pub(crate) mod glue;
pub(crate) mod raw;

use std::io;
use std::os::fd::AsFd;

use bytes::BytesMut;

/// One `read(2)` of up to `room` bytes into the spare capacity of `buf` (reserving it first),
/// retried on `EINTR`. `fdframe::ReadSpace::read_from` is used because safe Rust has no other way
/// to read into a `BytesMut`'s uninitialised capacity; it is one `read(2)` and a `set_len`,
/// nothing of fdframe's engine.
pub(crate) fn read_spare(fd: impl AsFd, buf: &mut BytesMut, room: usize) -> io::Result<usize> {
    loop {
        match fdframe::ReadSpace::new(buf, room).read_from(fd.as_fd()) {
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            other => return other,
        }
    }
}
