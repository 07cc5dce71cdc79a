//! Input events read from an evdev node (`/dev/input/event*`): [`InputEventDecoder`] turns each
//! `struct input_event` into an [`InputEvent`].

use std::convert::Infallible;
use std::ffi::c_long;
use std::mem::size_of;
use std::time::Duration;

use bytes::{Buf, BytesMut};

use super::fields::Fields;
use crate::{Decoder, Loss, LossCause, ReadLimits};

/// `sizeof(struct input_event)`: two C `long`s of time, then type, code and value. 24 bytes on
/// 64-bit Linux, 16 on 32-bit.
const EVENT_LEN: usize = 2 * size_of::<c_long>() + 2 + 2 + 4;

/// How many events one read is offered room for: `EVDEV_MIN_BUFFER_SIZE` in
/// `drivers/input/evdev.c`, the smallest per-client queue the kernel allocates.
const EVENTS_PER_READ: usize = 64;

/// Decodes the events read from an evdev node into [`InputEvent`]s.
///
/// # Reads
///
/// `evdev_read` (`drivers/input/evdev.c`) fails with `EINVAL` when offered fewer bytes than one
/// event, and otherwise copies as many *whole* events as fit; the buffer need not be a multiple
/// of the event size. One event would do, but a multitouch frame is dozens of events, so
/// [`read_limits`](Decoder::read_limits) asks for room for 64 (1536 bytes on 64-bit), the
/// smallest queue the kernel gives a client: one read usually drains it.
///
/// # `SYN_DROPPED`
///
/// When a client's queue overflows, the kernel discards it and queues an `EV_SYN`/`SYN_DROPPED`
/// event. That is not an item: the decoder consumes it, keeps decoding the next event in the same
/// call, and reports [`Loss::unknown`]`(`[`LossCause::EvdevDropped`]`)` from
/// [`take_loss`](Decoder::take_loss); the engine delivers the loss before the item that call
/// returned. What to do next is the reader's job, as the kernel's
/// `Documentation/input/event-codes.rst` describes and libevdev does: ignore every event up to
/// and including the next `SYN_REPORT` (the frame they belong to is incomplete), then query the
/// device's current state with the `EVIOCG*` ioctls (`EVIOCGKEY`, `EVIOCGABS`, `EVIOCGMTSLOTS`,
/// ...). The decoder still yields those incomplete events, since only the reader knows whether it
/// cares.
///
/// # Layout
///
/// Native-endian, as `struct input_event` in `include/uapi/linux/input.h`; on 64-bit Linux:
///
/// ```text
///  0                8                16       18       20
///  +----------------+----------------+--------+--------+----------------+
///  |   time.tv_sec  |  time.tv_usec  |  type  |  code  |     value      |
///  +----------------+----------------+--------+--------+----------------+
///    long             long             __u16    __u16    __s32        (24 bytes)
/// ```
///
/// The time fields are C `long`s, so on 32-bit Linux the event is 16 bytes and this decoder
/// follows (the kernel uses the same `long` width for both the old `timeval` and the y2038-safe
/// layout). The x32 ABI, whose `long` is 4 bytes but whose input events are 24, is not supported.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::devices::{InputEvent, InputEventDecoder};
///
/// # #[cfg(target_pointer_width = "64")] {
/// let mut raw = Vec::new();
/// raw.extend_from_slice(&1_700_000_000_i64.to_ne_bytes()); // tv_sec
/// raw.extend_from_slice(&250_000_i64.to_ne_bytes()); // tv_usec
/// raw.extend_from_slice(&InputEvent::EV_KEY.to_ne_bytes());
/// raw.extend_from_slice(&30_u16.to_ne_bytes()); // KEY_A
/// raw.extend_from_slice(&1_i32.to_ne_bytes()); // pressed
///
/// let mut decoder = InputEventDecoder::new();
/// assert_eq!(decoder.read_limits().min_read_capacity, 64 * 24);
/// let event = decoder.decode(&mut BytesMut::from(&raw[..])).unwrap().unwrap();
/// assert_eq!((event.kind, event.code, event.value), (InputEvent::EV_KEY, 30, 1));
/// assert_eq!(event.time(), Some(std::time::Duration::new(1_700_000_000, 250_000_000)));
/// # }
/// ```
#[derive(Clone, Debug, Default)]
pub struct InputEventDecoder {
    /// A `SYN_DROPPED` event was consumed and not yet reported.
    dropped: bool,
}

