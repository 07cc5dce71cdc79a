use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};

use proptest::prelude::*;

use super::*;
use crate::devices::testutil::{Out, drive, split_at};

const Q_OVERFLOW: u32 = 0x4000;

/// One event exactly as the kernel writes it: `len` is 0 without a name, else the name plus its
/// NUL rounded up to a multiple of 16 (`round_event_name_len`).
fn event_bytes(wd: i32, mask: u32, cookie: u32, name: &[u8]) -> Vec<u8> {
    let len = if name.is_empty() {
        0
    } else {
        (name.len() + 1).div_ceil(HEADER_LEN) * HEADER_LEN
    };
    let mut bytes = Vec::new();
    bytes.extend_from_slice(&wd.to_ne_bytes());
    bytes.extend_from_slice(&mask.to_ne_bytes());
    bytes.extend_from_slice(&cookie.to_ne_bytes());
    bytes.extend_from_slice(&(len as u32).to_ne_bytes());
    bytes.extend_from_slice(name);
    bytes.resize(HEADER_LEN + len, 0);
    bytes
}

fn item(wd: i32, mask: u32, cookie: u32, name: &[u8]) -> Out<InotifyEvent, InotifyError> {
    Out::Item(InotifyEvent {
        wd,
        mask: InotifyMask::from_bits(mask),
        cookie,
        name: (!name.is_empty()).then(|| Bytes::copy_from_slice(name)),
    })
}

fn overflow_loss() -> Out<InotifyEvent, InotifyError> {
    Out::Lost(Loss::unknown(LossCause::InotifyOverflow))
}

#[test]
#[cfg(target_endian = "little")]
fn overflow_between_two_events_is_delivered_between_them() {
    let long_name = [b'x'; 200];
    let mut raw = Vec::new();
    // wd 1, IN_CREATE, cookie 0, len 208: 200 name bytes, NUL, 7 more NULs of padding.
    raw.extend_from_slice(&[1, 0, 0, 0, 0x00, 0x01, 0, 0, 0, 0, 0, 0, 208, 0, 0, 0]);
    raw.extend_from_slice(&long_name);
    raw.extend_from_slice(&[0; 8]);
    // wd -1, IN_Q_OVERFLOW, cookie 0, len 0.
    raw.extend_from_slice(&[
        0xff, 0xff, 0xff, 0xff, 0x00, 0x40, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ]);
    // wd 2, IN_MOVED_TO | IN_ISDIR, cookie 0x1234, len 16: "dir" and 13 NULs.
    raw.extend_from_slice(&[2, 0, 0, 0, 0x80, 0, 0, 0x40, 0x34, 0x12, 0, 0, 16, 0, 0, 0]);
    raw.extend_from_slice(b"dir\0\0\0\0\0\0\0\0\0\0\0\0\0");
    assert_eq!(raw.len(), 16 + 208 + 16 + 16 + 16);

    let (out, rest) = drive(&mut InotifyDecoder::new(), &[&raw]);
    assert_eq!(
        out,
        vec![
            item(1, 0x100, 0, &long_name),
            overflow_loss(),
            item(2, 0x4000_0080, 0x1234, b"dir"),
        ]
    );
    assert!(rest.is_empty());
}

#[test]
fn overflow_as_the_last_event_reports_the_loss_without_an_item() {
    let mut raw = event_bytes(1, 0x2, 0, b"f");
    raw.extend(event_bytes(-1, Q_OVERFLOW, 0, b""));
    let mut decoder = InotifyDecoder::new();
    let mut buf = BytesMut::from(&raw[..]);
    assert_eq!(decoder.decode(&mut buf).unwrap().unwrap().wd, 1);
    assert_eq!(decoder.take_loss(), None);
    assert_eq!(decoder.decode(&mut buf).unwrap(), None);
    assert!(buf.is_empty(), "the overflow event is consumed");
    assert_eq!(
        decoder.take_loss(),
        Some(Loss::unknown(LossCause::InotifyOverflow))
    );
    assert_eq!(decoder.take_loss(), None, "a loss is reported once");
}

#[test]
fn name_padding_is_stripped() {
    let raw = event_bytes(3, 0x100, 0, b"abc");
    assert_eq!(raw.len(), 32);
    let event = InotifyDecoder::new()
        .decode(&mut BytesMut::from(&raw[..]))
        .unwrap()
        .unwrap();
    assert_eq!(event.name.as_deref(), Some(&b"abc"[..]));
}

#[test]
fn event_on_the_watched_object_itself_has_no_name() {
    let raw = event_bytes(4, 0x8000, 0, b"");
    assert_eq!(raw.len(), 16);
    let event = InotifyDecoder::new()
        .decode(&mut BytesMut::from(&raw[..]))
        .unwrap()
        .unwrap();
    assert_eq!(event.name, None);
    assert_eq!(event.to_path(), None);
    assert!(event.mask.contains(InotifyMask::IGNORED));
}

