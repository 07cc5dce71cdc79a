//! Bugs the fuzzing found in code this crate may not change (the engine), each reproduced as a
//! test. Ignored while the bug stands; the fix removes the `#[ignore]` (and turns on the input
//! space that found it, `UNLIMITED_LIMITS` in `src/targets/codecs.rs`).

use fdframe::Framer;
use fdframe::codec::LinesDecoder;

/// `LinesDecoder::new().max_line_len(usize::MAX)` sets the engine's `max_frame_len` to
/// `usize::MAX` (as its own test asserts), and the engine's read offer computes
/// `max_frame_len + 1`: a panic with overflow checks (this test, in a debug build), and
/// otherwise 0, so that every read is offered a single byte.
#[test]
#[ignore = "engine bug: read_offer overflows for max_frame_len == usize::MAX"]
fn engine_offer_with_an_unlimited_frame_len() {
    let mut framer = Framer::new(LinesDecoder::new().max_line_len(usize::MAX));
    let mut data = &b"hello\n"[..];
    let mut offers = Vec::new();
    let step = framer.poll_next_with(|buf| {
        offers.push(buf.capacity());
        let n = data.len().min(buf.capacity());
        buf.put_slice(&data[..n]);
        data = &data[n..];
        Ok(())
    });
    assert!(matches!(step, std::task::Poll::Ready(Some(Ok(ref line))) if line == "hello"));
    assert_eq!(
        offers,
        [Framer::<LinesDecoder>::DEFAULT_INITIAL_READ_SIZE],
        "one read of the initial read size"
    );
}