impl InputEventDecoder {
    /// The size of one event on this target, in bytes (24 on 64-bit Linux).
    pub const EVENT_LEN: usize = EVENT_LEN;

    /// A decoder for evdev input events.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Decoder for InputEventDecoder {
    type Item = InputEvent;
    type Error = Infallible;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<InputEvent>, Infallible> {
        // SYN_DROPPED is consumed and the loop goes on, so that the item this call returns is
        // the one the loss must precede.
        loop {
            let Some(record) = src.get(..EVENT_LEN) else {
                return Ok(None);
            };
            let event = InputEvent::parse(record);
            src.advance(EVENT_LEN);
            if event.kind == InputEvent::EV_SYN && event.code == InputEvent::SYN_DROPPED {
                self.dropped = true;
                continue;
            }
            return Ok(Some(event));
        }
    }

    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream()
            .min_read_capacity(EVENTS_PER_READ * EVENT_LEN)
            .max_frame_len(EVENT_LEN)
    }

    fn take_loss(&mut self) -> Option<Loss> {
        std::mem::take(&mut self.dropped).then(|| Loss::unknown(LossCause::EvdevDropped))
    }
}

/// One input event: a change of one axis, key or switch (`kind`, `code`, `value`) at a time.
///
/// Events come in frames ended by an `EV_SYN`/`SYN_REPORT` event; a reader applies a frame's
/// changes together. The `EV_*`, `SYN_*` constants are those of
/// `include/uapi/linux/input-event-codes.h`, where the key, axis and button codes are listed.
///
/// ```
/// use fdframe::devices::InputEvent;
///
/// let report = InputEvent {
///     sec: 5,
///     usec: 0,
///     kind: InputEvent::EV_SYN,
///     code: InputEvent::SYN_REPORT,
///     value: 0,
/// };
/// assert!(report.is_syn_report());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct InputEvent {
    /// `input_event_sec`: whole seconds of the event's timestamp. The clock is
    /// `CLOCK_REALTIME` unless changed with the `EVIOCSCLOCKID` ioctl.
    pub sec: i64,
    /// `input_event_usec`: microseconds within the second.
    pub usec: i64,
    /// `type`: the event type, one of the `EV_*` constants.
    pub kind: u16,
    /// `code`: which key, axis or switch (meaning depends on `kind`).
    pub code: u16,
    /// `value`: the new value (for keys: 0 released, 1 pressed, 2 autorepeat).
    pub value: i32,
}

impl InputEvent {
    /// `EV_SYN`: frame markers and stream notices.
    pub const EV_SYN: u16 = 0x00;
    /// `EV_KEY`: keys and buttons.
    pub const EV_KEY: u16 = 0x01;
    /// `EV_REL`: relative axes (mouse motion, wheels).
    pub const EV_REL: u16 = 0x02;
    /// `EV_ABS`: absolute axes (touchscreens, joysticks).
    pub const EV_ABS: u16 = 0x03;
    /// `EV_MSC`: miscellaneous (scan codes, timestamps).
    pub const EV_MSC: u16 = 0x04;
    /// `EV_SW`: switches (lid, headphone jack).
    pub const EV_SW: u16 = 0x05;
    /// `EV_LED`: LEDs.
    pub const EV_LED: u16 = 0x11;
    /// `EV_SND`: sound (beepers).
    pub const EV_SND: u16 = 0x12;
    /// `EV_REP`: autorepeat settings.
    pub const EV_REP: u16 = 0x14;
    /// `EV_FF`: force feedback.
    pub const EV_FF: u16 = 0x15;
    /// `EV_PWR`: power buttons and switches.
    pub const EV_PWR: u16 = 0x16;
    /// `EV_FF_STATUS`: force feedback status.
    pub const EV_FF_STATUS: u16 = 0x17;

    /// `SYN_REPORT` (code of an `EV_SYN` event): the end of a frame.
    pub const SYN_REPORT: u16 = 0;
    /// `SYN_CONFIG` (code of an `EV_SYN` event): unused.
    pub const SYN_CONFIG: u16 = 1;
    /// `SYN_MT_REPORT` (code of an `EV_SYN` event): the end of a contact in the legacy
    /// multitouch protocol A.
    pub const SYN_MT_REPORT: u16 = 2;
    /// `SYN_DROPPED` (code of an `EV_SYN` event): the queue overflowed. [`InputEventDecoder`]
    /// turns it into a loss notice, so items never carry it.
    pub const SYN_DROPPED: u16 = 3;

