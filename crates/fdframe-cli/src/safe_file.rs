//! Small state files that `fdframe` keeps in a directory the user names: the `kmsg --cursor`
//! file, the `read --follow --checkpoint` file, and their locks ([`LockedFile`]).
//!
//! fdframe usually runs as root, so a path it is given is attack surface: whoever can write the
//! directory could plant a symbolic link, a FIFO or a device where fdframe expects its file.
//! Every step here is made so that such a user can at worst make fdframe *refuse* to run, never
//! make it read, create, truncate, lock or replace some other file, and never make it hang:
//!
//! - **The path is checked before anything is created.** It must end in a file name (`/`, `.`,
//!   `..` and a trailing `/` are refused) in a directory that can be opened.
//! - **The directory is opened once** (`O_DIRECTORY`); every later step is relative to that
//!   descriptor (`openat`, `renameat`, `unlinkat`, `fsync`), so a directory component renamed or
//!   swapped for a symlink later cannot redirect a save. (Symlinks *above* the file, in the
//!   directory part of the path, are followed once, at that open.)
//! - **Only regular files are used, and links are never followed.** A name is first looked at
//!   with `fstatat(AT_SYMLINK_NOFOLLOW)`, so a device or FIFO is never even opened; every open
//!   has `O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC`, and `fstat` on the descriptor checks
//!   again in case the name was swapped in between. A symlink, directory, FIFO, socket or device
//!   is an error, [`FileError::NotRegular`], even when the caller means to replace the file.
//! - **Reads are bounded** ([`Dir::read`] takes a maximum): `/dev/zero` or a huge file cannot
//!   grow memory.
//! - **A file is never written in place.** [`Dir::replace`] writes a new file under an
//!   unpredictable name (`.NAME.tmp-` and 16 random hex digits from `getrandom`), created with
//!   `O_CREAT | O_EXCL` (which fails on any existing name, symlinks included), fsyncs it, renames
//!   it over NAME and fsyncs the directory: a crash leaves the old file or the new one.
//! - **A lock file is opened read-only and never truncated** ([`Dir::lock`]): `flock` needs no
//!   write access, so even a lock name hard-linked to another file changes nothing in it.
//!
//! What no care here can prevent: anyone who can write the directory can delete or replace the
//! files in it (a forged cursor makes the next run skip or repeat records), or put something at
//! a name so that fdframe refuses to start. **The directory must therefore be writable only by
//! the user running fdframe** (for root, something like `/var/lib/fdframe`, mode 0755).

use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::File;
use std::io::{self, Read, Write};
use std::os::fd::OwnedFd;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

use rustix::fs::{AtFlags, CWD, FileType, FlockOperation, Mode, OFlags};
use rustix::io::Errno;

/// What every open of a file here adds: never follow a symlink, never wait (a FIFO), never
/// become a controlling terminal, never leak into a child.
const SAFE: OFlags = OFlags::NOFOLLOW
    .union(OFlags::NONBLOCK)
    .union(OFlags::NOCTTY)
    .union(OFlags::CLOEXEC);

/// Why a file here cannot be used.
#[derive(Debug)]
pub(crate) enum FileError {
    /// The path does not end in a file name: `/`, `.`, `..`, a trailing `/`, an empty path.
    NoFileName,
    /// The directory part of the path cannot be opened as a directory.
    Directory(PathBuf, io::Error),
    /// Something other than a regular file is at the name.
    NotRegular(FileType),
    /// The file holds more than the caller's maximum.
    TooLong(usize),
    /// Any other failure of a system call.
    Io(io::Error),
}

impl fmt::Display for FileError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FileError::NoFileName => f.write_str(
                "it does not name a file (it must end in a file name, not in `/`, `.` or `..`)",
            ),
            FileError::Directory(dir, e) => {
                write!(f, "its directory {} cannot be opened: {e}", dir.display())
            }
            FileError::NotRegular(kind) => write!(
                f,
                "it is {}; only a regular file is used here, and links are never followed",
                kind_name(*kind)
            ),
            FileError::TooLong(max) => write!(f, "it is longer than {max} bytes"),
            FileError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for FileError {
    fn from(e: io::Error) -> FileError {
        FileError::Io(e)
    }
}

