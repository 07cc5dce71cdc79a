//! The platform boundary: every raw system call fdframe makes that needs `unsafe`.
//!
//! This module is private. It provides:
//!
//! - [`read_into_spare`]: one `read(2)` into a [`BytesMut`]'s uninitialised spare capacity,
//!   without zeroing it first (zeroing 64 KiB per read would cost as much as the read).
//!
//! Everything else fdframe asks of the kernel goes through rustix's safe API.
//!
//! **Invariant: this is the only module of the workspace with `unsafe` code**, and each block
//! carries a `// SAFETY:` comment.

#![allow(unsafe_code)]

use std::io;
use std::os::fd::BorrowedFd;

use bytes::BytesMut;

/// Reads once from `fd` into at most `max` bytes of `buf`'s spare capacity and extends `buf`
/// by the number of bytes read.
pub(crate) fn read_into_spare(
    fd: BorrowedFd<'_>,
    buf: &mut BytesMut,
    max: usize,
) -> io::Result<usize> {
    let spare = buf.spare_capacity_mut();
    let room = spare.len().min(max);
    let (filled, _) = rustix::io::read(fd, &mut spare[..room])?;
    let n = filled.len();
    debug_assert!(n <= room);
    // SAFETY: `read(2)` initialised the first `n` bytes of the spare capacity (rustix returns
    // exactly the initialised prefix), and `n <= room <= spare.len()`, so the new length stays
    // within the allocated capacity and covers only initialised bytes.
    unsafe { buf.set_len(buf.len() + n) };
    Ok(n)
}
