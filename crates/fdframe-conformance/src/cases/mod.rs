//! The conformance cases, one module per kind of descriptor. Each case is
//! `fn <name><B: Backend>() -> Outcome` and is listed in [`conformance_tests!`](crate::conformance_tests).

pub mod async_read;
pub mod devices;
pub mod follow;
pub mod follow_checkpoints;
pub mod follow_paths;
pub mod kmsg;
pub mod pipes;
pub mod ready_now;
pub mod robustness;
pub mod streams;

use bytes::Bytes;

use crate::Seen;

/// The steps `lines` as items, then the end.
pub(crate) fn lines_then_end(lines: &[&str]) -> Vec<Seen<Bytes>> {
    lines
        .iter()
        .map(|line| Seen::Item(Bytes::copy_from_slice(line.as_bytes())))
        .chain([Seen::End])
        .collect()
}
