use std::borrow::Cow;
use std::fmt;
use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;

use super::parse::{self, Layout};
use super::{Caller, Dictionary, Facility, KmsgError, KmsgFlag, Level};

/// One record of the kernel log as `/dev/kmsg` returns it: the prefix fields, the unescaped
/// message, its dictionary, and the raw bytes it came from.
///
/// # From bytes to record
///
/// One `read(2)` returns one record: a first line `PRIO,SEQ,TS_USEC,FLAG[,FIELD...];MESSAGE\n`,
/// then zero or more dictionary lines ` KEY=VALUE\n`. The kernel's own example
/// (`Documentation/ABI/testing/dev-kmsg`):
///
/// ```text
///  7,160,424069,-;pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n
///  │ │   │      │ └─ message: up to the first \n ──────────────┐
///  │ │   │      └─ FLAG `-`                                   │
///  │ │   └─ TS_USEC 424069: CLOCK_MONOTONIC, microseconds     │
///  │ └─ SEQ 160: 64 bits, +1 per record                       │
///  └─ PRIO 7 = facility 0 * 8 + level 7                       │
///   SUBSYSTEM=acpi\n          ─┐ dictionary: lines that       │
///   DEVICE=+acpi:PNP0A03:00\n ─┘ start with a space           │
///                                                             │
///  becomes                                                    │
///                                                             ▼
///  KmsgRecord { facility: kern, level: debug, seq: 160, timestamp_us: 424069, flag: None,
///               message: "pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)",
///               dictionary: [SUBSYSTEM=acpi, DEVICE=+acpi:PNP0A03:00], raw: <all of the above> }
/// ```
///
/// The awkward inputs, each one line of raw record and what it becomes:
///
/// ```text
///  ① escapes   6,1,10,-;tab\x09back\x5cslash\x7f caf\xc3\xa9\n
///              message = b"tab\tback\\slash\x7f caf\xc3\xa9"   (message_str: "tab\tback\\slash\u{7f} café")
///              The kernel escapes bytes < 0x20, >= 0x7f and `\` as \xNN; a real backslash
///              arrives as \x5c, never as `\\`.
///  ② not escapes  6,2,20,-;50\xZZ off, cut \x4\n
///              message = b"50\\xZZ off, cut \\x4"   kept literally: the kernel writes
///              escapes whole, so a broken one is text, not a byte
///  ③ extra fields  6,3,30,-,caller=T123,future=x;text\n
///              extra_fields = ["caller=T123", "future=x"], caller() = Some(Thread(123))
///  ④ fragments  4,4,40,c;first half\n   then   4,5,41,+; second half\n
///              flag = Fragment, then Continuation (`+`: kernels before 4.9)
///  ⑤ facility  190,6,50,-;from local7\n
///              facility = local7 (190 >> 3 = 23), level = info (190 & 7 = 6)
///  ⑥ dictionary value escapes   6,7,60,-;m\n DRIVER=a\x0ab\n
///              dictionary = [("DRIVER", b"a\nb")]
/// ```
///
/// ```
/// use bytes::Bytes;
/// use fdframe::kmsg::{Caller, Facility, KmsgFlag, KmsgRecord, Level};
///
/// let parse = |raw: &'static [u8]| KmsgRecord::parse(Bytes::from_static(raw)).unwrap();
///
/// let record = parse(b"7,160,424069,-;pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)\n SUBSYSTEM=acpi\n DEVICE=+acpi:PNP0A03:00\n");
/// assert_eq!((record.facility(), record.level()), (Facility::KERN, Level::Debug));
/// assert_eq!((record.seq(), record.timestamp_us()), (160, 424069));
/// assert_eq!(record.message(), "pci_root PNP0A03:00: host bridge window [io  0x0000-0x0cf7] (ignored)");
/// assert_eq!(record.get("DEVICE").unwrap(), "+acpi:PNP0A03:00");
///
/// // ① escapes
/// let record = parse(b"6,1,10,-;tab\\x09back\\x5cslash\\x7f caf\\xc3\\xa9\n");
/// assert_eq!(record.message(), &b"tab\tback\\slash\x7f caf\xc3\xa9"[..]);
/// assert_eq!(record.message_str(), Some("tab\tback\\slash\u{7f} café"));
/// // ② broken escapes stay as written
/// assert_eq!(parse(b"6,2,20,-;50\\xZZ off, cut \\x4\n").message(), "50\\xZZ off, cut \\x4");
/// // ③ extra fields
/// let record = parse(b"6,3,30,-,caller=T123,future=x;text\n");
/// assert_eq!(record.extra_fields(), ["caller=T123", "future=x"]);
/// assert_eq!(record.caller(), Some(Caller::Thread(123)));
/// assert_eq!(record.field("future"), Some(&b"x"[..]));
/// // ④ fragments
/// assert_eq!(parse(b"4,4,40,c;first half\n").flag(), &KmsgFlag::Fragment);
/// assert_eq!(parse(b"4,5,41,+; second half\n").flag(), &KmsgFlag::Continuation);
/// // ⑤ facility
/// let record = parse(b"190,6,50,-;from local7\n");
/// assert_eq!((record.facility(), record.level()), (Facility::LOCAL7, Level::Info));
/// // ⑥ dictionary values are unescaped too
/// assert_eq!(parse(b"6,7,60,-;m\n DRIVER=a\\x0ab\n").get("DRIVER").unwrap(), "a\nb");
/// ```
///
/// # What decoding does, and what waits
///
/// Decoding a record checks it whole (a malformed one is a [`KmsgError`] at once) and reads the
/// prefix numbers, but the parts that take work and cannot fail — undoing the message's
/// escapes, splitting the extra fields and the dictionary — are parsed on first access, once,
/// and kept: [`message`](KmsgRecord::message), [`extra_fields`](KmsgRecord::extra_fields) and
/// [`dictionary`](KmsgRecord::dictionary) return the same values whenever they are called, on
/// any thread, however long after the decoder has moved on. A read-all that only counts
/// records or looks at levels and sequence numbers pays for none of it.
#[derive(Clone)]
pub struct KmsgRecord {
    raw: Bytes,
    /// What decoding found, the `FLAG` field among it when it is one the kernel writes (another
    /// value is kept in `rest`).
    layout: Layout,
    message: OnceLock<Bytes>,
    /// The parts asked for less often, in a box of their own so that a record nobody asks
    /// them of stays small: it is moved several times on its way to the caller.
    rest: OnceLock<Box<Rest>>,
}

