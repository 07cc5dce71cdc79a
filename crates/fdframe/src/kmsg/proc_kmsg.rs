use std::time::Duration;

use bytes::{Buf, Bytes, BytesMut};
use memchr::memchr;

use super::parse::decimal_u64;
use super::{Caller, Facility, Level, ProcKmsgError, ProcKmsgErrorKind};
use crate::{Decoder, ReadLimits};

/// One line of the kernel log in the syslog format of `/proc/kmsg`, `syslog(2)` and
/// `dmesg --raw`.
///
/// ```text
///  <6>[    1.234567] text\n         priority 6: kern.info, timestamp 1.234567 s, message "text"
///  <30>[   12.000001][  T412] x\n   priority 30: daemon.info, caller T412 (CONFIG_PRINTK_CALLER)
///  <4>no time here\n                printk.time=0: no timestamp, message "no time here"
/// ```
///
/// Unlike `/dev/kmsg` this format has no sequence numbers (losses cannot be counted), no
/// dictionary, and no escaping: the message is the kernel's bytes, and a message of several lines
/// arrives as several lines, each with its own prefix.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct ProcKmsgLine {
    /// Where the line comes from (the `<N>` priority's bits above the level).
    pub facility: Facility,
    /// How severe the line is (the `<N>` priority's low three bits).
    pub level: Level,
    /// The `[seconds.micros]` time since boot; `None` when the kernel prints no time
    /// (`printk.time=0`).
    pub timestamp: Option<Duration>,
    /// The `[  T123]` caller bracket of kernels built with `CONFIG_PRINTK_CALLER`.
    pub caller: Option<Caller>,
    /// The message, without prefix and without the `\n`.
    pub message: Bytes,
}

/// Decodes the newline-delimited syslog format of `/proc/kmsg` (and `syslog(2)`, `dmesg -r`)
/// into [`ProcKmsgLine`]s.
///
/// A byte stream: a read may hold part of a line or many lines. A line without a `<N>` priority
/// is a [`ProcKmsgError`], consumed, and decoding goes on. A line longer than the limit
/// ([`DEFAULT_MAX_LINE_LEN`](Self::DEFAULT_MAX_LINE_LEN) unless set) is reported once as
/// [`ProcKmsgErrorKind::LineTooLong`] and skipped up to its `\n`, so memory stays bounded. At end
/// of input a last line without `\n` is still decoded.
///
/// A bracket right after the priority is taken as the timestamp only in the kernel's exact shape
/// (`[`, optional spaces, digits, `.`, six digits, `]`) and as the caller only padded to six
/// characters as the kernel pads it, so a message that itself starts with `[drm]` stays whole.
///
/// ```
/// use std::time::Duration;
///
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::kmsg::{Facility, Level, ProcKmsgDecoder};
///
/// let mut decoder = ProcKmsgDecoder::new();
/// let mut buf = BytesMut::from(&b"<6>[    1.234567] Linux version\n<30>[    2.000001] udevd[80]: starting\n<4>[drm] no t"[..]);
///
/// let line = decoder.decode(&mut buf).unwrap().unwrap();
/// assert_eq!((line.facility, line.level), (Facility::KERN, Level::Info));
/// assert_eq!(line.timestamp, Some(Duration::from_micros(1_234_567)));
/// assert_eq!(line.message, "Linux version");
///
/// let line = decoder.decode(&mut buf).unwrap().unwrap();
/// assert_eq!(line.facility, Facility::DAEMON);
///
/// assert!(decoder.decode(&mut buf).unwrap().is_none()); // the last line is not complete
/// let line = decoder.decode_eof(&mut buf).unwrap().unwrap();
/// assert_eq!((line.level, line.timestamp), (Level::Warn, None));
/// assert_eq!(line.message, "[drm] no t");
/// ```
#[derive(Clone, Debug)]
pub struct ProcKmsgDecoder {
    max_line_len: usize,
    /// How far the buffer has been searched for `\n` already.
    searched: usize,
    /// Skipping the rest of a line that was too long.
    discarding: bool,
}

impl ProcKmsgDecoder {
    /// The default longest line, without its `\n`: 8 KiB, four times the kernel's longest.
    pub const DEFAULT_MAX_LINE_LEN: usize = 8192;

    /// A decoder with the default line limit.
    pub fn new() -> Self {
        Self::with_max_line_len(Self::DEFAULT_MAX_LINE_LEN)
    }

    /// A decoder that rejects lines longer than `max_line_len` bytes (at least 1), not counting
    /// the `\n`.
    pub fn with_max_line_len(max_line_len: usize) -> Self {
        ProcKmsgDecoder {
            max_line_len: max_line_len.max(1),
            searched: 0,
            discarding: false,
        }
    }

    /// The longest line this decoder accepts, without its `\n`.
    pub fn max_line_len(&self) -> usize {
        self.max_line_len
    }
}

impl Default for ProcKmsgDecoder {
    fn default() -> Self {
        Self::new()
    }
}

