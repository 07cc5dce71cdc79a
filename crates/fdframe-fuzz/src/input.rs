//! How a fuzz input's bytes become a decoder configuration, a script of read outcomes and the
//! data those reads return.
//!
//! ```text
//! [config: a few bytes, per target][n: u8][n & 0x7f ops][data: the rest of the input]
//! ```
//!
//! Every byte sequence is a valid input: a field read past the end is 0. The top bit of `n`
//! makes the harness poll as the async backends do, [`poll_buffered`](fdframe::Framer::poll_buffered)
//! first and `poll_next_with` only when that returns `Pending`. Each op is one `read(2)`
//! outcome, its kind chosen by `kind % 32`:
//!
//! | kind     | bytes | outcome                                                                 |
//! |----------|-------|-------------------------------------------------------------------------|
//! | 0..=17, 31 | 2   | fill `next + 1` bytes of data (1..=256)                                 |
//! | 18..=19  | 3     | fill `u16 LE` bytes of data (at least 1)                                |
//! | 20..=21  | 1     | fill all the data left (as much as the read has room for)              |
//! | 22..=23  | 1     | `EINTR`                                                                 |
//! | 24..=25  | 1     | `EAGAIN` (the engine returns `Pending`; the harness polls again)       |
//! | 26       | 1     | `EPIPE`                                                                 |
//! | 27       | 1     | `EIO`                                                                   |
//! | 28       | 1     | `EINVAL`                                                                |
//! | 29       | 1     | `Ok` with 0 bytes: end of input                                         |
//! | 30       | 2     | fill `next + 1` bytes *and* fail with `EIO`, which then sticks (as a real fd's error comes back on the next read) |
//!
//! Once the ops run out, the rest of the data comes in reads as large as offered, then end of
//! input. The data is the tail of the input, so mutations of the tail change bytes and
//! mutations of the head change how they are split into reads.
//!
//! In record mode (`/dev/kmsg`, packets) a fill of `k` bytes is one record of `k` bytes; with
//! less room than that it fails with `EINVAL` and the record is gone (`/dev/kmsg`), or is cut to
//! the room offered (datagrams).

use std::io;
use std::ops::Range;

use fdframe::ReadSpace;

pub(crate) const EINTR: i32 = 4;
pub(crate) const EIO: i32 = 5;
pub(crate) const EAGAIN: i32 = 11;
pub(crate) const EINVAL: i32 = 22;
pub(crate) const EPIPE: i32 = 32;

/// Reads little fields off the front of the input; 0 past its end.
pub(crate) struct Reader<'a> {
    rest: &'a [u8],
}

impl<'a> Reader<'a> {
    pub(crate) fn new(data: &'a [u8]) -> Self {
        Reader { rest: data }
    }

    pub(crate) fn u8(&mut self) -> u8 {
        match self.rest.split_first() {
            Some((&b, rest)) => {
                self.rest = rest;
                b
            }
            None => 0,
        }
    }

    pub(crate) fn u16(&mut self) -> u16 {
        u16::from_le_bytes([self.u8(), self.u8()])
    }

    pub(crate) fn bool(&mut self) -> bool {
        self.u8() & 1 == 1
    }

    /// A value in `lo..=hi`, from one byte.
    pub(crate) fn in_range(&mut self, lo: usize, hi: usize) -> usize {
        lo + usize::from(self.u8()) % (hi - lo + 1)
    }

    pub(crate) fn rest(self) -> &'a [u8] {
        self.rest
    }
}

/// One scripted outcome of `read(2)`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Op {
    Fill(usize),
    FillAll,
    Errno(i32),
    Eof,
    FillThenEio(usize),
    /// Not a read: the marker for "poll as a backend does" (the top bit of `n`).
    BackendStyle,
}

/// How a fill reaches the read buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Feed {
    /// A byte stream: a read takes what it has room for, the rest stays for the next read.
    Stream,
    /// `/dev/kmsg`: one record per read; `EINVAL` and the record is gone if it does not fit.
    Record,
    /// A packet descriptor: one record per read, cut to the room offered.
    Datagram,
}

/// What happened to one record in record mode.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Sent {
    /// Delivered whole: these bytes of the data.
    Whole(Range<usize>),
    /// Cut to the room offered (datagrams): these bytes were delivered, the rest dropped.
    Cut(Range<usize>),
    /// Refused with `EINVAL` for want of room; gone.
    Refused,
    /// A read failed with this errno (neither `EINTR` nor `EAGAIN`).
    Errno(i32),
}

