//! `next()` with a timeout, strict about wake-ups.
//!
//! Common timeout combinators poll the inner future once more when the timer fires, which
//! "rescues" a stream whose runtime never woke it and hides exactly the bug the suite looks
//! for. [`within`] polls the stream first only on the first poll (so a zero timeout is one
//! attempt); afterwards the timer goes first, and once it has fired the stream is not polled
//! again. A stream must be woken by its reactor to make progress here.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Runs `next` until it completes or `timer` fires; `Poll::Pending` means the time ran out
/// (and `next` has been dropped: a cancellation).
pub(crate) async fn within<T>(next: impl Future<Output = T>, timer: impl Future) -> Poll<T> {
    Within {
        next: Box::pin(next),
        timer: Box::pin(timer),
        polled: false,
    }
    .await
}

struct Within<N, T> {
    next: Pin<Box<N>>,
    timer: Pin<Box<T>>,
    polled: bool,
}

impl<N: Future, T: Future> Future for Within<N, T> {
    type Output = Poll<N::Output>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        if self.polled && self.timer.as_mut().poll(cx).is_ready() {
            return Poll::Ready(Poll::Pending);
        }
        self.polled = true;
        if let Poll::Ready(out) = self.next.as_mut().poll(cx) {
            return Poll::Ready(Poll::Ready(out));
        }
        match self.timer.as_mut().poll(cx) {
            Poll::Ready(_) => Poll::Ready(Poll::Pending),
            Poll::Pending => Poll::Pending,
        }
    }
}