#[test]
fn name_field_of_only_nuls_is_no_name() {
    let mut raw = event_bytes(4, 0x100, 0, b"");
    raw[12..16].copy_from_slice(&16_u32.to_ne_bytes());
    raw.resize(32, 0);
    let event = InotifyDecoder::new()
        .decode(&mut BytesMut::from(&raw[..]))
        .unwrap()
        .unwrap();
    assert_eq!(event.name, None);
}

#[test]
fn name_without_terminating_nul_keeps_the_whole_field() {
    let mut raw = event_bytes(4, 0x100, 0, b"");
    raw[12..16].copy_from_slice(&16_u32.to_ne_bytes());
    raw.extend_from_slice(b"0123456789abcdef");
    let event = InotifyDecoder::new()
        .decode(&mut BytesMut::from(&raw[..]))
        .unwrap()
        .unwrap();
    assert_eq!(event.name.as_deref(), Some(&b"0123456789abcdef"[..]));
}

#[test]
fn partial_event_is_left_in_the_buffer() {
    let raw = event_bytes(5, 0x100, 0, b"partial");
    for cut in [0, 1, 15, 16, 31] {
        let mut buf = BytesMut::from(&raw[..cut]);
        assert_eq!(InotifyDecoder::new().decode(&mut buf).unwrap(), None);
        assert_eq!(buf.len(), cut, "cut at {cut}: nothing consumed");
    }
}

#[test]
fn absurd_name_length_skips_everything_buffered_and_the_next_read_decodes() {
    let mut raw = event_bytes(1, 0x100, 0, b"");
    raw[12..16].copy_from_slice(&4097_u32.to_ne_bytes());
    raw.extend_from_slice(&[0xaa; 40]);
    let mut decoder = InotifyDecoder::new();
    let mut buf = BytesMut::from(&raw[..]);
    let err = decoder.decode(&mut buf).unwrap_err();
    assert_eq!(
        err,
        InotifyError::NameTooLong {
            len: 4097,
            skipped: Bytes::from(raw.clone()),
        }
    );
    assert!(buf.is_empty());
    assert_eq!(
        err.to_string(),
        "inotify event claims a 4097-byte name (limit 4096), so the 56 bytes buffered with it were dropped"
    );

    buf.extend_from_slice(&event_bytes(2, 0x200, 0, b"next"));
    assert_eq!(decoder.decode(&mut buf).unwrap().unwrap().wd, 2);
}

#[test]
fn name_length_at_the_limit_waits_for_its_bytes() {
    let mut raw = event_bytes(1, 0x100, 0, b"");
    raw[12..16].copy_from_slice(&4096_u32.to_ne_bytes());
    let mut buf = BytesMut::from(&raw[..]);
    assert_eq!(InotifyDecoder::new().decode(&mut buf).unwrap(), None);
    assert_eq!(buf.len(), 16);
}

#[test]
fn read_limits_leave_room_for_the_largest_event() {
    let limits = InotifyDecoder::new().read_limits();
    assert_eq!(limits.min_read_capacity, 16 + 255 + 1);
    assert_eq!(limits.max_frame_len, 16 + 4096);
    assert!(!limits.one_record_per_read);
}

#[test]
fn mask_debug_names_known_bits_and_shows_unknown_ones_in_hex() {
    let mask = InotifyMask::from_bits(0x4000_0208 | 0x0100_0000);
    assert_eq!(
        format!("{mask:?}"),
        "InotifyMask(CLOSE_WRITE | DELETE | ISDIR | 0x1000000)"
    );
    assert_eq!(format!("{:?}", InotifyMask::default()), "InotifyMask(0x0)");
    assert!(InotifyMask::CLOSE_WRITE.intersects(InotifyMask::CLOSE));
    assert!(!InotifyMask::CLOSE_WRITE.contains(InotifyMask::CLOSE));
    assert!(InotifyMask::default().is_empty());
}

/// A record of a kernel-shaped inotify buffer.
#[derive(Clone, Debug)]
enum Record {
    Event {
        wd: i32,
        mask: u32,
        cookie: u32,
        name: Vec<u8>,
    },
    Overflow,
}

fn records() -> impl Strategy<Value = Vec<Record>> {
    let event = (
        any::<i32>(),
        any::<u32>(),
        any::<u32>(),
        proptest::collection::vec(1_u8..=255, 0..=NAME_MAX),
    )
        .prop_map(|(wd, mask, cookie, name)| Record::Event {
            wd,
            mask: mask & !Q_OVERFLOW,
            cookie,
            name,
        });
    let record = prop_oneof![6 => event, 1 => Just(Record::Overflow)];
    // The kernel queues at most one overflow event at a time.
    proptest::collection::vec(record, 0..6).prop_map(|mut records| {
        records.dedup_by(|a, b| matches!((a, b), (Record::Overflow, Record::Overflow)));
        records
    })
}

