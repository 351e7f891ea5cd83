//! Random conversations with the engine: commands of every kind from a few clients to live
//! and ended calls, mixers and components (and to nothing), signalling and media events,
//! clock advances. Whatever happens:
//!
//! - nothing panics;
//! - every IQ request gets exactly one reply, result or error, with its id, to its sender,
//!   from the entity it was sent to; nothing else gets an IQ;
//! - no call sends anything (itself or through its components) after its end event, and no
//!   client hears a call's end twice;
//! - a component completes at most once, and only one that was started; none outlives its
//!   call or its mixer; [`rayo_call::Engine::component_count`] is the number started and not
//!   completed.

mod common;
use common::*;

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use jid::Jid;
use proptest::prelude::*;
use rayo_call::{
    CallId, ComponentId, MediaAction, MediaEvent, MixerId, MostActive, Output, Route, SignalAction,
    SignalEvent,
};
use rayo_proto::event::{CompleteReason, Event, InputReason, OutputReason, RecordReason};
use rayo_proto::generated::rayo::EndReason;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::presence::Type as PresenceType;

const CLIENTS: [&str; 3] = [JULIET, JULIET_COURTYARD, ROMEO];

/// One step of a conversation. Indices pick among what exists by then (modulo its length,
/// with a bias towards the newest).
#[derive(Debug, Clone)]
enum Op {
    /// A client says it is available (`chat`, kinds 0 and 1), busy (`dnd`, 2) or goes
    /// offline (3).
    Presence { client: usize, kind: u8 },
    /// A new inbound call.
    Incoming { early_media: bool },
    /// An IQ from a client.
    Iq { client: usize, cmd: Cmd },
    /// The signalling layer reports about a call.
    Signal { call: usize, event: u8 },
    /// The media engine reports.
    Media { kind: u8, a: usize, b: usize },
    /// Time passes.
    Advance { millis: u64 },
}

/// An IQ: what it says (`kind`), to whom (`target`), and the numbers that pick its
/// parameters.
#[derive(Debug, Clone, Copy)]
struct Cmd {
    kind: u8,
    target: u8,
    a: usize,
    b: u8,
    c: u8,
}

/// Mostly Juliet's balcony, sometimes her courtyard (same zone), now and then Romeo.
fn client(n: usize) -> usize {
    match n % 8 {
        0..=4 => 0,
        5 | 6 => 1,
        _ => 2,
    }
}

fn op() -> impl Strategy<Value = Op> {
    (
        0u8..40,
        0usize..64,
        0usize..64,
        0usize..64,
        0u8..64,
        0u8..64,
    )
        .prop_map(|(k, c, a, b, x, y)| match k {
            0 | 1 => Op::Presence {
                client: client(c),
                kind: x % 4,
            },
            2..=5 => Op::Incoming {
                early_media: x % 4 != 0,
            },
            6..=29 => Op::Iq {
                client: client(c),
                cmd: Cmd {
                    kind: x,
                    target: y,
                    a,
                    b: (b % 64) as u8,
                    c: y / 3 + x,
                },
            },
            30..=33 => Op::Signal { call: a, event: x },
            34..=38 => Op::Media { kind: x % 8, a, b },
            _ => Op::Advance {
                millis: u64::from(x) * 100,
            },
        })
}

/// What the test knows exists (or existed).
#[derive(Default)]
struct World {
    calls: Vec<String>,
    mixers: Vec<MixerId>,
    components: Vec<String>,
    next_call: usize,
    /// Who last had a command to an entity (call or component JID) acknowledged: whom to
    /// send its next commands from, most of the time.
    controller: BTreeMap<String, usize>,
}

/// Element `i` of `v`, mostly one of the newest three.
fn pick<T: Clone>(v: &[T], i: usize) -> Option<T> {
    if v.is_empty() {
        return None;
    }
    let k = if i.is_multiple_of(4) {
        i / 4 % v.len()
    } else {
        v.len() - 1 - (i % 3).min(v.len() - 1)
    };
    Some(v[k].clone())
}

impl World {
    fn call(&self, i: usize) -> String {
        pick(&self.calls, i).unwrap_or_else(|| "nocall".to_owned())
    }

    fn call_jid(&self, i: usize) -> String {
        format!("{}@call.{SERVICE}", self.call(i))
    }

    fn component(&self, i: usize) -> String {
        pick(&self.components, i).unwrap_or_else(|| format!("c0@call.{SERVICE}/nothing"))
    }
}

