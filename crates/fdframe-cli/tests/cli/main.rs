//! End-to-end tests of the built `fdframe` binary: one test binary, one module per concern.
//!
//! Tests that need root (reading and writing `/dev/kmsg`, changing `kernel.dmesg_restrict`)
//! print `SKIPPED: <reason>` and pass when they cannot run, unless
//! `FDFRAME_REQUIRE_PRIVILEGED=1`, which turns a skip into a failure. Records they write are
//! info/debug level, tagged with a marker unique to the run, one `write(2)` per record on a fresh
//! descriptor (the kernel's rate limit is per open file).

mod support;

/// `--cursor` as root in a directory others could write: symlinks, devices, FIFOs, odd paths.
mod cursor_attacks;
/// Endless input (`/dev/zero`, a huge sparse file, an endless line): Ctrl-C and SIGTERM still stop.
mod endless_input;
/// `fdframe read --follow` on every backend: rotation, truncation, `--checkpoint` restarts and
/// the checkpoint file's refusals.
mod follow;
/// `read --follow --checkpoint`: symlinks, FIFOs, devices, long, foreign and damaged files.
mod follow_checkpoint;
/// `fdframe read --follow` side by side with `tail -F`: every line once where tail loses some.
mod follow_vs_tail;
/// `--help` of the tool and of each subcommand.
mod help;
/// `--cursor`: resume without duplicates, loss across a gap, other boots, damaged files.
mod kmsg_cursor;
/// `fdframe kmsg --json-lines` and `-J` against `dmesg --json --decode`, record for record.
mod kmsg_dmesg;
/// `fdframe kmsg` human lines against `dmesg`'s: `-l` level lists, `--time-format reltime`.
mod kmsg_dmesg_human;
/// Every read-side option of dmesg's, side by side with `dmesg` itself, `-F` and `-K` files.
mod kmsg_dmesg_parity;
/// Refusals: an unprivileged user under `dmesg_restrict=1`, dmesg's write-side options, `-b -1`.
mod kmsg_errors;
/// `--follow` on every backend; Ctrl-C, SIGTERM and a closed stdout end cleanly.
mod kmsg_follow;
/// journalctl's habits: `-n`, `-n -w`, `-g`, `--reverse`, `-b`, `--show-cursor`/`--after-cursor`;
/// `-W` and `-J -w`.
mod kmsg_journalctl;
/// The shipper's pipeline `fdframe kmsg -w --json-lines --cursor F | consumer`, its harness, and the
/// shippers' configs in `deploy/`.
mod kmsg_json_configs;
mod kmsg_json_harness;
mod kmsg_json_pipeline;
/// `fdframe read`: every codec and output form, on pipes, files, FIFOs, sockets, inotify.
mod read;
/// Standard output closed at start, full, or `/dev/null`.
mod stdout;
