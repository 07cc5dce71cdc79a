//! [`Frames`]: the messages of one read, handed out as one value.

use std::fmt;
use std::ops::Range;
use std::sync::OnceLock;

use bytes::Bytes;

/// A batch of messages: what one read brought, handed out at once by the batch readers
/// ([`Framer::poll_batch_with`](crate::Framer::poll_batch_with) and every backend's batch
/// stream or iterator).
///
/// A batch is never empty, and it holds only messages: errors, loss notices and the end of the
/// stream come between batches, in the order the per-message path delivers them.
///
/// Two representations stand behind one API:
///
/// - **A run** (the fast path of [`LinesDecoder`](crate::codec::LinesDecoder),
///   [`Utf8LinesDecoder`](crate::codec::Utf8LinesDecoder),
///   [`LengthDelimitedDecoder`](crate::codec::LengthDelimitedDecoder) and
///   [`FixedSizeDecoder`](crate::codec::FixedSizeDecoder)): one frozen [`Bytes`] holding the
///   whole run of complete frames of a read, and the frames' boundaries in it. Iterating
///   borrows `&[u8]` slices; [`get`](Frames::get) and [`into_iter`](Frames::into_iter) hand out
///   [`Bytes`] that share the run (a reference count, no copy). Building it costs one
///   allocation for the boundaries (amortised over the batch), however many frames it holds.
/// - **Items**: a `Vec` of decoded messages, for decoders without a fast path (the engine
///   calls [`Decoder::decode`](crate::Decoder::decode) once per message).
///
/// # Examples
///
/// ```
/// use bytes::Bytes;
/// use fdframe::Frames;
///
/// let frames = Frames::from_run(Bytes::from_static(b"one\ntwo\n"), vec![0..3, 4..7]);
/// assert_eq!(frames.len(), 2);
/// // Borrowed, for looking at each frame...
/// assert_eq!(frames.iter().collect::<Vec<_>>(), [&b"one"[..], b"two"]);
/// // ...or owned, sharing the run.
/// assert_eq!(frames.get(1), Some(Bytes::from_static(b"two")));
/// let owned: Vec<Bytes> = frames.into_iter().collect();
/// assert_eq!(owned, ["one", "two"]);
/// ```
///
/// Decoders without a fast path give batches of their items:
///
/// ```
/// use fdframe::Frames;
///
/// let frames = Frames::from(vec![7_u64, 8]);
/// assert_eq!(frames.into_iter().collect::<Vec<_>>(), [7, 8]);
/// ```
pub struct Frames<T = Bytes> {
    repr: Repr<T>,
}

enum Repr<T> {
    Items(Vec<T>),
    Run {
        run: Bytes,
        bounds: Vec<[usize; 2]>,
        /// Turns one frame's slice of the run into an item (`Bytes` as it is; a checked line
        /// into its `String`).
        to_item: fn(Bytes) -> T,
    },
    /// A run of whole lines, each ended by `\n`, whose boundaries are found only when they are
    /// needed: iterating walks the run with `memchr` once, as a hand-written loop would, and
    /// nothing is stored per line. [`get`](Frames::get) indexes the lines on first use.
    Lines {
        run: Bytes,
        /// A `\r` before a line's `\n` is not part of the line.
        strip_cr: bool,
        to_item: fn(Bytes) -> T,
        index: OnceLock<Vec<[usize; 2]>>,
    },
}

/// The line that starts at `start` and ends at the `\n` at `newline`, without its `\r` when
/// `strip_cr`.
#[inline]
fn line_end(run: &[u8], start: usize, newline: usize, strip_cr: bool) -> usize {
    if strip_cr && newline > start && run[newline - 1] == b'\r' {
        newline - 1
    } else {
        newline
    }
}

