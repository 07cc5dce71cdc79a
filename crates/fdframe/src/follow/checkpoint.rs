//! [`Checkpoint`]: where a follow stream is, as text a caller saves and resumes from.
//!
//! The format (version 1), one line each, `\n`-terminated, ASCII:
//!
//! ```text
//! fdframe-follow-checkpoint v1
//! file <dev> <ino> <offset> <fingerprint len> <fingerprint: 16 lowercase hex digits>
//! ...
//! ```
//!
//! Files oldest first, the file at the path last. Numbers are decimal without sign or leading
//! zeros. [`Checkpoint::parse`] accepts exactly what [`Checkpoint::encode`] writes and nothing
//! else, and reads at most [`Checkpoint::MAX_TEXT_LEN`] bytes' worth.

use std::fmt;

use super::identity::FINGERPRINT_MAX;

const HEADER: &str = "fdframe-follow-checkpoint v1";

/// The fingerprint of a file's first bytes: FNV-1a 64 of its first `len` bytes (at most 256).
/// It tells a file from another that reuses its inode.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct Fingerprint {
    /// How many first bytes it covers (at most 256).
    pub len: u16,
    /// Their FNV-1a 64 hash.
    pub hash: u64,
}

impl Fingerprint {
    /// The fingerprint of `prefix` (its first 256 bytes at most).
    pub fn of(prefix: &[u8]) -> Fingerprint {
        let prefix = &prefix[..prefix.len().min(FINGERPRINT_MAX)];
        Fingerprint {
            len: prefix.len() as u16,
            hash: super::identity::fnv1a(prefix),
        }
    }
}

/// One file of a [`Checkpoint`]: which file (device, inode, fingerprint) and how far its
/// messages were handed out.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub struct FilePosition {
    /// The device number (`st_dev`).
    pub dev: u64,
    /// The inode number (`st_ino`).
    pub ino: u64,
    /// The byte offset after the last message handed out from this file.
    pub offset: u64,
    /// The fingerprint of the file's first bytes.
    pub fingerprint: Fingerprint,
}

/// Where a follow stream is: the position after the last message handed out, in every file
/// it reads (rotated files still being finished, oldest first, then the file at the path).
///
/// Get one with [`checkpoint`](super::checkpoint) after handling the messages up to it, save
/// [`encode`](Checkpoint::encode)'s text, and resume with
/// [`FollowStart::Checkpoint`](super::FollowStart::Checkpoint)`(Checkpoint::parse(text)?)`.
///
/// ```
/// use fdframe::follow::Checkpoint;
///
/// let text = "fdframe-follow-checkpoint v1\nfile 2049 1234 10 10 0123456789abcdef\n";
/// let checkpoint = Checkpoint::parse(text)?;
/// assert_eq!(checkpoint.files()[0].offset, 10);
/// assert_eq!(checkpoint.encode(), text);
/// assert!(Checkpoint::parse("fdframe-follow-checkpoint v1\nfile 1 2 03 0 0\n").is_err());
/// # Ok::<(), fdframe::follow::CheckpointError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Default)]
pub struct Checkpoint {
    files: Vec<FilePosition>,
}

impl Checkpoint {
    /// The most files a checkpoint holds: the rotated files kept (16) and the file at the path.
    pub const MAX_FILES: usize = super::source::MAX_ROTATED + 1;
    /// The longest text [`parse`](Checkpoint::parse) accepts.
    pub const MAX_TEXT_LEN: usize = 4096;

    pub(crate) fn new(files: Vec<FilePosition>) -> Checkpoint {
        debug_assert!(files.len() <= Self::MAX_FILES);
        Checkpoint { files }
    }

    /// The files, oldest first; the file at the path (if there is one) last.
    pub fn files(&self) -> &[FilePosition] {
        &self.files
    }