/// Parses `n` ops and returns them with the rest of the input (the data).
pub(crate) fn ops_and_data<'a>(mut reader: Reader<'a>) -> (Vec<Op>, &'a [u8]) {
    let n = reader.u8();
    let mut ops = Vec::with_capacity(usize::from(n & 0x7f) + 1);
    if n & 0x80 != 0 {
        ops.push(Op::BackendStyle);
    }
    for _ in 0..n & 0x7f {
        let op = match reader.u8() % 32 {
            0..=17 | 31 => Op::Fill(usize::from(reader.u8()) + 1),
            18..=19 => Op::Fill(usize::from(reader.u16()).max(1)),
            20..=21 => Op::FillAll,
            22..=23 => Op::Errno(EINTR),
            24..=25 => Op::Errno(EAGAIN),
            26 => Op::Errno(EPIPE),
            27 => Op::Errno(EIO),
            28 => Op::Errno(EINVAL),
            29 => Op::Eof,
            _ => Op::FillThenEio(usize::from(reader.u8()) + 1),
        };
        ops.push(op);
    }
    (ops, reader.rest())
}

/// Replays ops over the data as a file descriptor would; everything it needs is allocated up
/// front, so reading allocates nothing (the memory property measures the engine, not this).
pub(crate) struct Script<'a> {
    ops: Vec<Op>,
    data: &'a [u8],
    feed: Feed,
    next_op: usize,
    /// Data bytes consumed so far (delivered, refused or cut off).
    pos: usize,
    /// A failed read's error comes back on every later read (set by [`Op::FillThenEio`]).
    sticky: Option<i32>,
    /// A 0-byte read has been returned.
    pub(crate) ended: bool,
    /// Reads performed.
    pub(crate) reads: usize,
    /// Record mode: every record and what became of it, in order.
    pub(crate) sent: Vec<Sent>,
    /// Stream mode: how many data bytes were delivered (a prefix of the data).
    pub(crate) delivered: usize,
    /// Every read error but `EINTR` and `EAGAIN`, in order (the decoder may retry some).
    pub(crate) errors: Vec<i32>,
    /// Reads that failed with `EAGAIN`.
    pub(crate) would_blocks: usize,
    /// Reads performed after a 0-byte read had ended the input.
    pub(crate) reads_after_end: usize,
    /// The least room any read was offered.
    pub(crate) min_offer: usize,
    /// Poll with `poll_buffered` first, as the async backends do.
    pub(crate) backend_style: bool,
}

impl<'a> Script<'a> {
    pub(crate) fn new(mut ops: Vec<Op>, data: &'a [u8], feed: Feed) -> Self {
        let backend_style = ops.first() == Some(&Op::BackendStyle);
        ops.retain(|op| *op != Op::BackendStyle);
        let records = ops.len() + 2;
        Script {
            ops,
            data,
            feed,
            next_op: 0,
            pos: 0,
            sticky: None,
            ended: false,
            reads: 0,
            sent: Vec::with_capacity(if feed == Feed::Stream { 0 } else { records }),
            delivered: 0,
            errors: Vec::with_capacity(records),
            would_blocks: 0,
            reads_after_end: 0,
            min_offer: usize::MAX,
            backend_style,
        }
    }

    pub(crate) fn ops_len(&self) -> usize {
        self.ops.len()
    }

    pub(crate) fn data(&self) -> &'a [u8] {
        self.data
    }

    /// The bytes delivered in stream mode.
    pub(crate) fn delivered_bytes(&self) -> &'a [u8] {
        &self.data[..self.delivered]
    }

    /// One `read(2)`.
    pub(crate) fn read(&mut self, buf: &mut ReadSpace<'_>) -> io::Result<()> {
        self.reads += 1;
        self.min_offer = self.min_offer.min(buf.capacity());
        if self.ended {
            self.reads_after_end += 1;
            return Ok(());
        }
        if let Some(errno) = self.sticky {
            return Err(self.error(errno));
        }
        let left = self.data.len() - self.pos;
        let op = match self.ops.get(self.next_op) {
            Some(&op) => {
                self.next_op += 1;
                op
            }
            None if left > 0 => Op::FillAll,
            None => Op::Eof,
        };
        match op {
            Op::Fill(k) => self.fill(buf, k),
            Op::FillAll => self.fill(buf, left),
            Op::FillThenEio(k) => {
                self.fill(buf, k)?;
                if self.ended {
                    // No data was left: that was end of input, not a failed read.
                    return Ok(());
                }
                // The bytes count; the error comes back on the next read, as a real one would.
                self.sticky = Some(EIO);
                Err(io::Error::from_raw_os_error(EIO))
            }
            Op::Errno(EAGAIN) => {
                self.would_blocks += 1;
                Err(io::Error::from_raw_os_error(EAGAIN))
            }
            Op::Errno(EINTR) => Err(io::Error::from_raw_os_error(EINTR)),
            Op::Errno(errno) => Err(self.error(errno)),
            Op::Eof | Op::BackendStyle => {
                self.ended = true;
                Ok(())
            }
        }
    }

    /// Records a failed read and returns its error.
    fn error(&mut self, errno: i32) -> io::Error {
        self.errors.push(errno);
        if self.feed != Feed::Stream {
            self.sent.push(Sent::Errno(errno));
        }
        io::Error::from_raw_os_error(errno)
    }

    fn fill(&mut self, buf: &mut ReadSpace<'_>, k: usize) -> io::Result<()> {
        let left = self.data.len() - self.pos;
        let k = k.min(left);
        if k == 0 {
            self.ended = true;
            return Ok(());
        }
        let start = self.pos;
        match self.feed {
            Feed::Stream => {
                let n = k.min(buf.capacity());
                buf.put_slice(&self.data[start..start + n]);
                self.pos += n;
                self.delivered = self.pos;
            }
            Feed::Record if k > buf.capacity() => {
                self.pos += k;
                self.sent.push(Sent::Refused);
                self.errors.push(EINVAL);
                return Err(io::Error::from_raw_os_error(EINVAL));
            }
            Feed::Record => {
                buf.put_slice(&self.data[start..start + k]);
                self.pos += k;
                self.sent.push(Sent::Whole(start..start + k));
            }
            Feed::Datagram => {
                let n = k.min(buf.capacity());
                buf.put_slice(&self.data[start..start + n]);
                self.pos += k;
                self.sent.push(if n < k {
                    Sent::Cut(start..start + n)
                } else {
                    Sent::Whole(start..start + n)
                });
            }
        }
        Ok(())
    }
}