/// Finds the next `\n` of a run. On x86-64 with AVX2 it holds memchr's AVX2 searcher and calls it
/// directly: `memchr_iter` dispatches on the CPU's features at every call, which for 64-byte
/// lines costs a quarter of the search.
#[derive(Clone, Copy, Debug)]
struct Newlines {
    #[cfg(target_arch = "x86_64")]
    avx2: Option<memchr::arch::x86_64::avx2::memchr::One>,
}

impl Newlines {
    fn new() -> Self {
        Newlines {
            #[cfg(target_arch = "x86_64")]
            avx2: memchr::arch::x86_64::avx2::memchr::One::new(b'\n'),
        }
    }

    #[inline]
    fn find(&self, haystack: &[u8]) -> Option<usize> {
        #[cfg(target_arch = "x86_64")]
        if let Some(avx2) = &self.avx2 {
            return avx2.find(haystack);
        }
        memchr::memchr(b'\n', haystack)
    }
}

/// The boundaries of every line of a run of whole lines.
fn index_lines(run: &[u8], strip_cr: bool) -> Vec<[usize; 2]> {
    let mut start = 0;
    memchr::memchr_iter(b'\n', run)
        .map(|newline| {
            let line = [start, line_end(run, start, newline, strip_cr)];
            start = newline + 1;
            line
        })
        .collect()
}

impl<T> Frames<T> {
    /// An empty batch, to push items into.
    pub(crate) const fn new() -> Self {
        Frames {
            repr: Repr::Items(Vec::new()),
        }
    }

    /// A run whose frames are `run[bounds[i]]`, each made an item by `to_item`. `bounds` must be
    /// in order and within `run`.
    pub(crate) fn from_run_with(
        run: Bytes,
        bounds: Vec<[usize; 2]>,
        to_item: fn(Bytes) -> T,
    ) -> Self {
        debug_assert!(
            bounds
                .iter()
                .all(|&[start, end]| start <= end && end <= run.len())
        );
        Frames {
            repr: Repr::Run {
                run,
                bounds,
                to_item,
            },
        }
    }

    /// A run of whole lines, each ended by `\n` (the last byte of `run` is one), each made an
    /// item by `to_item`; boundaries are found lazily.
    pub(crate) fn from_lines(run: Bytes, strip_cr: bool, to_item: fn(Bytes) -> T) -> Self {
        debug_assert_eq!(run.last(), Some(&b'\n'));
        Frames {
            repr: Repr::Lines {
                run,
                strip_cr,
                to_item,
                index: OnceLock::new(),
            },
        }
    }

    /// Appends an item to a batch of items (the engine only ever pushes into one).
    pub(crate) fn push(&mut self, item: T) {
        if let Repr::Items(items) = &mut self.repr {
            items.push(item);
        } else {
            debug_assert!(false, "the engine pushes items only into a batch of items");
        }
    }

    /// How many messages this batch holds.
    ///
    /// For a run of lines this counts its `\n`s (with `memchr`, at memory speed) unless
    /// [`get`](Frames::get) has indexed it already.
    pub fn len(&self) -> usize {
        match &self.repr {
            Repr::Items(items) => items.len(),
            Repr::Run { bounds, .. } => bounds.len(),
            Repr::Lines { run, index, .. } => match index.get() {
                Some(index) => index.len(),
                None => memchr::memchr_iter(b'\n', run).count(),
            },
        }
    }

    /// Whether this batch holds no message (never true for a batch a reader hands out).
    pub fn is_empty(&self) -> bool {
        match &self.repr {
            Repr::Items(items) => items.is_empty(),
            Repr::Run { bounds, .. } => bounds.is_empty(),
            // Whole lines, the last `\n` at its end: at least one.
            Repr::Lines { run, .. } => run.is_empty(),
        }
    }

