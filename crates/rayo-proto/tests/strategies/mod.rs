//! Proptest strategies for every generated type of `rayo_proto::generated` and for the
//! hand-written `Command`, `Event`/`Complete`, `Payload` and `Stanza`.
//!
//! Values stay inside what XML can carry: strings are made of XML characters other than
//! control characters (tab and newline excepted), with `<`, `&`, quotes and non-ASCII;
//! bodies get leading and trailing white space; durations are whole milliseconds;
//! fractions are multiples of 1/10000 in `0..=1`; foreign elements are in namespaces this
//! crate does not type, with non-empty text only (an empty text node does not survive).
#![allow(dead_code)]

use std::borrow::Cow;
use std::ops::RangeInclusive;
use std::time::Duration;

use jid::Jid;
use minidom::rxml::NcName;
use minidom::Element;
use proptest::collection::{btree_map, vec};
use proptest::option::of;
use proptest::prelude::*;
use proptest::sample::select;
use rayo_proto::address::EntityKind;
use rayo_proto::command::{
    CallCommand, ComponentCommand, ComponentStart, MixerCommand, OutputCommand, RecordCommand,
    ServiceCommand,
};
use rayo_proto::event::{
    Complete, CompleteMetadata, CompleteReason, InputReason, OutputReason, RecordReason,
};
use rayo_proto::generated::{
    cmr, ext, ext_complete, input, input_complete, output, output_complete, prompt, rayo, record,
    record_complete,
};
use rayo_proto::payload::{Context, Payload};
use rayo_proto::stanza::{IqBody, IqStanza, MessageStanza, PresenceStanza, Stanza};
use rayo_proto::types::Fraction;
use rayo_proto::{Command, Event};
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::{Presence, Type as PresenceType};

// ---- Values ----

const NON_ASCII: &[RangeInclusive<char>] = &[
    '\u{a0}'..='\u{d7ff}',
    '\u{e000}'..='\u{fffd}',
    '\u{10000}'..='\u{10ffff}',
];

/// A character XML carries as it is (no control character but tab and newline).
pub fn xml_char() -> impl Strategy<Value = char> {
    prop_oneof![
        6 => proptest::char::range(' ', '~'),
        2 => select(vec!['\t', '\n', '<', '>', '&', '"', '\'', ']', 'é', '€']),
        2 => proptest::char::ranges(Cow::Borrowed(NON_ASCII)),
    ]
}

/// An attribute value or short text: up to 16 XML characters.
pub fn text() -> impl Strategy<Value = String> {
    vec(xml_char(), 0..16).prop_map(String::from_iter)
}

/// A non-empty text.
pub fn nonempty_text() -> impl Strategy<Value = String> {
    vec(xml_char(), 1..16).prop_map(String::from_iter)
}

/// A document body (as found inside CDATA), white space around it included.
pub fn body() -> impl Strategy<Value = String> {
    let ws = || select(vec!["", " ", "\n", "\t", "\n      ", "  \n\t "]);
    (ws(), vec(xml_char(), 0..48), ws())
        .prop_map(|(a, b, c)| format!("{a}{}{c}", String::from_iter(b)))
}

/// A whole number of milliseconds.
pub fn millis() -> impl Strategy<Value = Duration> {
    prop_oneof![0u64..=100_000, any::<u64>()].prop_map(Duration::from_millis)
}

/// A fraction with a short decimal form.
pub fn fraction() -> impl Strategy<Value = Fraction> {
    (0u32..=10_000).prop_map(|n| Fraction::clamped(f64::from(n) / 10_000.0))
}

const FOREIGN_NS: &[&str] = &[
    "urn:example:meta",
    "urn:example:vm:complete:1",
    "http://example.org/ns?a&b",
];

/// An element of a namespace this crate does not type, with attributes and maybe text.
fn foreign_leaf() -> BoxedStrategy<Element> {
    let names = select(vec!["meta", "reason", "x-data", "é"]);
    let attrs = btree_map(select(vec!["a", "b", "kind", "x-y"]), text(), 0..3);
    (
        select(FOREIGN_NS.to_vec()),
        names,
        attrs,
        of(nonempty_text()),
    )
        .prop_map(|(ns, name, attrs, text)| {
            let mut b = Element::builder(name, ns);
            for (k, v) in attrs {
                b = b.attr(NcName::try_from(k).expect("an NCName"), v);
            }
            if let Some(t) = text {
                b = b.append(t);
            }
            b.build()
        })
        .boxed()
}

