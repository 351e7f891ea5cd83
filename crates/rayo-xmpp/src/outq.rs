//! The bounded outbound byte queue of one connection.

use std::collections::VecDeque;

/// Bytes waiting to be written, in whole units (a stanza, a header) so that an overflow can
/// drop what has not started without cutting an element in half.
#[derive(Debug, Default)]
pub(crate) struct OutQueue {
    units: VecDeque<Vec<u8>>,
    front_written: usize,
    queued: usize,
}

impl OutQueue {
    pub(crate) fn push(&mut self, bytes: impl Into<Vec<u8>>) {
        let bytes = bytes.into();
        if bytes.is_empty() {
            return;
        }
        self.queued += bytes.len();
        self.units.push_back(bytes);
    }

    /// Bytes queued and not yet written.
    pub(crate) fn len(&self) -> usize {
        self.queued
    }

    #[cfg(test)]
    pub(crate) fn is_empty(&self) -> bool {
        self.queued == 0
    }

    /// The next bytes to write.
    pub(crate) fn peek(&self) -> Option<&[u8]> {
        self.units.front().map(|u| &u[self.front_written..])
    }

    /// Marks `n` bytes as written.
    pub(crate) fn advance(&mut self, mut n: usize) {
        while n > 0 {
            let Some(front) = self.units.front() else {
                return;
            };
            let left = front.len() - self.front_written;
            let step = left.min(n);
            self.front_written += step;
            self.queued -= step;
            n -= step;
            if self.front_written == front.len() {
                self.units.pop_front();
                self.front_written = 0;
            }
        }
    }

    /// Drops every unit not yet started, keeping a partly written one so the stream stays
    /// well-formed.
    pub(crate) fn drop_unstarted(&mut self) {
        let keep = usize::from(self.front_written > 0);
        while self.units.len() > keep {
            if let Some(u) = self.units.pop_back() {
                self.queued -= u.len();
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn partial_writes_and_overflow() {
        let mut q = OutQueue::default();
        q.push("<a/>");
        q.push("<b/>");
        q.advance(2);
        assert_eq!(q.peek(), Some(&b"/>"[..]));
        assert_eq!(q.len(), 6);
        q.drop_unstarted();
        assert_eq!(q.len(), 2);
        q.advance(2);
        assert!(q.is_empty());
    }
}
