//! Bugs the fuzzing found in the engine, each kept as a regression test (the decoders' findings
//! live beside the decoders' own tests).

use fdframe::Framer;
use fdframe::codec::LinesDecoder;

/// `LinesDecoder::new().max_line_len(usize::MAX)` sets the engine's `max_frame_len` to
/// `usize::MAX` (as its own test asserts), and the engine's read offer computes
/// `max_frame_len + 1`: a panic with overflow checks (this test, in a debug build), and
/// otherwise 0, so that every read is offered a single byte.
#[test]
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
