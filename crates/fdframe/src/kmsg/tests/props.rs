use std::io;
use std::time::Duration;

use bytes::{Bytes, BytesMut};
use proptest::prelude::*;

use crate::kmsg::escape::escape_like_the_kernel;
use crate::kmsg::{Facility, KmsgDecoder, KmsgFlag, KmsgRecord, Level, ProcKmsgDecoder};
use crate::{Decoder, Loss, LossCause};

/// Bytes that look enough like records to reach every branch of the parser.
fn record_like() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b",".to_vec()),
        Just(b";".to_vec()),
        Just(b"\n".to_vec()),
        Just(b"\n ".to_vec()),
        Just(b"=".to_vec()),
        Just(b"\\x".to_vec()),
        Just(b"\\".to_vec()),
        Just(b"-".to_vec()),
        Just(b"caller=T".to_vec()),
        "[0-9a-fA-F]{1,4}".prop_map(String::into_bytes),
        "[0-9]{18,22}".prop_map(String::into_bytes),
        any::<u8>().prop_map(|b| vec![b]),
    ];
    prop::collection::vec(piece, 0..40).prop_map(|pieces| pieces.concat())
}

pub(super) fn any_input() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![prop::collection::vec(any::<u8>(), 0..300), record_like()]
}

/// One record the kernel could write, and the raw bytes it would read as.
#[derive(Debug, Clone)]
pub(super) struct Built {
    priority: u32,
    seq: u64,
    ts: u64,
    flag: &'static str,
    caller: Option<u32>,
    message: Vec<u8>,
    dict: Vec<(String, Vec<u8>)>,
}

impl Built {
    pub(super) fn raw(&self) -> Vec<u8> {
        let mut raw = format!("{},{},{},{}", self.priority, self.seq, self.ts, self.flag);
        if let Some(t) = self.caller {
            raw.push_str(&format!(",caller=T{t}"));
        }
        raw.push(';');
        let mut raw = raw.into_bytes();
        raw.extend(escape_like_the_kernel(&self.message));
        raw.push(b'\n');
        for (key, value) in &self.dict {
            raw.push(b' ');
            raw.extend(escape_like_the_kernel(key.as_bytes()));
            raw.push(b'=');
            raw.extend(escape_like_the_kernel(value));
            raw.push(b'\n');
        }
        raw
    }
}

pub(super) fn built() -> impl Strategy<Value = Built> {
    (
        (0u32..256, 0u32..8),
        any::<u64>(),
        any::<u64>(),
        prop::sample::select(vec!["-", "c", "+"]),
        prop::option::of(any::<u32>()),
        prop::collection::vec(any::<u8>(), 0..200),
        prop::collection::vec(
            ("[A-Z_]{1,12}", prop::collection::vec(any::<u8>(), 0..40)),
            0..4,
        ),
    )
        .prop_map(
            |((facility, level), seq, ts, flag, caller, message, dict)| Built {
                priority: facility * 8 + level,
                seq,
                ts,
                flag,
                caller,
                message,
                dict,
            },
        )
}

