//! inotify events: [`InotifyDecoder`] turns the bytes read from an inotify descriptor into
//! [`InotifyEvent`]s.
//!
//! Each event is a `struct inotify_event` (`include/uapi/linux/inotify.h`) followed by `len`
//! bytes of name, NUL-terminated and padded with NULs (the kernel rounds `len` up to a multiple
//! of 16, `round_event_name_len` in `fs/notify/inotify/inotify_user.c`); see inotify(7).

use std::ffi::OsStr;
use std::fmt;
use std::ops::BitOr;
use std::os::unix::ffi::OsStrExt;
use std::path::Path;

use bytes::{Bytes, BytesMut};

use super::fields::Fields;
use crate::{Decoder, Loss, LossCause, ReadLimits};

/// `sizeof(struct inotify_event)`: the fixed part before the name.
const HEADER_LEN: usize = 16;

/// `NAME_MAX` from `include/uapi/linux/limits.h`.
const NAME_MAX: usize = 255;

/// Decodes the events read from an inotify descriptor (`inotify_init1(2)`).
///
/// # Layout
///
/// Native-endian, as `struct inotify_event` in `include/uapi/linux/inotify.h`:
///
/// ```text
///  0        4        8        12       16                          16 + len
///  +--------+--------+--------+--------+----------------------------+
///  |   wd   |  mask  | cookie |  len   | name \0 \0 \0 (padding)    |
///  +--------+--------+--------+--------+----------------------------+
///    __s32    __u32    __u32    __u32    len is 0 or a multiple of 16
/// ```
///
/// # Reads
///
/// A read returns one or more whole events and fails with `EINVAL` when the buffer cannot hold
/// the next one, so [`read_limits`](Decoder::read_limits) asks for
/// `sizeof(struct inotify_event) + NAME_MAX + 1` = 272 bytes before every read, the size
/// inotify(7) names as enough for at least one event. Events never straddle reads; the decoder
/// still returns `Ok(None)` for a partial event, so the engine reports it as truncated at EOF.
///
/// # Overflow
///
/// When its queue is full the kernel appends one `IN_Q_OVERFLOW` event (wd −1, no name). That is
/// not an item: the decoder consumes it, keeps decoding the next event in the same call, and
/// reports [`Loss::unknown`]`(`[`LossCause::InotifyOverflow`]`)` from
/// [`take_loss`](Decoder::take_loss). The engine asks for the loss after that call and delivers it
/// *before* the item the call returned, so the reader sees events, the loss, then the events
/// after the gap, in queue order. After an overflow the reader's picture of the watched tree is
/// stale: rescan it.
///
/// # Malformed input
///
/// A `len` above [`MAX_NAME_FIELD_LEN`](Self::MAX_NAME_FIELD_LEN) cannot come from the kernel
/// (which never exceeds 256). The decoder cannot find the next event inside such a buffer, so it
/// consumes **everything buffered** and returns [`InotifyError::NameTooLong`] with those bytes.
/// Because every read starts on an event boundary, decoding resynchronises at the next read.
///
/// # Example
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::devices::{InotifyDecoder, InotifyMask};
///
/// let mut raw = Vec::new();
/// raw.extend_from_slice(&1_i32.to_ne_bytes()); // wd
/// raw.extend_from_slice(&InotifyMask::CREATE.bits().to_ne_bytes());
/// raw.extend_from_slice(&0_u32.to_ne_bytes()); // cookie
/// raw.extend_from_slice(&16_u32.to_ne_bytes()); // len: "notes.txt\0" padded to 16
/// raw.extend_from_slice(b"notes.txt\0\0\0\0\0\0\0");
///
/// let mut decoder = InotifyDecoder::new();
/// assert_eq!(decoder.read_limits().min_read_capacity, 272);
/// let mut buf = BytesMut::from(&raw[..]);
/// let event = decoder.decode(&mut buf).unwrap().unwrap();
/// assert_eq!(event.wd, 1);
/// assert!(event.mask.contains(InotifyMask::CREATE));
/// assert_eq!(event.name.as_deref(), Some(&b"notes.txt"[..]));
/// assert_eq!(event.to_path(), Some(std::path::Path::new("notes.txt")));
/// assert!(buf.is_empty());
/// ```
#[derive(Clone, Debug, Default)]
pub struct InotifyDecoder {
    /// An `IN_Q_OVERFLOW` event was consumed and not yet reported.
    overflowed: bool,
}