/// A record's less used parts, each parsed on first access.
#[derive(Clone, Default)]
struct Rest {
    extra_fields: OnceLock<Vec<Bytes>>,
    dictionary: OnceLock<Dictionary>,
    other_flag: OnceLock<KmsgFlag>,
}

impl KmsgRecord {
    /// Parses one whole record, as one `read(2)` of `/dev/kmsg` returns it.
    ///
    /// A missing final `\n` is tolerated (the kernel drops it from a record that fills its
    /// buffer). Unknown prefix fields and unknown flag values are kept, not rejected. Message and
    /// dictionary slices are zero-copy views of `raw` unless they contain escapes.
    ///
    /// # Errors
    ///
    /// A [`KmsgError`] when the prefix is not `PRIO,SEQ,TS_USEC,FLAG` followed by `;`, a number
    /// does not parse, or a line after the message does not start with a space.
    #[inline]
    pub fn parse(raw: Bytes) -> Result<KmsgRecord, KmsgError> {
        match parse::scan(&raw) {
            Ok(layout) => Ok(KmsgRecord::new(raw, layout)),
            Err((kind, seq)) => Err(KmsgError::new(kind, raw, seq)),
        }
    }

    /// The record `raw` is, as [`parse::scan`] found it.
    #[inline]
    pub(super) fn new(raw: Bytes, layout: Layout) -> KmsgRecord {
        KmsgRecord {
            raw,
            layout,
            message: OnceLock::new(),
            rest: OnceLock::new(),
        }
    }

    fn rest(&self) -> &Rest {
        self.rest.get_or_init(Box::default)
    }

    /// The syslog priority as written: `facility * 8 + level`.
    pub fn priority(&self) -> u32 {
        // Checked to fit when decoded.
        self.layout.priority as u32
    }

    /// Where the record comes from: [`Facility::KERN`] for the kernel itself.
    pub fn facility(&self) -> Facility {
        Facility::from_priority(self.priority())
    }

