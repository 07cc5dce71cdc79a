//! Latency: an idle stream receiving one small frame (a 32-byte line) at a time, threads not
//! pinned (see `run`). The writer
//! sleeps 100 µs (so the reader is back asleep in its runtime), stamps the time, writes the
//! frame, and waits until the reader's loop has the item (the reader stamps its arrival and sends
//! the stamp back on a channel). Write-to-item p50/p99 per fdframe backend, against the glue
//! a careful user writes on the same runtime.

use std::io::Write;
use std::os::fd::OwnedFd;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use fdframe::codec::LinesDecoder;

use crate::drive;
use crate::harness::{self, Backend, Clock, Contender, Res, Role, Sample, Tally};
use crate::options::Options;
use crate::peers::{ceiling, glue};
use crate::report::{self, Goal, Targets};

/// The frame: 31 bytes and a newline.
const FRAME: &[u8; 32] = b"latency probe, thirty-one bytes\n";
/// Samples at the start of every run that are not kept (the first registration, cold caches).
const WARM_UP: usize = 10;
/// How long the writer lets the stream idle before each frame.
const IDLE: Duration = Duration::from_micros(100);
/// How long the writer waits for one frame to arrive before the run fails.
const ARRIVAL_LIMIT: Duration = Duration::from_secs(10);

/// Stamps the arrival of each item and sends it to the writer.
pub(crate) struct Probe(mpsc::Sender<Instant>);

impl Probe {
    fn hit(&self) {
        // The writer stops listening only after its last frame: a send error is harmless.
        let _ = self.0.send(Instant::now());
    }
}

/// A reader that calls `probe.hit()` for every line it gets.
type LatencyRun = dyn Fn(OwnedFd, &Probe) -> Res<Tally> + Sync;

fn contender(
    name: String,
    role: Role,
    run: impl Fn(OwnedFd, &Probe) -> Res<Tally> + Sync + 'static,
) -> Contender<LatencyRun> {
    Contender {
        name,
        role,
        run: Box::new(run),
    }
}

/// Per runtime: the glue on it, then fdframe on it.
fn contenders() -> Vec<(Backend, Contender<LatencyRun>)> {
    let counted = |probe: &Probe, tally: &mut Tally, len: usize| {
        probe.hit();
        tally.frame(len);
    };
    let mut list = Vec::new();
    for backend in Backend::ALL {
        let glue = match backend {
            Backend::Blocking => contender(
                "blocking glue: read(2) into BytesMut, split_to".into(),
                Role::Glue,
                move |fd, probe| {
                    let mut tally = Tally::default();
                    ceiling::per_frame(fd, |line| counted(probe, &mut tally, line.len()))?;
                    Ok(tally)
                },
            ),
            Backend::Tokio => contender(
                "tokio glue: tokio pipe, FramedRead 64 KiB".into(),
                Role::Glue,
                move |fd, probe| {
                    let mut tally = Tally::default();
                    let codec = glue::ZeroCopyLines::default();
                    glue::tokio_framed(fd, 64 * 1024, codec, |line| {
                        counted(probe, &mut tally, line.len())
                    })?;
                    Ok(tally)
                },
            ),
            Backend::AsyncIo => contender(
                "async-io glue: asynchronous-codec FramedRead".into(),
                Role::Glue,
                move |fd, probe| {
                    let mut tally = Tally::default();
                    let codec = glue::ZeroCopyLines::default();
                    glue::async_codec(fd, codec, |line| counted(probe, &mut tally, line.len()))?;
                    Ok(tally)
                },
            ),
            Backend::Mio => contender(
                "mio glue: pipe Receiver, read to WouldBlock".into(),
                Role::Glue,
                move |fd, probe| {
                    let mut tally = Tally::default();
                    glue::mio_lines(fd, |line| counted(probe, &mut tally, line.len()))?;
                    Ok(tally)
                },
            ),
        };
        list.push((backend, glue));
        let fdframe = contender(
            format!("fdframe {backend}"),
            Role::PerFrame(backend),
            move |fd, probe| {
                let mut tally = Tally::default();
                drive::each(
                    backend,
                    fd,
                    drive::framer(LinesDecoder::new(), None),
                    |line| counted(probe, &mut tally, line.len()),
                )?;
                Ok(tally)
            },
        );
        list.push((backend, fdframe));
    }
    list
}

/// One run: `samples` frames, one at a time, to a fresh reader; returns each write-to-item time.
fn measure(run: &LatencyRun, samples: usize) -> Res<Vec<Duration>> {
    let (reader, writer) = std::io::pipe()?;
    let (stamps, arrivals) = mpsc::channel();
    thread::scope(|scope| {
        let reading = scope.spawn(move || run(reader.into(), &Probe(stamps)));
        let mut writer = std::fs::File::from(OwnedFd::from(writer));
        let mut times = Vec::with_capacity(samples);
        let mut writing = || -> Res<()> {
            for i in 0..WARM_UP + samples {
                thread::sleep(IDLE);
                let written = Instant::now();
                writer.write_all(FRAME)?;
                let arrived = arrivals
                    .recv_timeout(ARRIVAL_LIMIT)
                    .map_err(|e| format!("frame {i} did not arrive: {e}"))?;
                if i >= WARM_UP {
                    times.push(arrived.saturating_duration_since(written));
                }
            }
            Ok(())
        };
        let wrote = writing();
        drop(writer); // end of input: the reader returns
        let seen = reading.join().map_err(|_| "the reader panicked")?;
        wrote?;
        let frames = (WARM_UP + samples) as u64;
        let expected = Tally {
            frames,
            bytes: frames * (FRAME.len() as u64 - 1),
        };
        seen?.check("the reader", expected)?;
        Ok(times)
    })
}

