use std::fmt;

use bytes::Bytes;

/// A `/dev/kmsg` record that could not be parsed; it has been consumed and the stream goes on.
///
/// It keeps the whole raw record ([`raw`](KmsgError::raw)) and, when its sequence number could
/// still be read, that number ([`seq`](KmsgError::seq)): the
/// [`KmsgDecoder`](super::KmsgDecoder) counts it as seen, so a malformed record is reported
/// once, as this error, and never a second time as a lost record.
///
/// ```
/// use bytes::Bytes;
/// use fdframe::kmsg::{KmsgErrorKind, KmsgField, KmsgRecord};
///
/// let err = KmsgRecord::parse(Bytes::from_static(b"6,12,x,-;hello\n")).unwrap_err();
/// assert_eq!(err.kind(), KmsgErrorKind::BadNumber(KmsgField::Timestamp));
/// assert_eq!(err.seq(), Some(12));
/// assert_eq!(err.raw(), &b"6,12,x,-;hello\n"[..]);
/// assert_eq!(err.to_string(), "malformed /dev/kmsg record: timestamp is not a decimal number that fits in 64 bits (record: \"6,12,x,-;hello\\n\")");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KmsgError {
    kind: KmsgErrorKind,
    raw: Bytes,
    seq: Option<u64>,
}

impl KmsgError {
    pub(super) fn new(kind: KmsgErrorKind, raw: Bytes, seq: Option<u64>) -> Self {
        KmsgError { kind, raw, seq }
    }

    /// What is wrong with the record.
    pub fn kind(&self) -> KmsgErrorKind {
        self.kind
    }

    /// The record's bytes, exactly as read.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }

    /// The record's sequence number, if that field could be read.
    pub fn seq(&self) -> Option<u64> {
        self.seq
    }
}

impl fmt::Display for KmsgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Cap the quoted record: the point is to recognise it, not to print 8 KiB.
        const SHOWN: usize = 120;
        let shown = self.raw.get(..SHOWN).unwrap_or(&self.raw);
        write!(
            f,
            "malformed /dev/kmsg record: {} (record: \"{}\"{})",
            self.kind,
            shown.escape_ascii(),
            if shown.len() < self.raw.len() {
                "..."
            } else {
                ""
            }
        )
    }
}

impl std::error::Error for KmsgError {}

/// What is wrong with a malformed `/dev/kmsg` record; part of a [`KmsgError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsgErrorKind {
    /// The first line has no `;` between the prefix fields and the message.
    MissingSemicolon,
    /// The prefix ends before this field (it needs `PRIO,SEQ,TS_USEC,FLAG`).
    MissingField(KmsgField),
    /// This prefix field is not a decimal number, or too large for its type (`u32` for the
    /// priority, `u64` for the others).
    BadNumber(KmsgField),
    /// A line after the message does not start with a space, so it is no dictionary line; most
    /// often two records were handed over as one.
    UnexpectedLine,
}

impl fmt::Display for KmsgErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KmsgErrorKind::MissingSemicolon => f.write_str("no ';' ends the prefix"),
            KmsgErrorKind::MissingField(field) => write!(f, "the prefix has no {field} field"),
            KmsgErrorKind::BadNumber(field) => {
                let bits = if *field == KmsgField::Priority {
                    32
                } else {
                    64
                };
                write!(
                    f,
                    "{field} is not a decimal number that fits in {bits} bits"
                )
            }
            KmsgErrorKind::UnexpectedLine => {
                f.write_str("a line after the message does not start with a space")
            }
        }
    }
}

/// A field of the `/dev/kmsg` record prefix, named in a [`KmsgErrorKind`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KmsgField {
    /// `PRIO`: `facility * 8 + level`.
    Priority,
    /// `SEQ`: the 64-bit sequence number.
    Sequence,
    /// `TS_USEC`: the monotonic timestamp in microseconds.
    Timestamp,
    /// `FLAG`: `-`, `c` or `+`.
    Flags,
}

impl fmt::Display for KmsgField {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            KmsgField::Priority => "priority",
            KmsgField::Sequence => "sequence number",
            KmsgField::Timestamp => "timestamp",
            KmsgField::Flags => "flags",
        })
    }
}

/// A `/proc/kmsg` line that could not be decoded; it has been consumed and the stream goes on.
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::Decoder;
/// use fdframe::kmsg::{ProcKmsgDecoder, ProcKmsgErrorKind};
///
/// let mut decoder = ProcKmsgDecoder::new();
/// let mut buf = BytesMut::from(&b"no priority here\n<6>fine\n"[..]);
/// let err = decoder.decode(&mut buf).unwrap_err();
/// assert_eq!(err.kind(), ProcKmsgErrorKind::MissingPriority);
/// assert_eq!(err.line(), &b"no priority here\n"[..]);
/// assert_eq!(decoder.decode(&mut buf).unwrap().unwrap().message, "fine");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProcKmsgError {
    kind: ProcKmsgErrorKind,
    line: Bytes,
}

impl ProcKmsgError {
    pub(super) fn new(kind: ProcKmsgErrorKind, line: Bytes) -> Self {
        ProcKmsgError { kind, line }
    }

    /// What is wrong with the line.
    pub fn kind(&self) -> ProcKmsgErrorKind {
        self.kind
    }

    /// The line's bytes as read (for [`LineTooLong`](ProcKmsgErrorKind::LineTooLong), the part
    /// that was buffered when the limit was crossed).
    pub fn line(&self) -> &Bytes {
        &self.line
    }
}

impl fmt::Display for ProcKmsgError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const SHOWN: usize = 120;
        let shown = self.line.get(..SHOWN).unwrap_or(&self.line);
        write!(
            f,
            "malformed /proc/kmsg line: {} (line: \"{}\"{})",
            self.kind,
            shown.escape_ascii(),
            if shown.len() < self.line.len() {
                "..."
            } else {
                ""
            }
        )
    }
}

impl std::error::Error for ProcKmsgError {}

/// What is wrong with a `/proc/kmsg` line; part of a [`ProcKmsgError`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ProcKmsgErrorKind {
    /// The line does not start with a `<N>` priority.
    MissingPriority,
    /// The `<N>` priority is not a decimal number that fits in 32 bits.
    BadPriority,
    /// The line is longer than the decoder's limit; the rest of it up to the next `\n` is
    /// skipped.
    LineTooLong {
        /// The decoder's maximum line length, in bytes (without the `\n`).
        limit: usize,
    },
}

impl fmt::Display for ProcKmsgErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ProcKmsgErrorKind::MissingPriority => f.write_str("no <N> priority at its start"),
            ProcKmsgErrorKind::BadPriority => {
                f.write_str("the <N> priority is not a decimal number that fits in 32 bits")
            }
            ProcKmsgErrorKind::LineTooLong { limit } => {
                write!(f, "longer than {}", crate::error::ByteCount(*limit))
            }
        }
    }
}