/// An element of a namespace this crate does not type, with attributes, text or a child.
pub fn foreign_element() -> BoxedStrategy<Element> {
    (foreign_leaf(), of(foreign_leaf()))
        .prop_map(|(mut e, child)| {
            if let Some(c) = child {
                e.append_child(c);
            }
            e
        })
        .boxed()
}

// ---- urn:xmpp:rayo:1 ----

pub fn header() -> impl Strategy<Value = rayo::Header> {
    (text(), text()).prop_map(|(name, value)| rayo::Header { name, value })
}

fn headers() -> impl Strategy<Value = Vec<rayo::Header>> {
    vec(header(), 0..3)
}

pub fn offer() -> impl Strategy<Value = rayo::Offer> {
    (text(), of(text()), headers()).prop_map(|(to, from, headers)| rayo::Offer {
        to,
        from,
        headers,
    })
}

pub fn ringing() -> impl Strategy<Value = rayo::Ringing> {
    headers().prop_map(|headers| rayo::Ringing { headers })
}

pub fn answered() -> impl Strategy<Value = rayo::Answered> {
    headers().prop_map(|headers| rayo::Answered { headers })
}

pub fn end_reason() -> impl Strategy<Value = rayo::EndReason> {
    use rayo::EndReason as R;
    (0..7u8, of(text())).prop_map(|(i, platform_code)| match i {
        0 => R::Hungup { platform_code },
        1 => R::HangupCommand { platform_code },
        2 => R::Timeout { platform_code },
        3 => R::Busy { platform_code },
        4 => R::Rejected { platform_code },
        5 => R::Error { platform_code },
        _ => R::Hangup { platform_code },
    })
}

pub fn end() -> impl Strategy<Value = rayo::End> {
    (end_reason(), headers()).prop_map(|(reason, headers)| rayo::End { reason, headers })
}

pub fn accept() -> impl Strategy<Value = rayo::Accept> {
    headers().prop_map(|headers| rayo::Accept { headers })
}

pub fn answer() -> impl Strategy<Value = rayo::Answer> {
    headers().prop_map(|headers| rayo::Answer { headers })
}

pub fn redirect() -> impl Strategy<Value = rayo::Redirect> {
    (text(), headers()).prop_map(|(to, headers)| rayo::Redirect { to, headers })
}

pub fn reject_reason() -> impl Strategy<Value = rayo::RejectReason> {
    use rayo::RejectReason as R;
    select(vec![R::Decline, R::Busy, R::Error])
}

pub fn reject() -> impl Strategy<Value = rayo::Reject> {
    (of(reject_reason()), headers()).prop_map(|(reason, headers)| rayo::Reject { reason, headers })
}

pub fn hangup() -> impl Strategy<Value = rayo::Hangup> {
    headers().prop_map(|headers| rayo::Hangup { headers })
}

pub fn join_direction() -> impl Strategy<Value = rayo::JoinDirection> {
    use rayo::JoinDirection as D;
    select(vec![D::Duplex, D::Send, D::Recv])
}

pub fn join_media() -> impl Strategy<Value = rayo::JoinMedia> {
    select(vec![rayo::JoinMedia::Bridge, rayo::JoinMedia::Direct])
}

pub fn join() -> impl Strategy<Value = rayo::Join> {
    (
        of(text()),
        of(text()),
        of(join_direction()),
        of(join_media()),
    )
        .prop_map(|(call_uri, mixer_name, direction, media)| rayo::Join {
            call_uri,
            mixer_name,
            direction,
            media,
        })
}

pub fn dial() -> impl Strategy<Value = rayo::Dial> {
    (
        text(),
        of(text()),
        of(text()),
        of(millis()),
        headers(),
        vec(join(), 0..3),
    )
        .prop_map(|(to, from, uri, timeout, headers, joins)| rayo::Dial {
            to,
            from,
            uri,
            timeout,
            headers,
            joins,
        })
}