fn direction(n: u8) -> &'static str {
    ["duplex", "send", "recv"][usize::from(n % 3)]
}

fn media_kind(n: u8) -> &'static str {
    if n.is_multiple_of(4) {
        "direct"
    } else {
        "bridge"
    }
}

/// What kind of entity a command is meant for.
#[derive(Clone, Copy, PartialEq)]
enum Aim {
    Service,
    Call,
    CallOrMixer,
    Component,
}

/// The payload of an IQ, and whom it is meant for.
fn payload(cmd: Cmd, w: &World) -> (String, Aim) {
    let rayo = "urn:xmpp:rayo:1";
    // The other party of a join: another call than the target, most of the time.
    let call_uri = format!("xmpp:{}", w.call_jid(cmd.a / 7 + 1));
    let mixer = format!("m{}", cmd.b % 2);
    let s = |x: &str| x.to_owned();
    match cmd.kind {
        0..=5 => (format!("<answer xmlns='{rayo}'/>"), Aim::Call),
        6 | 7 => (format!("<accept xmlns='{rayo}'/>"), Aim::Call),
        8 => (format!("<hangup xmlns='{rayo}'/>"), Aim::Call),
        9 => (
            format!("<reject xmlns='{rayo}'><busy/></reject>"),
            Aim::Call,
        ),
        10 => (
            format!("<redirect xmlns='{rayo}' to='tel:+1555'/>"),
            Aim::Call,
        ),
        11..=16 => (
            format!(
                "<join xmlns='{rayo}' call-uri='{call_uri}' direction='{}' media='{}'/>",
                direction(cmd.b),
                media_kind(cmd.c)
            ),
            Aim::CallOrMixer,
        ),
        17..=22 => (
            format!(
                "<join xmlns='{rayo}' mixer-name='{mixer}' direction='{}' media='{}'/>",
                direction(cmd.b),
                media_kind(cmd.c)
            ),
            Aim::CallOrMixer,
        ),
        23 => (format!("<unjoin xmlns='{rayo}'/>"), Aim::CallOrMixer),
        24 => (
            format!("<unjoin xmlns='{rayo}' call-uri='{call_uri}'/>"),
            Aim::CallOrMixer,
        ),
        25 => (
            format!("<unjoin xmlns='{rayo}' mixer-name='{mixer}'/>"),
            Aim::CallOrMixer,
        ),
        26..=31 => (
            format!(
                "<output xmlns='urn:xmpp:rayo:output:1' start-paused='{}'>\
                 <document url='http://example.com/a.wav'/></output>",
                cmd.b.is_multiple_of(3)
            ),
            Aim::CallOrMixer,
        ),
        32 | 33 => (
            s("<input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'>\
               <grammar url='http://example.com/pin.grxml'/></input>"),
            Aim::CallOrMixer,
        ),
        34 | 35 => (
            s("<prompt xmlns='urn:xmpp:rayo:prompt:1'>\
               <output xmlns='urn:xmpp:rayo:output:1'>\
               <document url='http://example.com/a.wav'/></output>\
               <input xmlns='urn:xmpp:rayo:input:1' mode='dtmf'>\
               <grammar url='http://example.com/pin.grxml'/></input></prompt>"),
            Aim::CallOrMixer,
        ),
        36 | 37 => (
            format!(
                "<record xmlns='urn:xmpp:rayo:record:1' direction='{}'/>",
                direction(cmd.b)
            ),
            Aim::CallOrMixer,
        ),
        38..=41 => (s("<stop xmlns='urn:xmpp:rayo:ext:1'/>"), Aim::Component),
        42 => (s("<pause xmlns='urn:xmpp:rayo:output:1'/>"), Aim::Component),
        43 => (
            s("<resume xmlns='urn:xmpp:rayo:output:1'/>"),
            Aim::Component,
        ),
        44 => (
            format!(
                "<seek xmlns='urn:xmpp:rayo:output:1' direction='back' amount='{}'/>",
                u32::from(cmd.b % 3) * 1000
            ),
            Aim::Component,
        ),
        45 => (
            s("<speed-up xmlns='urn:xmpp:rayo:output:1'/>"),
            Aim::Component,
        ),
        46 => (
            s("<volume-down xmlns='urn:xmpp:rayo:output:1'/>"),
            Aim::Component,
        ),
        47 => (s("<pause xmlns='urn:xmpp:rayo:record:1'/>"), Aim::Component),
        48 => (
            s("<resume xmlns='urn:xmpp:rayo:record:1'/>"),
            Aim::Component,
        ),
        49..=51 => {
            let timeout = if cmd.b.is_multiple_of(2) {
                " timeout='2000'"
            } else {
                ""
            };
            let join = match cmd.c % 3 {
                0 => format!("<join call-uri='{call_uri}'/>"),
                1 => format!("<join mixer-name='{mixer}'/>"),
                _ => String::new(),
            };
            (
                format!("<dial xmlns='{rayo}' to='tel:+13055195825'{timeout}>{join}</dial>"),
                Aim::Service,
            )
        }
        52 => (
            format!("<join xmlns='{rayo}' call-uri='xmpp:'/>"),
            Aim::CallOrMixer,
        ),
        53 => (
            s("<output xmlns='urn:xmpp:rayo:output:1'/>"),
            Aim::CallOrMixer,
        ),
        54 => (s("<ping xmlns='urn:xmpp:ping'/>"), Aim::Service),
        55 => (
            format!("<unjoin xmlns='{rayo}' call-uri='{call_uri}' mixer-name='{mixer}'/>"),
            Aim::CallOrMixer,
        ),
        _ => (format!("<answer xmlns='{rayo}'/>"), Aim::Call),
    }
}

