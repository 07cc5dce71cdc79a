//! The kernel log: `/dev/kmsg` records with exact loss accounting, and `/proc/kmsg` lines.
//!
//! # `/dev/kmsg`
//!
//! [`open`] gives a non-blocking descriptor positioned where [`KmsgStart`] says; a
//! [`KmsgDecoder`] turns each `read(2)` of it into one [`KmsgRecord`]. The record format
//! (`Documentation/ABI/testing/dev-kmsg` in the kernel tree) is drawn byte by byte on
//! [`KmsgRecord`]:
//!
//! ```text
//! PRIO,SEQ,TS_USEC,FLAG[,FIELD...];MESSAGE\n      PRIO = facility * 8 + level; MESSAGE escaped as \xNN
//!  KEY=VALUE\n                                    zero or more dictionary lines, VALUE escaped
//! ```
//!
//! What the device does, and what this module makes of it:
//!
//! | the device                                              | here                                            |
//! |---------------------------------------------------------|-------------------------------------------------|
//! | one record per `read(2)`, `EINVAL` (record lost) if the buffer is too small | [`KmsgDecoder`] asks the engine for 8193 bytes before every read |
//! | `EPIPE`: records were overwritten before they were read | [`Error::Lost`](crate::Error::Lost) with the exact count from sequence numbers, then the stream goes on |
//! | a record that does not parse                            | [`KmsgError`] with the raw bytes; the next record decodes |
//! | unknown prefix fields, unknown flag values              | kept ([`KmsgRecord::extra_fields`], [`KmsgFlag::Other`]) |
//! | `\xNN` escapes in message and dictionary                | undone; broken escapes kept literally           |
//! | `lseek` `SEEK_END` / `SEEK_DATA`                        | [`KmsgStart::New`] / [`KmsgStart::AfterClear`]  |
//!
//! Reading needs `CAP_SYSLOG` when `kernel.dmesg_restrict=1`; [`open`] returns the kernel's
//! error unchanged.
//!
//! # `/proc/kmsg`, `syslog(2)`, `dmesg -r`
//!
//! The older syslog format, `<6>[    1.234567] text\n`, is a plain line stream with no sequence
//! numbers: [`ProcKmsgDecoder`] turns it into [`ProcKmsgLine`]s. Note that reading `/proc/kmsg`
//! *consumes* the lines for every other reader of it; `/dev/kmsg` does not.
//!
//! ```
//! use bytes::BytesMut;
//! use fdframe::kmsg::{Facility, KmsgDecoder, Level};
//! use fdframe::{Decoder, ReadLimits};
//!
//! let mut decoder = KmsgDecoder::new();
//! assert_eq!(decoder.read_limits(), ReadLimits::one_record_per_read(8192));
//!
//! // What one read(2) of /dev/kmsg returned:
//! let mut read = BytesMut::from(&b"30,340,5690716,-;udevd[80]: starting version 181\n"[..]);
//! let record = decoder.decode(&mut read).unwrap().unwrap();
//! assert_eq!((record.facility(), record.level()), (Facility::DAEMON, Level::Info));
//! assert_eq!(record.message(), "udevd[80]: starting version 181");
//! assert!(read.is_empty());
//! ```
//!
//! # Wall-clock time
//!
//! A record's timestamp counts microseconds of the monotonic clock, which stops during
//! suspend. [`WallClock`] turns it into wall-clock time, corrected for the sleeps the log tells
//! of ([`SleepScan`], [`SleepPlan`]), and says which times may be off.
//!
//! # Serde
//!
//! With the crate feature `serde`, kernel log types serialize as `fdframe kmsg --json` prints
//! them (`docs/json-schema.md`), so that a program using the library and a shipper reading the
//! CLI see the same objects:
//!
//! | type | serialized as | deserialized from |
//! |---|---|---|
//! | [`Level`] | its name, `"info"` | a name `Level::from_str` accepts, or a number 0..=7 |
//! | [`Facility`] | its name, `"user"` (a number above 23 as its digits, `"200"`) | a name or digits, or a number |
//! | [`Caller`] | `"T42"` / `"C2"` | the same text |
//! | [`LossCause`](crate::LossCause) | `"kmsg-overrun"`, `"kmsg-resume-gap"`, `"inotify-overflow"`, `"evdev-dropped"`; a third party's `{"other":{"what":…,"why":…}}` | the same (texts of `other` bounded: see [`LossCause`](crate::LossCause)) |
//! | [`Loss`](crate::Loss) | `{"cause":…,"count":12,"first_seq":100,"last_seq":111}`; `count` `null` and no seqs when unknown | the same |
//! | [`Dictionary`] | `{"KEY":"value",…}`, invalid UTF-8 as U+FFFD | — |
//! | [`KmsgRecord`] | the object below | — (parse the raw bytes with [`KmsgRecord::parse`]) |
//!
//! A record:
//!
//! ```text
//! {"seq":1137,"timestamp_us":1598236208,"priority":14,"facility":"user","facility_num":1,
//!  "level":"info","level_num":6,"flag":"-","caller":"T42","message":"text",
//!  "dictionary":{"SUBSYSTEM":"acpi"}}
//! ```
//!
//! plus `"message_hex"` (the exact bytes, lowercase hex) when the message is not valid UTF-8
//! (`"message"` then has U+FFFD in place of the invalid bytes), and `"dictionary_hex"` (each
//! entry's value in hex) when a dictionary key or value is not. A record is not
//! deserialized: it *is* its raw bytes, which these fields do not all keep (unknown prefix
//! fields, for one); keep [`KmsgRecord::raw`] to store records losslessly.

mod caller;
mod decoder;
mod dictionary;
mod error;
mod escape;
mod facility;
mod flag;
mod level;
mod open;
mod parse;
mod proc_kmsg;
mod record;
#[cfg(feature = "serde")]
pub(crate) mod serde_impls;
mod wall_clock;

#[cfg(test)]
mod tests;

pub use caller::Caller;
pub use decoder::KmsgDecoder;
pub use dictionary::Dictionary;
pub use error::{KmsgError, KmsgErrorKind, KmsgField, ProcKmsgError, ProcKmsgErrorKind};
pub use facility::{Facility, ParseFacilityError};
pub use flag::KmsgFlag;
pub use level::{Level, ParseLevelError};
pub use open::{KmsgStart, open, open_at};
pub use proc_kmsg::{ProcKmsgDecoder, ProcKmsgLine};
pub use record::KmsgRecord;
pub use wall_clock::{Clocks, Sleep, SleepPlan, SleepScan, WallClock};
