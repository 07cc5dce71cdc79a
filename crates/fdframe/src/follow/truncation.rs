//! Truncation of an open file (`copytruncate`, `> file`, a rewrite of its first bytes): how it is
//! told from growth, and the restart from offset 0.

use std::io;
use std::os::fd::AsFd;
use std::path::Path;

use rustix::fs::SeekFrom;

use super::super::FollowNotice;
use super::super::identity::{FINGERPRINT_MAX, read_prefix};
use super::Tracked;
use crate::ReadSpace;

/// Adds what a read at `offset` brought to the file's first bytes, up to 256.
pub(super) fn extend_prefix(prefix: &mut Vec<u8>, offset: u64, bytes: &[u8]) {
    let have = prefix.len() as u64;
    if have >= FINGERPRINT_MAX as u64 || offset > have || offset + bytes.len() as u64 <= have {
        return;
    }
    let from = (have - offset) as usize;
    let upto = (FINGERPRINT_MAX as u64 - offset).min(bytes.len() as u64) as usize;
    prefix.extend_from_slice(&bytes[from..upto]);
}

/// A truncated file is read again from its start: a partial record of it that the engine
/// holds is delivered first (`owns_partial`), then the `Truncated` notice.
pub(super) fn restart(
    file: &mut Tracked,
    owns_partial: bool,
    path: &Path,
    buf: &mut ReadSpace<'_>,
) -> io::Result<()> {
    if owns_partial {
        buf.end_segment();
    }
    buf.notice(FollowNotice::Truncated {
        path: path.to_owned(),
        offset: file.offset,
    });
    rustix::fs::seek(&file.fd, SeekFrom::Start(0))?;
    file.offset = 0;
    file.prefix.clear();
    file.caught_up = false;
    Ok(())
}

/// What became of a file since a read reached its end.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Since {
    /// Its size is the read offset: nothing to read (no `read(2)` needed).
    Unchanged,
    /// Longer, and its first bytes are the ones read: appended to.
    Grown,
    /// Shorter than the read offset, or longer with other first bytes: truncated (and
    /// maybe rewritten).
    Truncated,
}

/// One `fstat`, and a read of the first bytes only when the file grew. A same-size rewrite is
/// left to [`is_truncated`], which the end-of-file check runs once per wake-up.
pub(super) fn since_caught_up(file: &Tracked) -> io::Result<Since> {
    let size = rustix::fs::fstat(&file.fd)?.st_size as u64;
    Ok(if size < file.offset {
        Since::Truncated
    } else if size == file.offset {
        Since::Unchanged
    } else if !file.prefix.is_empty()
        && read_prefix(file.fd.as_fd(), file.prefix.len())? != file.prefix
    {
        Since::Truncated
    } else {
        Since::Grown
    })
}

/// The file shrank below the read offset, or its first bytes are not the ones read.
pub(super) fn is_truncated(file: &Tracked) -> io::Result<bool> {
    let size = rustix::fs::fstat(&file.fd)?.st_size as u64;
    if size < file.offset {
        return Ok(true);
    }
    if file.prefix.is_empty() {
        return Ok(false);
    }
    Ok(read_prefix(file.fd.as_fd(), file.prefix.len())? != file.prefix)
}
