//! At-least-once through a pipe: with `--cursor` and standard output a pipe (or FIFO), a record
//! counts as handled once the reader of the pipe has *read* it, not once the pipe took it.
//!
//! A pipe holds up to 64 KiB (more after `F_SETPIPE_SZ`) that its reader has not read yet.
//! When the reader dies, those bytes die with the pipe; a cursor saved once they were written
//! would skip them, and nothing would count them lost. So each record handled is noted with
//! the offset in our output where its bytes end, and after each flush `FIONREAD` on the
//! pipe's write end tells how many of the bytes written are still unread (Linux `pipe_ioctl`
//! serves `FIONREAD` for both ends: it sums the pipe's buffers, which outlive a dead reader
//! until the last end closes). The cursor moves to the newest record whose bytes are all read.
//!
//! Unread bytes written by someone else (a FIFO with several writers, a header written before
//! counting began) only make the count of bytes read too small: the cursor lags, never leads.

use std::collections::VecDeque;
use std::io::{self, BufWriter, Write};
use std::os::fd::AsFd;

use rustix::event::{PollFd, PollFlags, Timespec};
use rustix::fs::FileType;

/// The records waiting for the reader, at most: 16 bytes each. A 64 KiB pipe holds a few
/// hundred JSON lines or a thousand short dmesg lines; one batch (the whole ring buffer at the
/// start) can be longer than any pipe. Past the cap, the newest entry takes in the records
/// that follow: they are saved together, once the reader has read the last of them.
pub(super) const MAX_WAITING: usize = 16 * 1024;

/// A writer that counts the bytes its inner writer accepted.
#[derive(Debug)]
pub(super) struct Counted<W> {
    inner: W,
    written: u64,
}

impl<W> Counted<W> {
    pub(super) fn new(inner: W) -> Counted<W> {
        Counted { inner, written: 0 }
    }
}

impl<W: Write> Write for Counted<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

/// The output of a run: buffered, over a count of what reached standard output.
pub(super) type Out<W> = BufWriter<Counted<W>>;

/// Bytes that reached the inner writer.
pub(super) fn written<W: Write>(out: &Out<W>) -> u64 {
    out.get_ref().written
}

/// Bytes handed to `out`, buffered or not: where the next byte of output will be.
pub(super) fn offset<W: Write>(out: &Out<W>) -> u64 {
    written(out) + out.buffer().len() as u64
}

/// Whether `fd` is a pipe or FIFO (where `FIONREAD` tells what its reader has not read yet).
pub(super) fn is_pipe(fd: impl AsFd) -> bool {
    rustix::fs::fstat(fd).is_ok_and(|st| FileType::from_raw_mode(st.st_mode) == FileType::Fifo)
}

/// The records written into a pipe and not known to be read yet.
#[derive(Debug)]
pub(super) struct PipeDelivery<F> {
    pipe: F,
    /// (sequence number, offset where its output ends), oldest first; offsets strictly rise.
    waiting: VecDeque<(u64, u64)>,
    /// The newest record whose output the reader has read.
    read: Option<u64>,
}

impl<F: AsFd> PipeDelivery<F> {
    /// Follows what the reader of `pipe` (the write end) reads.
    pub(super) fn new(pipe: F) -> PipeDelivery<F> {
        PipeDelivery {
            pipe,
            waiting: VecDeque::new(),
            read: None,
        }
    }

    /// Record `seq` was handled; its output (if any) ends at `end`. `written` (what reached
    /// the pipe) lets a full queue first drop what was read.
    pub(super) fn note(&mut self, seq: u64, end: u64, written: u64) -> io::Result<()> {
        match self.waiting.back_mut() {
            // The same record, with more output after it (a loss notice): it waits for that
            // too, which only delays its save.
            Some(last) if last.0 == seq => last.1 = last.1.max(end),
            // No output since (a filtered record): it is read when the one before it is.
            Some(last) if last.1 >= end => last.0 = seq,
            _ => {
                if self.waiting.len() >= MAX_WAITING {
                    self.advance(written)?;
                }
                let full = self.waiting.len() >= MAX_WAITING;
                match self.waiting.back_mut() {
                    Some(last) if full => *last = (seq, end),
                    _ => self.waiting.push_back((seq, end)),
                }
            }
        }
        Ok(())
    }

    /// Asks the pipe how much of the `written` bytes its reader has read; returns the newest
    /// record whose output it has read (`None`: none yet).
    pub(super) fn advance(&mut self, written: u64) -> io::Result<Option<u64>> {
        if !self.waiting.is_empty() {
            let unread = rustix::io::ioctl_fionread(&self.pipe)?;
            let read = written.saturating_sub(unread);
            while let Some(&(seq, end)) = self.waiting.front() {
                if end > read {
                    break;
                }
                self.read = Some(seq);
                self.waiting.pop_front();
            }
        }
        Ok(self.read)
    }