pub fn unjoin() -> impl Strategy<Value = rayo::Unjoin> {
    (of(text()), of(text())).prop_map(|(call_uri, mixer_name)| rayo::Unjoin {
        call_uri,
        mixer_name,
    })
}

pub fn joined() -> impl Strategy<Value = rayo::Joined> {
    (of(text()), of(text())).prop_map(|(call_uri, mixer_name)| rayo::Joined {
        call_uri,
        mixer_name,
    })
}

pub fn unjoined() -> impl Strategy<Value = rayo::Unjoined> {
    (of(text()), of(text())).prop_map(|(call_uri, mixer_name)| rayo::Unjoined {
        call_uri,
        mixer_name,
    })
}

pub fn started_speaking() -> impl Strategy<Value = rayo::StartedSpeaking> {
    text().prop_map(|call_uri| rayo::StartedSpeaking { call_uri })
}

pub fn stopped_speaking() -> impl Strategy<Value = rayo::StoppedSpeaking> {
    text().prop_map(|call_uri| rayo::StoppedSpeaking { call_uri })
}

pub fn reference() -> impl Strategy<Value = rayo::Ref> {
    text().prop_map(|uri| rayo::Ref { uri })
}

// ---- urn:xmpp:rayo:ext:1 and the complete reasons ----

pub fn ext_stop() -> impl Strategy<Value = ext::Stop> {
    Just(ext::Stop)
}

/// A complete reason or metadata element of any component, or a foreign one.
pub fn complete_child() -> BoxedStrategy<Element> {
    prop_oneof![
        complete_reason().prop_map(Element::from),
        recording().prop_map(Element::from),
        foreign_element(),
    ]
    .boxed()
}

pub fn ext_complete() -> impl Strategy<Value = ext::Complete> {
    vec(complete_child(), 1..4).prop_map(|children| ext::Complete { children })
}

pub fn ext_complete_stop() -> impl Strategy<Value = ext_complete::Stop> {
    Just(ext_complete::Stop)
}

pub fn ext_complete_hangup() -> impl Strategy<Value = ext_complete::Hangup> {
    Just(ext_complete::Hangup)
}

pub fn ext_complete_error() -> impl Strategy<Value = ext_complete::Error> {
    body().prop_map(|text| ext_complete::Error { text })
}

// ---- urn:xmpp:rayo:output:1 ----

pub fn document() -> impl Strategy<Value = output::Document> {
    (of(text()), of(text()), body()).prop_map(|(url, content_type, body)| output::Document {
        url,
        content_type,
        body,
    })
}

pub fn output() -> BoxedStrategy<output::Output> {
    (
        (
            of(millis()),
            of(any::<bool>()),
            of(millis()),
            of(any::<u64>()),
        ),
        (of(millis()), of(text()), of(text()), vec(document(), 0..3)),
    )
        .prop_map(
            |(
                (start_offset, start_paused, repeat_interval, repeat_times),
                (max_time, renderer, voice, documents),
            )| output::Output {
                start_offset,
                start_paused,
                repeat_interval,
                repeat_times,
                max_time,
                renderer,
                voice,
                documents,
            },
        )
        .boxed()
}

pub fn seek_direction() -> impl Strategy<Value = output::SeekDirection> {
    select(vec![
        output::SeekDirection::Forward,
        output::SeekDirection::Back,
    ])
}

pub fn seek() -> impl Strategy<Value = output::Seek> {
    (seek_direction(), millis()).prop_map(|(direction, amount)| output::Seek { direction, amount })
}

pub fn output_command() -> impl Strategy<Value = OutputCommand> {
    prop_oneof![
        Just(OutputCommand::Pause(output::Pause)),
        Just(OutputCommand::Resume(output::Resume)),
        Just(OutputCommand::SpeedUp(output::SpeedUp)),
        Just(OutputCommand::SpeedDown(output::SpeedDown)),
        Just(OutputCommand::VolumeUp(output::VolumeUp)),
        Just(OutputCommand::VolumeDown(output::VolumeDown)),
        seek().prop_map(OutputCommand::Seek),
    ]
}

pub fn finish() -> impl Strategy<Value = output_complete::Finish> {
    Just(output_complete::Finish)
}

pub fn max_time() -> impl Strategy<Value = output_complete::MaxTime> {
    Just(output_complete::MaxTime)
}

