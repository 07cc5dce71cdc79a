//! Whole packets read from a packet descriptor: [`DatagramDecoder`] yields each read as one
//! [`Bytes`].

use std::convert::Infallible;

use bytes::{Bytes, BytesMut};

use crate::{Decoder, ReadLimits};

/// Yields each `read(2)` from a packet descriptor (TUN/TAP, `SOCK_SEQPACKET` and `SOCK_DGRAM`
/// sockets, hidraw) as one message, zero-copy.
///
/// # Reads
///
/// The decoder runs in [one-record-per-read mode](ReadLimits::one_record_per_read): every read
/// returns one packet, and `decode` sees exactly that read's bytes, which it returns whole. These
/// descriptors do not fail a too-small read; they **silently truncate** the packet. So the engine
/// offers `max_record_len + 1` bytes before every read: a packet longer than the maximum then
/// shows up as a read of `max_record_len + 1` bytes, which the engine reports as
/// [`Error::FrameTooLarge`](crate::Error::FrameTooLarge) (and skips, the stream goes on) instead
/// of delivering a packet with its tail cut off.
///
/// The default maximum, [`DEFAULT_MAX_RECORD_LEN`](Self::DEFAULT_MAX_RECORD_LEN) = 65536, holds
/// any IP packet (at most 65535 bytes) read from a TUN device without `IFF_VNET_HDR`; raise it for
/// a header prefix plus GSO super-packets, or for `SOCK_SEQPACKET` peers that send more.
///
/// # Caveats
///
/// A read of 0 bytes means end of input to the engine, so a **zero-length datagram** (which a
/// `SOCK_SEQPACKET` or `SOCK_DGRAM` peer can send) is indistinguishable from the peer closing and
/// ends the stream. Protocols on such sockets should not send empty messages.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::devices::DatagramDecoder;
///
/// let mut decoder = DatagramDecoder::new(1500);
/// let limits = decoder.read_limits();
/// assert!(limits.one_record_per_read);
/// assert_eq!(limits.min_read_capacity, 1501);
///
/// // One read's bytes: an IPv4 header's first bytes.
/// let mut read = BytesMut::from(&[0x45, 0x00, 0x00, 0x54][..]);
/// assert_eq!(decoder.decode(&mut read).unwrap().unwrap(), &[0x45, 0x00, 0x00, 0x54][..]);
/// assert!(read.is_empty());
/// ```
#[derive(Clone, Copy, Debug)]
pub struct DatagramDecoder {
    max_record_len: usize,
}

impl DatagramDecoder {
    /// The default largest packet: 65536 bytes.
    pub const DEFAULT_MAX_RECORD_LEN: usize = 65536;

    /// A decoder for packets of at most `max_record_len` bytes (at least 1).
    pub fn new(max_record_len: usize) -> Self {
        DatagramDecoder {
            max_record_len: max_record_len.max(1),
        }
    }

    /// The largest packet this decoder accepts, in bytes.
    pub fn max_record_len(&self) -> usize {
        self.max_record_len
    }
}

impl Default for DatagramDecoder {
    /// A decoder for packets of at most [`DEFAULT_MAX_RECORD_LEN`](Self::DEFAULT_MAX_RECORD_LEN)
    /// bytes.
    fn default() -> Self {
        Self::new(Self::DEFAULT_MAX_RECORD_LEN)
    }
}

impl Decoder for DatagramDecoder {
    type Item = Bytes;
    type Error = Infallible;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<Bytes>, Infallible> {
        if src.is_empty() {
            return Ok(None);
        }
        // `split` leaves the spare capacity behind for the next read.
        Ok(Some(src.split().freeze()))
    }

    fn read_limits(&self) -> ReadLimits {
        ReadLimits::one_record_per_read(self.max_record_len)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rustix::net::{AddressFamily, SocketFlags, SocketType, socketpair};

    use super::*;

    #[test]
    fn one_read_is_one_packet_returned_whole() {
        let mut buf = BytesMut::with_capacity(64);
        buf.extend_from_slice(b"\x60\x00\x00\x00packet");
        let before = buf.as_ptr();
        let packet = DatagramDecoder::default()
            .decode(&mut buf)
            .unwrap()
            .unwrap();
        assert_eq!(packet, &b"\x60\x00\x00\x00packet"[..]);
        assert_eq!(packet.as_ptr(), before, "the packet is not copied");
        assert!(buf.is_empty());
        assert!(
            buf.capacity() >= 64 - 10,
            "spare capacity stays for the next read"
        );
    }

    #[test]
    fn empty_buffer_yields_nothing() {
        assert_eq!(
            DatagramDecoder::default()
                .decode(&mut BytesMut::new())
                .unwrap(),
            None
        );
    }

    #[test]
    fn read_limits_offer_one_byte_more_than_the_largest_packet() {
        let limits = DatagramDecoder::default().read_limits();
        assert_eq!(limits.min_read_capacity, 65537);
        assert_eq!(limits.max_frame_len, 65536);
        assert!(limits.one_record_per_read);
        assert_eq!(DatagramDecoder::new(0).max_record_len(), 1);
    }

    #[test]
    fn real_seqpacket_socket_gives_one_packet_per_read() {
        let (a, b) = socketpair(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .expect("socketpair");
        rustix::io::write(&a, b"first").expect("write");
        rustix::io::write(&a, b"second!").expect("write");

        let mut decoder = DatagramDecoder::new(16);
        let mut chunk = vec![0_u8; decoder.read_limits().min_read_capacity];
        let mut packets = Vec::new();
        loop {
            match rustix::io::read(&b, &mut chunk[..]) {
                Ok(n) => {
                    let mut read = BytesMut::from(&chunk[..n]);
                    packets.push(decoder.decode(&mut read).unwrap().unwrap());
                    assert!(read.is_empty());
                }
                Err(rustix::io::Errno::AGAIN) => break,
                Err(e) => panic!("read from socket failed: {e}"),
            }
        }
        assert_eq!(packets, vec![&b"first"[..], &b"second!"[..]]);
    }

    #[test]
    fn real_seqpacket_socket_truncates_silently_which_is_why_one_more_byte_is_offered() {
        let (a, b) = socketpair(
            AddressFamily::UNIX,
            SocketType::SEQPACKET,
            SocketFlags::CLOEXEC | SocketFlags::NONBLOCK,
            None,
        )
        .expect("socketpair");
        let limits = DatagramDecoder::new(4).read_limits();
        rustix::io::write(&a, b"12345678").expect("write");
        let mut chunk = vec![0_u8; limits.min_read_capacity];
        let n = rustix::io::read(&b, &mut chunk[..]).expect("read");
        // Truncated to the buffer, no error: only the extra byte reveals it was too large.
        assert_eq!(n, limits.max_frame_len + 1);
    }

    proptest! {
        #[test]
        fn any_read_comes_back_unchanged(read in proptest::collection::vec(any::<u8>(), 1..2048)) {
            let mut buf = BytesMut::from(&read[..]);
            let packet = DatagramDecoder::default().decode(&mut buf).unwrap();
            prop_assert_eq!(packet.as_deref(), Some(&read[..]));
            prop_assert!(buf.is_empty());
        }
    }
}