proptest! {
    #[test]
    fn parsing_any_bytes_never_panics(input in any_input()) {
        if let Ok(record) = KmsgRecord::parse(Bytes::from(input.clone())) {
            prop_assert_eq!(record.raw(), &input[..]);
            let _ = (record.message_lossy(), record.caller(), record.facility().to_string());
        }
    }

    #[test]
    fn decoder_survives_any_reads_and_epipes(
        reads in prop::collection::vec(prop::option::of(any_input()), 0..20),
    ) {
        let mut decoder = KmsgDecoder::new();
        for read in reads {
            match read {
                None => {
                    decoder.read_error(&io::Error::from_raw_os_error(32));
                }
                Some(bytes) => {
                    let mut buf = BytesMut::from(&bytes[..]);
                    let _ = decoder.decode(&mut buf);
                    prop_assert!(buf.is_empty(), "a read is always consumed whole");
                }
            }
            while decoder.take_loss().is_some() {}
        }
    }

    #[test]
    fn proc_decoder_survives_any_chunks(
        chunks in prop::collection::vec(any_input(), 0..10),
        max in 1usize..64,
    ) {
        let mut decoder = ProcKmsgDecoder::with_max_line_len(max);
        let mut buf = BytesMut::new();
        for chunk in chunks {
            buf.extend_from_slice(&chunk);
            while let Some(result) = decoder.decode(&mut buf).transpose() {
                if let Ok(line) = result {
                    prop_assert!(line.message.len() <= max);
                }
            }
            prop_assert!(buf.len() <= max, "{} bytes buffered, limit {}", buf.len(), max);
        }
        while decoder.decode_eof(&mut buf).transpose().is_some() {}
        prop_assert!(buf.is_empty());
    }

    #[test]
    fn kernel_written_records_round_trip(b in built()) {
        let raw = b.raw();
        let mut read = BytesMut::from(&raw[..]);
        let record = KmsgDecoder::new().decode(&mut read).unwrap().unwrap();
        prop_assert_eq!(record.priority(), b.priority);
        prop_assert_eq!(record.facility(), Facility::from_number(b.priority >> 3));
        prop_assert_eq!(record.level(), Level::from_number((b.priority & 7) as u8).unwrap());
        prop_assert_eq!(record.seq(), b.seq);
        prop_assert_eq!(record.timestamp_us(), b.ts);
        prop_assert_eq!(record.timestamp(), Duration::from_micros(b.ts));
        prop_assert_eq!(record.flag(), &KmsgFlag::from_field(b.flag.as_bytes()));
        prop_assert_eq!(
            record.caller(),
            b.caller.map(crate::kmsg::Caller::Thread)
        );
        prop_assert_eq!(record.message(), &b.message[..]);
        let dict: Vec<(Vec<u8>, Vec<u8>)> = record
            .dictionary()
            .iter()
            .map(|(k, v)| (k.to_vec(), v.to_vec()))
            .collect();
        let expected: Vec<(Vec<u8>, Vec<u8>)> = b
            .dict
            .iter()
            .map(|(k, v)| (k.clone().into_bytes(), v.clone()))
            .collect();
        prop_assert_eq!(dict, expected);
        prop_assert_eq!(record.raw(), &raw[..]);
    }

    #[test]
    fn every_gap_is_reported_once_with_its_exact_range(
        start in 0u64..1_000_000,
        steps in prop::collection::vec((0u64..5, any::<bool>()), 1..40),
    ) {
        let mut decoder = KmsgDecoder::new();
        let mut expected = Vec::new();
        let mut got = Vec::new();
        let mut seq = start;
        let mut first = true;
        for (gap, epipe) in steps {
            if !first {
                if gap > 0 {
                    expected.push(Loss::sequence_gap(LossCause::KmsgOverrun, seq + 1, seq + 1 + gap));
                }
                seq += 1 + gap;
            }
            if epipe && !first {
                decoder.read_error(&io::Error::from_raw_os_error(32));
                got.extend(std::iter::from_fn(|| decoder.take_loss()));
            }
            first = false;
            let raw = format!("6,{seq},0,-;m\n");
            let record = decoder.decode(&mut BytesMut::from(raw.as_bytes())).unwrap().unwrap();
            got.extend(std::iter::from_fn(|| decoder.take_loss()));
            prop_assert_eq!(record.seq(), seq);
        }
        prop_assert_eq!(got, expected);
    }

    #[test]
    fn proc_lines_round_trip_across_any_split(
        priority in 0u32..2048,
        time in prop::option::of((0u64..100_000, 0u32..1_000_000)),
        message in "[^\\[\n][^\n]{0,80}",
        split in any::<prop::sample::Index>(),
    ) {
        let mut line = format!("<{priority}>");
        if let Some((secs, micros)) = time {
            line.push_str(&format!("[{secs:5}.{micros:06}] "));
        }
        line.push_str(&message);
        line.push('\n');
        let bytes = line.as_bytes();
        let at = split.index(bytes.len());
        let mut decoder = ProcKmsgDecoder::new();
        let mut buf = BytesMut::from(&bytes[..at]);
        let mut out = decoder.decode(&mut buf).unwrap();
        if out.is_none() {
            buf.extend_from_slice(&bytes[at..]);
            out = decoder.decode(&mut buf).unwrap();
        }
        let out = out.unwrap();
        prop_assert_eq!(out.facility, Facility::from_priority(priority));
        prop_assert_eq!(out.level, Level::from_priority(priority));
        prop_assert_eq!(
            out.timestamp,
            time.map(|(s, us)| Duration::new(s, us * 1000))
        );
        prop_assert_eq!(&out.message[..], message.as_bytes());
        prop_assert!(buf.is_empty());
    }
}
