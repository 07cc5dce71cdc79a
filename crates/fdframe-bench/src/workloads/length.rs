//! Length-delimited frames (`u32` big-endian payload length, then the payload), 100 B and
//! 16 KiB payloads, through the same 1 MiB pipe: the raw loop, tokio-util's
//! `LengthDelimitedCodec` tuned as the line glue is, and fdframe on every backend.

use std::os::fd::OwnedFd;
use std::sync::Arc;

use fdframe::codec::LengthDelimitedDecoder;

use crate::drive;
use crate::harness::{self, Backend, Contender, Res, Role, Tally};
use crate::options::Options;
use crate::peers::{glue, raw};
use crate::pipe::{self, Payload, PipeRun};
use crate::report::{self, Ratio, Targets};

/// Payload sizes.
pub(crate) const PAYLOAD_LENS: [usize; 2] = [100, 16 * 1024];

/// Every length-delimited reader, baselines first; then, for each of `max_reads` (the
/// `--max-read` experiment), every fdframe reader with that largest read size.
pub(crate) fn contenders(max_reads: &[usize]) -> Vec<Contender<PipeRun>> {
    let mut list: Vec<Contender<PipeRun>> = vec![
        Contender {
            name: "raw read(2) 64 KiB, headers walked".into(),
            role: Role::Raw,
            run: Box::new(raw::length_delimited),
        },
        Contender {
            name: "tokio-util LengthDelimitedCodec, FramedRead 64 KiB".into(),
            role: Role::Glue,
            run: Box::new(tokio_util_length_delimited),
        },
    ];
    for max_read in std::iter::once(None).chain(max_reads.iter().copied().map(Some)) {
        let suffix = max_read.map_or(String::new(), |b| format!(", max read {} KiB", b / 1024));
        let role = |role: Role| {
            if max_read.is_some() {
                Role::Variant
            } else {
                role
            }
        };
        let framer = move || drive::framer(LengthDelimitedDecoder::new(), max_read);
        for backend in Backend::ALL {
            list.push(Contender {
                name: format!("fdframe {backend}{suffix}"),
                role: role(Role::PerFrame(backend)),
                run: Box::new(move |fd| drive::tally(backend, fd, framer())),
            });
        }
        for backend in Backend::ALL {
            list.push(Contender {
                name: format!("fdframe {backend}, batch{suffix}"),
                role: role(Role::Batch(backend)),
                run: Box::new(move |fd| drive::batch_tally(backend, fd, framer())),
            });
        }
    }
    list
}

/// tokio-util's codec configured for exactly this format, in the tuned glue's `FramedRead`.
fn tokio_util_length_delimited(fd: OwnedFd) -> Res<Tally> {
    let codec = tokio_util::codec::LengthDelimitedCodec::builder()
        .length_field_type::<u32>()
        .big_endian()
        .new_codec();
    let mut tally = Tally::default();
    glue::tokio_framed(fd, 64 * 1024, codec, |frame| tally.frame(frame.len()))?;
    Ok(tally)
}

/// Runs both payload sizes.
pub(crate) fn run(options: &Options, targets: &mut Targets) -> Res<()> {
    let rounds = options.rounds(5);
    let megabytes = options.megabytes();
    for payload_len in PAYLOAD_LENS {
        let payload = Arc::new(Payload::length_delimited(payload_len, megabytes));
        let contenders = harness::select(
            contenders(&options.max_reads),
            |name| options.selects(name),
            !options.solo,
        );
        let runs = harness::interleave(&contenders, rounds, options.clock, |c| {
            pipe::measure(&*c.run, &payload)
        })?;
        report::throughput(
            options.clock,
            &format!(
                "length-delimited frames (u32 BE), {payload_len} B payloads, {megabytes} MiB per \
                 run, 1 MiB pipe, writer thread ({} KiB writes); median of {rounds} interleaved \
                 rounds",
                pipe::write_size() / 1024
            ),
            &runs,
            payload.len(),
            payload.expected().frames,
            &[
                Ratio {
                    heading: "x raw",
                    baseline: report::baseline(&runs, Role::Raw),
                },
                Ratio {
                    heading: "x tk-util",
                    baseline: report::baseline(&runs, Role::Glue),
                },
            ],
            options.print_runs,
        );
        let workload = format!("length-delimited {payload_len} B");
        let blocking = report::baseline(&runs, Role::PerFrame(Backend::Blocking));
        super::lines::within_15_percent_of_blocking(&workload, &runs, blocking, targets);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_length_delimited_reader_sees_every_frame() {
        for payload_len in PAYLOAD_LENS {
            let payload = Arc::new(Payload::length_delimited(payload_len, 1));
            for c in contenders(&[64 * 1024]) {
                pipe::measure(&*c.run, &payload)
                    .unwrap_or_else(|e| panic!("{} at {payload_len} B: {e}", c.name));
            }
        }
    }
}
