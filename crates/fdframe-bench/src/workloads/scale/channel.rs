//! The scale child and its writer talk over a `SOCK_SEQPACKET` socket pair: the child creates
//! the pipes, keeps the read ends and passes the write ends over (`SCM_RIGHTS`, in batches), so
//! neither process needs both ends of 10,000 pipes (this machine's hard descriptor limit is
//! 20,000, which the 20,000 descriptors of 10,000 pipes alone would exhaust).

use std::io::{IoSlice, IoSliceMut, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, BorrowedFd, OwnedFd};

use rustix::net::{
    AddressFamily, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags, SocketFlags, SocketType,
};

use crate::harness::Res;

/// Write ends per message (the kernel takes at most 253 descriptors in one).
pub(super) const BATCH: usize = 250;

/// A message: a tag, a number, and descriptors.
pub(super) struct Message {
    pub(super) tag: u8,
    pub(super) value: u64,
    pub(super) fds: Vec<OwnedFd>,
}

/// A connected pair, close-on-exec.
pub(super) fn pair() -> Res<(OwnedFd, OwnedFd)> {
    Ok(rustix::net::socketpair(
        AddressFamily::UNIX,
        SocketType::SEQPACKET,
        SocketFlags::CLOEXEC,
        None,
    )?)
}

/// Sends `tag` and `value`, and `fds` with them.
pub(super) fn send(socket: impl AsFd, tag: u8, value: u64, fds: &[BorrowedFd<'_>]) -> Res<()> {
    let mut data = [0u8; 9];
    data[0] = tag;
    data[1..].copy_from_slice(&value.to_le_bytes());
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(BATCH))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !fds.is_empty() && !control.push(SendAncillaryMessage::ScmRights(fds)) {
        return Err("too many descriptors for one message".into());
    }
    rustix::net::sendmsg(
        socket,
        &[IoSlice::new(&data)],
        &mut control,
        SendFlags::empty(),
    )?;
    Ok(())
}

/// Receives one message; the peer's end of the socket is an error.
pub(super) fn recv(socket: impl AsFd) -> Res<Message> {
    let mut data = [0u8; 9];
    let mut space = vec![MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(BATCH))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = rustix::net::recvmsg(
        socket,
        &mut [IoSliceMut::new(&mut data)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )?;
    if got.bytes != data.len() {
        return Err("the scale child went away".into());
    }
    let mut fds = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    let value = u64::from_le_bytes(data[1..].try_into().unwrap_or_default());
    Ok(Message {
        tag: data[0],
        value,
        fds,
    })
}

/// The writer's side: takes the write ends the child sends, waits for its go, then writes
/// `frames` lines (`burst` bytes per write, round-robin over the pipes) and closes them all.
pub(super) fn write_side(
    socket: OwnedFd,
    frames: usize,
    burst: &[u8],
    lines_per_burst: usize,
) -> Res<()> {
    let header = recv(&socket)?;
    if header.tag != b'P' {
        return Err("the scale child did not say how many pipes".into());
    }
    let mut writers = Vec::with_capacity(header.value as usize);
    while writers.len() < header.value as usize {
        let batch = recv(&socket)?;
        if batch.tag != b'F' {
            return Err("the scale child sent too few pipes".into());
        }
        writers.extend(batch.fds.into_iter().map(std::fs::File::from));
    }
    if recv(&socket)?.tag != b'G' {
        return Err("the scale child did not start".into());
    }
    for _ in 0..frames / lines_per_burst {
        for writer in &mut writers {
            writer.write_all(burst)?;
        }
    }
    Ok(())
}