impl Decoder for ProcKmsgDecoder {
    type Item = ProcKmsgLine;
    type Error = ProcKmsgError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<ProcKmsgLine>, ProcKmsgError> {
        loop {
            let from = self.searched.min(src.len());
            let Some(newline) =
                memchr(b'\n', src.get(from..).unwrap_or_default()).map(|i| from + i)
            else {
                if self.discarding {
                    // Still inside the overlong line: drop what came, wait for its end.
                    src.clear();
                    self.searched = 0;
                    return Ok(None);
                }
                if src.len() > self.max_line_len {
                    self.discarding = true;
                    self.searched = 0;
                    let partial = src.split().freeze();
                    return Err(too_long(self.max_line_len, partial));
                }
                self.searched = src.len();
                return Ok(None);
            };
            self.searched = 0;
            if self.discarding {
                self.discarding = false;
                src.advance(newline + 1);
                continue;
            }
            let line = src.split_to(newline + 1).freeze();
            if newline > self.max_line_len {
                return Err(too_long(self.max_line_len, line));
            }
            return parse_line(line, newline).map(Some);
        }
    }

    fn decode_eof(&mut self, src: &mut BytesMut) -> Result<Option<ProcKmsgLine>, ProcKmsgError> {
        if let Some(line) = self.decode(src)? {
            return Ok(Some(line));
        }
        self.searched = 0;
        if self.discarding {
            self.discarding = false;
            src.clear();
            return Ok(None);
        }
        if src.is_empty() {
            return Ok(None);
        }
        // `decode` left a line without `\n` that is within the limit.
        let line = src.split().freeze();
        let len = line.len();
        parse_line(line, len).map(Some)
    }

    fn read_limits(&self) -> ReadLimits {
        // The longest frame is a full line plus its `\n`; longer ones this decoder reports and
        // skips itself, so the engine's limit is never the one that trips.
        ReadLimits::stream().max_frame_len(self.max_line_len.saturating_add(1))
    }
}

fn too_long(limit: usize, bytes: Bytes) -> ProcKmsgError {
    ProcKmsgError::new(ProcKmsgErrorKind::LineTooLong { limit }, bytes)
}

/// Parses `line[..end]` (the line without its `\n`).
fn parse_line(line: Bytes, end: usize) -> Result<ProcKmsgLine, ProcKmsgError> {
    let text = line.get(..end).unwrap_or_default();
    let Some(after_lt) = text.strip_prefix(b"<") else {
        return Err(ProcKmsgError::new(ProcKmsgErrorKind::MissingPriority, line));
    };
    let close = memchr(b'>', after_lt);
    let priority = close
        .and_then(|close| decimal_u64(after_lt.get(..close)?))
        .and_then(|p| u32::try_from(p).ok());
    let (Some(close), Some(priority)) = (close, priority) else {
        return Err(ProcKmsgError::new(ProcKmsgErrorKind::BadPriority, line));
    };
    // Past `<`, the digits and `>`.
    let mut pos = close + 2;

    let timestamp = bracket(text, pos).and_then(|(inner, next)| {
        let ts = parse_timestamp(inner)?;
        pos = next;
        Some(ts)
    });
    let caller = bracket(text, pos).and_then(|(inner, next)| {
        let caller = parse_caller(inner)?;
        pos = next;
        Some(caller)
    });
    if (timestamp.is_some() || caller.is_some()) && text.get(pos) == Some(&b' ') {
        pos += 1;
    }
    Ok(ProcKmsgLine {
        facility: Facility::from_priority(priority),
        level: Level::from_priority(priority),
        timestamp,
        caller,
        message: line.slice(pos.min(end)..end),
    })
}

/// The contents of a `[...]` starting at `pos`, and the position after its `]`.
fn bracket(text: &[u8], pos: usize) -> Option<(&[u8], usize)> {
    let rest = text.get(pos..)?.strip_prefix(b"[")?;
    let close = memchr(b']', rest)?;
    Some((rest.get(..close)?, pos + 1 + close + 1))
}

/// `%5lu.%06lu`: optional leading spaces, seconds, `.`, exactly six digits of microseconds.
fn parse_timestamp(inner: &[u8]) -> Option<Duration> {
    let trimmed = inner.trim_ascii_start();
    let dot = memchr(b'.', trimmed)?;
    let secs = decimal_u64(trimmed.get(..dot)?)?;
    let micros = trimmed.get(dot + 1..)?;
    if micros.len() != 6 {
        return None;
    }
    let micros = decimal_u64(micros)?;
    // `micros` < 1_000_000, so the nanoseconds stay below one second.
    Some(Duration::new(secs, (micros as u32) * 1000))
}

/// `[%6s]` of `T123`/`C1`: padded to at least six characters by the kernel.
fn parse_caller(inner: &[u8]) -> Option<Caller> {
    if inner.len() < 6 {
        return None;
    }
    Caller::parse(inner.trim_ascii_start())
}