impl InotifyDecoder {
    /// The largest `len` (name bytes, padding included) accepted before the buffer is declared
    /// corrupt: `PATH_MAX`, far above the kernel's 256, so a future kernel with longer names is
    /// not rejected while a garbage `len` cannot make the decoder wait for gigabytes.
    pub const MAX_NAME_FIELD_LEN: usize = 4096;

    /// A decoder for inotify events.
    pub fn new() -> Self {
        Self::default()
    }
}

impl Decoder for InotifyDecoder {
    type Item = InotifyEvent;
    type Error = InotifyError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<InotifyEvent>, InotifyError> {
        // Overflow events are consumed here and the loop goes on, so that the item this call
        // returns is the one the loss must precede.
        loop {
            let Some(header) = src.get(..HEADER_LEN) else {
                return Ok(None);
            };
            let mut fields = Fields::new(header);
            let wd = fields.i32();
            let mask = InotifyMask::from_bits(fields.u32());
            let cookie = fields.u32();
            let len = fields.u32();
            // u32 -> usize is lossless on every target Linux runs on (32- and 64-bit).
            let name_field_len = len as usize;
            if name_field_len > Self::MAX_NAME_FIELD_LEN {
                let skipped = src.split().freeze();
                return Err(InotifyError::NameTooLong { len, skipped });
            }
            let total = HEADER_LEN + name_field_len;
            if src.len() < total {
                return Ok(None);
            }
            let event = src.split_to(total).freeze();
            if mask.contains(InotifyMask::Q_OVERFLOW) {
                self.overflowed = true;
                continue;
            }
            let name_field = event.slice(HEADER_LEN..);
            let name_len = memchr::memchr(0, &name_field).unwrap_or(name_field.len());
            let name = (name_len > 0).then(|| name_field.slice(..name_len));
            return Ok(Some(InotifyEvent {
                wd,
                mask,
                cookie,
                name,
            }));
        }
    }

    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream()
            .min_read_capacity(HEADER_LEN + NAME_MAX + 1)
            .max_frame_len(HEADER_LEN + Self::MAX_NAME_FIELD_LEN)
    }

    fn take_loss(&mut self) -> Option<Loss> {
        std::mem::take(&mut self.overflowed).then(|| Loss::unknown(LossCause::InotifyOverflow))
    }
}

/// One inotify event: what happened (`mask`) to which watch (`wd`), and to which entry of a
/// watched directory (`name`).
///
/// ```
/// use bytes::Bytes;
/// use fdframe::devices::{InotifyEvent, InotifyMask};
///
/// let event = InotifyEvent {
///     wd: 1,
///     mask: InotifyMask::MOVED_FROM | InotifyMask::ISDIR,
///     cookie: 7,
///     name: Some(Bytes::from_static(b"old")),
/// };
/// assert!(event.mask.contains(InotifyMask::ISDIR));
/// assert_eq!(event.to_path(), Some(std::path::Path::new("old")));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InotifyEvent {
    /// The watch descriptor `inotify_add_watch(2)` returned for the watch this event is about.
    pub wd: i32,
    /// What happened; see [`InotifyMask`].
    pub mask: InotifyMask,
    /// Pairs an `IN_MOVED_FROM` with its `IN_MOVED_TO`; 0 for other events.
    pub cookie: u32,
    /// The name of the entry inside a watched directory, without its NUL padding; `None` for
    /// events about the watched object itself. A zero-copy slice of the read buffer.
    pub name: Option<Bytes>,
}