// ---- urn:xmpp:rayo:input:1 ----

pub fn input_mode() -> impl Strategy<Value = input::InputMode> {
    use input::InputMode as M;
    select(vec![M::Any, M::Voice, M::Dtmf, M::Cpa])
}

pub fn grammar() -> impl Strategy<Value = input::Grammar> {
    (of(text()), of(text()), body()).prop_map(|(url, content_type, body)| input::Grammar {
        url,
        content_type,
        body,
    })
}

pub fn input() -> BoxedStrategy<input::Input> {
    (
        (of(input_mode()), of(text()), of(text()), of(text())),
        (of(millis()), of(millis()), of(millis()), of(millis())),
        (
            of(fraction()),
            of(fraction()),
            of(text()),
            vec(grammar(), 0..3),
        ),
    )
        .prop_map(
            |(
                (mode, terminator, recognizer, language),
                (initial_timeout, inter_digit_timeout, recognition_timeout, max_silence),
                (sensitivity, min_confidence, match_content_type, grammars),
            )| input::Input {
                mode,
                terminator,
                recognizer,
                language,
                initial_timeout,
                inter_digit_timeout,
                recognition_timeout,
                sensitivity,
                min_confidence,
                max_silence,
                match_content_type,
                grammars,
            },
        )
        .boxed()
}

pub fn input_match() -> impl Strategy<Value = input_complete::Match> {
    (of(text()), body())
        .prop_map(|(content_type, body)| input_complete::Match { content_type, body })
}

pub fn noinput() -> impl Strategy<Value = input_complete::Noinput> {
    Just(input_complete::Noinput)
}

pub fn nomatch() -> impl Strategy<Value = input_complete::Nomatch> {
    Just(input_complete::Nomatch)
}

// ---- urn:xmpp:rayo:prompt:1 ----

pub fn prompt() -> impl Strategy<Value = prompt::Prompt> {
    (of(any::<bool>()), output(), input()).prop_map(|(barge_in, output, input)| prompt::Prompt {
        barge_in,
        output,
        input,
    })
}

pub fn input_timers_started() -> impl Strategy<Value = prompt::InputTimersStarted> {
    Just(prompt::InputTimersStarted)
}

// ---- urn:xmpp:rayo:record:1 ----

pub fn record_direction() -> impl Strategy<Value = record::RecordDirection> {
    use record::RecordDirection as D;
    select(vec![D::Duplex, D::Send, D::Recv])
}

pub fn hint() -> impl Strategy<Value = record::Hint> {
    (text(), text()).prop_map(|(name, value)| record::Hint { name, value })
}

pub fn record() -> BoxedStrategy<record::Record> {
    let flag = || of(any::<bool>());
    (
        (of(text()), flag(), flag(), flag()),
        (of(millis()), of(millis()), of(millis())),
        (of(record_direction()), flag(), vec(hint(), 0..3)),
    )
        .prop_map(
            |(
                (format, start_beep, stop_beep, start_paused),
                (max_duration, initial_timeout, final_timeout),
                (direction, mix, hints),
            )| record::Record {
                format,
                start_beep,
                stop_beep,
                start_paused,
                max_duration,
                initial_timeout,
                final_timeout,
                direction,
                mix,
                hints,
            },
        )
        .boxed()
}

pub fn record_command() -> impl Strategy<Value = RecordCommand> {
    prop_oneof![
        Just(RecordCommand::Pause(record::Pause)),
        Just(RecordCommand::Resume(record::Resume)),
    ]
}

pub fn recording() -> impl Strategy<Value = record_complete::Recording> {
    (text(), millis(), any::<i64>()).prop_map(|(uri, duration, size)| record_complete::Recording {
        uri,
        duration,
        size,
    })
}

// ---- urn:xmpp:cmr:0 ----

pub fn active() -> impl Strategy<Value = cmr::Active> {
    text().prop_map(|algorithm| cmr::Active { algorithm })
}

pub fn available() -> impl Strategy<Value = cmr::Available> {
    text().prop_map(|algorithm| cmr::Available { algorithm })
}

pub fn cmr() -> impl Strategy<Value = cmr::Cmr> {
    text().prop_map(|algorithm| cmr::Cmr { algorithm })
}

