//! `fdframe-tokio` on a current-thread runtime, one per test thread.

use std::io;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use fdframe::{Decoder, Framer, ReadFd, Step};
use fdframe_conformance::{Backend, Reader};
use fdframe_tokio::FdStream;
use futures_lite::StreamExt;

use crate::within::within;

thread_local! {
    static RUNTIME: Rc<tokio::runtime::Runtime> = Rc::new(
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .expect("a tokio runtime"),
    );
}

pub(crate) struct Tokio;

pub(crate) struct TokioReader<D: Decoder> {
    runtime: Rc<tokio::runtime::Runtime>,
    stream: FdStream<D>,
}

impl Backend for Tokio {
    const NAME: &'static str = "tokio";
    type Reader<D: Decoder + 'static> = TokioReader<D>;

    fn open<D: Decoder + 'static>(fd: ReadFd, framer: Framer<D>) -> io::Result<TokioReader<D>> {
        let runtime = RUNTIME.with(Rc::clone);
        let stream = {
            let _inside = runtime.enter();
            FdStream::with_framer(fd, framer)?
        };
        Ok(TokioReader { runtime, stream })
    }
}

impl<D: Decoder> Reader<D> for TokioReader<D> {
    fn next_within(&mut self, timeout: Duration) -> Step<D::Item, D::Error> {
        let stream = &mut self.stream;
        // The timer must be made inside the runtime.
        self.runtime
            .block_on(async { within(stream.next(), tokio::time::sleep(timeout)).await })
    }

    fn next_within_beside_other_work(
        &mut self,
        timeout: Duration,
    ) -> (Step<D::Item, D::Error>, u64) {
        // A second task on the same current-thread runtime: it runs only when the reader's task
        // hands the thread back.
        let turns = Arc::new(AtomicU64::new(0));
        let counting = Arc::clone(&turns);
        let other = self.runtime.spawn(async move {
            loop {
                counting.fetch_add(1, Ordering::Relaxed);
                tokio::task::yield_now().await;
            }
        });
        let step = self.next_within(timeout);
        other.abort();
        (step, turns.load(Ordering::Relaxed))
    }

    fn framer(&self) -> &Framer<D> {
        self.stream.framer()
    }
}

fdframe_conformance::conformance_tests!(Tokio);