/// Runs every contender, interleaved, and adds the p99 targets.
pub(crate) fn run(options: &Options, targets: &mut Targets) -> Res<()> {
    // Many short rounds: a burst of load from elsewhere then hits every contender about equally.
    let rounds = options.rounds(20);
    let samples = 100;
    let (backends, contenders): (Vec<Backend>, Vec<Contender<LatencyRun>>) =
        contenders().into_iter().unzip();
    let keep: Vec<bool> = contenders
        .iter()
        .map(|c| c.role.is_baseline() || options.selects(&c.name))
        .collect();
    let mut kept_backends = Vec::new();
    let mut kept = Vec::new();
    for ((backend, contender), keep) in backends.into_iter().zip(contenders).zip(keep) {
        if keep {
            kept_backends.push(backend);
            kept.push(contender);
        }
    }
    let mut all: Vec<Vec<Duration>> = vec![Vec::new(); kept.len()];
    // Unpinned: the scheduler may wake the reader on whichever CPU is free, as it would for any
    // real reader; a pinned one waits behind whatever else runs on its CPU (milliseconds here).
    harness::unpin();
    let measured = harness::interleave(&kept, rounds, Clock::Wall, |c| {
        let started = Instant::now();
        let times = measure(&*c.run, samples)?;
        let at = kept.iter().position(|x| x.name == c.name).unwrap_or(0);
        all[at].extend(times);
        Ok(Sample::wall_only(started.elapsed()))
    });
    harness::pin(0);
    measured?;
    println!(
        "\nlatency: write-to-item, one 32-byte line at a time after {} us idle, {} samples per \
         contender ({rounds} interleaved rounds); microseconds",
        IDLE.as_micros(),
        rounds * samples
    );
    println!(
        "{:<w$} {:>8} {:>8} {:>8} {:>8} {:>11}",
        "contender",
        "p50",
        "p90",
        "p99",
        "max",
        "p99/glue",
        w = report::NAME_WIDTH
    );
    let p99s: Vec<f64> = all.iter_mut().map(|t| percentile(t, 99.0)).collect();
    for (i, contender) in kept.iter().enumerate() {
        let glue = glue_p99(&kept, &kept_backends, &p99s, kept_backends[i]);
        let times = &mut all[i];
        let ratio = glue.map_or("-".to_string(), |g| format!("{:.2}x", p99s[i] / g));
        println!(
            "{:<w$} {:>8.1} {:>8.1} {:>8.1} {:>8.1} {:>11}",
            contender.name,
            percentile(times, 50.0),
            percentile(times, 90.0),
            p99s[i],
            percentile(times, 100.0),
            ratio,
            w = report::NAME_WIDTH
        );
        if let Role::PerFrame(backend) = contender.role {
            targets.push(
                format!("latency p99: fdframe {backend} / {backend} glue"),
                glue.map(|g| p99s[i] / g),
                Goal::AtMost,
                1.0,
                "x",
                "glue not run",
            );
        }
    }
    Ok(())
}

fn glue_p99(
    kept: &[Contender<LatencyRun>],
    backends: &[Backend],
    p99s: &[f64],
    backend: Backend,
) -> Option<f64> {
    kept.iter()
        .zip(backends)
        .zip(p99s)
        .find(|((c, b), _)| c.role == Role::Glue && **b == backend)
        .map(|(_, &p99)| p99)
}

/// The `p`th percentile of `times`, in microseconds (nearest rank).
fn percentile(times: &mut [Duration], p: f64) -> f64 {
    if times.is_empty() {
        return f64::NAN;
    }
    times.sort_unstable();
    let rank = ((p / 100.0) * times.len() as f64).ceil() as usize;
    times[rank.clamp(1, times.len()) - 1].as_secs_f64() * 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_latency_reader_gets_each_frame_as_it_is_written() {
        for (_, c) in contenders() {
            let times = measure(&*c.run, 20).unwrap_or_else(|e| panic!("{}: {e}", c.name));
            assert_eq!(times.len(), 20, "{}", c.name);
        }
    }

    #[test]
    fn percentiles_are_nearest_rank() {
        let mut times: Vec<Duration> = (1..=100).map(Duration::from_micros).collect();
        assert_eq!(percentile(&mut times, 50.0), 50.0);
        assert_eq!(percentile(&mut times, 99.0), 99.0);
        assert_eq!(percentile(&mut times, 100.0), 100.0);
    }
}