    /// The `index`th message, owned: a clone of the item, or for a run a [`Bytes`] slice of it
    /// (no copy).
    pub fn get(&self, index: usize) -> Option<T>
    where
        T: Clone,
    {
        match &self.repr {
            Repr::Items(items) => items.get(index).cloned(),
            Repr::Run {
                run,
                bounds,
                to_item,
            } => bounds
                .get(index)
                .map(|&[start, end]| to_item(run.slice(start..end))),
            Repr::Lines {
                run,
                strip_cr,
                to_item,
                index: lines,
            } => lines
                .get_or_init(|| index_lines(run, *strip_cr))
                .get(index)
                .map(|&[start, end]| to_item(run.slice(start..end))),
        }
    }
}

impl Frames<Bytes> {
    /// A batch of the frames `run[range]` for each range in `bounds`, sharing `run`: the fast
    /// path of a decoder whose items are [`Bytes`] (see
    /// [`Decoder::decode_batch`](crate::Decoder::decode_batch)).
    ///
    /// # Panics
    ///
    /// If a range is reversed or reaches past the end of `run`.
    pub fn from_run(run: Bytes, bounds: Vec<Range<usize>>) -> Self {
        let bounds = bounds
            .into_iter()
            .map(|range| {
                assert!(
                    range.start <= range.end && range.end <= run.len(),
                    "Frames::from_run: {range:?} is not within a run of {} bytes",
                    run.len()
                );
                [range.start, range.end]
            })
            .collect();
        Self::from_run_with(run, bounds, std::convert::identity)
    }

    /// The frames as owned [`Bytes`], each sharing the run (no copy), without consuming the
    /// batch.
    pub fn iter_bytes(&self) -> impl Iterator<Item = Bytes> + '_ {
        (0..self.len()).filter_map(|index| self.get(index))
    }
}

impl<T: AsRef<[u8]>> Frames<T> {
    /// The messages' bytes, borrowed.
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            inner: match &self.repr {
                Repr::Items(items) => IterInner::Items(items.iter()),
                Repr::Run { run, bounds, .. } => IterInner::Run {
                    run,
                    bounds: bounds.iter(),
                },
                Repr::Lines { run, strip_cr, .. } => IterInner::Lines {
                    run,
                    start: 0,
                    newlines: Newlines::new(),
                    strip_cr: *strip_cr,
                },
            },
        }
    }
}

impl Frames<String> {
    /// The lines as `&str`, borrowed.
    pub fn iter_str(&self) -> impl Iterator<Item = &str> + '_ {
        // Every frame of a `String` batch was checked to be UTF-8 when the batch was built
        // (the UTF-8 lines fast path checks the whole run), so the fallback never shows.
        self.iter()
            .map(|bytes| std::str::from_utf8(bytes).unwrap_or("\u{fffd}"))
    }
}

impl<T> From<Vec<T>> for Frames<T> {
    /// A batch of these items, in order.
    fn from(items: Vec<T>) -> Self {
        Frames {
            repr: Repr::Items(items),
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for Frames<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.repr {
            Repr::Items(items) => f.debug_tuple("Frames").field(items).finish(),
            Repr::Run { run, bounds, .. } => f
                .debug_list()
                .entries(bounds.iter().map(|&[start, end]| &run[start..end]))
                .finish(),
            Repr::Lines { run, strip_cr, .. } => {
                let mut start = 0;
                f.debug_list()
                    .entries(memchr::memchr_iter(b'\n', run).map(|newline| {
                        let line = &run[start..line_end(run, start, newline, *strip_cr)];
                        start = newline + 1;
                        line
                    }))
                    .finish()
            }
        }
    }
}

impl<T: AsRef<[u8]>> PartialEq for Frames<T> {
    /// Batches are equal when they hold the same messages' bytes, whatever their representation.
    fn eq(&self, other: &Self) -> bool {
        self.len() == other.len() && self.iter().eq(other.iter())
    }
}

/// Borrows the bytes of each message of a [`Frames`]; from [`Frames::iter`].
#[derive(Debug)]
pub struct Iter<'a, T> {
    inner: IterInner<'a, T>,
}

