//! Targets for the record devices: inotify, signalfd, timerfd/eventfd counters, evdev and
//! packet descriptors.
//!
//! Each item, written back as the kernel's struct (`encode_*` below: the layouts of the UAPI
//! headers, native-endian), must be the record the input held at that point; loss records
//! (`IN_Q_OVERFLOW`, `SYN_DROPPED`) must come out as one `Lost` before the next item.

use std::ffi::c_long;
use std::mem::size_of;

use fdframe::devices::{
    CounterDecoder, DatagramDecoder, InotifyDecoder, InotifyError, InotifyEvent, InotifyMask,
    InputEvent, InputEventDecoder, SignalfdDecoder, SignalfdSiginfo,
};
use fdframe::{Framer, Loss, LossCause};

use crate::harness::{Ev, Features, drive, split_io};
use crate::input::{Feed, Reader, Script, Sent, ops_and_data};
use crate::targets::codecs::{framer, small_limit};

/// Drops a `Lost` that repeats the one right before it: two loss records with no item between
/// them are one notice in one read and two when a read ends between them, and an unknown loss
/// has no count to add up.
fn merge_losses<T: PartialEq, E: PartialEq>(events: &[Ev<T, E>]) -> Vec<&Ev<T, E>> {
    let mut out: Vec<&Ev<T, E>> = Vec::with_capacity(events.len());
    for event in events {
        if matches!(event, Ev::Lost(_)) && out.last() == Some(&event) {
            continue;
        }
        out.push(event);
    }
    out
}

/// Walks the merged events against the records of `input` (records of `record_len(at)` bytes
/// each, where `at` is the rest of the input): each item must `match_record` its record, a
/// `loss_record` must show as `Lost(unknown(cause))` before the next item, a partial record at
/// the end is `Truncated` when input ended.
#[allow(clippy::too_many_arguments)]
fn walk_records<T, E>(
    events: &[Ev<T, E>],
    input: &[u8],
    ended: bool,
    record_len: impl Fn(&[u8]) -> Option<usize>,
    cause: LossCause,
    loss_record: impl Fn(&[u8]) -> bool,
    match_record: impl Fn(&T, &[u8]) -> bool,
    mut on_error: impl FnMut(&E, &[u8]) -> usize,
) where
    T: PartialEq + std::fmt::Debug,
    E: PartialEq + std::fmt::Debug,
{
    let merged = merge_losses(events);
    let mut actual = merged.iter();
    let lost = Ev::Lost(Loss::unknown(cause));
    let mut pending = false;
    let mut cur = 0;
    loop {
        let rest = &input[cur..];
        let Some(len) = record_len(rest) else {
            // Not even a header: the rest is a partial record, unless the stream skipped it.
            break;
        };
        if len > rest.len() {
            break;
        }
        if len == 0 {
            // The decoder reports this record as an error, consuming what the error says.
            if pending {
                assert_eq!(
                    actual.next(),
                    Some(&&lost),
                    "loss before the error at byte {cur}"
                );
                pending = false;
            }
            match actual.next() {
                Some(Ev::Decode(e)) => cur += on_error(e, rest),
                other => panic!("expected an error at byte {cur}, got {other:?}"),
            }
            continue;
        }
        let record = &rest[..len];
        cur += len;
        if loss_record(record) {
            pending = true;
            continue;
        }
        if pending {
            assert_eq!(
                actual.next(),
                Some(&&lost),
                "loss before the record at byte {cur}"
            );
            pending = false;
        }
        match actual.next() {
            Some(Ev::Item(item)) => assert!(
                match_record(item, record),
                "{item:?} written back is not the record {record:?}"
            ),
            other => panic!("expected the record {record:?}, got {other:?}"),
        }
    }
    if pending {
        assert_eq!(actual.next(), Some(&&lost), "loss at the end");
    }
    let rest = &input[cur..];
    if ended && !rest.is_empty() {
        assert_eq!(
            actual.next(),
            Some(&&Ev::Truncated(rest.to_vec())),
            "the partial record at the end"
        );
    }
    let left: Vec<_> = actual.collect();
    assert!(
        left.is_empty(),
        "events the records do not explain: {left:?}"
    );
}

fn ne_u32(b: &[u8], at: usize) -> u32 {
    u32::from_ne_bytes(b[at..at + 4].try_into().expect("4 bytes"))
}

/// An inotify event, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Inotify {
    wd: i32,
    mask: u32,
    cookie: u32,
    name: Option<Vec<u8>>,
}

