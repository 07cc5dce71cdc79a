//! Test decoders, until the core's codecs land.

use std::fmt;

use bytes::BytesMut;
use fdframe::{Decoder, ReadLimits};

/// Newline-delimited UTF-8 lines, without the `\n`.
#[derive(Debug)]
pub struct Lines;

#[derive(Debug)]
pub struct LinesError;

impl fmt::Display for LinesError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("line is not UTF-8")
    }
}

impl std::error::Error for LinesError {}

impl Decoder for Lines {
    type Item = String;
    type Error = LinesError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<String>, LinesError> {
        let Some(end) = src.iter().position(|&b| b == b'\n') else {
            return Ok(None);
        };
        let line = src.split_to(end + 1);
        String::from_utf8(line[..end].to_vec()).map(Some).map_err(|_| LinesError)
    }

    fn read_limits(&self) -> ReadLimits {
        ReadLimits::stream().max_frame_len(1024 * 1024)
    }
}

/// `/dev/kmsg` records as raw bytes, one per read, with room for 8 KiB.
#[derive(Debug)]
pub struct RawKmsg;

impl RawKmsg {
    pub fn open_oldest() -> fdframe::ReadFd {
        fdframe::ReadFd::open("/dev/kmsg").unwrap()
    }

    pub fn open_new() -> fdframe::ReadFd {
        let fd = fdframe::ReadFd::open("/dev/kmsg").unwrap();
        rustix::fs::seek(&fd, rustix::fs::SeekFrom::End(0)).unwrap();
        fd
    }
}

impl Decoder for RawKmsg {
    type Item = bytes::Bytes;
    type Error = LinesError;

    fn decode(&mut self, src: &mut BytesMut) -> Result<Option<bytes::Bytes>, LinesError> {
        Ok((!src.is_empty()).then(|| src.split().freeze()))
    }

    fn read_limits(&self) -> ReadLimits {
        ReadLimits::one_record_per_read(8192)
    }

    fn read_error(&mut self, error: &std::io::Error) -> fdframe::ReadErrorAction {
        if error.raw_os_error() == Some(32) {
            fdframe::ReadErrorAction::Retry
        } else {
            fdframe::ReadErrorAction::Fail
        }
    }
}
