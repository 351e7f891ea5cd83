//! XMPP transport for Rayo (XEP-0327): the two ways a node is reached.
//!
//! - **Client-to-server** ([`c2s`], driven by [`server::Listener`]): bots log in to the node
//!   itself over STARTTLS ([`tls`]) with SASL SCRAM-SHA-256, SCRAM-SHA-1 or PLAIN against
//!   salted credentials ([`scram`]), bind a resource, and exchange stanzas.
//! - **Component** ([`component`], driven by [`component_client::ComponentClient`]): the node
//!   attaches to an existing XMPP server with the XEP-0114 handshake and reconnects with
//!   backoff.
//!
//! Either way, one [`router::Router`] hands every stanza addressed to the service, a call, a
//! mixer or a component to one [`router::Handler`] with its authenticated sender, answers
//! disco#info per entity ([`disco`]), stamps events with XEP-0203 delays and the first
//! presence of a call or mixer with XEP-0115 caps.
//!
//! The other end of the component protocol is here too, for a gateway that Rayo nodes connect
//! to as components: [`component_accept`] checks each node's handshake against the secret of
//! the domain it names, and [`component_server::ComponentListener`] accepts the connections
//! and hands each authenticated link (up, its stanzas, down) to the gateway, one live link
//! per domain. The gateway must check each stanza's `from` against its link's domain.
//!
//! The protocol logic is sans-IO: [`xml::StreamReader`], [`c2s::C2sConnection`],
//! [`component::ComponentConnection`], [`component_accept::AcceptConnection`] and the router
//! take bytes, stanzas and the time, and say what to write and when they next need waking.
//! The tokio drivers only move bytes.
//!
//! ```
//! use std::sync::Arc;
//! use std::time::{Instant, SystemTime};
//!
//! use rayo_proto::address::Addressing;
//! use rayo_xmpp::c2s::{C2sConfig, C2sConnection, C2sEvent};
//! use rayo_xmpp::router::{Handled, Handler, Incoming, Mode, Outbox, Routed, Router};
//! use rayo_xmpp::scram::Users;
//!
//! /// Answers every request with its own payload.
//! struct Echo;
//! impl Handler for Echo {
//!     fn handle(&mut self, req: Incoming, out: &mut Outbox) -> Handled {
//!         out.send(req.result(req.payload().cloned()));
//!         Handled::Yes
//!     }
//! }
//!
//! let mut users = Users::new();
//! users.add_password("juliet", "r0m30")?; // only salted SCRAM keys are kept
//! let mut config = C2sConfig::new("rayo.example", users);
//! config.tls_available = false; // a driver with a certificate would offer STARTTLS
//! config.allow_plain_without_tls = true;
//! let now = Instant::now();
//! let mut conn = C2sConnection::new(Arc::new(config), now);
//! let domains = Addressing::new("rayo.example", Some("call"), Some("mixer"))?;
//! let mut router = Router::new(domains, Mode::C2s, Echo);
//!
//! // What a client sends: header, PLAIN auth, restarted header, bind, a request.
//! let header = "<stream:stream xmlns='jabber:client' \
//!     xmlns:stream='http://etherx.jabber.org/streams' to='rayo.example' version='1.0'>";
//! conn.handle_input(header.as_bytes(), now);
//! conn.handle_input(b"<auth xmlns='urn:ietf:params:xml:ns:xmpp-sasl' mechanism='PLAIN'>\
//!     AGp1bGlldAByMG0zMA==</auth>", now);
//! conn.handle_input(header.as_bytes(), now);
//! conn.handle_input(b"<iq type='set' id='b'><bind xmlns='urn:ietf:params:xml:ns:xmpp-bind'>\
//!     <resource>balcony</resource></bind></iq>", now);
//! conn.handle_input(b"<iq type='get' id='1' to='rayo.example'>\
//!     <echo xmlns='urn:example'/></iq>", now);
//!
//! while let Some(event) = conn.poll_event() {
//!     match event {
//!         C2sEvent::Bound(jid) => router.bind(1, jid),
//!         C2sEvent::Stanza(stanza) => router.handle_stanza(stanza, SystemTime::now()),
//!         _ => {}
//!     }
//! }
//! let Some(Routed::Deliver { conn: 1, stanza }) = router.poll_output() else {
//!     panic!("the handler answered")
//! };
//! assert_eq!(stanza.attr("from"), Some("rayo.example"));
//! assert_eq!(stanza.attr("to"), Some("juliet@rayo.example/balcony"));
//! conn.send_stanza(&stanza, now);
//!
//! // Everything the connection wants written, as a driver would write it.
//! let mut wire = Vec::new();
//! while let Some(bytes) = conn.poll_transmit() {
//!     let n = bytes.len();
//!     wire.extend_from_slice(bytes);
//!     conn.handle_transmitted(n);
//! }
//! let wire = String::from_utf8(wire)?;
//! assert!(wire.contains("<success xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>"));
//! assert!(wire.ends_with("<echo xmlns='urn:example'/></iq>"));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

pub mod c2s;
mod caps;
pub mod cmr;
pub mod component;
pub mod component_accept;
pub mod component_client;
pub mod component_server;
pub mod disco;
pub mod error;
pub mod failed_logins;
mod outq;
pub mod router;
pub mod scram;
pub mod server;
pub mod stream_error;
pub mod tls;
pub mod xml;

pub use error::Error;