pub fn query() -> impl Strategy<Value = cmr::Query> {
    (of(active()), vec(available(), 0..4))
        .prop_map(|(active, available)| cmr::Query { active, available })
}

// ---- Commands ----

pub fn component_start() -> BoxedStrategy<ComponentStart> {
    prop_oneof![
        output().prop_map(ComponentStart::Output),
        input().prop_map(ComponentStart::Input),
        prompt().prop_map(ComponentStart::Prompt),
        record().prop_map(ComponentStart::Record),
    ]
    .boxed()
}

pub fn call_command() -> BoxedStrategy<CallCommand> {
    prop_oneof![
        accept().prop_map(CallCommand::Accept),
        answer().prop_map(CallCommand::Answer),
        redirect().prop_map(CallCommand::Redirect),
        reject().prop_map(CallCommand::Reject),
        hangup().prop_map(CallCommand::Hangup),
        join().prop_map(CallCommand::Join),
        unjoin().prop_map(CallCommand::Unjoin),
        component_start().prop_map(CallCommand::Start),
    ]
    .boxed()
}

pub fn mixer_command() -> BoxedStrategy<MixerCommand> {
    prop_oneof![
        join().prop_map(MixerCommand::Join),
        unjoin().prop_map(MixerCommand::Unjoin),
        component_start().prop_map(MixerCommand::Start),
    ]
    .boxed()
}

pub fn component_command() -> BoxedStrategy<ComponentCommand> {
    prop_oneof![
        ext_stop().prop_map(ComponentCommand::Stop),
        output_command().prop_map(ComponentCommand::Output),
        record_command().prop_map(ComponentCommand::Record),
    ]
    .boxed()
}

pub fn command() -> BoxedStrategy<Command> {
    prop_oneof![
        dial().prop_map(|d| Command::Service(ServiceCommand::Dial(d))),
        call_command().prop_map(Command::Call),
        mixer_command().prop_map(Command::Mixer),
        component_command().prop_map(Command::Component),
    ]
    .boxed()
}

// ---- Events ----

pub fn complete_reason() -> BoxedStrategy<CompleteReason> {
    prop_oneof![
        Just(CompleteReason::Stop),
        Just(CompleteReason::Hangup),
        ext_complete_error().prop_map(|e| CompleteReason::Error(e.text)),
        Just(CompleteReason::Output(OutputReason::Finish)),
        Just(CompleteReason::Output(OutputReason::MaxTime)),
        input_match().prop_map(|m| CompleteReason::Input(InputReason::Match(m))),
        Just(CompleteReason::Input(InputReason::NoInput)),
        Just(CompleteReason::Input(InputReason::NoMatch)),
        Just(CompleteReason::Record(RecordReason::MaxDuration)),
        Just(CompleteReason::Record(RecordReason::InitialTimeout)),
        Just(CompleteReason::Record(RecordReason::FinalTimeout)),
        foreign_element().prop_map(CompleteReason::Other),
    ]
    .boxed()
}

pub fn complete_metadata() -> impl Strategy<Value = CompleteMetadata> {
    prop_oneof![
        recording().prop_map(CompleteMetadata::Recording),
        foreign_element().prop_map(CompleteMetadata::Other),
    ]
}

pub fn complete() -> impl Strategy<Value = Complete> {
    (complete_reason(), vec(complete_metadata(), 0..3))
        .prop_map(|(reason, metadata)| Complete { reason, metadata })
}

pub fn event() -> BoxedStrategy<Event> {
    prop_oneof![
        offer().prop_map(Event::Offer),
        ringing().prop_map(Event::Ringing),
        answered().prop_map(Event::Answered),
        end().prop_map(Event::End),
        joined().prop_map(Event::Joined),
        unjoined().prop_map(Event::Unjoined),
        started_speaking().prop_map(Event::StartedSpeaking),
        stopped_speaking().prop_map(Event::StoppedSpeaking),
        input_timers_started().prop_map(Event::InputTimersStarted),
        complete().prop_map(Event::Complete),
    ]
    .boxed()
}

// ---- Payloads and stanzas ----

fn entity_kind() -> impl Strategy<Value = EntityKind> {
    use EntityKind as K;
    select(vec![K::Service, K::Call, K::Mixer, K::Component])
}

