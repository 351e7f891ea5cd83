//! The bounded queues events wait in for the bot's code: [`EVENT_QUEUE`] per call, mixer,
//! component and for offers. A bot that does not read them never makes the client grow:
//! when a queue is full the oldest event is dropped (and counted, [`Events::lost`](crate::Events::lost)) to
//! make room, so the newest (a call's `End` is always its last) is always kept.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll};

use futures_util::task::AtomicWaker;
pub use tokio::sync::mpsc::error::TryRecvError;

/// The most events waiting in one queue.
pub const EVENT_QUEUE: usize = 1024;

#[derive(Debug)]
struct State<T> {
    queue: VecDeque<T>,
    capacity: usize,
    senders: usize,
    receiver: bool,
    lost: u64,
}

#[derive(Debug)]
struct Shared<T> {
    state: Mutex<State<T>>,
    waker: AtomicWaker,
}

impl<T> Shared<T> {
    fn lock(&self) -> MutexGuard<'_, State<T>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The sending half (the client's core).
#[derive(Debug)]
pub(crate) struct Sender<T> {
    shared: Arc<Shared<T>>,
}

/// The receiving half (behind the bot's event streams).
#[derive(Debug)]
pub(crate) struct Receiver<T> {
    shared: Arc<Shared<T>>,
}

/// A queue of [`EVENT_QUEUE`] events.
pub(crate) fn channel<T>() -> (Sender<T>, Receiver<T>) {
    with_capacity(EVENT_QUEUE)
}

/// A queue of `capacity` events (at least one).
pub(crate) fn with_capacity<T>(capacity: usize) -> (Sender<T>, Receiver<T>) {
    let shared = Arc::new(Shared {
        state: Mutex::new(State {
            queue: VecDeque::new(),
            capacity: capacity.max(1),
            senders: 1,
            receiver: true,
            lost: 0,
        }),
        waker: AtomicWaker::new(),
    });
    (
        Sender {
            shared: shared.clone(),
        },
        Receiver { shared },
    )
}

impl<T> Sender<T> {
    /// Queues `event`, dropping the oldest one when the queue is full; gives it back when
    /// the receiver is gone.
    pub(crate) fn send(&self, event: T) -> Result<(), T> {
        {
            let mut s = self.shared.lock();
            if !s.receiver {
                return Err(event);
            }
            if s.queue.len() >= s.capacity {
                s.queue.pop_front();
                s.lost += 1;
            }
            s.queue.push_back(event);
        }
        self.shared.waker.wake();
        Ok(())
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        self.shared.lock().senders += 1;
        Sender {
            shared: self.shared.clone(),
        }
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let last = {
            let mut s = self.shared.lock();
            s.senders -= 1;
            s.senders == 0
        };
        if last {
            self.shared.waker.wake();
        }
    }
}

impl<T> Receiver<T> {
    /// The next event, or `Ready(None)` once every sender is gone and the queue drained.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(p) = self.poll_now() {
            return p;
        }
        // Registered before looking again: an event sent in between wakes us.
        self.shared.waker.register(cx.waker());
        self.poll_now().unwrap_or(Poll::Pending)
    }

    fn poll_now(&mut self) -> Option<Poll<Option<T>>> {
        let mut s = self.shared.lock();
        match s.queue.pop_front() {
            Some(e) => Some(Poll::Ready(Some(e))),
            None if s.senders == 0 => Some(Poll::Ready(None)),
            None => None,
        }
    }

    /// The next event, waiting for it.
    pub(crate) async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.poll_recv(cx)).await
    }

    /// The next event if one is there.
    pub(crate) fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let mut s = self.shared.lock();
        match s.queue.pop_front() {
            Some(e) => Ok(e),
            None if s.senders == 0 => Err(TryRecvError::Disconnected),
            None => Err(TryRecvError::Empty),
        }
    }

    /// How many events were dropped so far because the queue was full.
    pub(crate) fn lost(&self) -> u64 {
        self.shared.lock().lost
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        let mut s = self.shared.lock();
        s.receiver = false;
        s.queue.clear();
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[tokio::test]
    async fn a_full_queue_drops_the_oldest_and_keeps_the_last() {
        let (tx, mut rx) = with_capacity(3);
        for i in 0..10 {
            tx.send(i).expect("open");
        }
        assert_eq!(rx.lost(), 7);
        assert_eq!(rx.recv().await, Some(7));
        assert_eq!(rx.try_recv(), Ok(8));
        assert_eq!(rx.recv().await, Some(9));
        assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
        drop(tx);
        assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
        assert_eq!(rx.recv().await, None);
    }

    #[tokio::test]
    async fn a_waiting_receiver_is_woken_and_a_gone_one_refuses() {
        let (tx, mut rx) = channel::<u32>();
        let waiter = tokio::spawn(async move { (rx.recv().await, rx.recv().await) });
        tokio::task::yield_now().await;
        let tx2 = tx.clone();
        tx.send(1).expect("open");
        drop(tx);
        tx2.send(2).expect("open");
        drop(tx2);
        assert_eq!(waiter.await.expect("joined"), (Some(1), Some(2)));
        let (tx, rx) = channel::<u32>();
        drop(rx);
        assert_eq!(tx.send(3), Err(3));
    }
}
