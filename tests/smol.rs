//! `fdframe-async-io` driven by smol (the same crate, another executor; the glue is
//! `async_io.rs`'s).

use std::cell::Cell;
use std::future::Future;
use std::rc::Rc;
use std::task::Poll;
use std::time::Duration;

use crate::async_glue::Runtime;
use crate::async_io::AsyncIo;
use crate::within::within;

pub(crate) type Smol = AsyncIo<SmolRuntime>;

/// `smol::block_on`.
pub(crate) struct SmolRuntime;

impl Runtime for SmolRuntime {
    const NAME: &'static str = "smol";
    const BATCH_NAME: &'static str = "smol/batch";

    fn current() -> Self {
        SmolRuntime
    }

    fn block_on<F: Future>(&self, future: F) -> F::Output {
        smol::block_on(future)
    }

    fn within_beside_other_work<F: Future>(
        &self,
        future: F,
        timeout: Duration,
    ) -> (Poll<F::Output>, u64) {
        // A second task on a local executor run by the same `block_on` (one thread).
        let executor = smol::LocalExecutor::new();
        let turns = Rc::new(Cell::new(0));
        let counting = Rc::clone(&turns);
        let other = executor.spawn(async move {
            loop {
                counting.set(counting.get() + 1);
                futures_lite::future::yield_now().await;
            }
        });
        let step = self.block_on(executor.run(within(future, Self::sleep(timeout))));
        drop(other);
        (step, turns.get())
    }
}

fdframe_conformance::conformance_tests!(Smol);

mod batch {
    fdframe_conformance::conformance_tests!(fdframe_conformance::Batched<super::Smol>);
}
