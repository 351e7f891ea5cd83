//! SIP signalling for Rayo: calls reach the node over SIP and are mapped to rayo-call's
//! [`SignalEvent`](rayo_call::SignalEvent)s; the engine's
//! [`SignalAction`](rayo_call::SignalAction)s become SIP.
//!
//! Sans-IO where it keeps state, as the layers of RFC 3261: [`message`] parses and prints
//! (on ezk-sip-types), [`transaction`] runs client and server transactions with every timer
//! in one table, [`dialog`] keeps the dialog state, [`sdp`] does offer/answer for PCMU, PCMA
//! and telephone-event, [`auth`] answers digest challenges, and [`ua`] is the user agent
//! tying them to calls: bytes, actions and `now` in, bytes, signal events, media commands and
//! the next timer out. [`driver`] is the thin tokio driver (UDP, TCP, an RTP session per
//! call from rayo-media).
//!
//! ```
//! use std::time::Instant;
//! use rayo_call::{SignalAction, SignalEvent};
//! use rayo_sip::transaction::{Peer, Transport};
//! use rayo_sip::ua::{Config, Output, UserAgent};
//!
//! let mut ua = UserAgent::new(Config::new("127.0.0.1:5060".parse()?));
//! let peer = Peer { addr: "127.0.0.1:5070".parse()?, transport: Transport::Udp };
//! let invite = "INVITE sip:svc@127.0.0.1 SIP/2.0\r\n\
//!     Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1\r\n\
//!     From: <sip:al@127.0.0.1:5070>;tag=1\r\nTo: <sip:svc@127.0.0.1>\r\n\
//!     Call-ID: c1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n";
//! let now = Instant::now();
//! ua.handle_datagram(now, peer, invite.as_bytes());
//!
//! let mut call = None;
//! while let Some(out) = ua.poll_output() {
//!     match out {
//!         Output::Signal { call: c, event: SignalEvent::Incoming { from, .. } } => {
//!             assert_eq!(from.as_deref(), Some("sip:al@127.0.0.1:5070"));
//!             call = Some(c);
//!         }
//!         Output::Transmit(t) => assert!(t.bytes.starts_with(b"SIP/2.0 100 Trying")),
//!         _ => {}
//!     }
//! }
//! let call = call.ok_or("an incoming call")?;
//! ua.handle_action(now, SignalAction::Reject { call, cause: rayo_call::RejectCause::Busy, headers: vec![] })?;
//! match ua.poll_output() {
//!     Some(Output::Transmit(t)) => assert!(t.bytes.starts_with(b"SIP/2.0 486 Busy Here")),
//!     o => panic!("{o:?}"),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod auth;
pub mod dialog;
pub mod driver;
pub mod message;
pub mod sdp;
pub mod transaction;
pub mod ua;

/// What can go wrong in SIP signalling.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A peer sent bytes that are no well-formed SIP message (or a bad header in one).
    #[error("malformed SIP: {0}")]
    Malformed(&'static str),
    /// A stream transport needs more bytes before a message is complete.
    #[error("incomplete SIP message")]
    Incomplete,
    /// A URI that cannot be used.
    #[error("invalid URI: {0}")]
    InvalidUri(String),
    /// No transaction (or no longer one in a state to send that response).
    #[error("no such transaction")]
    NoTransaction,
    /// A peer's SDP is not well formed.
    #[error("bad SDP: {0}")]
    Sdp(&'static str),
    /// The offer has nothing this side can use (answered 488).
    #[error("nothing acceptable in the offer")]
    NotAcceptable,
    /// Digest authentication could not be done.
    #[error("authentication: {0}")]
    Auth(&'static str),
    /// An action for a call the user agent does not know (ended already).
    #[error("unknown call")]
    UnknownCall,
    /// An action the call's state does not allow (answering an answered call).
    #[error("not possible in the call's state")]
    WrongState,
    /// A header the client gave that may not be written (it would add a line, is no SIP
    /// token, or is one the node controls): nothing was sent.
    #[error("header: {0}")]
    Header(#[from] rayo_proto::header::HeaderError),
    /// The OS gave no randomness for a tag, branch or Call-ID: nothing was sent.
    #[error("{0}")]
    Random(#[from] rayo_proto::random::RandomError),
    /// Every RTP port of the configured range is in use: the call was not made.
    #[error("no RTP port free in the configured range")]
    NoRtpPort,
    /// A socket error.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}
