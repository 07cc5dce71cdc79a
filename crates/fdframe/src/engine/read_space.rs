use bytes::{BufMut, BytesMut};

use crate::follow::FollowNotice;

/// The free space the engine offers to one `read(2)`: at most [`capacity`](ReadSpace::capacity)
/// bytes, appended to the engine's buffer.
///
/// A backend fills it from a descriptor with [`ReadFd::read_into`](crate::ReadFd::read_into) (or
/// [`read_from`](ReadSpace::read_from), the bare `read(2)`); a test double
/// fills it with [`put_slice`](ReadSpace::put_slice). Filling nothing and returning `Ok(())` means
/// end of input, as a 0-byte `read(2)` does — unless the read *signals* instead (the follow
/// source of [`ReadFd::follow`](crate::ReadFd::follow) does): [`end_segment`](ReadSpace::end_segment)
/// ("the bytes buffered so far end a file, go on reading") and/or
/// [`notice`](ReadSpace::notice) (deliver a [`FollowNotice`]). A read that signals fills nothing.
///
/// ```
/// use bytes::BytesMut;
/// use fdframe::ReadSpace;
///
/// let mut buf = BytesMut::new();
/// let mut read_buf = ReadSpace::new(&mut buf, 4);
/// read_buf.put_slice(b"abc");
/// assert_eq!(read_buf.filled(), 3);
/// assert_eq!(read_buf.capacity(), 1);
/// assert_eq!(&buf[..], b"abc");
/// ```
#[derive(Debug)]
pub struct ReadSpace<'a> {
    buf: &'a mut BytesMut,
    start: usize,
    limit: usize,
    /// Set by [`ReadSpace::end_segment`].
    end_segment: bool,
    /// Where [`ReadSpace::notice`] puts its notice: a slot of the engine's. A reference, not
    /// the notice itself, so that a `ReadSpace` needs no drop glue: the engine builds one per
    /// read, which on a record device is one per message.
    notice: Option<&'a mut Option<FollowNotice>>,
}

impl<'a> ReadSpace<'a> {
    /// Offers room for up to `capacity` bytes after the end of `buf`, reserving it if needed.
    #[inline]
    pub fn new(buf: &'a mut BytesMut, capacity: usize) -> Self {
        buf.reserve(capacity);
        let start = buf.len();
        ReadSpace {
            buf,
            start,
            limit: start + capacity,
            end_segment: false,
            notice: None,
        }
    }

    /// The engine's `ReadSpace`: a notice goes to `slot`.
    #[inline]
    pub(crate) fn with_notice_slot(
        buf: &'a mut BytesMut,
        capacity: usize,
        slot: &'a mut Option<FollowNotice>,
    ) -> Self {
        let mut this = ReadSpace::new(buf, capacity);
        this.notice = Some(slot);
        this
    }

    /// How many bytes the engine had buffered before this read: an undelivered partial frame
    /// (the engine reads only when the buffered bytes hold no whole frame). 0 means the next
    /// byte read starts a new frame.
    pub fn pending(&self) -> usize {
        self.start
    }

    /// Signals that the bytes buffered so far end a segment of the input (a followed file that
    /// is finished): the engine runs [`Decoder::decode_eof`](crate::Decoder::decode_eof) over
    /// them, as at end of input (a held partial line comes out as the segment's last frame, or
    /// [`Error::Truncated`](crate::Error::Truncated) for codecs that cannot end a frame there),
    /// and then **goes on reading** instead of ending the stream.
    ///
    /// The read must fill nothing (return `Ok(())` without bytes); it counts against the
    /// engine's per-call read budget.
    pub fn end_segment(&mut self) {
        self.end_segment = true;
    }

    /// Signals a [`FollowNotice`]: the engine delivers it as
    /// [`Error::Follow`](crate::Error::Follow) (not fatal) after the segment drain if
    /// [`end_segment`](ReadSpace::end_segment) was signalled too, before its next read. A later
    /// call replaces an earlier one of the same read. The read must fill nothing.
    ///
    /// # Panics
    ///
    /// On a `ReadSpace` made with [`new`](ReadSpace::new) rather than offered by a
    /// [`Framer`](crate::Framer): there is no engine to deliver the notice.
    pub fn notice(&mut self, notice: FollowNotice) {
        let slot = self
            .notice
            .as_deref_mut()
            .expect("ReadSpace::notice: only a ReadSpace offered by a Framer can deliver a notice");
        *slot = Some(notice);
    }

    /// Whether this read signalled something (see [`end_segment`](ReadSpace::end_segment) and
    /// [`notice`](ReadSpace::notice)).
    pub fn is_signalled(&self) -> bool {
        self.end_segment || self.notice.as_deref().is_some_and(Option::is_some)
    }

    /// Whether this read signalled the end of a segment.
    pub(crate) fn is_segment_end(&self) -> bool {
        self.end_segment
    }

    /// The bytes this read has added so far.
    pub(crate) fn filled_bytes(&self) -> &[u8] {
        &self.buf[self.start..]
    }

    /// How many more bytes this read may add.
    pub fn capacity(&self) -> usize {
        self.limit - self.buf.len()
    }

    /// How many bytes this read has added so far.
    pub fn filled(&self) -> usize {
        self.buf.len() - self.start
    }

    /// Appends bytes as if a `read(2)` had returned them.
    ///
    /// # Panics
    ///
    /// If `src` is longer than [`capacity`](ReadSpace::capacity): a test double must respect the
    /// room it was offered, exactly as the kernel does.
    pub fn put_slice(&mut self, src: &[u8]) {
        assert!(
            src.len() <= self.capacity(),
            "ReadSpace::put_slice: {} bytes offered room for {}",
            src.len(),
            self.capacity()
        );
        self.buf.put_slice(src);
    }

    /// The buffer and how many bytes this read may still add, for the one `read(2)` into its
    /// spare capacity (`crate::sys`). The engine stays sans-IO: the system call is made by
    /// the I/O side ([`ReadSpace::read_from`], in `fd.rs`), not here.
    #[inline]
    pub(crate) fn spare(&mut self) -> (&mut BytesMut, usize) {
        let room = self.capacity();
        (&mut *self.buf, room)
    }
}