    /// The text form (versioned, under 4 KiB), for saving.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(32 + 80 * self.files.len());
        out.push_str(HEADER);
        out.push('\n');
        for f in &self.files {
            out.push_str(&format!(
                "file {} {} {} {} {:016x}\n",
                f.dev, f.ino, f.offset, f.fingerprint.len, f.fingerprint.hash
            ));
        }
        out
    }

    /// Parses what [`encode`](Checkpoint::encode) wrote. Strict: anything else (another
    /// version, a stray space, a leading zero, a missing final newline, text over
    /// [`MAX_TEXT_LEN`](Checkpoint::MAX_TEXT_LEN), more than
    /// [`MAX_FILES`](Checkpoint::MAX_FILES) files) is a [`CheckpointError`].
    pub fn parse(text: &str) -> Result<Checkpoint, CheckpointError> {
        if text.len() > Self::MAX_TEXT_LEN {
            return Err(CheckpointError::TooLong { len: text.len() });
        }
        let Some(body) = text.strip_suffix('\n') else {
            return Err(CheckpointError::MissingNewline);
        };
        let mut lines = body.split('\n');
        if lines.next() != Some(HEADER) {
            return Err(CheckpointError::BadHeader);
        }
        let mut files = Vec::new();
        for (i, line) in lines.enumerate() {
            if files.len() == Self::MAX_FILES {
                return Err(CheckpointError::TooManyFiles);
            }
            let bad = |reason| CheckpointError::BadLine {
                line: i + 2,
                reason,
            };
            let mut fields = line.split(' ');
            if fields.next() != Some("file") {
                return Err(bad("does not start with `file `"));
            }
            let mut number = |what| fields.next().and_then(decimal).ok_or_else(|| bad(what));
            let dev = number("bad device number")?;
            let ino = number("bad inode number")?;
            let offset = number("bad offset")?;
            let len = number("bad fingerprint length")?;
            if len > FINGERPRINT_MAX as u64 {
                return Err(bad("fingerprint length over 256"));
            }
            let hash = fields
                .next()
                .and_then(hex16)
                .ok_or_else(|| bad("bad fingerprint hash"))?;
            if fields.next().is_some() {
                return Err(bad("trailing fields"));
            }
            files.push(FilePosition {
                dev,
                ino,
                offset,
                fingerprint: Fingerprint {
                    len: len as u16,
                    hash,
                },
            });
        }
        Ok(Checkpoint { files })
    }
}

impl fmt::Display for Checkpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.encode())
    }
}

/// A decimal `u64` as `encode` writes it: digits only, no leading zero (except `0` itself).
fn decimal(field: &str) -> Option<u64> {
    let bytes = field.as_bytes();
    if bytes.is_empty() || bytes.len() > 20 || !bytes.iter().all(u8::is_ascii_digit) {
        return None;
    }
    if bytes.len() > 1 && bytes[0] == b'0' {
        return None;
    }
    field.parse().ok()
}

/// Exactly 16 lowercase hex digits.
fn hex16(field: &str) -> Option<u64> {
    let ok = field.len() == 16
        && field
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    ok.then(|| u64::from_str_radix(field, 16).ok()).flatten()
}

/// Why a checkpoint's text was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum CheckpointError {
    /// Longer than [`Checkpoint::MAX_TEXT_LEN`].
    TooLong {
        /// Its length in bytes.
        len: usize,
    },
    /// The text does not end with a newline (cut short?).
    MissingNewline,
    /// The first line is not the version-1 header.
    BadHeader,
    /// More than [`Checkpoint::MAX_FILES`] files.
    TooManyFiles,
    /// A file line is malformed.
    BadLine {
        /// The line number, from 1.
        line: usize,
        /// What is wrong with it.
        reason: &'static str,
    },
}

impl fmt::Display for CheckpointError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CheckpointError::TooLong { len } => write!(
                f,
                "follow checkpoint of {len} bytes is longer than the limit of {}",
                Checkpoint::MAX_TEXT_LEN
            ),
            CheckpointError::MissingNewline => {
                f.write_str("follow checkpoint does not end with a newline (cut short?)")
            }
            CheckpointError::BadHeader => {
                write!(f, "follow checkpoint does not start with `{HEADER}`")
            }
            CheckpointError::TooManyFiles => write!(
                f,
                "follow checkpoint lists more than {} files",
                Checkpoint::MAX_FILES
            ),
            CheckpointError::BadLine { line, reason } => {
                write!(f, "follow checkpoint line {line}: {reason}")
            }
        }
    }
}

