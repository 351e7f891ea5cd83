//! Events a driver has made but its owner has not taken yet: the driver pushes them here,
//! never waiting on its owner (who may be waiting on the driver to take a command), and
//! stops taking new work from its sources while the backlog is full.

use std::collections::VecDeque;

use tokio::sync::mpsc;

/// Events waiting for room in a bounded queue to their owner.
#[derive(Debug)]
pub struct Backlog<T> {
    waiting: VecDeque<T>,
    limit: usize,
}

impl<T> Backlog<T> {
    /// An empty backlog that says it is full at `limit` events.
    pub fn new(limit: usize) -> Self {
        Backlog {
            waiting: VecDeque::new(),
            limit,
        }
    }

    /// Whether fewer than the limit wait: the driver may take work that makes events.
    pub fn is_open(&self) -> bool {
        self.waiting.len() < self.limit
    }

    /// Whether anything waits.
    pub fn is_empty(&self) -> bool {
        self.waiting.is_empty()
    }

    /// Keeps `event` for its owner (after the ones already waiting).
    pub fn push(&mut self, event: T) {
        self.waiting.push_back(event);
    }

    /// Sends one event into `permit` (room obtained by `Sender::reserve`).
    pub fn send_one(&mut self, permit: mpsc::Permit<'_, T>) {
        if let Some(e) = self.waiting.pop_front() {
            permit.send(e);
        }
    }

    /// Sends what fits in `to` now, in order; `false` when the owner is gone (the backlog
    /// is then dropped).
    pub fn flush(&mut self, to: &mpsc::Sender<T>) -> bool {
        while let Some(e) = self.waiting.pop_front() {
            match to.try_send(e) {
                Ok(()) => {}
                Err(mpsc::error::TrySendError::Full(e)) => {
                    self.waiting.push_front(e);
                    return true;
                }
                Err(mpsc::error::TrySendError::Closed(_)) => {
                    self.waiting.clear();
                    return false;
                }
            }
        }
        true
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    #[tokio::test]
    async fn what_does_not_fit_waits_in_order_and_nothing_is_lost() {
        let (tx, mut rx) = mpsc::channel(2);
        let mut b = Backlog::new(3);
        for i in 0..4 {
            b.push(i);
        }
        assert!(!b.is_open());
        assert!(b.flush(&tx));
        assert!(b.is_open() && !b.is_empty());
        assert_eq!(rx.recv().await, Some(0));
        b.send_one(tx.reserve().await.expect("room"));
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert!(b.flush(&tx));
        assert!(b.is_empty());
        assert_eq!(rx.recv().await, Some(3));
        drop(rx);
        b.push(4);
        assert!(!b.flush(&tx));
        assert!(b.is_empty());
    }
}
