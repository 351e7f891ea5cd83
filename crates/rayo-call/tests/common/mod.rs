//! A test harness driving the engine under a virtual clock, with the spec's JIDs.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
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
        Self::with_default_offer_timeout(routes, None)
    }

    /// Like [`Harness::with_routes`], offers of routes without their own timeout waiting
    /// `default` (the node's `[limits] offer_timeout`).
    pub fn with_default_offer_timeout(routes: Vec<Route>, default: Option<Duration>) -> Self {
        let mut cfg = Config::new(addressing());
        cfg.routes = routes;
        cfg.default_offer_timeout = default;
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

/// The outputs `f` picks, in order.
pub fn pick<T>(out: &[Output], f: impl Fn(&Output) -> Option<T>) -> Vec<T> {
    out.iter().filter_map(f).collect()
}

/// The stanzas among outputs, as elements.
pub fn stanzas(out: &[Output]) -> Vec<Element> {
    pick(out, |o| match o {
        Output::Iq(iq) => Some(Element::from(iq.clone())),
        Output::Presence(p) => Some(Element::from(p.clone())),
        Output::Message(m) => Some(Element::from(m.clone())),
        _ => None,
    })
}

pub fn signals(out: &[Output]) -> Vec<SignalAction> {
    pick(out, |o| match o {
        Output::Signal(s) => Some(s.clone()),
        _ => None,
    })
}

pub fn media(out: &[Output]) -> Vec<MediaAction> {
    pick(out, |o| match o {
        Output::Media(m) => Some(m.clone()),
        _ => None,
    })
}

/// The IQ replies among outputs.
pub fn iqs(out: &[Output]) -> Vec<Iq> {
    pick(out, |o| match o {
        Output::Iq(iq) => Some(iq.clone()),
        _ => None,
    })
}

/// The presences among outputs.
pub fn presences(out: &[Output]) -> Vec<Presence> {
    pick(out, |o| match o {
        Output::Presence(p) => Some(p.clone()),
        _ => None,
    })
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
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples");
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

// ---- helpers for the §6.1, §6.2, §6.6–§6.8 tests ------------------------------------------

/// A `<header/>`.
pub fn header(name: &str, value: &str) -> rayo_proto::generated::rayo::Header {
    rayo_proto::generated::rayo::Header {
        name: name.to_owned(),
        value: value.to_owned(),
    }
}

/// Stanza `index` of a spec listing after replacing text in the file (`edits`, in order):
/// for listings that name things this service cannot have (see the test using it).
pub fn listing_edited(file: &str, index: usize, edits: &[(&str, &str)]) -> Element {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples");
    let mut text = std::fs::read_to_string(dir.join(file)).expect("spec example readable");
    for (from, to) in edits {
        assert!(text.contains(from), "{file} contains {from:?}");
        text = text.replace(from, to);
    }
    let (chunks, _) = rayo_proto::document::split(&text);
    chunks[index].element().expect("well-formed listing")
}

/// The IQ set an IQ error listing answers: addresses swapped, same id, the echoed payload.
pub fn request_answered_by(reply: &Element) -> Iq {
    let payload = reply
        .children()
        .find(|c| c.name() != "error")
        .cloned()
        .expect("the reply echoes its request");
    Iq::Set {
        from: reply.attr("to").map(jid),
        to: reply.attr("from").map(jid),
        id: reply.attr("id").expect("an id").to_owned(),
        payload,
    }
}

/// One line per output, for asserting their order: `result -> to`, `error cond -> to`,
/// `from -> to: event` (`complete(hangup)`, `end(reason)`), `message from -> to`,
/// `signal Variant`, `media Variant`.
pub fn trace(out: &[Output]) -> Vec<String> {
    use rayo_proto::event::{CompleteReason, Event};
    let variant = |d: String| d.split([' ', '(', '{']).next().unwrap_or("").to_owned();
    let s = |j: &Option<Jid>| j.as_ref().map(|j| j.to_string()).unwrap_or_default();
    out.iter()
        .map(|o| match o {
            Output::Iq(Iq::Result { to, .. }) => format!("result -> {}", s(to)),
            Output::Iq(Iq::Error { to, error, .. }) => format!(
                "error {} -> {}",
                rayo_proto::error::condition_name(&error.defined_condition),
                s(to)
            ),
            Output::Iq(iq) => format!("iq {iq:?}"),
            Output::Presence(p) => {
                let events: Vec<String> = p
                    .payloads
                    .iter()
                    .filter_map(|e| Event::parse(e.clone()).ok())
                    .map(|e| match &e {
                        Event::Complete(c) if c.reason == CompleteReason::Hangup => {
                            "complete(hangup)".to_owned()
                        }
                        Event::End(end) => {
                            let r = Element::from(end.reason.clone());
                            format!("end({})", r.name())
                        }
                        e => e.name().to_owned(),
                    })
                    .collect();
                let what = if events.is_empty() {
                    "presence".to_owned()
                } else {
                    events.join(",")
                };
                format!("{} -> {}: {what}", s(&p.from), s(&p.to))
            }
            Output::Message(m) => format!("message {} -> {}", s(&m.from), s(&m.to)),
            Output::Signal(a) => format!("signal {}", variant(format!("{a:?}"))),
            Output::Media(a) => format!("media {}", variant(format!("{a:?}"))),
            Output::Prepare(p) => format!(
                "prepare {} from {}",
                variant(format!("{:?}", p.spec())),
                p.client()
            ),
        })
        .collect()
}

impl<P: Policy> Harness<P> {
    /// Sends the request that an IQ error listing answers (see [`request_answered_by`]).
    pub fn send_request_of(&mut self, file: &str, index: usize) -> Vec<Output> {
        let iq = request_answered_by(&listing(file, index));
        self.input(Input::Iq(iq))
    }

    /// Juliet dials `tel:+13055195825`, asking for the call to be `id`.
    pub fn dial_as(&mut self, id: &str) -> Vec<Output> {
        let dial = format!(
            "<dial xmlns='urn:xmpp:rayo:1' to='tel:+13055195825' \
             uri='xmpp:{id}@call.{SERVICE}'/>"
        );
        self.set(JULIET, SERVICE, &format!("dial-{id}"), &dial)
    }
}

// ---- helpers for the §6.3–§6.5 tests (joins, mixers, components) ------------------------

/// The spec's error listings of §6.3 say `from='callA@shakespeare.lit'` where every other
/// listing (and §5.2) has `callA@call.shakespeare.lit`: the edit for [`listing_edited`].
pub const CALL_A_FROM_TYPO: (&str, &str) = (
    "from='callA@shakespeare.lit'",
    "from='callA@call.shakespeare.lit'",
);

type JoinCheck = dyn FnMut(
    &rayo_call::Party,
    &rayo_call::Party,
    rayo_proto::generated::rayo::JoinDirection,
    rayo_proto::generated::rayo::JoinMedia,
) -> Result<(), rayo_call::Refusal>;
type ComponentCheck = dyn FnMut(
    &rayo_call::Party,
    &rayo_proto::command::ComponentStart,
) -> Result<(), rayo_call::Refusal>;
type MixerCheck = dyn FnMut(&str) -> Result<(), rayo_call::Refusal>;

/// A deployment policy scripted by the test (permissive where not scripted).
pub struct ScriptedPolicy {
    /// Answers [`Policy::check_join`].
    pub join: Box<JoinCheck>,
    /// Answers [`Policy::check_component`].
    pub component: Box<ComponentCheck>,
    /// Answers [`Policy::create_mixer`].
    pub mixer: Box<MixerCheck>,
}

impl Default for ScriptedPolicy {
    fn default() -> Self {
        ScriptedPolicy {
            join: Box::new(|_, _, _, _| Ok(())),
            component: Box::new(|_, _| Ok(())),
            mixer: Box::new(|_| Ok(())),
        }
    }
}

impl Policy for ScriptedPolicy {
    fn check_component(
        &mut self,
        on: &rayo_call::Party,
        spec: &rayo_proto::command::ComponentStart,
    ) -> Result<(), rayo_call::Refusal> {
        (self.component)(on, spec)
    }

    fn check_join(
        &mut self,
        a: &rayo_call::Party,
        b: &rayo_call::Party,
        direction: rayo_proto::generated::rayo::JoinDirection,
        media: rayo_proto::generated::rayo::JoinMedia,
    ) -> Result<(), rayo_call::Refusal> {
        (self.join)(a, b, direction, media)
    }

    fn create_mixer(&mut self, name: &str) -> Result<(), rayo_call::Refusal> {
        (self.mixer)(name)
    }
}

/// The routes of [`Harness::new`]: every call to Juliet's and Romeo's bare JIDs at once.
pub fn juliet_and_romeo_routes() -> Vec<Route> {
    vec![Route::new(
        "*",
        vec![jid("juliet@capulet.lit"), jid("romeo@montague.lit")],
        Box::new(All),
    )]
}

impl Harness<ScriptedPolicy> {
    /// A harness routing like [`Harness::new`], asking `policy`.
    pub fn scripted(policy: ScriptedPolicy) -> Self {
        Harness::with_policy(juliet_and_romeo_routes(), policy)
    }
}

impl<P: Policy> Harness<P> {
    /// `who` (made available) takes inbound call `id`: offer, accept, answer.
    pub fn answered_call_by(&mut self, who: &str, id: &str) {
        self.available(who);
        self.incoming_as(id, true);
        let to = format!("{id}@call.{SERVICE}");
        let acc = self.set(who, &to, "acc", "<accept xmlns='urn:xmpp:rayo:1'/>");
        let ans = self.set(who, &to, "ans", "<answer xmlns='urn:xmpp:rayo:1'/>");
        for out in [acc, ans] {
            assert!(
                matches!(iqs(&out)[..], [Iq::Result { .. }]),
                "{who} takes {id}: {out:#?}"
            );
        }
    }

    /// Sends a stanza given as an element (a listing, possibly edited).
    pub fn send(&mut self, e: Element) -> Vec<Output> {
        let input = match e.name() {
            "iq" => Input::Iq(Iq::try_from(e).expect("an IQ")),
            "presence" => Input::Presence(Presence::try_from(e).expect("a presence")),
            _ => Input::Message(xmpp_parsers::message::Message::try_from(e).expect("a message")),
        };
        self.input(input)
    }

    /// `who` starts a component on `on` (a call or mixer JID); returns the component's JID
    /// from the `<ref/>` of the result.
    pub fn start_component(&mut self, who: &str, on: &str, payload: &str) -> String {
        let out = self.set(who, on, "start", payload);
        ref_jid(&out).unwrap_or_else(|| panic!("a ref for {payload}: {out:#?}"))
    }
}

/// The `uri` of the `<ref/>` in the IQ result among outputs.
pub fn ref_uri(out: &[Output]) -> Option<String> {
    iqs(out).into_iter().find_map(|iq| match iq {
        Iq::Result {
            payload: Some(p), ..
        } if p.name() == "ref" => p.attr("uri").map(str::to_owned),
        _ => None,
    })
}

/// The JID the `<ref/>` of the IQ result names.
pub fn ref_jid(out: &[Output]) -> Option<String> {
    ref_uri(out).map(|u| u.trim_start_matches("xmpp:").to_owned())
}

/// The resource of a full JID (a component's id).
pub fn resource(full: &str) -> String {
    full.split_once('/')
        .map(|(_, r)| r.to_owned())
        .unwrap_or_default()
}

/// An IQ error listing with its echoed payload replaced by `payload`: for the listings whose
/// echo is only a stand-in (a `<stop/>` for "some command the component does not implement").
pub fn with_echo(expected: &Element, payload: &str) -> Element {
    let mut e = expected.clone();
    let echoed: Vec<(String, String)> = e
        .children()
        .filter(|c| c.name() != "error")
        .map(|c| (c.name().to_owned(), c.ns()))
        .collect();
    for (name, ns) in echoed {
        e.remove_child(&name, ns.as_str());
    }
    e.append_child(el(payload));
    e
}

/// The element without the `<text/>` of its `<error/>`: the listings show none, and the
/// engine may explain itself (RFC 6120 §8.3.2: text is optional and for humans).
pub fn without_error_text(e: &Element) -> Element {
    let mut e = e.clone();
    for c in e.children_mut() {
        if c.name() == "error" {
            while c
                .remove_child("text", "urn:ietf:params:xml:ns:xmpp-stanzas")
                .is_some()
            {}
        }
    }
    e
}

/// [`assert_matches_listing`] for an IQ error, not comparing the error's optional text.
pub fn assert_error_matches_listing(actual: &Element, expected: &Element) {
    assert_matches_listing(&without_error_text(actual), expected);
}

/// The `<complete/>` of a listing, typed: what the media engine reports for it.
pub fn complete_of(file: &str, index: usize) -> rayo_proto::event::Complete {
    let p = listing(file, index);
    let c = p
        .children()
        .find(|c| c.name() == "complete")
        .cloned()
        .expect("a complete event");
    match rayo_proto::event::Event::parse(c).expect("a valid event") {
        rayo_proto::event::Event::Complete(c) => c,
        other => panic!("not a complete: {other:?}"),
    }
}

/// The media engine reports that `component` completed as the listing says.
pub fn completed_as(component: &str, file: &str, index: usize) -> MediaEvent {
    let c = complete_of(file, index);
    MediaEvent::Complete {
        component: rayo_call::ComponentId(component.to_owned()),
        reason: c.reason,
        metadata: c.metadata,
    }
}

/// Stanza `index` of a spec listing after `edits` (as [`listing_edited`]), with the JID
/// localparts the spec writes in mixed case (`callA`, `myMixer`) written as nodeprep makes
/// them (RFC 7622 §3.3.1: localparts are case-folded), wherever they stand in a URI or JID:
/// `xmpp:callB@…` is the same call as `xmpp:callb@…`, and the engine writes the latter.
/// Friendly names (`mixer-name='myMixer'`) are left alone.
pub fn listing_folded(file: &str, index: usize, edits: &[(&str, &str)]) -> Element {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../specs/examples");
    let mut text = std::fs::read_to_string(dir.join(file)).expect("spec example readable");
    for (from, to) in edits {
        assert!(text.contains(from), "{file} contains {from:?}");
        text = text.replace(from, to);
    }
    for (from, to) in [
        ("callA@", "calla@"),
        ("callB@", "callb@"),
        ("callC@", "callc@"),
        ("myMixer@", "mymixer@"),
    ] {
        text = text.replace(from, to);
    }
    let (chunks, _) = rayo_proto::document::split(&text);
    chunks[index].element().expect("well-formed listing")
}
