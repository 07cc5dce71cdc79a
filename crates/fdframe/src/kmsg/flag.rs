use bytes::Bytes;

/// The `FLAG` field of a `/dev/kmsg` record: whether the record is a fragment of a line.
///
/// Current kernels write `-`, or `c` for a fragment they could not join to the line it
/// continues (printed with `KERN_CONT`, so the line is split over records). Kernels 3.5 to
/// 4.x also wrote `c` for the first fragment of such a line and `+` for each fragment after it.
/// The kernel's own documentation calls these hints "not necessarily correct": a reader that
/// joins fragments gets a more readable log, but other records may come between them.
///
/// Any other value is kept in [`KmsgFlag::Other`] rather than rejected, as the format asks of
/// readers for the fields it may grow.
///
/// ```
/// use bytes::Bytes;
/// use fdframe::kmsg::{KmsgFlag, KmsgRecord};
///
/// let record = KmsgRecord::parse(Bytes::from_static(b"4,7,100,c;fragment\n")).unwrap();
/// assert_eq!(record.flag(), &KmsgFlag::Fragment);
/// assert!(record.flag().is_fragment());
/// assert_eq!(KmsgFlag::from_field(b"-"), KmsgFlag::None);
/// assert_eq!(KmsgFlag::from_field(b"+"), KmsgFlag::Continuation);
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum KmsgFlag {
    /// `-`: a record of its own.
    None,
    /// `c`: a fragment of a line (the line's first fragment, on kernels before 4.9).
    Fragment,
    /// `+`: continues the fragment before it (kernels before 4.9 only).
    Continuation,
    /// A value this crate does not know, kept as written.
    Other(Bytes),
}

impl KmsgFlag {
    /// The flag a field's bytes stand for.
    pub fn from_field(field: &[u8]) -> KmsgFlag {
        match field {
            b"-" => KmsgFlag::None,
            b"c" => KmsgFlag::Fragment,
            b"+" => KmsgFlag::Continuation,
            other => KmsgFlag::Other(Bytes::copy_from_slice(other)),
        }
    }

    /// The flag for a field the kernel writes, without allocating; `None` for other values.
    pub(super) fn known(field: &[u8]) -> Option<&'static KmsgFlag> {
        static NONE: KmsgFlag = KmsgFlag::None;
        static FRAGMENT: KmsgFlag = KmsgFlag::Fragment;
        static CONTINUATION: KmsgFlag = KmsgFlag::Continuation;
        match field {
            b"-" => Some(&NONE),
            b"c" => Some(&FRAGMENT),
            b"+" => Some(&CONTINUATION),
            _ => None,
        }
    }

    /// Returns `true` for `c` and `+`: the record is part of a line split over records.
    pub fn is_fragment(&self) -> bool {
        matches!(self, KmsgFlag::Fragment | KmsgFlag::Continuation)
    }

    /// The flag as the kernel writes it.
    pub fn as_bytes(&self) -> &[u8] {
        match self {
            KmsgFlag::None => b"-",
            KmsgFlag::Fragment => b"c",
            KmsgFlag::Continuation => b"+",
            KmsgFlag::Other(bytes) => bytes,
        }
    }
}