/// A payload with the context it is read in.
pub fn payload() -> BoxedStrategy<(Context, Payload)> {
    let other_context = prop_oneof![
        entity_kind().prop_map(Context::Set),
        Just(Context::Get),
        Just(Context::Result),
        Just(Context::Presence),
        Just(Context::Message),
    ];
    prop_oneof![
        command().prop_map(|c| (Context::Set(c.target()), Payload::Command(c))),
        event().prop_map(|e| (Context::Presence, Payload::Event(e))),
        reference().prop_map(|r| (Context::Result, Payload::Ref(r))),
        (select(vec![Context::Get, Context::Result]), query())
            .prop_map(|(ctx, q)| (ctx, Payload::CmrQuery(q))),
        (
            prop_oneof![entity_kind().prop_map(Context::Set), Just(Context::Message)],
            cmr()
        )
            .prop_map(|(ctx, c)| (ctx, Payload::Cmr(c))),
        (other_context, foreign_element()).prop_map(|(ctx, e)| (ctx, Payload::Other(e))),
    ]
    .boxed()
}

fn jid(s: String) -> Jid {
    Jid::new(&s).unwrap_or_else(|e| panic!("{s:?} is not a JID: {e}"))
}

fn label() -> impl Strategy<Value = String> {
    "[a-z][a-z0-9]{0,7}"
}

/// A client's full JID.
pub fn client_jid() -> impl Strategy<Value = Jid> {
    (label(), label()).prop_map(|(n, r)| jid(format!("{n}@capulet.example/{r}")))
}

/// A JID `guess_kind` reads as an entity of `kind`.
pub fn entity_jid(kind: EntityKind) -> impl Strategy<Value = Jid> {
    (label(), label()).prop_map(move |(n, r)| {
        jid(match kind {
            EntityKind::Service => "rayo.example".to_owned(),
            EntityKind::Call => format!("{n}@call.rayo.example"),
            EntityKind::Mixer => format!("{n}@mixer.rayo.example"),
            EntityKind::Component => format!("{n}@call.rayo.example/{r}"),
        })
    })
}

fn iq_set() -> impl Strategy<Value = Stanza> {
    command().prop_flat_map(|c| {
        let to = entity_jid(c.target());
        (of(client_jid()), to, text(), Just(c)).prop_map(|(from, to, id, c)| {
            Stanza::Iq(IqStanza {
                from,
                to: Some(to),
                id,
                body: IqBody::Set(Payload::Command(c)),
            })
        })
    })
}

fn iq_result() -> impl Strategy<Value = Stanza> {
    (
        entity_jid(EntityKind::Call),
        client_jid(),
        text(),
        of(reference()),
    )
        .prop_map(|(from, to, id, r)| {
            Stanza::Iq(IqStanza {
                from: Some(from),
                to: Some(to),
                id,
                body: IqBody::Result(r.map(Payload::Ref)),
            })
        })
}

fn presence() -> impl Strategy<Value = Stanza> {
    let payload = prop_oneof![
        4 => event().prop_map(Payload::Event),
        1 => foreign_element().prop_map(Payload::Other),
    ];
    (
        entity_jid(EntityKind::Component),
        client_jid(),
        any::<bool>(),
        vec(payload, 1..3),
    )
        .prop_map(|(from, to, unavailable, payloads)| {
            let ty = if unavailable {
                PresenceType::Unavailable
            } else {
                PresenceType::None
            };
            let presence = Presence::new(ty).with_from(from).with_to(to);
            Stanza::Presence(PresenceStanza { presence, payloads })
        })
}

fn message() -> impl Strategy<Value = Stanza> {
    (client_jid(), cmr()).prop_map(|(to, c)| {
        Stanza::Message(MessageStanza {
            message: Message::new(Some(to)),
            payloads: vec![Payload::Cmr(c)],
        })
    })
}

/// An IQ set with a command, an IQ result with a ref (or none), a presence with events, a
/// message with a routing hint.
pub fn stanza() -> BoxedStrategy<Stanza> {
    prop_oneof![
        3 => iq_set(),
        1 => iq_result(),
        3 => presence(),
        1 => message(),
    ]
    .boxed()
}