impl InotifyEvent {
    /// The name as a relative path, to join onto the watched directory's path.
    pub fn to_path(&self) -> Option<&Path> {
        self.name
            .as_deref()
            .map(|name| Path::new(OsStr::from_bytes(name)))
    }
}

/// The `mask` of an [`InotifyEvent`]: a set of the `IN_*` bits from `include/uapi/linux/inotify.h`.
///
/// Unknown bits are kept, so a newer kernel's flags survive a round trip through
/// [`bits`](Self::bits).
///
/// ```
/// use fdframe::devices::InotifyMask;
///
/// let mask = InotifyMask::from_bits(0x4000_0100);
/// assert_eq!(mask, InotifyMask::CREATE | InotifyMask::ISDIR);
/// assert!(mask.contains(InotifyMask::CREATE));
/// assert!(!mask.contains(InotifyMask::CLOSE));
/// assert_eq!(format!("{mask:?}"), "InotifyMask(CREATE | ISDIR)");
/// ```
#[derive(Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct InotifyMask(u32);

impl InotifyMask {
    /// `IN_ACCESS`: the file was read.
    pub const ACCESS: Self = Self(0x0000_0001);
    /// `IN_MODIFY`: the file was written.
    pub const MODIFY: Self = Self(0x0000_0002);
    /// `IN_ATTRIB`: metadata (permissions, timestamps, links, ...) changed.
    pub const ATTRIB: Self = Self(0x0000_0004);
    /// `IN_CLOSE_WRITE`: a file opened for writing was closed.
    pub const CLOSE_WRITE: Self = Self(0x0000_0008);
    /// `IN_CLOSE_NOWRITE`: a file not opened for writing was closed.
    pub const CLOSE_NOWRITE: Self = Self(0x0000_0010);
    /// `IN_OPEN`: the file was opened.
    pub const OPEN: Self = Self(0x0000_0020);
    /// `IN_MOVED_FROM`: an entry was moved out of the watched directory.
    pub const MOVED_FROM: Self = Self(0x0000_0040);
    /// `IN_MOVED_TO`: an entry was moved into the watched directory.
    pub const MOVED_TO: Self = Self(0x0000_0080);
    /// `IN_CREATE`: an entry was created in the watched directory.
    pub const CREATE: Self = Self(0x0000_0100);
    /// `IN_DELETE`: an entry was deleted from the watched directory.
    pub const DELETE: Self = Self(0x0000_0200);
    /// `IN_DELETE_SELF`: the watched object itself was deleted.
    pub const DELETE_SELF: Self = Self(0x0000_0400);
    /// `IN_MOVE_SELF`: the watched object itself was moved.
    pub const MOVE_SELF: Self = Self(0x0000_0800);
    /// `IN_UNMOUNT`: the filesystem holding the watched object was unmounted.
    pub const UNMOUNT: Self = Self(0x0000_2000);
    /// `IN_Q_OVERFLOW`: the event queue overflowed. [`InotifyDecoder`] turns it into a loss
    /// notice, so items never carry it.
    pub const Q_OVERFLOW: Self = Self(0x0000_4000);
    /// `IN_IGNORED`: the watch was removed (explicitly, or because its object went away).
    pub const IGNORED: Self = Self(0x0000_8000);
    /// `IN_ISDIR`: the subject of the event is a directory.
    pub const ISDIR: Self = Self(0x4000_0000);
    /// `IN_CLOSE`: either close event.
    pub const CLOSE: Self = Self(Self::CLOSE_WRITE.0 | Self::CLOSE_NOWRITE.0);
    /// `IN_MOVE`: either move event.
    pub const MOVE: Self = Self(Self::MOVED_FROM.0 | Self::MOVED_TO.0);

