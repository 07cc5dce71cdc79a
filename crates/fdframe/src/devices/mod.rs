//! Decoders for the record-oriented Linux descriptors: inotify, signalfd, timerfd, eventfd, evdev,
//! and packet descriptors (TUN/TAP, seqpacket sockets).
//!
//! These descriptors do not return a byte stream to be split: each `read(2)` returns whole kernel
//! records, and fails with `EINVAL` (or silently truncates the record) when the buffer is too
//! small for the next one. So every decoder here declares in
//! [`read_limits`](crate::Decoder::read_limits) how much room its device needs, and the engine
//! guarantees that room **before every read**: a too-small read cannot happen.
//!
//! | device                     | decoder               | item              | bytes per record         | min read capacity | loss notice |
//! |----------------------------|-----------------------|-------------------|--------------------------|-------------------|-------------|
//! | inotify                    | [`InotifyDecoder`]    | [`InotifyEvent`]  | 16 + `len` (`len` ≤ 256) | 16 + 255 + 1 = 272 | `IN_Q_OVERFLOW` → [`InotifyOverflow`](crate::LossCause::InotifyOverflow) |
//! | signalfd                   | [`SignalfdDecoder`]   | [`SignalfdSiginfo`] | 128                    | 128               | none (the kernel merges a pending standard signal invisibly) |
//! | timerfd                    | [`CounterDecoder`]    | `u64` expirations | 8                        | 8                 | none (missed ticks are a count above 1) |
//! | eventfd                    | [`CounterDecoder`]    | `u64` counter     | 8                        | 8                 | none |
//! | evdev `/dev/input/event*`  | [`InputEventDecoder`] | [`InputEvent`]    | 24 (16 on 32-bit)        | 64 × 24 = 1536    | `SYN_DROPPED` → [`EvdevDropped`](crate::LossCause::EvdevDropped) |
//! | TUN/TAP, seqpacket, hidraw | [`DatagramDecoder`]   | [`bytes::Bytes`]  | one packet per read, ≤ max | max + 1 (65537 by default) | none (a packet over max is [`FrameTooLarge`](crate::Error::FrameTooLarge)) |
//!
//! Layouts are those of the kernel's UAPI headers, read native-endian with checked slicing (no
//! `unsafe`): `include/uapi/linux/inotify.h`, `include/uapi/linux/signalfd.h`,
//! `include/uapi/linux/input.h`, and the man pages inotify(7), signalfd(2), timerfd_create(2),
//! eventfd(2). Each decoder's page draws its record.
//!
//! # Loss notices come in order
//!
//! inotify's `IN_Q_OVERFLOW` and evdev's `SYN_DROPPED` are records in the stream that say
//! "records were dropped here". The decoders do not yield them as items: `decode` consumes the
//! notice, remembers it, and **goes on decoding the next record in the same call**. The engine
//! asks [`take_loss`](crate::Decoder::take_loss) after every `decode` call and delivers the loss
//! before the item that call returned, so a reader sees the records before the gap, then
//! [`Error::Lost`](crate::Error::Lost), then the records after it. (Returning `Ok(None)` right
//! after the notice would be wrong: the engine would read again before delivering the records
//! already buffered behind it.)
//!
//! # Example
//!
//! ```
//! use bytes::BytesMut;
//! use fdframe::Decoder;
//! use fdframe::devices::CounterDecoder;
//!
//! // Two eventfd reads' worth of counters, decoded as the engine would.
//! let mut buf = BytesMut::new();
//! buf.extend_from_slice(&2_u64.to_ne_bytes());
//! buf.extend_from_slice(&5_u64.to_ne_bytes());
//! let mut decoder = CounterDecoder::new();
//! assert_eq!(decoder.decode(&mut buf).unwrap(), Some(2));
//! assert_eq!(decoder.decode(&mut buf).unwrap(), Some(5));
//! assert_eq!(decoder.decode(&mut buf).unwrap(), None);
//! ```

mod counter;
mod datagram;
mod evdev;
mod fields;
mod inotify;
mod signalfd;
#[cfg(test)]
mod testutil;
mod tun;

pub use counter::CounterDecoder;
pub use datagram::DatagramDecoder;
pub use evdev::{InputEvent, InputEventDecoder};
pub use inotify::{InotifyDecoder, InotifyError, InotifyEvent, InotifyMask};
pub use signalfd::{SignalfdDecoder, SignalfdSiginfo};
pub use tun::{Tun, TunMode, open_tun};
