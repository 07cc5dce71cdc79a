//! The fdframe conformance suite: one set of cases, every backend, real descriptors.
//!
//! "All backends behave the same" is checked here, case by case. A case is a function generic
//! over a [`Backend`]: it builds a real descriptor (pipe, FIFO, pty, socket, inotify, signalfd,
//! timerfd, eventfd, TUN, `/dev/kmsg`, a followed log file), opens it through the backend with a decoder, and states
//! what must come out. Each backend's test glue implements [`Backend`] (a constructor and a
//! "next, within a timeout" that drops the pending `next()` when the time runs out — which is
//! exactly a cancellation) and invokes [`conformance_tests!`], which expands to one `#[test]`
//! per case. The workspace's `tests/` crate does that for every backend, so `cargo test` names
//! each run `<backend>::<case>`, and `cargo xtask conformance` prints the case × backend matrix.
//!
//! Every case also runs through each backend's batch API: glue that implements
//! [`BatchBackend`] instantiates `conformance_tests!(Batched<Glue>)`, which reads the messages
//! out of the batches in order (`<backend>/batch::<case>` in the matrix), so "per message and
//! per batch behave the same" is checked by the same expectations.
//!
//! A future backend (io_uring, say) passes when it passes this suite.
//!
//! # Privileged cases
//!
//! Cases that need root (`/dev/kmsg`, TUN) return [`Skip`] when they cannot run; the runner
//! prints `SKIPPED: <backend>::<case>: <reason>` to stderr past the test harness's capture, and
//! with `FDFRAME_REQUIRE_PRIVILEGED=1` (set by CI) turns the skip into a failure.

#![forbid(unsafe_code)]

mod backend;
mod batch;
pub mod cases;
pub mod fixtures;
mod observe;
mod runner;

pub use backend::{Backend, ByteReader, Reader};
pub use batch::{BatchBackend, BatchReader, Batched, Flatten};
pub use observe::{Seen, drain_until_end, expect_items, next_seen};
pub use runner::{Outcome, Skip, run, skip_loudly};

/// Expands to one `#[test]` per conformance case for `$backend`, named after the case. The
/// list of cases lives here and nowhere else, in the order of the matrix.
///
/// ```text
/// mod tokio {
///     fdframe_conformance::conformance_tests!(crate::glue::Tokio);
/// }
/// ```
#[macro_export]
macro_rules! conformance_tests {
    ($backend:ty) => {
        $crate::conformance_tests!(@each $backend;
            pipes::frames_split_across_one_byte_writes,
            pipes::burst_larger_than_one_read_arrives_without_further_writes,
            pipes::frames_larger_than_the_initial_capacity,
            pipes::partial_final_frame_is_reported_at_end_of_input,
            pipes::end_of_stream_comes_once_then_the_stream_is_fused,
            ready_now::lines_in_a_pipe_are_ready_now_then_pending_while_the_writer_stays,
            ready_now::data_after_ready_now_is_pending_is_found_now_and_wakes_a_wait,
            ready_now::a_wait_after_reading_now_before_any_wait_wakes_for_new_data,
            ready_now::end_of_input_is_ready_now_and_stays_ended,
            ready_now::a_followed_file_is_ready_now_then_appends_wake_a_wait,
            streams::fifo_ends_when_its_last_writer_closes,
            streams::fifo_without_a_writer_waits_for_its_first_writer,
            streams::fifo_opened_read_write_survives_writer_reconnects,
            async_read::async_read_of_a_fifo_without_a_writer_waits_for_its_first_writer,
            async_read::async_read_of_a_followed_file_gives_its_bytes_in_order_through_rotation,
            streams::socketpair_stream_delivers_lines,
            streams::seqpacket_records_up_to_the_maximum_are_never_truncated,
            streams::pty_lines_then_hangup_is_a_clean_end,
            streams::regular_file_is_read_to_its_end,
            devices::inotify_events_with_long_names_are_whole,
            devices::signalfd_records_are_typed,
            devices::timerfd_expirations_are_counted,
            devices::eventfd_counters_are_read_whole,
            devices::tun_packets_up_to_the_mtu_are_never_truncated,
            kmsg::kmsg_records_of_1000_bytes_are_whole,
            kmsg::kmsg_dictionary_fields_survive_record_reads,
            kmsg::kmsg_seek_end_sees_only_new_records,
            kmsg::kmsg_overrun_is_a_loss_notice_with_the_exact_count,
            robustness::cancelled_next_loses_and_duplicates_nothing,
            robustness::slow_consumer_keeps_the_buffer_bounded,
            robustness::thousand_descriptors_on_one_runtime,
            robustness::ten_thousand_readers_leak_no_descriptors,
            robustness::garbage_gives_typed_errors_and_the_stream_goes_on,
            robustness::endless_input_lets_other_work_run_and_the_reader_drops_cleanly,
            follow::appends_of_every_size_arrive_once_in_order_and_the_reader_waits_between,
            follow::thousand_rotations_under_a_writer_that_never_stops_lose_and_repeat_nothing,
            follow::hard_link_rotation_finishes_the_old_file_then_reads_the_new_one,
            follow::truncation_is_a_notice_then_the_new_content_from_its_start,
            follow::copytruncate_is_a_notice_and_the_writer_goes_on,
            follow::a_deleted_file_is_finished_then_removed_then_recreated,
            follow::a_file_created_after_the_reader_started_is_read_from_its_start,
            follow::descriptors_and_watches_do_not_grow_over_ten_thousand_rotations,
            follow_checkpoints::restart_from_a_checkpoint_loses_and_repeats_nothing,
            follow::a_partial_last_line_is_held_until_completed_and_delivered_once_rotated_away,
            follow::following_from_the_end_sees_only_new_lines,
            follow_paths::a_directory_removed_and_re_created_is_followed_again,
            follow_paths::a_path_whose_directory_does_not_exist_yet_is_waited_for,
            follow_checkpoints::reading_once_from_a_checkpoint_delivers_each_line_once_over_runs,
            follow_checkpoints::a_restart_across_two_rotations_names_the_file_in_between,
            follow_paths::a_symlinked_path_sees_rotation_in_the_targets_directory,
        );
    };
    (@each $backend:ty; $($module:ident :: $case:ident),* $(,)?) => {
        $(
            #[test]
            fn $case() {
                $crate::run::<$backend>(
                    stringify!($case),
                    $crate::cases::$module::$case::<$backend>,
                );
            }
        )*
    };
}