impl std::error::Error for CheckpointError {}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    fn position() -> impl Strategy<Value = FilePosition> {
        (
            any::<u64>(),
            any::<u64>(),
            any::<u64>(),
            0u16..=256,
            any::<u64>(),
        )
            .prop_map(|(dev, ino, offset, len, hash)| FilePosition {
                dev,
                ino,
                offset,
                fingerprint: Fingerprint { len, hash },
            })
    }

    proptest! {
        #[test]
        fn encode_then_parse_gives_the_same_checkpoint(
            files in proptest::collection::vec(position(), 0..=Checkpoint::MAX_FILES)
        ) {
            let checkpoint = Checkpoint::new(files);
            let text = checkpoint.encode();
            prop_assert!(text.len() < Checkpoint::MAX_TEXT_LEN);
            prop_assert_eq!(Checkpoint::parse(&text), Ok(checkpoint));
        }

        #[test]
        fn garbage_never_panics_and_what_parses_re_encodes_identically(text in ".{0,300}") {
            if let Ok(checkpoint) = Checkpoint::parse(&text) {
                prop_assert_eq!(checkpoint.encode(), text);
            }
        }

        #[test]
        fn one_changed_byte_is_refused_or_re_encodes_identically(
            files in proptest::collection::vec(position(), 1..4),
            at in any::<prop::sample::Index>(),
            byte in any::<u8>(),
        ) {
            let mut text = Checkpoint::new(files).encode().into_bytes();
            let at = at.index(text.len());
            text[at] = byte;
            if let Ok(text) = String::from_utf8(text) {
                if let Ok(checkpoint) = Checkpoint::parse(&text) {
                    prop_assert_eq!(checkpoint.encode(), text);
                }
            }
        }
    }

    #[test]
    fn malformed_checkpoints_are_refused_with_their_reason() {
        let good = "fdframe-follow-checkpoint v1\nfile 1 2 3 4 00000000000000ff\n";
        assert!(Checkpoint::parse(good).is_ok());
        let cases: &[(&str, CheckpointError)] = &[
            (
                "fdframe-follow-checkpoint v1\nfile 1 2 3 4 00000000000000ff",
                CheckpointError::MissingNewline,
            ),
            ("fdframe-follow-checkpoint v2\n", CheckpointError::BadHeader),
            (
                "fdframe-follow-checkpoint v1\nfile 01 2 3 4 00000000000000ff\n",
                CheckpointError::BadLine {
                    line: 2,
                    reason: "bad device number",
                },
            ),
            (
                "fdframe-follow-checkpoint v1\nfile 1 2 +3 4 00000000000000ff\n",
                CheckpointError::BadLine {
                    line: 2,
                    reason: "bad offset",
                },
            ),
            (
                "fdframe-follow-checkpoint v1\nfile 1 2 3 257 00000000000000ff\n",
                CheckpointError::BadLine {
                    line: 2,
                    reason: "fingerprint length over 256",
                },
            ),
            (
                "fdframe-follow-checkpoint v1\nfile 1 2 3 4 00000000000000FF\n",
                CheckpointError::BadLine {
                    line: 2,
                    reason: "bad fingerprint hash",
                },
            ),
            (
                "fdframe-follow-checkpoint v1\nfile 1 2 3 4 00000000000000ff \n",
                CheckpointError::BadLine {
                    line: 2,
                    reason: "trailing fields",
                },
            ),
            (
                "fdframe-follow-checkpoint v1\n\n",
                CheckpointError::BadLine {
                    line: 2,
                    reason: "does not start with `file `",
                },
            ),
            (
                "fdframe-follow-checkpoint v1\nfile 1 2 18446744073709551616 4 00000000000000ff\n",
                CheckpointError::BadLine {
                    line: 2,
                    reason: "bad offset",
                },
            ),
        ];
        for (text, error) in cases {
            assert_eq!(Checkpoint::parse(text).as_ref(), Err(error), "{text:?}");
        }
        let many = format!(
            "fdframe-follow-checkpoint v1\n{}",
            "file 1 2 3 4 00000000000000ff\n".repeat(Checkpoint::MAX_FILES + 1)
        );
        assert_eq!(Checkpoint::parse(&many), Err(CheckpointError::TooManyFiles));
        let long = "x".repeat(Checkpoint::MAX_TEXT_LEN + 1);
        assert_eq!(
            Checkpoint::parse(&long),
            Err(CheckpointError::TooLong {
                len: Checkpoint::MAX_TEXT_LEN + 1
            })
        );
    }
}
