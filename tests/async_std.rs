//! `fdframe-async-io` driven by the async-std runtime (the glue is `async_io.rs`'s).

use std::cell::Cell;
use std::future::Future;
use std::task::Poll;
use std::time::Duration;

use crate::async_glue::Runtime;
use crate::async_io::AsyncIo;
use crate::within::within;

pub(crate) type AsyncStd = AsyncIo<AsyncStdRuntime>;

/// `async_std::task::block_on`.
pub(crate) struct AsyncStdRuntime;

impl Runtime for AsyncStdRuntime {
    const NAME: &'static str = "async-std";
    const BATCH_NAME: &'static str = "async-std/batch";

    fn current() -> Self {
        AsyncStdRuntime
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        async_std::task::block_on(future)
    }

    fn within_beside_other_work<F: Future>(
        &self,
        future: F,
        timeout: Duration,
    ) -> (Poll<F::Output>, u64) {
        // async-std spawns onto a thread pool (`spawn_local` is unstable), so the other work
        // is a future polled by the same `block_on`, next to the stream.
        let turns = Cell::new(0);
        let other = async {
            loop {
                turns.set(turns.get() + 1);
                futures_lite::future::yield_now().await;
            }
        };
        let next = within(future, Self::sleep(timeout));
        let step = self.block_on(futures_lite::future::or(next, other));
        (step, turns.get())
    }
}

fdframe_conformance::conformance_tests!(AsyncStd);

mod batch {
    fdframe_conformance::conformance_tests!(fdframe_conformance::Batched<super::AsyncStd>);
}
