//! A test harness driving the engine under a virtual clock, with the spec's JIDs.
#![allow(dead_code, missing_docs)]

use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;
use rayo_call::{
    All, CallId, Config, Engine, Input, MediaAction, MediaEvent, Output, Policy, Route,
    SignalAction, SignalEvent,
};
use rayo_proto::address::Addressing;
use rayo_proto::stanza::Stanza;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::presence::{Presence, Show, Type as PresenceType};

pub const SERVICE: &str = "shakespeare.lit";
pub const JULIET: &str = "juliet@capulet.lit/balcony";
pub const JULIET_COURTYARD: &str = "juliet@capulet.lit/courtyard";
pub const ROMEO: &str = "romeo@montague.lit/orchard";

pub fn jid(s: &str) -> Jid {
    Jid::new(s).expect("valid JID")
}

pub fn el(xml: &str) -> Element {
    Element::from_reader_with_prefixes(xml.as_bytes(), "jabber:client".to_owned())
        .expect("well-formed test XML")
}

pub fn addressing() -> Addressing {
    Addressing::new(SERVICE, Some("call"), Some("mixer")).expect("valid domains")
}

/// The engine plus a virtual clock.
pub struct Harness<P: Policy = rayo_call::AllowAll> {
    pub engine: Engine<P>,
    pub now: Instant,
}

impl Harness {
    /// Routes every call to Juliet's and Romeo's bare JIDs, all at once.
    pub fn new() -> Self {
        Self::with_routes(vec![Route::new(
            "*",
            vec![jid("juliet@capulet.lit"), jid("romeo@montague.lit")],
            Box::new(All),
        )])
    }

    pub fn with_routes(routes: Vec<Route>) -> Self {
        let mut cfg = Config::new(addressing());
        cfg.routes = routes;
        Harness {
            engine: Engine::new(cfg),
            now: Instant::now(),
        }
    }
}

impl<P: Policy> Harness<P> {
    pub fn with_policy(routes: Vec<Route>, policy: P) -> Self {
        let mut cfg = Config::new(addressing());
        cfg.routes = routes;
        Harness {
            engine: Engine::with_policy(cfg, policy),
            now: Instant::now(),
        }
    }

    pub fn outputs(&mut self) -> Vec<Output> {
        self.engine.drain_outputs()
    }

    pub fn advance(&mut self, d: Duration) -> Vec<Output> {
        self.now += d;
        self.engine.handle_timeout(self.now);
        self.outputs()
    }

    pub fn input(&mut self, i: Input) -> Vec<Output> {
        self.engine.handle(self.now, i);
        self.outputs()
    }

    /// The client sends directed presence to the service with `<show>chat</show>` (§6.1).
    pub fn available(&mut self, who: &str) -> Vec<Output> {
        let p = Presence::available()
            .with_from(jid(who))
            .with_to(jid(SERVICE))
            .with_show(Show::Chat);
        self.input(Input::Presence(p))
    }

    pub fn dnd(&mut self, who: &str) -> Vec<Output> {
        let p = Presence::available()
            .with_from(jid(who))
            .with_to(jid(SERVICE))
            .with_show(Show::Dnd);
        self.input(Input::Presence(p))
    }

    pub fn offline(&mut self, who: &str) -> Vec<Output> {
        let p = Presence::new(PresenceType::Unavailable)
            .with_from(jid(who))
            .with_to(jid(SERVICE));
        self.input(Input::Presence(p))
    }

    /// An inbound call with the id of the spec's listings.
    pub fn incoming_as(&mut self, id: &str, early_media: bool) -> Vec<Output> {
        self.input(Input::Signal {
            call: CallId(id.to_owned()),
            event: SignalEvent::Incoming {
                to: "tel:+18003211212".to_owned(),
                from: Some("tel:+13058881212".to_owned()),
                headers: Vec::new(),
                early_media,
            },
        })
    }

    pub fn signal(&mut self, call: &str, event: SignalEvent) -> Vec<Output> {
        self.input(Input::Signal {
            call: CallId(call.to_owned()),
            event,
        })
    }

    pub fn media(&mut self, ev: MediaEvent) -> Vec<Output> {
        self.input(Input::Media(ev))
    }

    /// An IQ set `from` → `to` with `payload` (XML), id `id`.
    pub fn set(&mut self, from: &str, to: &str, id: &str, payload: &str) -> Vec<Output> {
        let iq = Iq::Set {
            from: Some(jid(from)),
            to: Some(jid(to)),
            id: id.to_owned(),
            payload: el(payload),
        };
        self.input(Input::Iq(iq))
    }

