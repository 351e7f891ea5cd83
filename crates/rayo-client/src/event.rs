//! Events of calls, mixers and components, and the streams they arrive on.

use std::pin::Pin;
use std::task::{Context, Poll};

use futures_util::Stream;
use rayo_proto::generated::rayo::{EndReason, Header, Joined, Unjoined};

use crate::error::Error;

/// Something that happened to a call or a mixer (XEP-0327 §6.2–§6.4, §6.8).
#[derive(Debug, Clone, PartialEq)]
#[non_exhaustive]
pub enum CallEvent {
    /// An outbound call rings at the remote party.
    Ringing(Vec<Header>),
    /// An outbound call was answered.
    Answered(Vec<Header>),
    /// The call ended; nothing follows on its stream.
    End {
        /// Why: `hungup` (the remote party), `hangup-command` (a client), `timeout`,
        /// `busy`, `rejected`, `error`.
        reason: EndReason,
        /// Headers of the signalling that ended it.
        headers: Vec<Header>,
    },
    /// Joined to another call or a mixer.
    Joined(Joined),
    /// A join was broken.
    Unjoined(Unjoined),
    /// A participant of a mixer started speaking.
    StartedSpeaking {
        /// The participant's call URI.
        call_uri: String,
    },
    /// A participant of a mixer stopped speaking.
    StoppedSpeaking {
        /// The participant's call URI.
        call_uri: String,
    },
    /// An instant message from the remote party (§6.8).
    Message(String),
    /// A message this client sent to the call was refused.
    MessageError(Error),
}

/// Events of a mixer: the same as a call's (joined, unjoined, started/stopped speaking).
pub type MixerEvent = CallEvent;

/// Something a running component reports before its completion.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ComponentEvent {
    /// A prompt's output finished (or was barged into): its input timers run now (§6.5.5).
    InputTimersStarted,
}

/// The events of one call or mixer, in order, at most
/// [`EVENT_QUEUE`](crate::event_queue::EVENT_QUEUE) waiting. Also a [`Stream`].
#[derive(Debug)]
pub struct Events<T> {
    rx: crate::event_queue::Receiver<T>,
}

/// A call's events.
pub type CallEvents = Events<CallEvent>;

impl<T> Events<T> {
    pub(crate) fn new(rx: crate::event_queue::Receiver<T>) -> Self {
        Events { rx }
    }

    /// The next event; `None` once the call has ended (after [`CallEvent::End`]) or the
    /// client is gone.
    pub async fn next(&mut self) -> Option<T> {
        self.rx.recv().await
    }

    /// The next event if one is already there.
    pub fn try_next(&mut self) -> Option<T> {
        self.rx.try_recv().ok()
    }

    /// How many events were dropped, oldest first, because more than
    /// [`EVENT_QUEUE`](crate::event_queue::EVENT_QUEUE) waited unread (the newest, and
    /// a call's `End`, are always kept).
    pub fn lost(&self) -> u64 {
        self.rx.lost()
    }
}

impl<T> Stream for Events<T> {
    type Item = T;

    fn poll_next(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }
}