#[derive(Debug)]
enum IterInner<'a, T> {
    Items(std::slice::Iter<'a, T>),
    Run {
        run: &'a [u8],
        bounds: std::slice::Iter<'a, [usize; 2]>,
    },
    Lines {
        run: &'a [u8],
        start: usize,
        newlines: Newlines,
        strip_cr: bool,
    },
}

impl<'a, T: AsRef<[u8]>> Iterator for Iter<'a, T> {
    type Item = &'a [u8];

    #[inline]
    fn next(&mut self) -> Option<&'a [u8]> {
        match &mut self.inner {
            IterInner::Items(items) => items.next().map(AsRef::as_ref),
            IterInner::Run { run, bounds } => {
                let &[start, end] = bounds.next()?;
                run.get(start..end)
            }
            IterInner::Lines {
                run,
                start,
                newlines,
                strip_cr,
            } => {
                let newline = *start + newlines.find(run.get(*start..)?)?;
                let line = run.get(*start..line_end(run, *start, newline, *strip_cr));
                *start = newline + 1;
                line
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            IterInner::Items(items) => items.size_hint(),
            IterInner::Run { bounds, .. } => bounds.size_hint(),
            IterInner::Lines { run, start, .. } => {
                (usize::from(*start < run.len()), Some(run.len() - *start))
            }
        }
    }
}

impl<'a, T: AsRef<[u8]>> IntoIterator for &'a Frames<T> {
    type Item = &'a [u8];
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// The messages of a [`Frames`], owned; from [`Frames::into_iter`].
pub struct IntoIter<T> {
    inner: IntoIterInner<T>,
}

enum IntoIterInner<T> {
    Items(std::vec::IntoIter<T>),
    Run {
        run: Bytes,
        bounds: std::vec::IntoIter<[usize; 2]>,
        to_item: fn(Bytes) -> T,
    },
    Lines {
        run: Bytes,
        start: usize,
        newlines: Newlines,
        strip_cr: bool,
        to_item: fn(Bytes) -> T,
    },
}

impl<T> Iterator for IntoIter<T> {
    type Item = T;

    #[inline]
    fn next(&mut self) -> Option<T> {
        match &mut self.inner {
            IntoIterInner::Items(items) => items.next(),
            IntoIterInner::Run {
                run,
                bounds,
                to_item,
            } => {
                let [start, end] = bounds.next()?;
                Some(to_item(run.slice(start..end)))
            }
            IntoIterInner::Lines {
                run,
                start,
                newlines,
                strip_cr,
                to_item,
            } => {
                let newline = *start + newlines.find(run.get(*start..)?)?;
                let line = run.slice(*start..line_end(run, *start, newline, *strip_cr));
                *start = newline + 1;
                Some(to_item(line))
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        match &self.inner {
            IntoIterInner::Items(items) => items.size_hint(),
            IntoIterInner::Run { bounds, .. } => bounds.size_hint(),
            IntoIterInner::Lines { run, start, .. } => {
                (usize::from(*start < run.len()), Some(run.len() - *start))
            }
        }
    }
}

impl<T: fmt::Debug> fmt::Debug for IntoIter<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("IntoIter")
            .field("left", &self.size_hint().0)
            .finish_non_exhaustive()
    }
}

impl<T> IntoIterator for Frames<T> {
    type Item = T;
    type IntoIter = IntoIter<T>;

