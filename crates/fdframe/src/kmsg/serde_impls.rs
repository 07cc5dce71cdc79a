//! The `serde` feature: how kernel log types look when serialized.
//!
//! What each type becomes is listed in the [`kmsg`](super) module docs ("Serde"); it is the
//! schema `fdframe kmsg --json` prints (`docs/json-schema.md`).
//!
//! ```
//! use bytes::Bytes;
//! use fdframe::kmsg::KmsgRecord;
//!
//! let record = KmsgRecord::parse(Bytes::from_static(b"14,7,42,-,caller=T1;bad \\xff\n")).unwrap();
//! let json = serde_json::to_value(&record).unwrap();
//! assert_eq!(json["level"], "info");
//! assert_eq!(json["facility_num"], 1);
//! assert_eq!(json["caller"], "T1");
//! assert_eq!(json["message"], "bad \u{fffd}");
//! assert_eq!(json["message_hex"], "62616420ff");
//! ```

use std::fmt;
use std::str::FromStr;

use serde::de::{self, Deserializer, Visitor};
use serde::ser::{SerializeMap, SerializeStruct, Serializer};
use serde::{Deserialize, Serialize};

use super::{Caller, Dictionary, Facility, KmsgRecord, Level};

/// Bytes as lowercase hex digits.
pub(crate) struct Hex<'a>(pub(crate) &'a [u8]);

impl Serialize for Hex<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        use std::fmt::Write as _;
        let mut text = String::with_capacity(self.0.len() * 2);
        for byte in self.0 {
            let _ = write!(text, "{byte:02x}");
        }
        serializer.serialize_str(&text)
    }
}

/// Bytes as a string, invalid UTF-8 replaced by U+FFFD.
struct Lossy<'a>(&'a [u8]);

impl Serialize for Lossy<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&String::from_utf8_lossy(self.0))
    }
}

/// A dictionary's values in hex, keyed like [`Dictionary`]'s own form.
struct DictionaryHex<'a>(&'a Dictionary);

impl Serialize for DictionaryHex<'_> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.0.len()))?;
        for (key, value) in self.0 {
            map.serialize_entry(&Lossy(key), &Hex(value))?;
        }
        map.end()
    }
}

impl Serialize for Dictionary {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(Some(self.len()))?;
        for (key, value) in self {
            map.serialize_entry(&Lossy(key), &Lossy(value))?;
        }
        map.end()
    }
}

impl Serialize for KmsgRecord {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (facility, level) = (self.facility(), self.level());
        let message = self.message();
        let dictionary = self.dictionary();
        let message_is_text = std::str::from_utf8(message).is_ok();
        let dictionary_is_text = dictionary
            .iter()
            .all(|(k, v)| std::str::from_utf8(k).is_ok() && std::str::from_utf8(v).is_ok());
        let mut record = serializer.serialize_struct("KmsgRecord", 14)?;
        record.serialize_field("seq", &self.seq())?;
        record.serialize_field("timestamp_us", &self.timestamp_us())?;
        record.serialize_field("priority", &self.priority())?;
        record.serialize_field("facility", &facility)?;
        record.serialize_field("facility_num", &facility.number())?;
        record.serialize_field("level", &level)?;
        record.serialize_field("level_num", &level.number())?;
        record.serialize_field("flag", &Lossy(self.flag().as_bytes()))?;
        record.serialize_field("caller", &self.caller())?;
        record.serialize_field("message", &Lossy(message))?;
        if message_is_text {
            record.skip_field("message_hex")?;
        } else {
            record.serialize_field("message_hex", &Hex(message))?;
        }
        record.serialize_field("dictionary", dictionary)?;
        if dictionary_is_text {
            record.skip_field("dictionary_hex")?;
        } else {
            record.serialize_field("dictionary_hex", &DictionaryHex(dictionary))?;
        }
        record.end()
    }
}

impl Serialize for Level {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for Level {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Level, D::Error> {
        deserializer.deserialize_any(NameOrNumber::<Level>::new("a log level name or 0..=7"))
    }
}

impl Serialize for Facility {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self.name() {
            Some(name) => serializer.serialize_str(name),
            None => serializer.collect_str(&self.number()),
        }
    }
}

impl<'de> Deserialize<'de> for Facility {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Facility, D::Error> {
        deserializer.deserialize_any(NameOrNumber::<Facility>::new(
            "a syslog facility name or number",
        ))
    }
}

impl Serialize for Caller {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Caller {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Caller, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        Caller::parse(text.as_bytes())
            .ok_or_else(|| de::Error::invalid_value(de::Unexpected::Str(&text), &"T<id> or C<id>"))
    }
}

/// A type read from its name (through `FromStr`) or its number.
trait FromNumber: FromStr + Sized {
    fn from_u64(n: u64) -> Option<Self>;
}

impl FromNumber for Level {
    fn from_u64(n: u64) -> Option<Level> {
        u32::try_from(n)
            .ok()
            .filter(|&n| n < 8)
            .map(Level::from_priority)
    }
}

impl FromNumber for Facility {
    fn from_u64(n: u64) -> Option<Facility> {
        u32::try_from(n).ok().map(Facility::from_number)
    }
}

struct NameOrNumber<T> {
    expected: &'static str,
    marker: std::marker::PhantomData<T>,
}

impl<T> NameOrNumber<T> {
    fn new(expected: &'static str) -> Self {
        NameOrNumber {
            expected,
            marker: std::marker::PhantomData,
        }
    }
}