    /// How severe the record is.
    pub fn level(&self) -> Level {
        Level::from_priority(self.priority())
    }

    /// The record's sequence number: one more than the record before it, so a gap means lost
    /// records.
    pub fn seq(&self) -> u64 {
        self.layout.seq
    }

    /// When the record was logged: microseconds of the kernel's monotonic clock since boot.
    pub fn timestamp_us(&self) -> u64 {
        self.layout.timestamp_us
    }

    /// [`timestamp_us`](KmsgRecord::timestamp_us) as a `Duration` since boot.
    pub fn timestamp(&self) -> Duration {
        Duration::from_micros(self.layout.timestamp_us)
    }

    /// The `FLAG` field: whether this record is a fragment of a line.
    pub fn flag(&self) -> &KmsgFlag {
        match self.layout.flag {
            Some(flag) => flag,
            None => self
                .rest()
                .other_flag
                .get_or_init(|| KmsgFlag::from_field(parse::flag_field(&self.raw, &self.layout))),
        }
    }

    /// The prefix fields after `FLAG`, as written (e.g. `caller=T123`).
    pub fn extra_fields(&self) -> &[Bytes] {
        self.rest().extra_fields.get_or_init(|| {
            parse::extra_fields(&self.raw, &self.layout)
                .map(|field| self.raw.slice_ref(field))
                .collect()
        })
    }

    /// The value of the extra prefix field `name=value`, if there is one.
    pub fn field(&self, name: &str) -> Option<&[u8]> {
        // Straight from the raw prefix: looking up `caller=` allocates nothing.
        parse::extra_fields(&self.raw, &self.layout).find_map(|field| {
            field
                .strip_prefix(name.as_bytes())
                .and_then(|rest| rest.strip_prefix(b"="))
        })
    }

    /// The printing task or CPU, from a `caller=` field (kernels with `CONFIG_PRINTK_CALLER`).
    pub fn caller(&self) -> Option<Caller> {
        self.field("caller").and_then(Caller::parse)
    }

    /// The message text with every `\xNN` escape replaced by its byte.
    ///
    /// Kernel messages are mostly ASCII but may hold any byte, so this is bytes; see
    /// [`message_str`](KmsgRecord::message_str) and [`message_lossy`](KmsgRecord::message_lossy).
    pub fn message(&self) -> &Bytes {
        self.message
            .get_or_init(|| parse::message(&self.raw, &self.layout))
    }

    /// The message as text, if it is valid UTF-8.
    pub fn message_str(&self) -> Option<&str> {
        std::str::from_utf8(self.message()).ok()
    }

    /// The message as text, with invalid UTF-8 replaced by `U+FFFD`.
    pub fn message_lossy(&self) -> Cow<'_, str> {
        String::from_utf8_lossy(self.message())
    }

    /// The dictionary lines (` KEY=VALUE`), unescaped, in order.
    pub fn dictionary(&self) -> &Dictionary {
        self.rest()
            .dictionary
            .get_or_init(|| parse::dictionary(&self.raw, &self.layout))
    }

    /// The dictionary value for `key` (such as `SUBSYSTEM` or `DEVICE`), if present.
    pub fn get(&self, key: impl AsRef<[u8]>) -> Option<&Bytes> {
        self.dictionary().get(key)
    }

    /// The record's bytes exactly as read, including the final `\n`.
    pub fn raw(&self) -> &Bytes {
        &self.raw
    }
}

/// Two records are equal when their bytes are: every field is a function of them.
impl PartialEq for KmsgRecord {
    fn eq(&self, other: &Self) -> bool {
        self.raw == other.raw
    }
}

impl Eq for KmsgRecord {}

/// Shows every field, parsing the lazy ones, as a derived `Debug` of the parsed record would.
impl fmt::Debug for KmsgRecord {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("KmsgRecord")
            .field("priority", &self.priority())
            .field("seq", &self.seq())
            .field("timestamp_us", &self.timestamp_us())
            .field("flag", self.flag())
            .field("extra_fields", &self.extra_fields())
            .field("message", self.message())
            .field("dictionary", self.dictionary())
            .field("raw", self.raw())
            .finish()
    }
}
