//! Stanzas from the server that are not answers: requests (ping, disco#info), presences
//! carrying offers and events, messages from calls, each routed to its handle.

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use rayo_proto::{ns, Event};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

use super::{iq, Core, NewOffer};
use crate::error::Error;
use crate::event::{CallEvent, ComponentEvent};

impl Core {
    /// Requests from the server: pings and disco#info are answered, the rest refused with
    /// `service-unavailable` (RFC 6120 §8.4).
    pub(super) fn answer_request(&mut self, from: Option<Jid>, id: &str, el: Element) {
        let to = from.map(|f| f.to_string());
        let payload = el.children().next();
        let is_get = el.attr("type") == Some("get");
        let reply = match payload {
            Some(p) if is_get && p.is("ping", ns::PING) => iq("result", id, to.as_deref()),
            Some(p) if is_get && p.is("query", ns::DISCO_INFO) => {
                let mut r = iq("result", id, to.as_deref());
                let mut info = client_info();
                info.node = p.attr("node").map(str::to_owned);
                r.append_child(info.into());
                r
            }
            _ => {
                let mut r = iq("error", id, to.as_deref());
                if let Some(p) = payload {
                    r.append_child(p.clone());
                }
                r.append_child(
                    rayo_proto::error::stanza_error(
                        ErrorType::Cancel,
                        DefinedCondition::ServiceUnavailable,
                    )
                    .into(),
                );
                r
            }
        };
        self.out.push_back(reply);
    }

    pub(super) fn handle_presence(&mut self, from: Jid, el: Element) {
        let events: Vec<Event> = el
            .children()
            .filter(|c| ns::is_schema_namespace(&c.ns()))
            .filter_map(|c| match Event::parse(c.clone()) {
                Ok(e) => Some(e),
                Err(e) => {
                    tracing::debug!(%from, error = %e, "ignoring a malformed event");
                    None
                }
            })
            .collect();
        if events.is_empty() {
            return;
        }
        if let Ok(full) = from.clone().try_into_full() {
            if self.components.contains_key(&full) {
                return self.component_events(&full, events);
            }
            if events.iter().any(is_component_event) {
                // Perhaps a component whose `<ref/>` is still on its way.
                return self.keep_early(from, el);
            }
        }
        let bare = from.to_bare();
        let offered = events.iter().any(|e| matches!(e, Event::Offer(_)));
        if !offered && !self.calls.contains_key(&bare) && !self.mixers.contains_key(&bare) {
            // Perhaps a call whose `<ref/>` is still on its way.
            return self.keep_early(from, el);
        }
        for ev in events {
            match ev {
                Event::Offer(offer) => {
                    if self.calls.contains_key(&bare) {
                        continue;
                    }
                    let call = self.register_call(bare.clone());
                    if self.offers.send(NewOffer { call, offer }).is_err() {
                        self.calls.remove(&bare);
                    }
                }
                other => self.entity_event(&bare, other),
            }
        }
    }

    fn entity_event(&mut self, bare: &BareJid, ev: Event) {
        let ev = match ev {
            Event::Ringing(r) => CallEvent::Ringing(r.headers),
            Event::Answered(a) => CallEvent::Answered(a.headers),
            Event::End(e) => CallEvent::End {
                reason: e.reason,
                headers: e.headers,
            },
            Event::Joined(j) => CallEvent::Joined(j),
            Event::Unjoined(u) => CallEvent::Unjoined(u),
            Event::StartedSpeaking(s) => CallEvent::StartedSpeaking {
                call_uri: s.call_uri,
            },
            Event::StoppedSpeaking(s) => CallEvent::StoppedSpeaking {
                call_uri: s.call_uri,
            },
            // Component events from a bare JID, or offers: not for a call's stream.
            _ => return,
        };
        let end = matches!(ev, CallEvent::End { .. });
        if let Some(tx) = self.calls.get(bare) {
            let _ = tx.send(ev);
        } else if let Some(tx) = self.mixers.get(bare) {
            let _ = tx.send(ev);
        }
        if end {
            // The call's last word: its stream ends after this event.
            self.calls.remove(bare);
            self.components.retain(|c, _| c.to_bare() != *bare);
        }
    }

    fn component_events(&mut self, jid: &FullJid, events: Vec<Event>) {
        for ev in events {
            match ev {
                Event::Complete(c) => {
                    if let Some(mut entry) = self.components.remove(jid) {
                        if let Some(tx) = entry.complete.take() {
                            let _ = tx.send(c);
                        }
                    }
                }
                Event::InputTimersStarted(_) => {
                    if let Some(entry) = self.components.get(jid) {
                        let _ = entry.events.send(ComponentEvent::InputTimersStarted);
                    }
                }
                _ => {}
            }
        }
    }

    pub(super) fn handle_message(&mut self, from: Jid, el: Element) {
        let bare = from.to_bare();
        let Some(tx) = self.calls.get(&bare) else {
            return;
        };
        if el.attr("type") == Some("error") {
            let _ = tx.send(CallEvent::MessageError(iq_error(&el)));
            return;
        }
        let body = el
            .children()
            .find(|c| c.is("body", ns::JABBER_CLIENT))
            .map(|b| b.text());
        if let Some(body) = body {
            let _ = tx.send(CallEvent::Message(body));
        }
    }
}

/// The error of an IQ (or message) of type `error`.
/// Whether `ev` is one only a component sends.
fn is_component_event(ev: &Event) -> bool {
    matches!(ev, Event::Complete(_) | Event::InputTimersStarted(_))
}

pub(super) fn iq_error(el: &Element) -> Error {
    el.children()
        .find(|c| c.is("error", ns::JABBER_CLIENT))
        .and_then(|e| StanzaError::try_from(e.clone()).ok())
        .map(Error::from)
        .unwrap_or_else(|| Error::Protocol("an error without a valid <error/>".into()))
}

/// The disco#info of a Rayo client (XEP-0327 §6.1, §11).
pub(super) fn client_info() -> xmpp_parsers::disco::DiscoInfoResult {
    xmpp_parsers::disco::DiscoInfoResult {
        node: None,
        identities: vec![xmpp_parsers::disco::Identity::new(
            "client",
            "bot",
            "en",
            "rayo-client",
        )],
        features: [ns::CLIENT_CAPS, ns::DISCO_INFO, ns::PING, ns::CAPS]
            .into_iter()
            .map(str::to_owned)
            .collect(),
        extensions: Vec::new(),
    }
}