/// Where an IQ goes: mostly where its command is meant to go, sometimes anywhere.
fn target(cmd: Cmd, aim: Aim, w: &World) -> String {
    let mixer = || format!("m{}@mixer.{SERVICE}", cmd.a % 2);
    let aim = if cmd.target.is_multiple_of(8) {
        [Aim::Service, Aim::Call, Aim::CallOrMixer, Aim::Component][usize::from(cmd.target / 8 % 4)]
    } else {
        aim
    };
    match aim {
        Aim::Service if cmd.target % 16 == 8 => "someone@elsewhere.example/x".to_owned(),
        Aim::Service => SERVICE.to_owned(),
        Aim::Call => w.call_jid(cmd.a),
        // To a mixer a quarter of the time, half the time once there are some.
        Aim::CallOrMixer
            if cmd.target % 4 == 1 || (!w.mixers.is_empty() && cmd.target % 4 == 2) =>
        {
            mixer()
        }
        Aim::CallOrMixer => w.call_jid(cmd.a),
        Aim::Component => w.component(cmd.a),
    }
}

fn end_reason(n: u8) -> EndReason {
    match n % 4 {
        0 => EndReason::Hangup {
            platform_code: None,
        },
        1 => EndReason::Busy {
            platform_code: None,
        },
        2 => EndReason::Timeout {
            platform_code: None,
        },
        _ => EndReason::Error {
            platform_code: None,
        },
    }
}

fn complete_reason(n: usize) -> CompleteReason {
    match n % 7 {
        0 => CompleteReason::Stop,
        1 => CompleteReason::Hangup,
        2 => CompleteReason::Error("media failure".to_owned()),
        3 => CompleteReason::Output(OutputReason::Finish),
        4 => CompleteReason::Input(InputReason::NoInput),
        5 => CompleteReason::Input(InputReason::NoMatch),
        _ => CompleteReason::Record(RecordReason::MaxDuration),
    }
}

/// What has been seen so far, for the invariants.
#[derive(Default)]
struct Seen {
    /// Bare JIDs of calls that sent their end event.
    ended: BTreeSet<String>,
    /// Components started and not completed, by full JID, with the client that started
    /// them.
    live: BTreeMap<String, usize>,
}

fn bare(j: &Jid) -> String {
    j.to_bare().to_string()
}

fn is_end(p: &xmpp_parsers::presence::Presence) -> bool {
    p.payloads
        .iter()
        .any(|e| matches!(Event::parse(e.clone()), Ok(Event::End(_))))
}

fn is_complete(p: &xmpp_parsers::presence::Presence) -> bool {
    p.payloads
        .iter()
        .any(|e| matches!(Event::parse(e.clone()), Ok(Event::Complete(_))))
}