fn encode(records: &[Record]) -> (Vec<u8>, Vec<Out<InotifyEvent, InotifyError>>) {
    let mut raw = Vec::new();
    let mut expected = Vec::new();
    for record in records {
        match record {
            Record::Event {
                wd,
                mask,
                cookie,
                name,
            } => {
                raw.extend(event_bytes(*wd, *mask, *cookie, name));
                expected.push(item(*wd, *mask, *cookie, name));
            }
            Record::Overflow => {
                raw.extend(event_bytes(-1, Q_OVERFLOW, 0, b""));
                expected.push(overflow_loss());
            }
        }
    }
    (raw, expected)
}

proptest! {
    #[test]
    fn any_split_of_a_valid_buffer_gives_the_same_events(records in records()) {
        let (raw, expected) = encode(&records);
        for at in 0..=raw.len() {
            let (out, rest) = drive(&mut InotifyDecoder::new(), &split_at(&raw, at));
            prop_assert_eq!(&out, &expected, "split at {}", at);
            prop_assert!(rest.is_empty());
        }
    }

    #[test]
    fn random_bytes_never_panic(
        bytes in proptest::collection::vec(any::<u8>(), 0..1024),
        at in any::<prop::sample::Index>(),
    ) {
        let at = at.index(bytes.len() + 1);
        drive(&mut InotifyDecoder::new(), &split_at(&bytes, at));
    }

    #[test]
    fn corrupted_valid_buffers_never_panic(
        records in records(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8),
    ) {
        let (mut raw, _) = encode(&records);
        if !raw.is_empty() {
            for (at, byte) in flips {
                let at = at.index(raw.len());
                raw[at] = byte;
            }
        }
        let (_, rest) = drive(&mut InotifyDecoder::new(), &[&raw]);
        prop_assert!(rest.len() < HEADER_LEN + InotifyDecoder::MAX_NAME_FIELD_LEN);
    }
}

/// A fresh directory under the system temp dir, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(label: &str) -> Self {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("fdframe-{label}-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&path).expect("create temp dir");
        TempDir(path)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn watched_dir(
    label: &str,
    flags: rustix::fs::inotify::WatchFlags,
) -> (TempDir, rustix::fd::OwnedFd, i32) {
    use rustix::fs::inotify::{self, CreateFlags};
    let dir = TempDir::new(label);
    let fd = inotify::init(CreateFlags::CLOEXEC | CreateFlags::NONBLOCK).expect("inotify_init1");
    let wd = inotify::add_watch(&fd, &dir.0, flags).expect("inotify_add_watch");
    (dir, fd, wd)
}

#[test]
fn real_inotify_fd_reports_create_modify_delete_of_a_long_name() {
    use rustix::fs::inotify::WatchFlags;
    let (dir, fd, wd) = watched_dir(
        "events",
        WatchFlags::CREATE | WatchFlags::MODIFY | WatchFlags::DELETE,
    );
    let name = "n".repeat(200);
    let file = dir.0.join(&name);
    std::fs::write(&file, b"hello").expect("write file");
    std::fs::remove_file(&file).expect("remove file");

    let mut decoder = InotifyDecoder::new();
    let mut chunk = vec![0_u8; decoder.read_limits().min_read_capacity];
    let mut reads = Vec::new();
    loop {
        match rustix::io::read(&fd, &mut chunk[..]) {
            Ok(n) => reads.push(chunk[..n].to_vec()),
            Err(rustix::io::Errno::AGAIN) => break,
            Err(e) => panic!("read from inotify failed: {e}"),
        }
    }
    let reads: Vec<&[u8]> = reads.iter().map(Vec::as_slice).collect();
    let (out, rest) = drive(&mut decoder, &reads);
    assert_eq!(
        out,
        vec![
            item(wd, 0x100, 0, name.as_bytes()),
            item(wd, 0x2, 0, name.as_bytes()),
            item(wd, 0x200, 0, name.as_bytes()),
        ]
    );
    assert!(rest.is_empty());
    let Out::Item(first) = &out[0] else {
        unreachable!()
    };
    assert_eq!(first.to_path(), Some(Path::new(&name)));
}

#[test]
fn real_inotify_fd_refuses_a_read_smaller_than_the_next_event() {
    use rustix::fs::inotify::WatchFlags;
    let (dir, fd, wd) = watched_dir("einval", WatchFlags::CREATE);
    std::fs::write(dir.0.join("m".repeat(200)), b"").expect("create file");

    let mut small = [0_u8; HEADER_LEN];
    assert_eq!(
        rustix::io::read(&fd, &mut small[..]),
        Err(rustix::io::Errno::INVAL)
    );
    // inotify keeps the event queued after EINVAL; a read of min_read_capacity gets it.
    let mut decoder = InotifyDecoder::new();
    let mut chunk = vec![0_u8; decoder.read_limits().min_read_capacity];
    let n = rustix::io::read(&fd, &mut chunk[..]).expect("read");
    assert_eq!(n, 16 + 208);
    let event = decoder
        .decode(&mut BytesMut::from(&chunk[..n]))
        .unwrap()
        .unwrap();
    assert_eq!((event.wd, event.mask), (wd, InotifyMask::CREATE));
}