    /// Sends stanza `index` of a spec listing, as the engine's input.
    pub fn send_listing(&mut self, file: &str, index: usize) -> Vec<Output> {
        let e = listing(file, index);
        let input = match e.name() {
            "iq" => Input::Iq(Iq::try_from(e).expect("an IQ")),
            "presence" => Input::Presence(Presence::try_from(e).expect("a presence")),
            _ => Input::Message(xmpp_parsers::message::Message::try_from(e).expect("a message")),
        };
        self.input(input)
    }

    /// Juliet (available) takes an inbound call `id`: offer, accept, answer.
    pub fn answered_call(&mut self, id: &str) {
        self.available(JULIET);
        self.incoming_as(id, true);
        let to = format!("{id}@call.{SERVICE}");
        self.set(JULIET, &to, "acc", "<accept xmlns='urn:xmpp:rayo:1'/>");
        self.set(JULIET, &to, "ans", "<answer xmlns='urn:xmpp:rayo:1'/>");
    }
}

/// The stanzas among outputs, as elements.
pub fn stanzas(out: &[Output]) -> Vec<Element> {
    out.iter()
        .filter_map(|o| match o {
            Output::Iq(iq) => Some(Element::from(iq.clone())),
            Output::Presence(p) => Some(Element::from(p.clone())),
            Output::Message(m) => Some(Element::from(m.clone())),
            _ => None,
        })
        .collect()
}

pub fn signals(out: &[Output]) -> Vec<SignalAction> {
    out.iter()
        .filter_map(|o| match o {
            Output::Signal(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

pub fn media(out: &[Output]) -> Vec<MediaAction> {
    out.iter()
        .filter_map(|o| match o {
            Output::Media(m) => Some(m.clone()),
            _ => None,
        })
        .collect()
}

/// The IQ replies among outputs.
pub fn iqs(out: &[Output]) -> Vec<Iq> {
    out.iter()
        .filter_map(|o| match o {
            Output::Iq(iq) => Some(iq.clone()),
            _ => None,
        })
        .collect()
}

/// The presences among outputs.
pub fn presences(out: &[Output]) -> Vec<Presence> {
    out.iter()
        .filter_map(|o| match o {
            Output::Presence(p) => Some(p.clone()),
            _ => None,
        })
        .collect()
}

/// `(condition, type)` of the only IQ error among outputs.
pub fn iq_error(out: &[Output]) -> (String, String) {
    let errors: Vec<_> = iqs(out)
        .into_iter()
        .filter_map(|iq| match iq {
            Iq::Error { error, .. } => Some((
                rayo_proto::error::condition_name(&error.defined_condition).to_owned(),
                rayo_proto::error::type_name(&error.type_).to_owned(),
            )),
            _ => None,
        })
        .collect();
    assert_eq!(errors.len(), 1, "exactly one IQ error in {out:#?}");
    errors.into_iter().next().unwrap_or_default()
}

/// The element of a spec listing: `xep-0327-NNN.xml`, stanza `index`.
pub fn listing(file: &str, index: usize) -> Element {
    let dir =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/specs/examples");
    let text = std::fs::read_to_string(dir.join(file)).expect("spec example readable");
    let (chunks, _) = rayo_proto::document::split(&text);
    chunks[index].element().expect("well-formed listing")
}

/// Asserts that `actual` says what the spec listing says: same stanza, same envelope
/// (from, to, type, id), same typed payloads. Caps `ver` values and XEP-0203 stamps, which
/// the spec shows as placeholders, are compared by presence only.
pub fn assert_matches_listing(actual: &Element, expected: &Element) {
    let norm = |e: &Element| -> Stanza {
        let mut xml = Vec::new();
        e.write_to(&mut xml).expect("serialises");
        let mut s = String::from_utf8(xml).expect("utf-8");
        // Blank out caps hashes: ver='…' → ver='VER'.
        let mut from = 0;
        while let Some(i) = s[from..].find(" ver='") {
            let start = from + i + 6;
            let Some(len) = s[start..].find('\'') else {
                break;
            };
            s.replace_range(start..start + len, "VER");
            from = start;
        }
        Stanza::parse(el(&s)).expect("a stanza the model reads")
    };
    let (a, b) = (norm(actual), norm(expected));
    assert_eq!(a, b, "\nactual:   {actual:?}\nexpected: {expected:?}");
}