/// Runs one step and checks every invariant; `Err` explains a violation.
fn step(h: &mut Harness, w: &mut World, seen: &mut Seen, n: usize, op: &Op) -> Result<(), String> {
    let mut request: Option<(Jid, Jid, String)> = None;
    let mut sent: Option<(usize, String)> = None;
    let out = match op {
        Op::Presence { client, kind } => {
            let who = CLIENTS[*client];
            match kind {
                0 | 1 => h.available(who),
                2 => h.dnd(who),
                _ => h.offline(who),
            }
        }
        Op::Incoming { early_media } => {
            let id = format!("c{}", w.next_call);
            w.next_call += 1;
            w.calls.push(id.clone());
            h.incoming_as(&id, *early_media)
        }
        Op::Iq { client, cmd } => {
            let (body, aim) = payload(*cmd, w);
            let to = target(*cmd, aim, w);
            let sender = match w.controller.get(&to) {
                Some(c) if cmd.c % 4 != 0 => *c,
                _ => *client,
            };
            let from = CLIENTS[sender];
            sent = Some((sender, to.clone()));
            let id = format!("q{n}");
            let (fj, tj) = (jid(from), jid(&to));
            let body = el(&body);
            let iq = match (cmd.kind, cmd.b % 2) {
                // Now and then a query or a stray result instead of a command.
                (56 | 57, 0) => Iq::Get {
                    from: Some(fj.clone()),
                    to: Some(tj.clone()),
                    id: id.clone(),
                    payload: body,
                },
                (56 | 57, _) => Iq::Result {
                    from: Some(fj.clone()),
                    to: Some(tj.clone()),
                    id: id.clone(),
                    payload: None,
                },
                _ => Iq::Set {
                    from: Some(fj.clone()),
                    to: Some(tj.clone()),
                    id: id.clone(),
                    payload: body,
                },
            };
            if !matches!(iq, Iq::Result { .. }) {
                request = Some((fj, tj, id));
            }
            h.input(rayo_call::Input::Iq(iq))
        }
        Op::Signal { call, event } => {
            let event = match event % 8 {
                0 => SignalEvent::Ringing { headers: vec![] },
                1 | 2 => SignalEvent::Answered { headers: vec![] },
                3 => SignalEvent::Ended {
                    reason: end_reason(*event / 8),
                    headers: vec![],
                },
                4 | 5 => SignalEvent::Dtmf { digit: '5' },
                _ => SignalEvent::Message {
                    body: "hello".to_owned(),
                },
            };
            h.signal(&w.call(*call), event)
        }
        Op::Media { kind, a, b } => {
            let component = |i: usize| ComponentId(resource(&w.component(i)));
            let ev = match kind {
                0..=3 => MediaEvent::Complete {
                    component: component(*a),
                    reason: complete_reason(*b),
                    metadata: vec![],
                },
                4 | 5 => MediaEvent::InputTimersStarted {
                    component: component(*a),
                },
                _ => MediaEvent::Speaking {
                    mixer: pick(&w.mixers, *a).unwrap_or_else(|| MixerId("nomixer".to_owned())),
                    call: CallId(w.call(*b)),
                    speaking: kind.is_multiple_of(2),
                },
            };
            h.media(ev)
        }
        Op::Advance { millis } => h.advance(Duration::from_millis(*millis)),
    };

    // IQ replies: exactly one per request, none otherwise.
    let replies = iqs(&out);
    match &request {
        Some((from, to, id)) => {
            if replies.len() != 1 {
                return Err(format!("{} replies to {id}: {out:#?}", replies.len()));
            }
            let (rfrom, rto, rid) = match &replies[0] {
                Iq::Result { from, to, id, .. } | Iq::Error { from, to, id, .. } => (from, to, id),
                other => return Err(format!("a reply that is a request: {other:?}")),
            };
            if rid != id || rto.as_ref() != Some(from) || rfrom.as_ref() != Some(to) {
                return Err(format!("misaddressed reply to {id}: {:?}", replies[0]));
            }
        }
        None if !replies.is_empty() => {
            return Err(format!("IQs nobody asked for: {replies:#?}"));
        }
        None => {}
    }

    // What the world now holds.
    if let (Some((sender, to)), [Iq::Result { .. }]) = (&sent, &replies[..]) {
        w.controller.insert(to.clone(), *sender);
        if let Some(c) = ref_jid(&out).filter(|c| c.contains('/')) {
            w.controller.insert(c, *sender);
        }
    }
    for o in &out {
        match o {
            Output::Signal(SignalAction::Dial { call, .. }) => w.calls.push(call.0.clone()),
            Output::Media(MediaAction::CreateMixer { mixer }) => w.mixers.push(mixer.clone()),
            _ => {}
        }
    }
    if let (Some(uri), Some((sender, _))) = (ref_jid(&out), &sent) {
        if uri.contains('/') {
            if seen.live.insert(uri.clone(), *sender).is_some() {
                return Err(format!("component {uri} started twice"));
            }
            w.components.push(uri);
        }
    }

    // Events: nothing from a call after its end; completes once, of live components only;
    // no component left when its call ends.
    let mut ending: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for o in &out {
        let (from, to) = match o {
            Output::Presence(p) => (p.from.clone(), p.to.clone()),
            Output::Message(m) => (m.from.clone(), m.to.clone()),
            _ => continue,
        };
        let (Some(from), Some(to)) = (from, to) else {
            return Err(format!("an unaddressed stanza: {o:?}"));
        };
        if !CLIENTS.iter().any(|c| jid(c) == to) {
            return Err(format!("a stanza to {to}, who is no client: {o:?}"));
        }
        let b = bare(&from);
        if seen.ended.contains(&b) {
            return Err(format!("{from} speaks after its end: {o:?}"));
        }
        let presence = match o {
            Output::Presence(p) => Some(p),
            _ => None,
        };
        let end = presence.is_some_and(is_end);
        if let Some(recipients) = ending.get_mut(&b) {
            if !end {
                return Err(format!("{from} speaks after its end: {o:?}"));
            }
            if !recipients.insert(to.to_string()) {
                return Err(format!("{to} hears the end of {b} twice"));
            }
        } else if end {
            if let Some(c) = seen.live.keys().find(|c| c.starts_with(&format!("{b}/"))) {
                return Err(format!("{b} ends with {c} still running"));
            }
            ending.insert(b.clone(), BTreeSet::from([to.to_string()]));
        }
        // A mixer going away (bare unavailable presence) to a client of its zone: none of
        // its components started by that zone may be left.
        if let Some(p) = presence.filter(|p| {
            p.type_ == PresenceType::Unavailable
                && p.payloads.is_empty()
                && from.domain().as_str() == format!("mixer.{SERVICE}")
        }) {
            let zone = |c: usize| jid(CLIENTS[c]).to_bare();
            if let Some(c) = seen.live.iter().find(|(c, owner)| {
                c.starts_with(&format!("{b}/"))
                    && Some(zone(**owner)) == p.to.as_ref().map(Jid::to_bare)
            }) {
                return Err(format!("{b} is destroyed with {c:?} still running"));
            }
        }
        if let Some(p) = presence {
            if is_complete(p) {
                if p.type_ != PresenceType::Unavailable {
                    return Err(format!("a complete that is not unavailable: {p:?}"));
                }
                if seen.live.remove(&from.to_string()).is_none() {
                    return Err(format!("{from} completes but is not running: {p:?}"));
                }
            }
        }
    }
    seen.ended.extend(ending.into_keys());

    if h.engine.component_count() != seen.live.len() {
        return Err(format!(
            "component_count() is {} but {} are running: {:?}",
            h.engine.component_count(),
            seen.live.len(),
            seen.live
        ));
    }
    if let Some(c) = seen
        .live
        .keys()
        .find(|c| seen.ended.contains(c.split('/').next().unwrap_or("")))
    {
        return Err(format!("{c} outlives its call"));
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 128,
        max_shrink_iters: 2000,
        ..ProptestConfig::default()
    })]

    #[test]
    fn engine_keeps_its_promises_whatever_happens(
        staged in any::<bool>(),
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let targets = vec![jid("juliet@capulet.lit"), jid("romeo@montague.lit")];
        let route = if staged {
            Route::new("*", targets, Box::new(MostActive))
                .with_offer_timeout(Duration::from_secs(5))
        } else {
            Route::new("*", targets, Box::new(rayo_call::All))
        };
        let mut h = Harness::with_routes(vec![route]);
        // Juliet's balcony last: the most active, first offered in staged offers.
        for c in CLIENTS.iter().rev() {
            h.available(c);
        }
        let (mut w, mut seen) = (World::default(), Seen::default());
        // One call to start with.
        let first = step(&mut h, &mut w, &mut seen, usize::MAX, &Op::Incoming { early_media: true });
        prop_assert!(first.is_ok(), "{first:?}");
        for (n, op) in ops.iter().enumerate() {
            if let Err(e) = step(&mut h, &mut w, &mut seen, n, op) {
                prop_assert!(false, "step {n} ({op:?}): {e}");
            }
        }
    }
}