    /// Whether records wait for the reader.
    pub(super) fn waiting(&self) -> bool {
        !self.waiting.is_empty()
    }

    /// Whether the pipe has no reader any more (what is in it will never be read).
    pub(super) fn reader_gone(&self) -> bool {
        let fd = self.pipe.as_fd();
        let mut fds = [PollFd::new(&fd, PollFlags::OUT)];
        let zero = Timespec {
            tv_sec: 0,
            tv_nsec: 0,
        };
        rustix::event::poll(&mut fds, Some(&zero)).is_ok_and(|n| n > 0)
            && fds[0].revents().contains(PollFlags::ERR)
    }
}

#[cfg(test)]
mod tests {
    use std::io::Read;
    use std::os::fd::OwnedFd;

    use super::*;

    fn pipe() -> (std::fs::File, OwnedFd) {
        let (read, write) = rustix::pipe::pipe().expect("pipe");
        (std::fs::File::from(read), write)
    }

    #[test]
    fn a_record_counts_as_read_once_the_reader_has_read_all_its_bytes() {
        let (mut reader, write) = pipe();
        let mut out = BufWriter::new(Counted::new(std::fs::File::from(
            write.try_clone().expect("dup"),
        )));
        let mut delivery = PipeDelivery::new(write);
        for (seq, line) in [(1, "one\n"), (2, "two\n"), (3, "three\n")] {
            out.write_all(line.as_bytes()).unwrap();
            delivery.note(seq, offset(&out), written(&out)).unwrap();
        }
        out.flush().unwrap();
        assert_eq!(delivery.advance(written(&out)).unwrap(), None);
        let mut buf = [0; 6];
        reader.read_exact(&mut buf).unwrap(); // "one\ntw"
        assert_eq!(delivery.advance(written(&out)).unwrap(), Some(1));
        reader.read_exact(&mut buf[..2]).unwrap(); // "o\n"
        assert_eq!(delivery.advance(written(&out)).unwrap(), Some(2));
        assert!(delivery.waiting());
        drop(reader);
        // The reader died with "three\n" unread: record 3 was never read.
        assert!(delivery.reader_gone());
        assert_eq!(delivery.advance(written(&out)).unwrap(), Some(2));
    }

    #[test]
    fn a_filtered_record_is_read_with_the_output_before_it() {
        let (mut reader, write) = pipe();
        let mut delivery = PipeDelivery::new(write);
        delivery.note(1, 4, 0).unwrap();
        delivery.note(2, 4, 0).unwrap(); // no output of its own
        delivery.note(3, 9, 0).unwrap();
        assert_eq!(delivery.waiting.len(), 2);
        rustix::io::write(&delivery.pipe, b"one\nthree").unwrap();
        let mut buf = [0; 4];
        reader.read_exact(&mut buf).unwrap();
        assert_eq!(delivery.advance(9).unwrap(), Some(2));
    }

    #[test]
    fn past_the_cap_the_newest_entry_takes_in_the_next_records() {
        let (_reader, write) = pipe();
        let mut delivery = PipeDelivery::new(write);
        for seq in 0..MAX_WAITING as u64 + 10 {
            // Nothing was written to the pipe: nothing can be dropped as read.
            delivery.note(seq, seq + 1, 0).unwrap();
        }
        assert_eq!(delivery.waiting.len(), MAX_WAITING);
        let newest = MAX_WAITING as u64 + 9;
        assert_eq!(delivery.waiting.back(), Some(&(newest, newest + 1)));
        // Once everything is read, the newest record is.
        assert_eq!(delivery.advance(newest + 1).unwrap(), Some(newest));
    }

    #[test]
    fn a_full_queue_first_drops_what_was_read() {
        let (mut reader, write) = pipe();
        let mut delivery = PipeDelivery::new(write);
        for seq in 0..MAX_WAITING as u64 {
            delivery.note(seq, seq + 1, 0).unwrap();
        }
        rustix::io::write(&delivery.pipe, &[b'x'; 100]).unwrap();
        let mut buf = [0; 100];
        reader.read_exact(&mut buf).unwrap();
        delivery
            .note(MAX_WAITING as u64, MAX_WAITING as u64 + 1, 100)
            .unwrap();
        assert_eq!(delivery.waiting.len(), MAX_WAITING - 100 + 1);
        assert_eq!(delivery.read, Some(99));
    }

    #[test]
    fn only_a_pipe_is_a_pipe() {
        let (reader, write) = pipe();
        assert!(is_pipe(&write) && is_pipe(&reader));
        let file = std::fs::File::open("/proc/self/stat").unwrap();
        assert!(!is_pipe(&file));
    }
}