impl From<Errno> for FileError {
    fn from(e: Errno) -> FileError {
        FileError::Io(e.into())
    }
}

fn kind_name(kind: FileType) -> &'static str {
    match kind {
        FileType::RegularFile => "a regular file",
        FileType::Directory => "a directory",
        FileType::Symlink => "a symbolic link",
        FileType::Fifo => "a FIFO",
        FileType::Socket => "a socket",
        FileType::CharacterDevice => "a character device",
        FileType::BlockDevice => "a block device",
        FileType::Unknown => "not a regular file",
    }
}

/// A directory, opened once; the files of [`Dir`]'s methods are names in it.
#[derive(Debug)]
pub(crate) struct Dir {
    fd: OwnedFd,
    /// As the user gave it, for messages (empty for a bare file name).
    path: PathBuf,
}

/// An exclusive `flock` on a lock file, held until dropped.
#[derive(Debug)]
pub(crate) struct Lock {
    _file: OwnedFd,
}

impl Dir {
    /// Splits `path` into its directory, opened, and its file name; nothing is created.
    pub(crate) fn of(path: &Path) -> Result<(Dir, OsString), FileError> {
        let (dir, name) = split(path)?;
        let open = if dir.as_os_str().is_empty() {
            Path::new(".")
        } else {
            &dir
        };
        let fd = rustix::fs::openat(
            CWD,
            open,
            OFlags::RDONLY | OFlags::DIRECTORY | OFlags::NOCTTY | OFlags::CLOEXEC,
            Mode::empty(),
        )
        .map_err(|e| FileError::Directory(open.to_owned(), e.into()))?;
        Ok((Dir { fd, path: dir }, name))
    }

    /// `name` in this directory, for messages.
    pub(crate) fn path_of(&self, name: &OsStr) -> PathBuf {
        self.path.join(name)
    }

    /// Whether a regular file is at `name` (`false`: nothing is); anything else is an error.
    pub(crate) fn regular_or_missing(&self, name: &OsStr) -> Result<bool, FileError> {
        match rustix::fs::statat(&self.fd, name, AtFlags::SYMLINK_NOFOLLOW) {
            Ok(stat) => match FileType::from_raw_mode(stat.st_mode) {
                FileType::RegularFile => Ok(true),
                other => Err(FileError::NotRegular(other)),
            },
            Err(Errno::NOENT) => Ok(false),
            Err(e) => Err(e.into()),
        }
    }

    /// The contents of the regular file `name`, at most `max` bytes (`None`: no such file).
    pub(crate) fn read(&self, name: &OsStr, max: usize) -> Result<Option<Vec<u8>>, FileError> {
        if !self.regular_or_missing(name)? {
            return Ok(None);
        }
        let fd = match self.open(name, OFlags::RDONLY, Mode::empty()) {
            Err(FileError::Io(e)) if e.kind() == io::ErrorKind::NotFound => return Ok(None),
            other => other?,
        };
        let mut bytes = Vec::new();
        // One byte more than allowed tells "exactly `max`" from "longer".
        let limit = u64::try_from(max).unwrap_or(u64::MAX).saturating_add(1);
        File::from(fd).take(limit).read_to_end(&mut bytes)?;
        if bytes.len() > max {
            return Err(FileError::TooLong(max));
        }
        Ok(Some(bytes))
    }

