//! `--cursor FILE`: where `fdframe kmsg` stopped, so that the next run starts right after it.
//!
//! The file holds the boot it belongs to and the sequence number of the last record handled
//! (printed, or skipped by a filter), each line ended by a newline:
//!
//! ```text
//! fdframe-kmsg-cursor 1
//! boot_id 0c6a3e5c-1b39-4b5c-9c1e-5f0e7a8e2a41
//! seq 1234
//! ```
//!
//! Sequence numbers restart at every boot, so a cursor from another boot means "start from
//! this boot's first record". A file that is not a cursor, or a damaged one, is an error, never
//! a silent fresh start: that could print the whole log again, or skip records. The reading is
//! strict, so that a cut-short copy (`seq 48` of `seq 4805`) is damaged rather than a position:
//! the last line must end in a newline, and the number is digits only, as written.
//!
//! The file, its lock `.FILE.lock` and the temporary files of a save live in FILE's directory
//! and are handled by [`safe_file`](crate::safe_file): opened relative to the directory opened
//! once, never through a symlink, only as regular files, read at most [`MAX_LEN`] bytes,
//! replaced atomically under an unguessable temporary name. Before the lock is created the
//! path is checked (it must end in a file name, in a directory, and name a regular file or
//! nothing), so a refused path creates nothing. The directory must be writable only by the user
//! running fdframe: anyone else who can write it can forge the cursor.
//!
//! `--cursor-reset` replaces a cursor that cannot be used (damaged, another format, ahead of
//! the log), never a file that is not a cursor at all ([`CursorError::may_reset`]) and never
//! anything but a regular file.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use rustix::fs::Mode;

use crate::safe_file::{FileError, LockError, LockedFile};

const MAGIC: &str = "fdframe-kmsg-cursor";
const VERSION: u32 = 1;
/// The tag of the printable form; its digit is the format's version.
const PRINTABLE_TAG: &str = "kmsg1";

/// The most a cursor file may hold; a real one is about 80 bytes. Anything longer is not a
/// cursor, and reading stops here whatever the file is.
pub(crate) const MAX_LEN: usize = 512;

/// A saved position in the kernel log.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct Cursor {
    /// `/proc/sys/kernel/random/boot_id` of the boot the sequence number belongs to.
    pub(crate) boot_id: String,
    /// The last record handled.
    pub(crate) seq: u64,
}

/// Why a cursor file cannot be used.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum CursorError {
    /// The file does not start like a cursor, or is too long for one: some other file.
    Foreign,
    /// A cursor format this version does not know.
    UnsupportedVersion(String),
    /// A cursor with a missing, malformed or cut-short field.
    Corrupt(String),
    /// A cursor of this boot that names a record the kernel has not logged yet.
    AheadOfLog { seq: u64, newest: u64 },
}

impl CursorError {
    /// Whether `--cursor-reset` may replace the file: a cursor, however damaged, yes; a file
    /// that is not a cursor (a mistyped path: `--cursor /etc/passwd`) never.
    pub(crate) fn may_reset(&self) -> bool {
        !matches!(self, CursorError::Foreign)
    }
}

impl fmt::Display for CursorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CursorError::Foreign => write!(
                f,
                "it is not an fdframe cursor file (one starts with `{MAGIC}` and is at most \
                 {MAX_LEN} bytes)"
            ),
            CursorError::UnsupportedVersion(v) => {
                write!(
                    f,
                    "it has cursor format {v:?}, this fdframe knows {VERSION}"
                )
            }
            CursorError::Corrupt(why) => write!(f, "it is damaged: {why}"),
            CursorError::AheadOfLog { seq, newest } => write!(
                f,
                "it points at record {seq}, past this boot's newest record {newest}"
            ),
        }
    }
}