impl<T: FromNumber> Visitor<'_> for NameOrNumber<T> {
    type Value = T;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.expected)
    }

    fn visit_str<E: de::Error>(self, text: &str) -> Result<T, E> {
        text.parse()
            .map_err(|_| E::invalid_value(de::Unexpected::Str(text), &self))
    }

    fn visit_u64<E: de::Error>(self, n: u64) -> Result<T, E> {
        T::from_u64(n).ok_or_else(|| E::invalid_value(de::Unexpected::Unsigned(n), &self))
    }

    fn visit_i64<E: de::Error>(self, n: i64) -> Result<T, E> {
        let n = u64::try_from(n).map_err(|_| E::invalid_value(de::Unexpected::Signed(n), &self))?;
        self.visit_u64(n)
    }
}

/// [`Loss::seqs`](crate::Loss::seqs) as two flat fields, `first_seq` and `last_seq`, absent
/// when the loss has no sequence numbers.
pub(crate) mod seq_range {
    use std::ops::RangeInclusive;

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    #[derive(Serialize, Deserialize)]
    struct Flat {
        #[serde(skip_serializing_if = "Option::is_none", default)]
        first_seq: Option<u64>,
        #[serde(skip_serializing_if = "Option::is_none", default)]
        last_seq: Option<u64>,
    }

    pub(crate) fn serialize<S: Serializer>(
        seqs: &Option<RangeInclusive<u64>>,
        serializer: S,
    ) -> Result<S::Ok, S::Error> {
        Flat {
            first_seq: seqs.as_ref().map(|r| *r.start()),
            last_seq: seqs.as_ref().map(|r| *r.end()),
        }
        .serialize(serializer)
    }

    pub(crate) fn deserialize<'de, D: Deserializer<'de>>(
        deserializer: D,
    ) -> Result<Option<RangeInclusive<u64>>, D::Error> {
        let flat = Flat::deserialize(deserializer)?;
        match (flat.first_seq, flat.last_seq) {
            (Some(first), Some(last)) if first <= last => Ok(Some(first..=last)),
            (None, None) => Ok(None),
            _ => Err(D::Error::custom(
                "first_seq and last_seq come together, first_seq <= last_seq",
            )),
        }
    }
}

/// [`LossCause`](crate::LossCause) as serde's derive would write it (a unit variant is its
/// kebab-case name, `Other` a struct variant), written by hand because `Other`'s texts are
/// `&'static str`, which no input can be borrowed for.
mod loss_cause {
    use std::borrow::Cow;
    use std::sync::{Mutex, PoisonError};

    use serde::de::Error as _;
    use serde::{Deserialize, Deserializer, Serialize, Serializer};

    use crate::{LossCause, OtherCause};

    /// The most distinct `Other` causes deserializing keeps, and their longest text: the memory
    /// input can make this process keep is bounded (64 × 2 × 256 bytes).
    const MAX_CAUSES: usize = 64;
    const MAX_TEXT_LEN: usize = 256;

    /// The causes deserialized `Other`s point to, kept for the rest of the process.
    static CAUSES: Mutex<Vec<&'static OtherCause>> = Mutex::new(Vec::new());

    /// The serialized form.
    #[derive(Serialize, Deserialize)]
    #[serde(rename = "LossCause", rename_all = "kebab-case")]
    enum Form<'a> {
        KmsgOverrun,
        KmsgResumeGap,
        InotifyOverflow,
        EvdevDropped,
        Other {
            #[serde(borrow)]
            what: Cow<'a, str>,
            #[serde(borrow)]
            why: Cow<'a, str>,
        },
    }

    impl Serialize for LossCause {
        fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
            let form = match *self {
                LossCause::KmsgOverrun => Form::KmsgOverrun,
                LossCause::KmsgResumeGap => Form::KmsgResumeGap,
                LossCause::InotifyOverflow => Form::InotifyOverflow,
                LossCause::EvdevDropped => Form::EvdevDropped,
                LossCause::Other(other) => Form::Other {
                    what: Cow::Borrowed(other.what),
                    why: Cow::Borrowed(other.why),
                },
            };
            form.serialize(serializer)
        }
    }

    impl<'de> Deserialize<'de> for LossCause {
        fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
            Ok(match Form::deserialize(deserializer)? {
                Form::KmsgOverrun => LossCause::KmsgOverrun,
                Form::KmsgResumeGap => LossCause::KmsgResumeGap,
                Form::InotifyOverflow => LossCause::InotifyOverflow,
                Form::EvdevDropped => LossCause::EvdevDropped,
                Form::Other { what, why } => {
                    LossCause::Other(keep(&what, &why).map_err(D::Error::custom)?)
                }
            })
        }
    }

    /// The cause with these texts: the one kept before, or a new one while there is room.
    fn keep(what: &str, why: &str) -> Result<&'static OtherCause, &'static str> {
        if what.len().max(why.len()) > MAX_TEXT_LEN {
            return Err("a loss cause's text is longer than 256 bytes");
        }
        let mut causes = CAUSES.lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(kept) = causes.iter().find(|c| c.what == what && c.why == why) {
            return Ok(kept);
        }
        if causes.len() == MAX_CAUSES {
            return Err("more than 64 distinct loss causes deserialized in this process");
        }
        let kept: &'static OtherCause = Box::leak(Box::new(OtherCause {
            what: Box::leak(what.into()),
            why: Box::leak(why.into()),
        }));
        causes.push(kept);
        Ok(kept)
    }
}

#[cfg(test)]
#[path = "serde_tests.rs"]
mod tests;
