//! Pipe lines, 64 B and 512 B (newline included), through a 1 MiB pipe filled by a writer
//! thread: every line reader there is, against the raw loop, the per-frame ceiling and the
//! tuned glue.

use std::sync::Arc;

use fdframe::codec::LinesDecoder;

use crate::drive;
use crate::harness::{self, Backend, Contender, Res, Role, Tally};
use crate::options::Options;
use crate::peers::{ceiling, glue, raw};
use crate::pipe::{self, Payload, PipeRun};
use crate::report::{self, Ratio, Targets};

/// Line lengths, newline included.
pub(crate) const LINE_LENS: [usize; 2] = [64, 512];

fn contender(
    name: &str,
    role: Role,
    run: impl Fn(std::os::fd::OwnedFd) -> Res<Tally> + 'static,
) -> Contender<PipeRun> {
    Contender {
        name: name.to_string(),
        role,
        run: Box::new(run),
    }
}

/// Every line reader, baselines first; then, for each of `max_reads` (the `--max-read`
/// experiment), the batch ceiling with reads of that size and every fdframe reader with that
/// largest read size.
pub(crate) fn contenders(max_reads: &[usize]) -> Vec<Contender<PipeRun>> {
    let mut list = vec![
        contender(
            "raw read(2) 64 KiB + memchr_iter count",
            Role::Raw,
            raw::lines,
        ),
        contender(
            "per-frame ceiling: split_to + freeze per line",
            Role::Ceiling,
            ceiling::per_frame_tally,
        ),
        contender(
            "batch ceiling: 256 KiB reads, one Bytes per read",
            Role::BatchCeiling,
            |fd| ceiling::batch_tally(fd, ceiling::BATCH_READ),
        ),
        contender(
            "tuned glue: tokio pipe, FramedRead 8 KiB",
            Role::Glue,
            |fd| tokio_glue(fd, 8 * 1024),
        ),
        contender(
            "tuned glue: tokio pipe, FramedRead 64 KiB",
            Role::Glue,
            |fd| tokio_glue(fd, 64 * 1024),
        ),
        contender(
            "tokio-util LinesCodec (String), FramedRead 64 KiB",
            Role::Peer,
            |fd| {
                let mut tally = Tally::default();
                let codec = tokio_util::codec::LinesCodec::new();
                glue::tokio_framed(fd, 64 * 1024, codec, |line| tally.frame(line.len()))?;
                Ok(tally)
            },
        ),
        contender(
            "asynchronous-codec LinesCodec (String), async-io",
            Role::Peer,
            |fd| {
                let mut tally = Tally::default();
                let codec = asynchronous_codec::LinesCodec;
                // asynchronous-codec keeps the newline in the line.
                glue::async_codec(fd, codec, |line| tally.frame(line.len() - 1))?;
                Ok(tally)
            },
        ),
    ];
    fdframe_contenders(&mut list, None);
    for &max_read in max_reads {
        list.push(contender(
            &format!(
                "batch ceiling, max read {} KiB: one Bytes per read",
                max_read / 1024
            ),
            Role::Variant,
            move |fd| ceiling::batch_tally(fd, max_read),
        ));
        fdframe_contenders(&mut list, Some(max_read));
    }
    list
}

/// Every backend, per frame and batch; with `max_read`, as variants at that largest read size.
fn fdframe_contenders(list: &mut Vec<Contender<PipeRun>>, max_read: Option<usize>) {
    let suffix = max_read.map_or(String::new(), |b| format!(", max read {} KiB", b / 1024));
    let role = |role: Role| {
        if max_read.is_some() {
            Role::Variant
        } else {
            role
        }
    };
    let framer = move || drive::framer(LinesDecoder::new(), max_read);
    for backend in Backend::ALL {
        list.push(contender(
            &format!("fdframe {backend}{suffix}"),
            role(Role::PerFrame(backend)),
            move |fd| drive::tally(backend, fd, framer()),
        ));
    }
    for backend in Backend::ALL {
        list.push(contender(
            &format!("fdframe {backend}, batch{suffix}"),
            role(Role::Batch(backend)),
            move |fd| drive::batch_tally(backend, fd, framer()),
        ));
    }
}

fn tokio_glue(fd: std::os::fd::OwnedFd, capacity: usize) -> Res<Tally> {
    let mut tally = Tally::default();
    glue::tokio_framed(fd, capacity, glue::ZeroCopyLines::default(), |line| {
        tally.frame(line.len())
    })?;
    Ok(tally)
}