impl Cursor {
    /// Parses a cursor file's text.
    pub(crate) fn parse(text: &str) -> Result<Cursor, CursorError> {
        if text.is_empty() {
            return Err(CursorError::Corrupt("it is empty".into()));
        }
        let (header, body) = text.split_once('\n').unwrap_or((text, ""));
        let version = header
            .strip_prefix(MAGIC)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or(CursorError::Foreign)?;
        if header.len() == text.len() {
            return Err(CursorError::Corrupt(
                "it ends inside its first line (cut short?)".into(),
            ));
        }
        if version != VERSION.to_string() {
            return Err(CursorError::UnsupportedVersion(version.to_owned()));
        }
        let Some(body) = body.strip_suffix('\n') else {
            let why = if body.is_empty() {
                "no boot_id line"
            } else {
                "its last line has no newline (cut short?)"
            };
            return Err(CursorError::Corrupt(why.into()));
        };
        let (mut boot_id, mut seq) = (None, None);
        for line in body.split('\n') {
            let corrupt = || CursorError::Corrupt(format!("unexpected line {line:?}"));
            let (key, value) = line.split_once(' ').ok_or_else(corrupt)?;
            match key {
                "boot_id" if boot_id.is_none() && is_boot_id(value) => {
                    boot_id = Some(value.to_owned())
                }
                "seq" if seq.is_none() => seq = Some(parse_seq(value).ok_or_else(corrupt)?),
                _ => return Err(corrupt()),
            }
        }
        match (boot_id, seq) {
            (Some(boot_id), Some(seq)) => Ok(Cursor { boot_id, seq }),
            (None, _) => Err(CursorError::Corrupt("no boot_id line".into())),
            (_, None) => Err(CursorError::Corrupt("no seq line".into())),
        }
    }

    /// The one-line printable form of `--show-cursor` and `--after-cursor`:
    /// `kmsg1:BOOT_ID:SEQ`, e.g. `kmsg1:0c6a3e5c-1b39-4b5c-9c1e-5f0e7a8e2a41:1234`. No blanks
    /// and nothing a shell would expand, so it can be pasted as one word.
    pub(crate) fn to_printable(&self) -> String {
        format!("{PRINTABLE_TAG}:{}:{}", self.boot_id, self.seq)
    }

    /// Parses [`to_printable`](Cursor::to_printable)'s form, as strictly as the file: the tag,
    /// a lowercase boot id, a canonical sequence number, nothing else (no blanks, no newline).
    pub(crate) fn parse_printable(text: &str) -> Result<Cursor, CursorError> {
        let Some(rest) = text
            .strip_prefix(PRINTABLE_TAG)
            .and_then(|r| r.strip_prefix(':'))
        else {
            return Err(CursorError::Corrupt(format!(
                "a printable cursor starts with `{PRINTABLE_TAG}:` (as --show-cursor prints it)"
            )));
        };
        let (boot_id, seq) = rest.split_once(':').unwrap_or((rest, ""));
        if !is_boot_id(boot_id) {
            return Err(CursorError::Corrupt(format!(
                "{boot_id:?} is not a boot id (a lowercase UUID)"
            )));
        }
        let seq = parse_seq(seq).ok_or_else(|| {
            CursorError::Corrupt(format!(
                "{seq:?} is not a sequence number (decimal digits, as printed)"
            ))
        })?;
        Ok(Cursor {
            boot_id: boot_id.to_owned(),
            seq,
        })
    }

    /// The file's text.
    pub(crate) fn to_text(&self) -> String {
        format!(
            "{MAGIC} {VERSION}\nboot_id {}\nseq {}\n",
            self.boot_id, self.seq
        )
    }
}

/// A sequence number exactly as [`Cursor::to_text`] writes it: decimal digits, no sign, no
/// leading zero. `u64::from_str` alone would take `+4800`.
fn parse_seq(text: &str) -> Option<u64> {
    let canonical = !text.is_empty()
        && text.bytes().all(|b| b.is_ascii_digit())
        && (text == "0" || !text.starts_with('0'));
    canonical.then(|| text.parse().ok()).flatten()
}

