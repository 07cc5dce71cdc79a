//! 8-byte counters read from a timerfd or an eventfd: [`CounterDecoder`] turns each into a `u64`.

use std::convert::Infallible;

use bytes::{Buf, BytesMut};

use super::fields::Fields;
use crate::{Decoder, ReadLimits};

/// The size of the native-endian `uint64_t` every read returns.
const COUNTER_LEN: usize = 8;

/// Decodes the 8-byte native-endian counters read from a timerfd or an eventfd into `u64`s.
///
/// Both descriptors return exactly one `uint64_t` per read and fail with `EINVAL` when the buffer
/// is smaller than 8 bytes (`timerfd_read` in `fs/timerfd.c`, `eventfd_read` in `fs/eventfd.c`),
/// so [`read_limits`](Decoder::read_limits) asks for 8 bytes before every read. Every 8 bytes are
/// a valid counter, so decoding never fails. What the number means depends on the descriptor:
///
/// | descriptor                 | each item is                                                       |
/// |----------------------------|--------------------------------------------------------------------|
/// | timerfd (`timerfd_create(2)`) | the number of expirations since the last read (at least 1)      |
/// | eventfd (`eventfd(2)`)     | the counter's value, which the read resets to 0 (at least 1)       |
/// | eventfd with `EFD_SEMAPHORE` | always 1; the read decremented the counter by 1                  |
///
/// A timer that expired several times between reads is one item with a count above 1, not
/// several items: compare with 1 to detect missed ticks.
///
/// # Caveats
///
/// A timerfd armed with `TFD_TIMER_ABSTIME | TFD_TIMER_CANCEL_ON_SET` fails a read with
/// `ECANCELED` when the realtime clock jumps. This decoder keeps the default
/// [`read_error`](Decoder::read_error), so that ends the stream with
/// [`Error::Io`](crate::Error::Io): the reader must re-arm the timer (with `timerfd_settime(2)`)
/// before reading again, which a decoder cannot do.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::devices::CounterDecoder;
///
/// let mut decoder = CounterDecoder::new();
/// assert_eq!(decoder.read_limits().min_read_capacity, 8);
/// // A timer that expired three times since the last read.
/// let mut buf = BytesMut::from(&3_u64.to_ne_bytes()[..]);
/// assert_eq!(decoder.decode(&mut buf).unwrap(), Some(3));
/// assert!(buf.is_empty());
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct CounterDecoder {
    _private: (),
}

impl CounterDecoder {
    /// A decoder for timerfd and eventfd counters.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Decoder for CounterDecoder {
    type Item = u64;
    type Error = Infallible;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<u64>, Infallible> {
        let Some(counter) = src.get(..COUNTER_LEN) else {
            return Ok(None);
        };
        let value = Fields::new(counter).u64();
        src.advance(COUNTER_LEN);
        Ok(Some(value))
    }

    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream()
            .min_read_capacity(COUNTER_LEN)
            .max_frame_len(COUNTER_LEN)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use rustix::event::{EventfdFlags, eventfd};
    use rustix::fd::OwnedFd;
    use rustix::io::Errno;

    use super::*;
    use crate::devices::testutil::{Out, drive, split_at};

    #[test]
    #[cfg(target_endian = "little")]
    fn counter_is_native_endian_u64() {
        let raw = [0x01, 0x02, 0, 0, 0, 0, 0, 0x80];
        let mut buf = BytesMut::from(&raw[..]);
        assert_eq!(
            CounterDecoder::new().decode(&mut buf).unwrap(),
            Some(0x8000_0000_0000_0201)
        );
        assert!(buf.is_empty());
    }

    #[test]
    fn partial_counter_is_left_in_the_buffer() {
        let mut buf = BytesMut::from(&[1_u8, 2, 3, 4, 5, 6, 7][..]);
        assert_eq!(CounterDecoder::new().decode(&mut buf).unwrap(), None);
        assert_eq!(buf.len(), 7);
    }

    #[test]
    fn read_limits_ask_for_one_counter() {
        let limits = CounterDecoder::new().read_limits();
        assert_eq!(limits.min_read_capacity, 8);
        assert_eq!(limits.max_frame_len, 8);
        assert!(!limits.one_record_per_read);
    }

    /// Reads `fd` until `EAGAIN` with buffers of `min_read_capacity` bytes, then decodes.
    fn read_all(fd: &OwnedFd) -> Vec<Out<u64, Infallible>> {
        let mut decoder = CounterDecoder::new();
        let mut chunk = vec![0_u8; decoder.read_limits().min_read_capacity];
        let mut reads = Vec::new();
        loop {
            match rustix::io::read(fd, &mut chunk[..]) {
                Ok(n) => reads.push(chunk[..n].to_vec()),
                Err(Errno::AGAIN) => break,
                Err(e) => panic!("read from eventfd failed: {e}"),
            }
        }
        let reads: Vec<&[u8]> = reads.iter().map(Vec::as_slice).collect();
        let (out, rest) = drive(&mut decoder, &reads);
        assert!(rest.is_empty());
        out
    }

    #[test]
    fn real_eventfd_sums_writes_into_one_counter() {
        let fd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).expect("eventfd");
        rustix::io::write(&fd, &5_u64.to_ne_bytes()).expect("write");
        rustix::io::write(&fd, &7_u64.to_ne_bytes()).expect("write");
        assert_eq!(read_all(&fd), vec![Out::Item(12)]);
    }

    #[test]
    fn real_semaphore_eventfd_yields_one_per_read() {
        let flags = EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK | EventfdFlags::SEMAPHORE;
        let fd = eventfd(3, flags).expect("eventfd");
        assert_eq!(
            read_all(&fd),
            vec![Out::Item(1), Out::Item(1), Out::Item(1)]
        );
    }

    #[test]
    fn real_eventfd_refuses_a_read_of_less_than_eight_bytes() {
        let fd = eventfd(1, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK).expect("eventfd");
        let mut small = [0_u8; 7];
        assert_eq!(rustix::io::read(&fd, &mut small[..]), Err(Errno::INVAL));
    }

    proptest! {
        #[test]
        fn any_split_of_several_counters_gives_the_same_values(
            values in proptest::collection::vec(any::<u64>(), 0..6),
        ) {
            let raw: Vec<u8> = values.iter().flat_map(|v| v.to_ne_bytes()).collect();
            let expected: Vec<Out<u64, Infallible>> = values.into_iter().map(Out::Item).collect();
            for at in 0..=raw.len() {
                let (out, rest) = drive(&mut CounterDecoder::new(), &split_at(&raw, at));
                prop_assert_eq!(&out, &expected, "split at {}", at);
                prop_assert!(rest.is_empty());
            }
        }

        #[test]
        fn random_bytes_never_panic_and_leave_less_than_a_counter(
            bytes in proptest::collection::vec(any::<u8>(), 0..100),
            at in any::<prop::sample::Index>(),
        ) {
            let at = at.index(bytes.len() + 1);
            let (out, rest) = drive(&mut CounterDecoder::new(), &split_at(&bytes, at));
            prop_assert_eq!(out.len(), bytes.len() / COUNTER_LEN);
            prop_assert_eq!(rest.len(), bytes.len() % COUNTER_LEN);
        }
    }
}