    const NAMES: [(Self, &'static str); 16] = [
        (Self::ACCESS, "ACCESS"),
        (Self::MODIFY, "MODIFY"),
        (Self::ATTRIB, "ATTRIB"),
        (Self::CLOSE_WRITE, "CLOSE_WRITE"),
        (Self::CLOSE_NOWRITE, "CLOSE_NOWRITE"),
        (Self::OPEN, "OPEN"),
        (Self::MOVED_FROM, "MOVED_FROM"),
        (Self::MOVED_TO, "MOVED_TO"),
        (Self::CREATE, "CREATE"),
        (Self::DELETE, "DELETE"),
        (Self::DELETE_SELF, "DELETE_SELF"),
        (Self::MOVE_SELF, "MOVE_SELF"),
        (Self::UNMOUNT, "UNMOUNT"),
        (Self::Q_OVERFLOW, "Q_OVERFLOW"),
        (Self::IGNORED, "IGNORED"),
        (Self::ISDIR, "ISDIR"),
    ];

    /// The mask with exactly these bits, known or not.
    pub const fn from_bits(bits: u32) -> Self {
        Self(bits)
    }

    /// The raw bits.
    pub const fn bits(self) -> u32 {
        self.0
    }

    /// Whether every bit of `other` is set (`CLOSE` needs both close bits; see
    /// [`intersects`](Self::intersects) for "any of").
    pub const fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    /// Whether any bit of `other` is set.
    pub const fn intersects(self, other: Self) -> bool {
        self.0 & other.0 != 0
    }

    /// Whether no bit is set.
    pub const fn is_empty(self) -> bool {
        self.0 == 0
    }
}

impl BitOr for InotifyMask {
    type Output = Self;

    fn bitor(self, rhs: Self) -> Self {
        Self(self.0 | rhs.0)
    }
}

impl InotifyMask {
    /// The names of the known bits set, as the kernel's `IN_*` constants without the prefix,
    /// in bit order.
    ///
    /// ```
    /// use fdframe::devices::InotifyMask;
    ///
    /// let mask = InotifyMask::CREATE | InotifyMask::ISDIR;
    /// assert_eq!(mask.names().collect::<Vec<_>>(), ["CREATE", "ISDIR"]);
    /// ```
    pub fn names(self) -> impl Iterator<Item = &'static str> {
        Self::NAMES
            .into_iter()
            .filter(move |(flag, _)| self.contains(*flag))
            .map(|(_, name)| name)
    }

    /// The bits set that have no name in [`names`](InotifyMask::names) (0 when all are known).
    pub fn unknown_bits(self) -> u32 {
        Self::NAMES
            .iter()
            .fold(self.0, |rest, (flag, _)| rest & !flag.0)
    }
}

impl fmt::Debug for InotifyMask {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("InotifyMask(")?;
        let mut parts = 0;
        for name in self.names() {
            if parts > 0 {
                f.write_str(" | ")?;
            }
            f.write_str(name)?;
            parts += 1;
        }
        let rest = self.unknown_bits();
        if rest != 0 || parts == 0 {
            if parts > 0 {
                f.write_str(" | ")?;
            }
            write!(f, "{rest:#x}")?;
        }
        f.write_str(")")
    }
}

/// A malformed inotify buffer; the decoder has skipped it and the stream goes on.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InotifyError {
    /// An event's `len` exceeded [`InotifyDecoder::MAX_NAME_FIELD_LEN`]. With no way to find the
    /// next event, everything buffered was skipped.
    NameTooLong {
        /// The `len` field as read.
        len: u32,
        /// The skipped bytes, starting with the bad event's header.
        skipped: Bytes,
    },
}

impl fmt::Display for InotifyError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            InotifyError::NameTooLong { len, skipped } => write!(
                f,
                "inotify event claims a {len}-byte name (limit {}), so the {} buffered with it were dropped",
                InotifyDecoder::MAX_NAME_FIELD_LEN,
                crate::error::ByteCount(skipped.len())
            ),
        }
    }
}

impl std::error::Error for InotifyError {}

#[cfg(test)]
mod tests;