/// Builds inputs in the format above, for the hand-made seeds.
#[derive(Default)]
pub(crate) struct Builder {
    config: Vec<u8>,
    ops: Vec<u8>,
    n_ops: u8,
    backend_style: bool,
    data: Vec<u8>,
}

impl Builder {
    pub(crate) fn new(config: &[u8]) -> Self {
        Builder {
            config: config.to_vec(),
            ..Builder::default()
        }
    }

    fn op(mut self, bytes: &[u8]) -> Self {
        self.ops.extend_from_slice(bytes);
        self.n_ops += 1;
        self
    }

    /// A read of `k` bytes of data (1..=65535) that appends `bytes` to the data.
    pub(crate) fn fill(self, bytes: &[u8]) -> Self {
        let mut this = self.fill_len(bytes.len());
        this.data.extend_from_slice(bytes);
        this
    }

    /// A read of `k` bytes of whatever data comes next.
    pub(crate) fn fill_len(self, k: usize) -> Self {
        match k {
            1..=256 => self.op(&[0, (k - 1) as u8]),
            _ => {
                let [lo, hi] = (k.clamp(1, 0xffff) as u16).to_le_bytes();
                self.op(&[18, lo, hi])
            }
        }
    }

    pub(crate) fn errno(self, errno: i32) -> Self {
        let kind = match errno {
            EINTR => 22,
            EAGAIN => 24,
            EPIPE => 26,
            EIO => 27,
            EINVAL => 28,
            _ => panic!("no op for errno {errno}"),
        };
        self.op(&[kind])
    }

    /// Poll as the async backends do (`poll_buffered` first).
    pub(crate) fn backend_style(mut self) -> Self {
        self.backend_style = true;
        self
    }

    pub(crate) fn eof(self) -> Self {
        self.op(&[29])
    }

    pub(crate) fn fill_then_eio(self, bytes: &[u8]) -> Self {
        let mut this = self.op(&[30, (bytes.len().clamp(1, 256) - 1) as u8]);
        this.data.extend_from_slice(bytes);
        this
    }

    /// Data delivered after the ops run out, in reads as large as offered.
    pub(crate) fn tail(mut self, bytes: &[u8]) -> Self {
        self.data.extend_from_slice(bytes);
        self
    }

    pub(crate) fn build(self) -> Vec<u8> {
        let mut out = self.config;
        assert!(self.n_ops < 0x80, "at most 127 ops");
        out.push(self.n_ops | if self.backend_style { 0x80 } else { 0 });
        out.extend_from_slice(&self.ops);
        out.extend_from_slice(&self.data);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn built_inputs_parse_back_to_their_ops_and_data() {
        let input = Builder::new(&[7])
            .fill(b"ab")
            .errno(EINTR)
            .fill_len(300)
            .eof()
            .tail(b"cd")
            .build();
        let mut reader = Reader::new(&input);
        assert_eq!(reader.u8(), 7);
        let (ops, data) = ops_and_data(reader);
        assert_eq!(ops, [Op::Fill(2), Op::Errno(EINTR), Op::Fill(300), Op::Eof]);
        assert_eq!(data, b"abcd");
    }

    #[test]
    fn reading_past_the_end_gives_zeros() {
        let mut reader = Reader::new(&[1]);
        assert_eq!(reader.u16(), 1);
        assert_eq!(reader.u8(), 0);
        assert!(reader.rest().is_empty());
    }
}