/// A boot id as the kernel prints it: a lowercase UUID.
fn is_boot_id(text: &str) -> bool {
    text.len() == 36
        && text.char_indices().all(|(i, c)| match i {
            8 | 13 | 18 | 23 => c == '-',
            _ => c.is_ascii_digit() || ('a'..='f').contains(&c),
        })
}

/// This boot's id.
pub(crate) fn current_boot_id() -> io::Result<String> {
    let text = std::fs::read_to_string("/proc/sys/kernel/random/boot_id")?;
    Ok(text.trim().to_owned())
}

/// What reading the cursor file found.
#[derive(Debug)]
pub(crate) enum Loaded {
    /// No file yet: a first run.
    Missing,
    Found(Cursor),
    Unusable(CursorError),
}

/// Why a cursor file cannot be opened for a run.
#[derive(Debug)]
pub(crate) enum OpenError {
    /// The cursor path itself is refused (no file name, no directory, not a regular file).
    Cursor(FileError),
    /// The lock file beside it (named) cannot be created or locked.
    Lock(PathBuf, FileError),
    /// Another process holds the lock file (named).
    InUse(PathBuf),
}

/// A cursor file, locked for this run (see [`LockedFile`]): two runs resuming from the same
/// file would print the same records twice and race to save.
#[derive(Debug)]
pub(crate) struct CursorFile(LockedFile);

impl CursorFile {
    /// Checks the cursor path, then creates (if needed) and takes the lock beside it.
    pub(crate) fn open(path: &Path) -> Result<CursorFile, OpenError> {
        LockedFile::open(path).map(CursorFile).map_err(|e| match e {
            LockError::Path(e) => OpenError::Cursor(e),
            LockError::Lock(lock, e) => OpenError::Lock(lock, e),
            LockError::InUse(lock) => OpenError::InUse(lock),
        })
    }

    /// The path as the user gave it.
    pub(crate) fn path(&self) -> &Path {
        self.0.path()
    }

    /// Reads the cursor (at most [`MAX_LEN`] bytes).
    pub(crate) fn load(&self) -> Result<Loaded, FileError> {
        match self.0.read(MAX_LEN) {
            Ok(None) => Ok(Loaded::Missing),
            Ok(Some(bytes)) => Ok(match std::str::from_utf8(&bytes) {
                Ok(text) => Cursor::parse(text).map_or_else(Loaded::Unusable, Loaded::Found),
                Err(_) => Loaded::Unusable(CursorError::Foreign),
            }),
            Err(FileError::TooLong(_)) => Ok(Loaded::Unusable(CursorError::Foreign)),
            Err(e) => Err(e),
        }
    }

