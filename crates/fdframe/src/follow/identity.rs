//! Which file is which: [`FileId`] (device and inode) and the first-bytes fingerprint.

use std::os::fd::BorrowedFd;

/// How many first bytes of a file the fingerprint covers at most.
pub(crate) const FINGERPRINT_MAX: usize = 256;

/// A file's identity while it exists: its device and inode numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub(crate) struct FileId {
    pub(crate) dev: u64,
    pub(crate) ino: u64,
}

impl FileId {
    pub(crate) fn of(stat: &rustix::fs::Stat) -> FileId {
        FileId {
            dev: stat.st_dev,
            ino: stat.st_ino,
        }
    }
}

/// FNV-1a, 64 bits: a fingerprint of a file's first bytes. Not cryptographic: it tells a
/// reused inode from the file it held, which is not an adversarial setting (whoever can
/// rewrite the file can write any lines anyway).
pub(crate) fn fnv1a(bytes: &[u8]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for &b in bytes {
        hash ^= u64::from(b);
        hash = hash.wrapping_mul(0x0000_0100_0000_01b3);
    }
    hash
}

/// The first `len` bytes of `fd` (fewer if the file is shorter), by `pread`, so the read
/// offset of the descriptor is not disturbed.
pub(crate) fn read_prefix(fd: BorrowedFd<'_>, len: usize) -> std::io::Result<Vec<u8>> {
    let len = len.min(FINGERPRINT_MAX);
    let mut out = vec![0; len];
    let mut got = 0;
    while got < len {
        match rustix::io::pread(fd, &mut out[got..], got as u64) {
            Ok(0) => break,
            Ok(n) => got += n,
            Err(rustix::io::Errno::INTR) => {}
            Err(e) => return Err(e.into()),
        }
    }
    out.truncate(got);
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fnv1a_matches_the_published_test_vectors() {
        assert_eq!(fnv1a(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(fnv1a(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(fnv1a(b"foobar"), 0x8594_4171_f739_67e8);
    }
}
