//! `--cursor FILE`: where `fdframe kmsg` stopped, so that the next run starts right after it.
//!
//! The file holds the boot it belongs to and the sequence number of the last record handled
//! (printed, or skipped by a filter):
//!
//! ```text
//! fdframe-kmsg-cursor 1
//! boot_id 0c6a3e5c-1b39-4b5c-9c1e-5f0e7a8e2a41
//! seq 1234
//! ```
//!
//! It is replaced atomically (a temporary file in the same directory, fsync, rename, fsync of the
//! directory), so a crash leaves the old cursor or the new one, never a torn one. Sequence
//! numbers restart at every boot, so a cursor from another boot means "start from this boot's
//! first record". A file that is not a cursor, or a damaged one, is an error, never a silent
//! fresh start: that could print the whole log again, or skip records.

use std::fmt;
use std::fs::{self, File, OpenOptions};
use std::io::{self, Write};
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};

const MAGIC: &str = "fdframe-kmsg-cursor";
const VERSION: u32 = 1;

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
    /// The file does not start like a cursor: some other file.
    Foreign,
    /// A cursor format this version does not know.
    UnsupportedVersion(String),
    /// A cursor with a missing or malformed field.
    Corrupt(String),
    /// A cursor of this boot that names a record the kernel has not logged yet.
    AheadOfLog { seq: u64, newest: u64 },
}

impl fmt::Display for CursorError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CursorError::Foreign => write!(f, "it is not an fdframe cursor file"),
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
        let mut lines = text.lines();
        let header = lines.next().unwrap_or("");
        let version = header
            .strip_prefix(MAGIC)
            .and_then(|rest| rest.strip_prefix(' '))
            .ok_or(CursorError::Foreign)?;
        if version != VERSION.to_string() {
            return Err(CursorError::UnsupportedVersion(version.to_owned()));
        }
        let (mut boot_id, mut seq) = (None, None);
        for line in lines.filter(|l| !l.is_empty()) {
            let corrupt = || CursorError::Corrupt(format!("unexpected line {line:?}"));
            let (key, value) = line.split_once(' ').ok_or_else(corrupt)?;
            match key {
                "boot_id" if boot_id.is_none() && is_boot_id(value) => {
                    boot_id = Some(value.to_owned())
                }
                "seq" if seq.is_none() => seq = Some(value.parse::<u64>().map_err(|_| corrupt())?),
                _ => return Err(corrupt()),
            }
        }
        match (boot_id, seq) {
            (Some(boot_id), Some(seq)) => Ok(Cursor { boot_id, seq }),
            (None, _) => Err(CursorError::Corrupt("no boot_id line".into())),
            (_, None) => Err(CursorError::Corrupt("no seq line".into())),
        }
    }

    /// The file's text.
    pub(crate) fn to_text(&self) -> String {
        format!(
            "{MAGIC} {VERSION}\nboot_id {}\nseq {}\n",
            self.boot_id, self.seq
        )
    }
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
    let text = fs::read_to_string("/proc/sys/kernel/random/boot_id")?;
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

/// Reads the cursor at `path`.
pub(crate) fn load(path: &Path) -> io::Result<Loaded> {
    match fs::read(path) {
        Ok(bytes) => Ok(match std::str::from_utf8(&bytes) {
            Ok(text) => Cursor::parse(text).map_or_else(Loaded::Unusable, Loaded::Found),
            Err(_) => Loaded::Unusable(CursorError::Foreign),
        }),
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(Loaded::Missing),
        Err(e) => Err(e),
    }
}

/// An exclusive hold on a cursor, for one run: two runs resuming from the same file would print
/// the same records twice and race to save. The lock lives in a file of its own beside the
/// cursor (the cursor itself is replaced by `rename`), held for as long as this value lives.
#[derive(Debug)]
pub(crate) struct CursorLock {
    _held: File,
}

/// The lock file that guards the cursor at `path`.
pub(crate) fn lock_path(path: &Path) -> PathBuf {
    let mut name = std::ffi::OsString::from(".");
    name.push(path.file_name().unwrap_or_default());
    name.push(".lock");
    path.with_file_name(name)
}

/// Takes the lock on the cursor at `path`; `Ok(None)` when another process holds it.
pub(crate) fn lock(path: &Path) -> io::Result<Option<CursorLock>> {
    use rustix::fs::{FlockOperation, flock};
    let file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(false)
        .mode(0o644)
        .open(lock_path(path))?;
    match flock(&file, FlockOperation::NonBlockingLockExclusive) {
        Ok(()) => Ok(Some(CursorLock { _held: file })),
        Err(rustix::io::Errno::WOULDBLOCK) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Replaces the cursor at `path` atomically.
pub(crate) fn save(path: &Path, cursor: &Cursor) -> io::Result<()> {
    let tmp = temp_path(path);
    let result = write_synced(&tmp, cursor.to_text().as_bytes())
        .and_then(|()| fs::rename(&tmp, path))
        .and_then(|()| sync_dir(path));
    if result.is_err() {
        let _ = fs::remove_file(&tmp);
    }
    result
}

fn temp_path(path: &Path) -> PathBuf {
    let name = path
        .file_name()
        .map_or_else(Default::default, |n| n.to_owned());
    let mut tmp_name = std::ffi::OsString::from(".");
    tmp_name.push(name);
    tmp_name.push(format!(".tmp{}", std::process::id()));
    path.with_file_name(tmp_name)
}

fn write_synced(path: &Path, bytes: &[u8]) -> io::Result<()> {
    let mut file = OpenOptions::new()
        .write(true)
        .create(true)
        .truncate(true)
        .mode(0o644)
        .open(path)?;
    file.write_all(bytes)?;
    file.sync_all()
}

/// Makes the rename durable.
fn sync_dir(path: &Path) -> io::Result<()> {
    let dir = match path.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => dir,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    const BOOT: &str = "dd834108-d3a2-4ce0-b560-ececbe563eb9";

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
    }

    #[test]
    fn other_files_are_foreign() {
        for text in ["", "hello\n", "fdframe-kmsg-cursorX 1\n", "{\"seq\": 3}"] {
            assert_eq!(Cursor::parse(text), Err(CursorError::Foreign), "{text:?}");
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
        ] {
            let got = Cursor::parse(&format!("{head}{body}"));
            assert!(
                matches!(got, Err(CursorError::Corrupt(_))),
                "{body:?}: {got:?}"
            );
        }
    }

    #[test]
    fn a_held_cursor_cannot_be_locked_twice() {
        let dir = std::env::temp_dir().join(format!("fdframe-cursor-lock-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kmsg.cursor");
        let first = lock(&path).unwrap();
        assert!(first.is_some());
        assert!(
            lock(&path).unwrap().is_none(),
            "a second lock is refused while held"
        );
        drop(first);
        assert!(lock(&path).unwrap().is_some(), "free again once released");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn save_replaces_the_file_and_leaves_no_temporary_behind() {
        let dir = std::env::temp_dir().join(format!("fdframe-cursor-unit-{}", std::process::id()));
        fs::create_dir_all(&dir).unwrap();
        let path = dir.join("kmsg.cursor");
        for seq in [1, 2] {
            let cursor = Cursor {
                boot_id: BOOT.into(),
                seq,
            };
            save(&path, &cursor).unwrap();
            assert!(matches!(load(&path).unwrap(), Loaded::Found(c) if c == cursor));
        }
        let names: Vec<_> = fs::read_dir(&dir)
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(names, ["kmsg.cursor"]);
        fs::remove_dir_all(&dir).unwrap();
        assert!(matches!(load(&path).unwrap(), Loaded::Missing));
    }
}
