//! Tests of the kmsg module, by subject:
//!
//! - `golden`: records from the kernel's documentation and every awkward input, exact values
//! - `lazy`: lazily parsed fields agree with the eager parser, whenever they are read
//! - `loss`: the decoder driven as the engine drives it: EPIPE, gaps, resume, exact counts
//! - `open`: `open_at` on regular files: flags and where each start mode lands
//! - `proc_kmsg`: the `/proc/kmsg` line decoder
//! - `props`: property tests: no panics on any bytes, random records round-trip

mod golden;
mod lazy;
mod loss;
mod open;
mod proc_kmsg;
mod props;

use bytes::{Bytes, BytesMut};

use super::KmsgRecord;

/// The bytes of one `read(2)`, as the engine hands them to a one-record-per-read decoder.
fn one_read(bytes: &[u8]) -> BytesMut {
    BytesMut::from(bytes)
}

/// Parses a record that must be valid.
fn parse(raw: &[u8]) -> KmsgRecord {
    match KmsgRecord::parse(Bytes::copy_from_slice(raw)) {
        Ok(record) => record,
        Err(e) => panic!("{e}"),
    }
}