/// Runs both line lengths and adds their targets.
pub(crate) fn run(options: &Options, targets: &mut Targets) -> Res<()> {
    let rounds = options.rounds(7);
    let megabytes = options.megabytes();
    let line_lens = options
        .line_len
        .map_or(LINE_LENS.to_vec(), |len| vec![len.max(2)]);
    for line_len in line_lens {
        let payload = Arc::new(Payload::lines(line_len, megabytes));
        let contenders = harness::select(
            contenders(&options.max_reads),
            |name| options.selects(name),
            !options.solo,
        );
        let runs = harness::interleave(&contenders, rounds, options.clock, |c| {
            pipe::measure(&*c.run, &payload)
        })?;
        let raw = report::baseline(&runs, Role::Raw);
        let ceiling = report::baseline(&runs, Role::Ceiling);
        let glue = report::baseline(&runs, Role::Glue);
        report::throughput(
            options.clock,
            &format!(
                "pipe lines, {line_len} B, {megabytes} MiB per run, 1 MiB pipe, writer thread \
                 ({} KiB writes); median of {rounds} interleaved rounds; glue = the faster tuned \
                 glue",
                pipe::write_size() / 1024
            ),
            &runs,
            payload.len(),
            payload.expected().frames,
            &[
                Ratio {
                    heading: "x raw",
                    baseline: raw,
                },
                Ratio {
                    heading: "x ceiling",
                    baseline: ceiling,
                },
                Ratio {
                    heading: "x glue",
                    baseline: glue,
                },
            ],
            options.print_runs,
        );
        let name = format!("lines {line_len} B");
        add_targets(&name, &runs, targets, line_len == 64);
    }
    Ok(())
}

fn add_targets(workload: &str, runs: &[harness::Runs], targets: &mut Targets, small: bool) {
    let raw = report::baseline(runs, Role::Raw);
    let ceiling = report::baseline(runs, Role::Ceiling);
    let glue = report::baseline(runs, Role::Glue);
    let blocking = report::baseline(runs, Role::PerFrame(Backend::Blocking));
    let skipped = "not selected";
    for backend in Backend::ALL {
        let role = Role::PerFrame(backend);
        targets.at_least(
            format!("{workload}: fdframe {backend} / per-frame ceiling"),
            report::ratio_of(runs, role, ceiling),
            0.9,
            skipped,
        );
        targets.at_least(
            format!("{workload}: fdframe {backend} / tuned glue"),
            report::ratio_of(runs, role, glue),
            if small { 1.3 } else { 1.0 },
            skipped,
        );
        targets.at_least(
            format!("{workload}: fdframe {backend} batch / raw"),
            report::ratio_of(runs, Role::Batch(backend), raw),
            if small { 0.85 } else { 1.0 },
            skipped,
        );
    }
    within_15_percent_of_blocking(workload, runs, blocking, targets);
}

/// "Each backend within 15 % of blocking": every async backend's throughput at least 0.85x the
/// blocking backend's on the same workload.
pub(crate) fn within_15_percent_of_blocking(
    workload: &str,
    runs: &[harness::Runs],
    blocking: Option<std::time::Duration>,
    targets: &mut Targets,
) {
    for backend in &Backend::ALL[1..] {
        targets.at_least(
            format!("{workload}: fdframe {backend} / fdframe blocking"),
            report::ratio_of(runs, Role::PerFrame(*backend), blocking),
            0.85,
            "not selected",
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_reader_sees_every_line() {
        for line_len in LINE_LENS {
            let payload = Arc::new(Payload::lines(line_len, 1));
            for c in contenders(&[64 * 1024]) {
                pipe::measure(&*c.run, &payload)
                    .unwrap_or_else(|e| panic!("{} at {line_len} B: {e}", c.name));
            }
        }
    }

    #[test]
    fn a_reader_that_loses_a_line_fails_validation() {
        let payload = Arc::new(Payload::lines(64, 1));
        let lossy = |fd| -> Res<Tally> {
            let mut tally = raw::lines(fd)?;
            tally.frames -= 1;
            Ok(tally)
        };
        assert!(pipe::measure(&lossy, &payload).is_err());
    }

    #[test]
    fn a_reader_that_splits_in_the_wrong_place_fails_validation() {
        let payload = Arc::new(Payload::lines(64, 1));
        let shifted = |fd| -> Res<Tally> {
            let mut tally = raw::lines(fd)?;
            tally.bytes += 1;
            Ok(tally)
        };
        assert!(pipe::measure(&shifted, &payload).is_err());
    }
}