/// Whether `record` (a `struct inotify_event` and its name field) is what `event` says: the
/// header written back is the record's header, and the name is the field up to its first NUL.
pub(crate) fn inotify_matches(event: &Inotify, record: &[u8]) -> bool {
    let mut header = Vec::with_capacity(16);
    header.extend_from_slice(&event.wd.to_ne_bytes());
    header.extend_from_slice(&event.mask.to_ne_bytes());
    header.extend_from_slice(&event.cookie.to_ne_bytes());
    let field = &record[16..];
    header.extend_from_slice(&(field.len() as u32).to_ne_bytes());
    let name_len = field.iter().position(|&b| b == 0).unwrap_or(field.len());
    let name = (name_len > 0).then(|| &field[..name_len]);
    header == record[..16] && event.name.as_deref() == name
}

/// inotify: every event written back is its record, `IN_Q_OVERFLOW` is one loss before the next
/// event, a name field over the limit is an error that skips what was buffered.
pub(crate) fn inotify(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let framer = framer(InotifyDecoder::new(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let item = |e: InotifyEvent| Inotify {
        wd: e.wd,
        mask: e.mask.bits(),
        cookie: e.cookie,
        name: e.name.map(|n| n.to_vec()),
    };
    let err = |e: InotifyError| match e {
        InotifyError::NameTooLong { len, skipped } => (len, skipped.to_vec()),
        other => panic!("unexpected error {other:?}"),
    };
    let run = drive(framer, &mut script, item, err);
    let (events, io) = split_io(&run.events);
    let record_len = |rest: &[u8]| {
        let len = ne_u32(rest.get(..16)?, 12) as usize;
        Some(if len > InotifyDecoder::MAX_NAME_FIELD_LEN {
            0
        } else {
            16 + len
        })
    };
    let overflow =
        |record: &[u8]| InotifyMask::from_bits(ne_u32(record, 4)).contains(InotifyMask::Q_OVERFLOW);
    walk_records(
        events,
        script.delivered_bytes(),
        io.is_none(),
        record_len,
        LossCause::InotifyOverflow,
        overflow,
        inotify_matches,
        |(len, skipped), rest| {
            assert_eq!(*len, ne_u32(rest, 12), "the length the error names");
            assert!(
                skipped.len() >= 16 && rest.starts_with(skipped),
                "skipped {skipped:?}"
            );
            skipped.len()
        },
    );
    run.features(Features::default())
}

/// A `struct signalfd_siginfo` written back, its padding zero.
pub(crate) fn encode_siginfo(i: &SignalfdSiginfo) -> [u8; 128] {
    let mut raw = [0u8; 128];
    let mut put = |at: usize, bytes: &[u8]| raw[at..at + bytes.len()].copy_from_slice(bytes);
    put(0, &i.signo.to_ne_bytes());
    put(4, &i.errno.to_ne_bytes());
    put(8, &i.code.to_ne_bytes());
    put(12, &i.pid.to_ne_bytes());
    put(16, &i.uid.to_ne_bytes());
    put(20, &i.fd.to_ne_bytes());
    put(24, &i.tid.to_ne_bytes());
    put(28, &i.band.to_ne_bytes());
    put(32, &i.overrun.to_ne_bytes());
    put(36, &i.trapno.to_ne_bytes());
    put(40, &i.status.to_ne_bytes());
    put(44, &i.int.to_ne_bytes());
    put(48, &i.ptr.to_ne_bytes());
    put(56, &i.utime.to_ne_bytes());
    put(64, &i.stime.to_ne_bytes());
    put(72, &i.addr.to_ne_bytes());
    put(80, &i.addr_lsb.to_ne_bytes());
    put(84, &i.syscall.to_ne_bytes());
    put(88, &i.call_addr.to_ne_bytes());
    put(96, &i.arch.to_ne_bytes());
    put(100, &i.perf_type.to_ne_bytes());
    put(104, &i.perf_data.to_ne_bytes());
    raw
}

/// signalfd: every 128-byte record, decoded and written back, is itself (padding aside).
pub(crate) fn signalfd(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let framer = framer(SignalfdDecoder::new(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let run = drive(framer, &mut script, |i| i, |e| match e {});
    let (events, io) = split_io(&run.events);
    walk_records(
        events,
        script.delivered_bytes(),
        io.is_none(),
        |_| Some(128),
        LossCause::InotifyOverflow,
        |_| false,
        |info, record| {
            let mut padded = [0u8; 128];
            padded.copy_from_slice(record);
            padded[82..84].fill(0);
            padded[112..].fill(0);
            encode_siginfo(info) == padded
        },
        |e: &std::convert::Infallible, _| match *e {},
    );
    run.features(Features::default())
}

/// timerfd/eventfd: every 8-byte record is its counter, native-endian.
pub(crate) fn counters(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let framer = framer(CounterDecoder::new(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let run = drive(framer, &mut script, |n| n, |e| match e {});
    let (events, io) = split_io(&run.events);
    walk_records(
        events,
        script.delivered_bytes(),
        io.is_none(),
        |_| Some(8),
        LossCause::InotifyOverflow,
        |_| false,
        |n: &u64, record| n.to_ne_bytes() == record,
        |e: &std::convert::Infallible, _| match *e {},
    );
    run.features(Features::default())
}

/// A `struct input_event` written back.
pub(crate) fn encode_input_event(e: &InputEvent) -> Vec<u8> {
    let mut raw = Vec::with_capacity(InputEventDecoder::EVENT_LEN);
    if size_of::<c_long>() == 8 {
        raw.extend_from_slice(&e.sec.to_ne_bytes());
        raw.extend_from_slice(&e.usec.to_ne_bytes());
    } else {
        raw.extend_from_slice(&(e.sec as i32).to_ne_bytes());
        raw.extend_from_slice(&(e.usec as i32).to_ne_bytes());
    }
    raw.extend_from_slice(&e.kind.to_ne_bytes());
    raw.extend_from_slice(&e.code.to_ne_bytes());
    raw.extend_from_slice(&e.value.to_ne_bytes());
    raw
}

/// evdev: every event written back is its record; `SYN_DROPPED` is one loss before the next.
pub(crate) fn evdev(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    let framer = framer(InputEventDecoder::new(), &mut reader);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Stream);
    let run = drive(framer, &mut script, |e| e, |e| match e {});
    let (events, io) = split_io(&run.events);
    let type_at = 2 * size_of::<c_long>();
    let dropped = |record: &[u8]| {
        let kind = u16::from_ne_bytes([record[type_at], record[type_at + 1]]);
        let code = u16::from_ne_bytes([record[type_at + 2], record[type_at + 3]]);
        kind == InputEvent::EV_SYN && code == InputEvent::SYN_DROPPED
    };
    walk_records(
        events,
        script.delivered_bytes(),
        io.is_none(),
        |_| Some(InputEventDecoder::EVENT_LEN),
        LossCause::EvdevDropped,
        dropped,
        |event, record| encode_input_event(event) == record,
        |e: &std::convert::Infallible, _| match *e {},
    );
    run.features(Features::default())
}

/// Packets: each read is one item, byte for byte; a packet over the limit (or cut to the room
/// offered, which is one byte more than the limit) is `FrameTooLarge`, and the stream goes on.
pub(crate) fn datagrams(data: &[u8]) -> Features {
    let mut reader = Reader::new(data);
    // Every read is offered `max + 1` bytes, reserved up front by design, so a limit is a
    // configuration's memory, not the input's: kept to the packet sizes devices have.
    let max = small_limit(&mut reader).clamp(1, 1 << 16);
    let (ops, data) = ops_and_data(reader);
    let mut script = Script::new(ops, data, Feed::Datagram);
    let framer = Framer::new(DatagramDecoder::new(max));
    let run = drive(framer, &mut script, |b| b.to_vec(), |e| match e {});
    let mut expected: Vec<Ev<Vec<u8>, std::convert::Infallible>> = Vec::new();
    for sent in &script.sent {
        match sent {
            Sent::Whole(range) if range.len() > max => expected.push(Ev::TooLarge {
                limit: max,
                len: range.len(),
            }),
            Sent::Whole(range) => expected.push(Ev::Item(script.data()[range.clone()].to_vec())),
            Sent::Cut(range) => {
                assert_eq!(range.len(), max + 1, "the room offered for a packet");
                expected.push(Ev::TooLarge {
                    limit: max,
                    len: max + 1,
                });
            }
            Sent::Errno(errno) => {
                expected.push(Ev::Io(*errno));
                break;
            }
            Sent::Refused => unreachable!("packets are cut, never refused"),
        }
    }
    assert_eq!(run.events, expected, "the stream is not the packets read");
    run.features(Features::default())
}
