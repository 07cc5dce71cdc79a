//! Opening TUN/TAP interfaces, whose descriptors [`DatagramDecoder`](super::DatagramDecoder) reads.

use std::io;
use std::os::fd::{AsFd, OwnedFd};

use rustix::fs::{Mode, OFlags};

use crate::sys;

/// Which kind of interface [`open_tun`] creates.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum TunMode {
    /// A layer-3 interface: each read is one IP packet.
    Tun,
    /// A layer-2 interface: each read is one Ethernet frame.
    Tap,
}

/// A TUN/TAP interface attached to an open `/dev/net/tun` descriptor.
#[derive(Debug)]
pub struct Tun {
    /// The descriptor: one packet per `read(2)` (no packet-information header: `IFF_NO_PI`),
    /// non-blocking and close-on-exec. The interface disappears when it is closed (unless made
    /// persistent by other means).
    pub fd: OwnedFd,
    /// The interface's name, as the kernel chose it (`tun%d` patterns are filled in).
    pub name: String,
}

const IFF_TUN: u16 = 0x0001;
const IFF_TAP: u16 = 0x0002;
const IFF_NO_PI: u16 = 0x1000;
/// `IFNAMSIZ` including the terminating NUL.
const IFNAMSIZ: usize = 16;

/// Creates (or attaches to) the TUN/TAP interface `name` in the calling thread's network
/// namespace. Needs `CAP_NET_ADMIN`. `name` may contain `%d` for the kernel to number it, and
/// must be shorter than 16 bytes.
///
/// The interface starts down and without addresses; configure it with `ip` or netlink. Read it
/// with a [`DatagramDecoder`](super::DatagramDecoder) whose maximum is at least the MTU (plus
/// 14 bytes of Ethernet header for TAP), so no packet is ever truncated.
///
/// ```no_run
/// use fdframe::devices::{open_tun, DatagramDecoder, TunMode};
/// use fdframe::blocking::FdReader;
///
/// let tun = open_tun("fdframe%d", TunMode::Tun)?;
/// println!("created {}", tun.name);
/// for packet in FdReader::from_fd(tun.fd, DatagramDecoder::new(1500))? {
///     println!("{} bytes", packet?.len());
/// }
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn open_tun(name: &str, mode: TunMode) -> io::Result<Tun> {
    if name.len() >= IFNAMSIZ || name.as_bytes().contains(&0) {
        return Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("interface name {name:?} must be shorter than {IFNAMSIZ} bytes, without NUL"),
        ));
    }
    let fd = rustix::fs::open(
        "/dev/net/tun",
        OFlags::RDWR | OFlags::NONBLOCK | OFlags::CLOEXEC,
        Mode::empty(),
    )?;
    let mut ifreq = [0u8; sys::IFREQ_LEN];
    ifreq[..name.len()].copy_from_slice(name.as_bytes());
    let kind = match mode {
        TunMode::Tun => IFF_TUN,
        TunMode::Tap => IFF_TAP,
    };
    ifreq[IFNAMSIZ..IFNAMSIZ + 2].copy_from_slice(&(kind | IFF_NO_PI).to_ne_bytes());
    sys::tun_set_iff(fd.as_fd(), &mut ifreq)?;
    let len = ifreq[..IFNAMSIZ]
        .iter()
        .position(|&b| b == 0)
        .unwrap_or(IFNAMSIZ);
    let name = String::from_utf8_lossy(&ifreq[..len]).into_owned();
    Ok(Tun { fd, name })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overlong_or_nul_names_are_refused_before_any_syscall() {
        for name in ["sixteen-bytes-xx", "a\0b"] {
            let err = open_tun(name, TunMode::Tun).unwrap_err();
            assert_eq!(err.kind(), io::ErrorKind::InvalidInput, "{name:?}");
        }
    }
}