    /// Replaces the cursor atomically: a crash leaves the old one or the new one.
    pub(crate) fn save(&self, cursor: &Cursor) -> Result<(), FileError> {
        self.0
            .replace(cursor.to_text().as_bytes(), Mode::from(0o644))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOT: &str = "dd834108-d3a2-4ce0-b560-ececbe563eb9";

    #[test]
    fn a_printable_cursor_parses_back_and_nothing_else_does() {
        let cursor = Cursor {
            boot_id: BOOT.into(),
            seq: 4805,
        };
        let text = cursor.to_printable();
        assert_eq!(text, format!("kmsg1:{BOOT}:4805"));
        assert_eq!(Cursor::parse_printable(&text), Ok(cursor));
        for bad in [
            String::new(),
            format!("kmsg1:{BOOT}:"),
            format!("kmsg1:{BOOT}:48 05"),
            format!("kmsg1:{BOOT}:4805\n"),
            format!(" kmsg1:{BOOT}:4805"),
            format!("kmsg1:{BOOT}:04805"),
            format!("kmsg1:{BOOT}:+4805"),
            format!("kmsg1:{BOOT}:4805:1"),
            format!("kmsg2:{BOOT}:4805"),
            format!("kmsg1:{}:4805", BOOT.to_uppercase()),
            format!("kmsg1:{}:4805", &BOOT[1..]),
            "kmsg1:not-a-uuid:5".to_owned(),
            format!("kmsg1:{BOOT}:99999999999999999999999"),
        ] {
            assert!(
                matches!(Cursor::parse_printable(&bad), Err(CursorError::Corrupt(_))),
                "{bad:?}"
            );
        }
    }

    #[test]
    fn a_saved_cursor_parses_back() {
        let cursor = Cursor {
            boot_id: BOOT.into(),
            seq: 1234,
        };
        assert_eq!(
            cursor.to_text(),
            format!("fdframe-kmsg-cursor 1\nboot_id {BOOT}\nseq 1234\n")
        );
        assert_eq!(Cursor::parse(&cursor.to_text()), Ok(cursor));
        let zero = format!("fdframe-kmsg-cursor 1\nboot_id {BOOT}\nseq 0\n");
        assert_eq!(Cursor::parse(&zero).map(|c| c.seq), Ok(0));
    }

    #[test]
    fn other_files_are_foreign() {
        for text in [
            "hello\n",
            "fdframe-kmsg-cursorX 1\n",
            "{\"seq\": 3}",
            "fdframe-kmsg",
        ] {
            assert_eq!(Cursor::parse(text), Err(CursorError::Foreign), "{text:?}");
            assert!(!CursorError::Foreign.may_reset());
        }
    }

    #[test]
    fn a_newer_format_is_named() {
        assert_eq!(
            Cursor::parse("fdframe-kmsg-cursor 2\nanything\n"),
            Err(CursorError::UnsupportedVersion("2".into()))
        );
    }

    #[test]
    fn damaged_cursors_are_corrupt_not_reset() {
        let head = "fdframe-kmsg-cursor 1\n";
        for body in [
            format!("boot_id {BOOT}\n"),
            "seq 5\n".to_string(),
            format!("boot_id {BOOT}\nseq -5\n"),
            format!("boot_id {BOOT}\nseq 5x\n"),
            format!("boot_id {BOOT}\nseq 99999999999999999999999\n"),
            "boot_id not-a-uuid\nseq 5\n".to_string(),
            format!("boot_id {BOOT}\nseq 5\nseq 6\n"),
            format!("boot_id {BOOT}\nseq 5\nextra\n"),
            format!("boot_id {}\nseq 5\n", BOOT.to_uppercase()),
            format!("boot_id {BOOT}\n\nseq 5\n"),
            format!("boot_id {BOOT}\nseq 5\r\n"),
        ] {
            let got = Cursor::parse(&format!("{head}{body}"));
            assert!(
                matches!(&got, Err(e @ CursorError::Corrupt(_)) if e.may_reset()),
                "{body:?}: {got:?}"
            );
        }
        assert!(matches!(Cursor::parse(""), Err(CursorError::Corrupt(_))));
    }

    #[test]
    fn a_cut_short_cursor_is_corrupt() {
        // `seq 4805` cut after two digits would otherwise resume 4757 records too early.
        let whole = format!("fdframe-kmsg-cursor 1\nboot_id {BOOT}\nseq 4805\n");
        for len in 1..whole.len() {
            let got = Cursor::parse(&whole[..len]);
            assert!(
                matches!(got, Err(CursorError::Corrupt(_) | CursorError::Foreign)),
                "{:?}: {got:?}",
                &whole[..len]
            );
        }
    }

    #[test]
    fn a_sequence_number_is_digits_only_as_written() {
        for seq in ["+4800", "04800", " 4800", "4800 ", "", "4_800", "0x12c0"] {
            let text = format!("fdframe-kmsg-cursor 1\nboot_id {BOOT}\nseq {seq}\n");
            assert!(
                matches!(Cursor::parse(&text), Err(CursorError::Corrupt(_))),
                "{seq:?}"
            );
        }
    }

    /// A fresh directory under the system's temporary one, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let dir =
                std::env::temp_dir().join(format!("fdframe-cursor-{test}-{}", std::process::id()));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).unwrap();
            Scratch(dir)
        }
    }

    impl Drop for Scratch {
        fn drop(&mut self) {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }

    #[test]
    fn a_held_cursor_cannot_be_locked_twice() {
        let dir = Scratch::new("lock");
        let path = dir.0.join("kmsg.cursor");
        let first = CursorFile::open(&path).unwrap();
        let second = CursorFile::open(&path);
        assert!(
            matches!(&second, Err(OpenError::InUse(lock)) if lock.ends_with(".kmsg.cursor.lock")),
            "a second lock is refused while held: {second:?}"
        );
        drop(first);
        assert!(CursorFile::open(&path).is_ok(), "free again once released");
    }

    #[test]
    fn a_refused_path_creates_no_lock() {
        let dir = Scratch::new("refused");
        std::fs::create_dir(dir.0.join("sub")).unwrap();
        for path in [dir.0.join("sub/.."), dir.0.join("sub/"), dir.0.join("sub")] {
            let got = CursorFile::open(&path);
            assert!(
                matches!(got, Err(OpenError::Cursor(_))),
                "{path:?}: {got:?}"
            );
        }
        let names: Vec<_> = std::fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["sub"]);
        assert_eq!(std::fs::read_dir(dir.0.join("sub")).unwrap().count(), 0);
    }

    #[test]
    fn save_replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = Scratch::new("save");
        let path = dir.0.join("kmsg.cursor");
        let file = CursorFile::open(&path).unwrap();
        assert!(matches!(file.load().unwrap(), Loaded::Missing));
        for seq in [1, 2] {
            let cursor = Cursor {
                boot_id: BOOT.into(),
                seq,
            };
            file.save(&cursor).unwrap();
            assert!(matches!(file.load().unwrap(), Loaded::Found(c) if c == cursor));
        }
        let mut names: Vec<_> = std::fs::read_dir(&dir.0)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        names.sort();
        assert_eq!(names, [".kmsg.cursor.lock", "kmsg.cursor"]);
    }

    #[test]
    fn a_long_file_is_foreign_and_read_no_further() {
        let dir = Scratch::new("long");
        let path = dir.0.join("kmsg.cursor");
        let mut text = format!("fdframe-kmsg-cursor 1\nboot_id {BOOT}\nseq 5\n");
        text.push_str(&"#".repeat(MAX_LEN));
        std::fs::write(&path, text).unwrap();
        let file = CursorFile::open(&path).unwrap();
        assert!(matches!(
            file.load().unwrap(),
            Loaded::Unusable(CursorError::Foreign)
        ));
    }

    proptest::proptest! {
        /// A cursor file is user-controlled input to a root-run program: any text is refused
        /// with a reason or is exactly what `to_text` writes (the parser is strict).
        #[test]
        fn any_cursor_text_is_refused_or_is_canonical(text in "(fdframe-kmsg-cursor [0-9]\n)?(boot_id [-0-9a-f]{0,40}\n)?(seq [+0-9]{0,22}\n)?.{0,40}") {
            if let Ok(cursor) = Cursor::parse(&text) {
                proptest::prop_assert_eq!(cursor.to_text(), text);
            }
        }

        #[test]
        fn any_printable_cursor_is_refused_or_is_canonical(text in "(kmsg1:)?[-0-9a-fA-F]{0,40}(:[+0-9]{0,22})?.{0,8}") {
            if let Ok(cursor) = Cursor::parse_printable(&text) {
                proptest::prop_assert_eq!(cursor.to_printable(), text);
            }
        }

        #[test]
        fn a_cursor_parses_back_from_its_text(seq: u64, id in "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}") {
            let cursor = Cursor { boot_id: id, seq };
            proptest::prop_assert_eq!(Cursor::parse(&cursor.to_text()), Ok(cursor.clone()));
            proptest::prop_assert_eq!(Cursor::parse_printable(&cursor.to_printable()), Ok(cursor));
        }
    }
}
