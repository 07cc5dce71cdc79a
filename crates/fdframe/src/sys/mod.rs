//! The platform boundary: every raw system call fdframe makes that needs `unsafe`.
//!
//! This module is private. It provides:
//!
//! - [`read_into_spare`]: one `read(2)` into a [`BytesMut`]'s uninitialised spare capacity,
//!   without zeroing it first (zeroing 64 KiB per read would cost as much as the read). Its
//!   caller is `ReadSpace::read_from` in `fd.rs`: the engine offers the room and never calls
//!   here.
//! - [`tun_set_iff`]: the `TUNSETIFF` ioctl that attaches a `/dev/net/tun` descriptor to an
//!   interface (rustix's `ioctl` is `unsafe` because it cannot check the argument's type).
//!
//! Everything else fdframe asks of the kernel goes through rustix's safe API.
//!
//! **Invariant: this is the only module of the core crate with `unsafe` code**, and each block
//! carries a `// SAFETY:` comment. The one other `unsafe` in the workspace is a single call in
//! `crates/fdframe-tokio/src/source.rs`: tokio's `AsyncFd::register_with_interest` is an
//! `unsafe fn`. `cargo xtask tidy` allows `unsafe` in these two places and nowhere else.

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

/// The size of `struct ifreq` on 64-bit Linux (32 on 32-bit; a larger buffer is harmless).
pub(crate) const IFREQ_LEN: usize = 40;

/// `TUNSETIFF`, declared in `linux/if_tun.h` as `_IOW('T', 202, int)` although it takes a
/// `struct ifreq *` (the size in the opcode is not checked by the kernel for this call).
const TUNSETIFF: rustix::ioctl::Opcode =
    rustix::ioctl::opcode::write::<core::ffi::c_int>(b'T', 202);

/// Attaches the `/dev/net/tun` descriptor `fd` to the interface described by `ifreq`
/// (`ifr_name` in bytes 0..16, `ifr_flags` at 16..18); the kernel writes the chosen name back.
pub(crate) fn tun_set_iff(fd: BorrowedFd<'_>, ifreq: &mut [u8; IFREQ_LEN]) -> io::Result<()> {
    // SAFETY: `TUNSETIFF` is the opcode from `linux/if_tun.h`, and the value it expects is a
    // `struct ifreq`, which it reads through the pointer and writes the interface name back
    // into. `ifreq` is a live, exclusively borrowed byte buffer at least as large as
    // `struct ifreq` on every Linux ABI (any bit pattern is a valid `[u8; N]`), and the kernel
    // keeps no pointer to it after the call returns.
    unsafe {
        let updater = rustix::ioctl::Updater::<TUNSETIFF, [u8; IFREQ_LEN]>::new(ifreq);
        rustix::ioctl::ioctl(fd, updater)
    }?;
    Ok(())
}