    /// Replaces (or creates) the regular file `name` with `bytes`, atomically and durably.
    pub(crate) fn replace(&self, name: &OsStr, bytes: &[u8], mode: Mode) -> Result<(), FileError> {
        // `rename` would replace a symlink or a device node too; refuse those instead.
        self.regular_or_missing(name)?;
        let (temp, fd) = self.create_temporary(name, mode)?;
        let written = (|| -> Result<(), FileError> {
            let mut file = File::from(fd);
            file.write_all(bytes)?;
            file.sync_all()?;
            drop(file);
            rustix::fs::renameat(&self.fd, &temp, &self.fd, name)?;
            // The rename itself is durable once the directory is.
            rustix::fs::fsync(&self.fd)?;
            Ok(())
        })();
        if written.is_err() {
            let _ = rustix::fs::unlinkat(&self.fd, &temp, AtFlags::empty());
        }
        written
    }

    /// Takes an exclusive lock on the lock file `name`, creating it (empty) if needed;
    /// `Ok(None)` when another process holds it.
    pub(crate) fn lock(&self, name: &OsStr) -> Result<Option<Lock>, FileError> {
        self.regular_or_missing(name)?;
        let fd = self.open(name, OFlags::RDONLY | OFlags::CREATE, Mode::from(0o644))?;
        match rustix::fs::flock(&fd, FlockOperation::NonBlockingLockExclusive) {
            Ok(()) => Ok(Some(Lock { _file: fd })),
            Err(Errno::WOULDBLOCK) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Opens `name` with [`SAFE`] flags and checks that it is a regular file.
    fn open(&self, name: &OsStr, flags: OFlags, mode: Mode) -> Result<OwnedFd, FileError> {
        let fd = match rustix::fs::openat(&self.fd, name, flags | SAFE, mode) {
            Ok(fd) => fd,
            // `O_NOFOLLOW` met a symlink planted after the check.
            Err(Errno::LOOP) => return Err(FileError::NotRegular(FileType::Symlink)),
            Err(e) => return Err(e.into()),
        };
        match FileType::from_raw_mode(rustix::fs::fstat(&fd)?.st_mode) {
            FileType::RegularFile => Ok(fd),
            other => Err(FileError::NotRegular(other)),
        }
    }

    /// A new, empty file beside `name`, under a name nobody can guess.
    fn create_temporary(&self, name: &OsStr, mode: Mode) -> Result<(OsString, OwnedFd), FileError> {
        let flags = OFlags::WRONLY | OFlags::CREATE | OFlags::EXCL | SAFE;
        let mut tries = 0;
        loop {
            let mut random = [0u8; 8];
            rustix::rand::getrandom(&mut random, rustix::rand::GetRandomFlags::empty())?;
            let mut temp = OsString::from(".");
            temp.push(name);
            temp.push(".tmp-");
            temp.push(
                random
                    .iter()
                    .map(|b| format!("{b:02x}"))
                    .collect::<String>(),
            );
            match rustix::fs::openat(&self.fd, &temp, flags, mode) {
                Ok(fd) => return Ok((temp, fd)),
                // Someone put something at a random name: try another, a few times.
                Err(Errno::EXIST) if tries < 4 => tries += 1,
                Err(e) => return Err(e.into()),
            }
        }
    }
}

/// Why a [`LockedFile`] cannot be opened.
#[derive(Debug)]
pub(crate) enum LockError {
    /// The path itself is refused (no file name, no directory, not a regular file).
    Path(FileError),
    /// The lock file beside it (named) cannot be created or locked.
    Lock(PathBuf, FileError),
    /// Another process holds the lock file (named).
    InUse(PathBuf),
}

/// A state file, locked for this run: two runs resuming from the same file would handle the
/// same input twice and race to save. The lock lives in a file of its own beside it,
/// `.NAME.lock` (the file itself is replaced by `rename`), held for as long as this value lives.
#[derive(Debug)]
pub(crate) struct LockedFile {
    dir: Dir,
    name: OsString,
    path: PathBuf,
    _lock: Lock,
}

impl LockedFile {
    /// Checks the path, then creates (if needed) and takes the lock beside it. Before the lock
    /// is created the path is checked, so a refused path (`/dev/null`) creates nothing.
    pub(crate) fn open(path: &Path) -> Result<LockedFile, LockError> {
        let (dir, name) = Dir::of(path).map_err(LockError::Path)?;
        dir.regular_or_missing(&name).map_err(LockError::Path)?;
        let mut lock_name = OsString::from(".");
        lock_name.push(&name);
        lock_name.push(".lock");
        let lock_path = dir.path_of(&lock_name);
        let lock = match dir.lock(&lock_name) {
            Ok(Some(lock)) => lock,
            Ok(None) => return Err(LockError::InUse(lock_path)),
            Err(e) => return Err(LockError::Lock(lock_path, e)),
        };
        Ok(LockedFile {
            dir,
            name,
            path: path.to_owned(),
            _lock: lock,
        })
    }

    /// The path as the user gave it.
    pub(crate) fn path(&self) -> &Path {
        &self.path
    }

    /// The contents, at most `max` bytes (`None`: no file yet); see [`Dir::read`].
    pub(crate) fn read(&self, max: usize) -> Result<Option<Vec<u8>>, FileError> {
        self.dir.read(&self.name, max)
    }

    /// Replaces the file atomically and durably; see [`Dir::replace`].
    pub(crate) fn replace(&self, bytes: &[u8], mode: Mode) -> Result<(), FileError> {
        self.dir.replace(&self.name, bytes, mode)
    }
}

/// `path`'s directory (empty when it has none: the current one) and file name.
fn split(path: &Path) -> Result<(PathBuf, OsString), FileError> {
    let bytes = path.as_os_str().as_bytes();
    let (dir, name) = match bytes.iter().rposition(|&b| b == b'/') {
        Some(0) => (&b"/"[..], &bytes[1..]),
        Some(slash) => (&bytes[..slash], &bytes[slash + 1..]),
        None => (&b""[..], bytes),
    };
    if name.is_empty() || name == b"." || name == b".." {
        return Err(FileError::NoFileName);
    }
    Ok((
        PathBuf::from(OsStr::from_bytes(dir)),
        OsStr::from_bytes(name).to_owned(),
    ))
}

#[cfg(test)]
mod tests {
    use std::os::unix::fs::symlink;

    use super::*;

    /// A fresh directory under the system's temporary one, removed on drop.
    struct Scratch(PathBuf);

    impl Scratch {
        fn new(test: &str) -> Scratch {
            let dir = std::env::temp_dir()
                .join(format!("fdframe-safe-file-{test}-{}", std::process::id()));
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

    fn names(dir: &Path) -> Vec<String> {
        let mut names: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    #[test]
    fn a_path_must_end_in_a_file_name() {
        for path in ["", "/", ".", "..", "a/", "a/.", "a/..", "/a/b/"] {
            assert!(
                matches!(split(Path::new(path)), Err(FileError::NoFileName)),
                "{path:?}"
            );
        }
        let split = |p: &str| split(Path::new(p)).unwrap();
        assert_eq!(split("k"), ("".into(), "k".into()));
        assert_eq!(split("/k"), ("/".into(), "k".into()));
        assert_eq!(split("a/b/k"), ("a/b".into(), "k".into()));
        assert_eq!(split("./.k"), (".".into(), ".k".into()));
    }

    #[test]
    fn replace_writes_through_no_symlink_and_leaves_no_temporary() {
        let scratch = Scratch::new("replace");
        let victim = scratch.0.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        symlink(&victim, scratch.0.join("state")).unwrap();
        let (dir, name) = Dir::of(&scratch.0.join("state")).unwrap();
        let refused = dir.replace(&name, b"new", Mode::from(0o644));
        assert!(
            matches!(refused, Err(FileError::NotRegular(FileType::Symlink))),
            "{refused:?}"
        );
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");

        std::fs::remove_file(scratch.0.join("state")).unwrap();
        for text in ["one", "two"] {
            dir.replace(&name, text.as_bytes(), Mode::from(0o644))
                .unwrap();
            assert_eq!(
                dir.read(&name, 16).unwrap().as_deref(),
                Some(text.as_bytes())
            );
        }
        assert_eq!(names(&scratch.0), ["state", "victim"]);
    }

    #[test]
    fn temporary_names_are_unpredictable() {
        let scratch = Scratch::new("temp-names");
        let (dir, name) = Dir::of(&scratch.0.join("state")).unwrap();
        let (first, _) = dir.create_temporary(&name, Mode::from(0o600)).unwrap();
        let (second, _) = dir.create_temporary(&name, Mode::from(0o600)).unwrap();
        assert_ne!(first, second);
        for temp in [&first, &second] {
            let temp = temp.to_string_lossy();
            let random = temp
                .strip_prefix(".state.tmp-")
                .expect("the temp name pattern");
            assert_eq!(random.len(), 16, "{temp}");
            assert!(random.bytes().all(|b| b.is_ascii_hexdigit()), "{temp}");
        }
    }

    #[test]
    fn reads_are_bounded_and_refuse_fifos_without_blocking() {
        let scratch = Scratch::new("read");
        let (dir, _) = Dir::of(&scratch.0.join("x")).unwrap();
        std::fs::write(scratch.0.join("big"), [b'x'; 100]).unwrap();
        assert!(matches!(
            dir.read("big".as_ref(), 99),
            Err(FileError::TooLong(99))
        ));
        assert_eq!(
            dir.read("big".as_ref(), 100).unwrap().map(|b| b.len()),
            Some(100)
        );
        assert!(dir.read("missing".as_ref(), 10).unwrap().is_none());

        rustix::fs::mknodat(&dir.fd, "fifo", FileType::Fifo, Mode::from(0o600), 0).unwrap();
        for result in [
            dir.read("fifo".as_ref(), 10).map(|_| ()),
            dir.lock("fifo".as_ref()).map(|_| ()),
            dir.replace("fifo".as_ref(), b"x", Mode::from(0o600)),
        ] {
            assert!(
                matches!(result, Err(FileError::NotRegular(FileType::Fifo))),
                "{result:?}"
            );
        }
        std::fs::create_dir(scratch.0.join("sub")).unwrap();
        assert!(matches!(
            dir.read("sub".as_ref(), 10),
            Err(FileError::NotRegular(FileType::Directory))
        ));
    }

    #[test]
    fn a_raced_symlink_is_refused_by_the_open_itself() {
        let scratch = Scratch::new("raced");
        let victim = scratch.0.join("victim");
        std::fs::write(&victim, "precious").unwrap();
        symlink(&victim, scratch.0.join("link")).unwrap();
        let (dir, _) = Dir::of(&scratch.0.join("x")).unwrap();
        // `open` skips the `fstatat` look, as if the link had appeared right after it.
        for flags in [OFlags::RDONLY, OFlags::RDONLY | OFlags::CREATE] {
            let opened = dir.open("link".as_ref(), flags, Mode::from(0o644));
            assert!(
                matches!(opened, Err(FileError::NotRegular(FileType::Symlink))),
                "{opened:?}"
            );
        }
        assert_eq!(std::fs::read_to_string(&victim).unwrap(), "precious");
    }

    #[test]
    fn a_lock_is_exclusive_and_created_empty() {
        let scratch = Scratch::new("lock");
        let (dir, _) = Dir::of(&scratch.0.join("x")).unwrap();
        let held = dir.lock(".x.lock".as_ref()).unwrap();
        assert!(held.is_some());
        assert!(dir.lock(".x.lock".as_ref()).unwrap().is_none());
        drop(held);
        assert!(dir.lock(".x.lock".as_ref()).unwrap().is_some());
        assert_eq!(std::fs::read(scratch.0.join(".x.lock")).unwrap(), b"");
    }

    #[test]
    fn a_missing_directory_is_named() {
        let scratch = Scratch::new("no-dir");
        let path = scratch.0.join("absent").join("x");
        let err = Dir::of(&path).unwrap_err();
        assert!(
            matches!(&err, FileError::Directory(d, _) if d.ends_with("absent")),
            "{err:?}"
        );
        assert_eq!(names(&scratch.0), Vec::<String>::new());
    }
}