    /// Whether this event ends a frame (`EV_SYN`/`SYN_REPORT`).
    pub const fn is_syn_report(&self) -> bool {
        self.kind == Self::EV_SYN && self.code == Self::SYN_REPORT
    }

    /// The timestamp as a duration since the clock's epoch, or `None` when the fields are out of
    /// range (negative, or `usec` of a second or more).
    pub fn time(&self) -> Option<Duration> {
        let sec = u64::try_from(self.sec).ok()?;
        let usec = u32::try_from(self.usec).ok().filter(|&us| us < 1_000_000)?;
        Some(Duration::new(sec, usec * 1_000))
    }

    /// Reads the fields in the order `include/uapi/linux/input.h` declares them.
    fn parse(record: &[u8]) -> Self {
        let mut f = Fields::new(record);
        InputEvent {
            sec: f.c_long(),
            usec: f.c_long(),
            kind: f.u16(),
            code: f.u16(),
            value: f.i32(),
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::devices::testutil::{Out, drive, split_at};

    fn event_bytes(sec: i64, usec: i64, kind: u16, code: u16, value: i32) -> Vec<u8> {
        let mut raw = Vec::new();
        #[cfg(target_pointer_width = "64")]
        {
            raw.extend_from_slice(&sec.to_ne_bytes());
            raw.extend_from_slice(&usec.to_ne_bytes());
        }
        #[cfg(not(target_pointer_width = "64"))]
        {
            raw.extend_from_slice(&(sec as i32).to_ne_bytes());
            raw.extend_from_slice(&(usec as i32).to_ne_bytes());
        }
        raw.extend_from_slice(&kind.to_ne_bytes());
        raw.extend_from_slice(&code.to_ne_bytes());
        raw.extend_from_slice(&value.to_ne_bytes());
        raw
    }

    fn item(sec: i64, usec: i64, kind: u16, code: u16, value: i32) -> Out<InputEvent, Infallible> {
        Out::Item(InputEvent {
            sec,
            usec,
            kind,
            code,
            value,
        })
    }

    #[test]
    #[cfg(all(target_pointer_width = "64", target_endian = "little"))]
    fn syn_dropped_between_frames_is_delivered_in_its_place() {
        #[rustfmt::skip]
        let raw: [u8; 4 * 24] = [
            // 10.000500: EV_KEY KEY_A (30) pressed
            10, 0, 0, 0, 0, 0, 0, 0,  0xf4, 0x01, 0, 0, 0, 0, 0, 0,  1, 0,  30, 0,  1, 0, 0, 0,
            // 10.000500: EV_SYN SYN_REPORT
            10, 0, 0, 0, 0, 0, 0, 0,  0xf4, 0x01, 0, 0, 0, 0, 0, 0,  0, 0,  0, 0,  0, 0, 0, 0,
            // 11.000000: EV_SYN SYN_DROPPED
            11, 0, 0, 0, 0, 0, 0, 0,  0, 0, 0, 0, 0, 0, 0, 0,  0, 0,  3, 0,  0, 0, 0, 0,
            // 11.000001: EV_REL REL_X (0) -2
            11, 0, 0, 0, 0, 0, 0, 0,  1, 0, 0, 0, 0, 0, 0, 0,  2, 0,  0, 0,  0xfe, 0xff, 0xff, 0xff,
        ];
        let (out, rest) = drive(&mut InputEventDecoder::new(), &[&raw]);
        assert_eq!(
            out,
            vec![
                item(10, 500, InputEvent::EV_KEY, 30, 1),
                item(10, 500, InputEvent::EV_SYN, InputEvent::SYN_REPORT, 0),
                Out::Lost(Loss::unknown(LossCause::EvdevDropped)),
                item(11, 1, InputEvent::EV_REL, 0, -2),
            ]
        );
        assert!(rest.is_empty());
    }

    #[test]
    fn event_size_is_24_bytes_on_64_bit_linux() {
        #[cfg(target_pointer_width = "64")]
        assert_eq!(InputEventDecoder::EVENT_LEN, 24);
        #[cfg(target_pointer_width = "32")]
        assert_eq!(InputEventDecoder::EVENT_LEN, 16);
        assert_eq!(
            event_bytes(0, 0, 0, 0, 0).len(),
            InputEventDecoder::EVENT_LEN
        );
    }

    #[test]
    fn syn_dropped_as_the_last_event_reports_the_loss_without_an_item() {
        let raw = event_bytes(1, 0, InputEvent::EV_SYN, InputEvent::SYN_DROPPED, 0);
        let mut decoder = InputEventDecoder::new();
        let mut buf = BytesMut::from(&raw[..]);
        assert_eq!(decoder.decode(&mut buf).unwrap(), None);
        assert!(buf.is_empty(), "SYN_DROPPED is consumed");
        assert_eq!(
            decoder.take_loss(),
            Some(Loss::unknown(LossCause::EvdevDropped))
        );
        assert_eq!(decoder.take_loss(), None, "a loss is reported once");
    }

    #[test]
    fn partial_event_is_left_in_the_buffer() {
        let raw = event_bytes(1, 2, InputEvent::EV_KEY, 30, 1);
        let mut buf = BytesMut::from(&raw[..EVENT_LEN - 1]);
        assert_eq!(InputEventDecoder::new().decode(&mut buf).unwrap(), None);
        assert_eq!(buf.len(), EVENT_LEN - 1);
    }

    #[test]
    fn read_limits_offer_room_for_64_events() {
        let limits = InputEventDecoder::new().read_limits();
        assert_eq!(limits.min_read_capacity, 64 * EVENT_LEN);
        assert_eq!(limits.max_frame_len, EVENT_LEN);
        assert!(!limits.one_record_per_read);
    }

    #[test]
    fn time_is_none_when_out_of_range() {
        let at = |sec, usec| InputEvent {
            sec,
            usec,
            kind: 0,
            code: 0,
            value: 0,
        };
        assert_eq!(at(3, 999_999).time(), Some(Duration::new(3, 999_999_000)));
        assert_eq!(at(-1, 0).time(), None);
        assert_eq!(at(0, 1_000_000).time(), None);
        assert_eq!(at(0, -1).time(), None);
    }

    fn events() -> impl Strategy<Value = Vec<(i64, i64, u16, u16, i32)>> {
        let event = (
            0_i64..i64::from(i32::MAX),
            0_i64..1_000_000,
            any::<u16>(),
            any::<u16>(),
            any::<i32>(),
        );
        let dropped = (0_i64..i64::from(i32::MAX))
            .prop_map(|sec| (sec, 0, InputEvent::EV_SYN, InputEvent::SYN_DROPPED, 0));
        // The kernel never queues two SYN_DROPPED in a row: one stands for the whole overflow.
        proptest::collection::vec(prop_oneof![5 => event, 1 => dropped], 0..6).prop_map(
            |mut events| {
                events.dedup_by(|a, b| is_dropped(a) && is_dropped(b));
                events
            },
        )
    }

    fn is_dropped(&(_, _, kind, code, _): &(i64, i64, u16, u16, i32)) -> bool {
        kind == InputEvent::EV_SYN && code == InputEvent::SYN_DROPPED
    }

    proptest! {
        #[test]
        fn any_split_of_several_events_gives_the_same_items_and_losses(events in events()) {
            let mut raw = Vec::new();
            let mut expected = Vec::new();
            let mut dropped = false;
            for event in events {
                let (sec, usec, kind, code, value) = event;
                raw.extend(event_bytes(sec, usec, kind, code, value));
                if is_dropped(&event) {
                    dropped = true;
                } else {
                    if std::mem::take(&mut dropped) {
                        expected.push(Out::Lost(Loss::unknown(LossCause::EvdevDropped)));
                    }
                    expected.push(item(sec, usec, kind, code, value));
                }
            }
            if dropped {
                expected.push(Out::Lost(Loss::unknown(LossCause::EvdevDropped)));
            }
            for at in 0..=raw.len() {
                let (out, rest) = drive(&mut InputEventDecoder::new(), &split_at(&raw, at));
                prop_assert_eq!(&out, &expected, "split at {}", at);
                prop_assert!(rest.is_empty());
            }
        }

        #[test]
        fn random_bytes_never_panic_and_leave_less_than_an_event(
            bytes in proptest::collection::vec(any::<u8>(), 0..600),
            at in any::<prop::sample::Index>(),
        ) {
            let at = at.index(bytes.len() + 1);
            let (_, rest) = drive(&mut InputEventDecoder::new(), &split_at(&bytes, at));
            prop_assert_eq!(rest.len(), bytes.len() % EVENT_LEN);
        }
    }
}