    /// The messages, owned, in order; for a run each is a [`Bytes`] slice of it (no copy).
    fn into_iter(self) -> IntoIter<T> {
        IntoIter {
            inner: match self.repr {
                Repr::Items(items) => IntoIterInner::Items(items.into_iter()),
                Repr::Run {
                    run,
                    bounds,
                    to_item,
                } => IntoIterInner::Run {
                    run,
                    bounds: bounds.into_iter(),
                    to_item,
                },
                Repr::Lines {
                    run,
                    strip_cr,
                    to_item,
                    ..
                } => IntoIterInner::Lines {
                    run,
                    start: 0,
                    newlines: Newlines::new(),
                    strip_cr,
                    to_item,
                },
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run_of(text: &'static [u8], bounds: Vec<Range<usize>>) -> Frames {
        Frames::from_run(Bytes::from_static(text), bounds)
    }

    #[test]
    fn a_run_and_items_with_the_same_frames_are_equal_and_iterate_alike() {
        let run = run_of(b"ab\ncd\n\n", vec![0..2, 3..5, 6..6]);
        let items = Frames::from(vec![
            Bytes::from_static(b"ab"),
            Bytes::from_static(b"cd"),
            Bytes::new(),
        ]);
        assert_eq!(run, items);
        assert_eq!(run.len(), 3);
        assert_eq!(run.iter().count(), 3);
        assert_eq!(
            run.iter_bytes().collect::<Vec<_>>(),
            items.iter_bytes().collect::<Vec<_>>()
        );
        assert_eq!(run.get(3), None);
        assert_eq!(items.get(3), None);
        assert_eq!(
            run.into_iter().collect::<Vec<_>>(),
            items.into_iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn a_run_of_lines_gives_the_same_frames_indexed_or_not() {
        let text = Bytes::from_static(b"a\r\n\r\nbc\n\n\rd\r\n");
        for strip_cr in [false, true] {
            let lines = Frames::from_lines(text.clone(), strip_cr, std::convert::identity);
            let expected: Vec<&[u8]> = if strip_cr {
                vec![b"a", b"", b"bc", b"", b"\rd"]
            } else {
                vec![b"a\r", b"\r", b"bc", b"", b"\rd\r"]
            };
            assert_eq!(lines.len(), 5);
            assert_eq!(lines.iter().collect::<Vec<_>>(), expected);
            let owned: Vec<Bytes> = lines.iter_bytes().collect();
            assert_eq!(owned, expected);
            assert_eq!(lines.get(5), None);
            assert_eq!(lines.len(), 5, "indexed by get");
            assert_eq!(format!("{lines:?}"), format!("{expected:?}"));
            assert_eq!(lines.into_iter().collect::<Vec<_>>(), expected);
        }
    }

    #[test]
    fn frames_of_a_run_share_its_allocation() {
        let run = Bytes::from(b"0123456789".to_vec());
        let base = run.as_ptr();
        let frames = Frames::from_run(run, vec![2..4, 6..9]);
        let owned: Vec<Bytes> = frames.into_iter().collect();
        assert_eq!(owned[0].as_ptr(), base.wrapping_add(2));
        assert_eq!(owned[1].as_ptr(), base.wrapping_add(6));
        assert_eq!(owned, ["23", "678"]);
    }

    #[test]
    #[should_panic(expected = "not within a run")]
    fn a_range_past_the_run_is_refused() {
        run_of(b"abc", vec![0..1, 1..4]);
    }

    #[test]
    fn a_batch_of_strings_iterates_as_str() {
        let frames = Frames::from(vec!["é".to_string(), "x".to_string()]);
        assert_eq!(frames.iter_str().collect::<Vec<_>>(), ["é", "x"]);
        assert_eq!(frames.iter().collect::<Vec<_>>(), ["é".as_bytes(), b"x"]);
    }

    #[test]
    fn batches_can_be_sent_and_shared_across_threads() {
        fn send_and_sync<T: Send + Sync>() {}
        send_and_sync::<Frames>();
        send_and_sync::<Frames<String>>();
    }

    #[test]
    fn debug_shows_the_frames() {
        let run = run_of(b"ab\ncd\n", vec![0..2, 3..5]);
        assert_eq!(format!("{run:?}"), "[[97, 98], [99, 100]]");
        assert_eq!(format!("{:?}", Frames::from(vec![1, 2])), "Frames([1, 2])");
    }
}
