//! Test helpers shared by the device decoders: drive a decoder the way the engine does.

use bytes::BytesMut;

use crate::{Decoder, Loss};

/// One thing a stream would yield, in the order the engine yields it.
#[derive(Debug, PartialEq)]
pub(super) enum Out<I, E> {
    Item(I),
    Lost(Loss),
    Failed(E),
}

/// What a stream yielded for `D`, in order.
pub(super) type Outs<D> = Vec<Out<<D as Decoder>::Item, <D as Decoder>::Error>>;

/// Feeds `chunks` (one per `read(2)`) to `decoder` as the stream-mode engine does: after each
/// chunk, `decode` until `Ok(None)`, asking `take_loss` after every call and yielding the loss
/// before whatever that call returned. Returns the outputs and the bytes left buffered.
///
/// Panics (failing the test) when the decoder breaks the contract: an item or an error that
/// consumed nothing would make the engine loop forever.
pub(super) fn drive<D: Decoder>(decoder: &mut D, chunks: &[&[u8]]) -> (Outs<D>, BytesMut) {
    let mut buf = BytesMut::new();
    let mut out = Vec::new();
    for chunk in chunks {
        buf.extend_from_slice(chunk);
        loop {
            let before = buf.len();
            let result = decoder.decode(&mut buf);
            if let Some(loss) = decoder.take_loss() {
                out.push(Out::Lost(loss));
            }
            match result {
                Ok(Some(item)) => {
                    assert!(buf.len() < before, "an item consumed no bytes");
                    out.push(Out::Item(item));
                }
                Ok(None) => break,
                Err(e) => {
                    assert!(buf.len() < before, "an error consumed no bytes");
                    out.push(Out::Failed(e));
                }
            }
        }
    }
    (out, buf)
}

/// `bytes` cut at `at` into two reads (either may be empty).
pub(super) fn split_at(bytes: &[u8], at: usize) -> [&[u8]; 2] {
    let (a, b) = bytes.split_at(at.min(bytes.len()));
    [a, b]
}
