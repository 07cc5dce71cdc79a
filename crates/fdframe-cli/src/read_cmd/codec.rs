//! `--codec`: the names of the decoders `fdframe read` offers.

use std::fmt;
use std::num::IntErrorKind;
use std::str::FromStr;

use fdframe::codec::FixedSizeDecoder;

/// A decoder chosen on the command line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Codec {
    /// `lines`: `\n`-terminated lines, any bytes.
    Lines,
    /// `utf8-lines`: lines that must be UTF-8.
    Utf8Lines,
    /// `len:u32be` and friends: frames after a length header of `bytes` bytes.
    Len { bytes: usize, little_endian: bool },
    /// `fixed:N`: records of exactly N bytes.
    Fixed(usize),
    /// `chunks`: whatever each read returned.
    Chunks,
    /// `kmsg`: `/dev/kmsg` records, one per read.
    Kmsg,
    /// `proc-kmsg`: `<6>[    1.234567] text` lines of `/proc/kmsg`, `dmesg -r`.
    ProcKmsg,
    /// `inotify`: events of an inotify descriptor.
    Inotify,
}

/// The `--codec` values, for help and errors.
pub(crate) const CODECS: &str = "lines, utf8-lines, len:u8, len:u16be, len:u16le, len:u32be, \
    len:u32le, len:u64be, len:u64le, fixed:N, chunks, kmsg, proc-kmsg, inotify";

impl FromStr for Codec {
    type Err = String;

    fn from_str(s: &str) -> Result<Codec, String> {
        let unknown = || format!("unknown codec {s:?} (expected one of: {CODECS})");
        Ok(match s {
            "lines" => Codec::Lines,
            "utf8-lines" => Codec::Utf8Lines,
            "chunks" => Codec::Chunks,
            "kmsg" => Codec::Kmsg,
            "proc-kmsg" => Codec::ProcKmsg,
            "inotify" => Codec::Inotify,
            _ => {
                if let Some(n) = s.strip_prefix("fixed:") {
                    Codec::Fixed(record_len(n)?)
                } else if let Some(header) = s.strip_prefix("len:") {
                    let (bytes, little_endian) = match header {
                        "u8" => (1, false),
                        "u16be" => (2, false),
                        "u16le" => (2, true),
                        "u32be" => (4, false),
                        "u32le" => (4, true),
                        "u64be" => (8, false),
                        "u64le" => (8, true),
                        _ => return Err(unknown()),
                    };
                    Codec::Len {
                        bytes,
                        little_endian,
                    }
                } else {
                    return Err(unknown());
                }
            }
        })
    }
}

/// The N of `fixed:N`: what [`FixedSizeDecoder::new`] accepts, checked here so that a size
/// too large to allocate is a usage error naming the limit, not an abort at the first read.
fn record_len(n: &str) -> Result<usize, String> {
    let max = FixedSizeDecoder::MAX_RECORD_LEN;
    let refused = || {
        format!(
            "fixed:N takes a record size from 1 to {max} bytes ({} MiB), got {n:?}",
            max >> 20
        )
    };
    let len = match n.parse::<usize>() {
        Ok(len) => len,
        // Digits too many for a usize are a size over the limit too.
        Err(e) if *e.kind() == IntErrorKind::PosOverflow => return Err(refused()),
        Err(_) => return Err(format!("fixed:N needs a number of bytes, got {n:?}")),
    };
    FixedSizeDecoder::new(len).map_err(|_| refused())?;
    Ok(len)
}

impl fmt::Display for Codec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Codec::Lines => f.write_str("lines"),
            Codec::Utf8Lines => f.write_str("utf8-lines"),
            Codec::Len {
                bytes: 1,
                little_endian: _,
            } => f.write_str("len:u8"),
            Codec::Len {
                bytes,
                little_endian,
            } => write!(
                f,
                "len:u{}{}",
                bytes * 8,
                if *little_endian { "le" } else { "be" }
            ),
            Codec::Fixed(n) => write!(f, "fixed:{n}"),
            Codec::Chunks => f.write_str("chunks"),
            Codec::Kmsg => f.write_str("kmsg"),
            Codec::ProcKmsg => f.write_str("proc-kmsg"),
            Codec::Inotify => f.write_str("inotify"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_listed_codec_parses_and_prints_back() {
        for name in CODECS.split(", ") {
            let name = name.replace("fixed:N", "fixed:16");
            let codec: Codec = name.parse().unwrap();
            assert_eq!(codec.to_string(), name);
        }
    }

    #[test]
    fn bad_codecs_are_named_with_the_list() {
        let err = "json".parse::<Codec>().unwrap_err();
        assert!(
            err.contains("\"json\"") && err.contains("utf8-lines"),
            "{err}"
        );
        assert!("len:u24".parse::<Codec>().is_err());
        assert!("fixed:x".parse::<Codec>().unwrap_err().contains("number"));
    }

    #[test]
    fn fixed_sizes_outside_one_byte_to_the_maximum_name_the_limit() {
        let max = FixedSizeDecoder::MAX_RECORD_LEN;
        assert_eq!(format!("fixed:{max}").parse(), Ok(Codec::Fixed(max)));
        for bad in [
            "0".to_owned(),
            (max + 1).to_string(),
            "999999999999".to_owned(),
            usize::MAX.to_string(),
            "99999999999999999999999999".to_owned(),
        ] {
            let err = format!("fixed:{bad}").parse::<Codec>().unwrap_err();
            assert_eq!(
                err,
                format!("fixed:N takes a record size from 1 to 8388608 bytes (8 MiB), got {bad:?}")
            );
        }
    }
}
