//! `urn:xmpp:cmr:0` (`generated::cmr`, XEP-0354): `<query/>`, `<active/>`, `<available/>`
//! and `<cmr/>`, then as payloads read in the context of the stanza that carries them.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod common;

use common::*;
use rayo_proto::address::EntityKind;
use rayo_proto::generated::cmr::*;
use rayo_proto::payload::{Context, Payload};

fn active(a: &str) -> Active {
    Active {
        algorithm: a.into(),
    }
}

fn available(a: &str) -> Available {
    Available {
        algorithm: a.into(),
    }
}

#[test]
fn query_parse_request_and_result() {
    let q: Query = parse("<query xmlns='urn:xmpp:cmr:0'/>");
    assert_eq!((q.active, q.available.len()), (None, 0));
    let q: Query = parse(
        "<query xmlns='urn:xmpp:cmr:0'>
           <active algorithm='urn:xmpp:cmr:mostactive'/>
           <available algorithm='urn:xmpp:cmr:all'/>
           <available algorithm='urn:xmpp:cmr:mostactive'/>
         </query>",
    );
    assert_eq!(q.active, Some(active("urn:xmpp:cmr:mostactive")));
    assert_eq!(
        q.available,
        vec![
            available("urn:xmpp:cmr:all"),
            available("urn:xmpp:cmr:mostactive")
        ]
    );
}

#[test]
fn query_serialise() {
    let q = Query {
        active: Some(active("urn:xmpp:cmr:roundrobin")),
        available: vec![available("urn:xmpp:cmr:weighted")],
    };
    assert_serialises(
        q,
        "<query xmlns='urn:xmpp:cmr:0'><active algorithm='urn:xmpp:cmr:roundrobin'/>\
         <available algorithm='urn:xmpp:cmr:weighted'/></query>",
    );
    assert_serialises(Query::default(), "<query xmlns='urn:xmpp:cmr:0'/>");
}

#[test]
fn query_mismatch_with_disco() {
    assert_mismatch::<Query>("<query xmlns='http://jabber.org/protocol/disco#info'/>");
    assert_mismatch::<Query>("<cmr xmlns='urn:xmpp:cmr:0' algorithm='a'/>");
}

#[test]
fn query_invalid_two_actives_or_unknown_child() {
    invalid::<Query>(
        "<query xmlns='urn:xmpp:cmr:0'><active algorithm='a'/><active algorithm='b'/></query>",
    );
    invalid::<Query>("<query xmlns='urn:xmpp:cmr:0'><cmr algorithm='a'/></query>");
    invalid::<Query>("<query xmlns='urn:xmpp:cmr:0' node='x'/>");
}

#[test]
fn active_and_available_parse_serialise() {
    let a: Active = parse("<active xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:all'/>");
    assert_eq!(a, active("urn:xmpp:cmr:all"));
    assert_serialises(
        a,
        "<active xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:all'/>",
    );
    let v: Available =
        parse("<available xmlns='urn:xmpp:cmr:0' algorithm='run:xmpp:cmr:forkalways'/>");
    assert_eq!(v, available("run:xmpp:cmr:forkalways"));
    assert_serialises(
        v,
        "<available xmlns='urn:xmpp:cmr:0' algorithm='run:xmpp:cmr:forkalways'/>",
    );
}

#[test]
fn active_and_available_mismatch_each_other() {
    assert_mismatch::<Active>("<available xmlns='urn:xmpp:cmr:0' algorithm='a'/>");
    assert_mismatch::<Available>("<active xmlns='urn:xmpp:cmr:0' algorithm='a'/>");
    assert_mismatch::<Active>("<active xmlns='urn:xmpp:rayo:1' algorithm='a'/>");
}

#[test]
fn active_and_available_invalid_without_algorithm_or_with_content() {
    invalid::<Active>("<active xmlns='urn:xmpp:cmr:0'/>");
    invalid::<Available>("<available xmlns='urn:xmpp:cmr:0'/>");
    invalid::<Active>("<active xmlns='urn:xmpp:cmr:0' algorithm='a'>b</active>");
    invalid::<Available>("<available xmlns='urn:xmpp:cmr:0' algorithm='a' weight='2'/>");
}

#[test]
fn cmr_parse_serialise_mismatch_invalid() {
    let c: Cmr = parse("<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:roundrobin' />");
    assert_eq!(c.algorithm, "urn:xmpp:cmr:roundrobin");
    assert_serialises(
        c,
        "<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:roundrobin'/>",
    );
    assert_mismatch::<Cmr>("<cmr xmlns='urn:xmpp:cmr:1' algorithm='a'/>");
    invalid::<Cmr>("<cmr xmlns='urn:xmpp:cmr:0'/>");
    invalid::<Cmr>("<cmr xmlns='urn:xmpp:cmr:0' algorithm='a'><active algorithm='b'/></cmr>");
}

// ---- Through the hand-written layer ----

#[test]
fn query_is_read_in_iq_get_and_result_only() {
    let xml = "<query xmlns='urn:xmpp:cmr:0'><available algorithm='urn:xmpp:cmr:all'/></query>";
    for ctx in [Context::Get, Context::Result] {
        let p = Payload::parse(ctx, elem(xml));
        assert!(
            matches!(&p, Ok(Payload::CmrQuery(q)) if q.available.len() == 1),
            "{p:?}"
        );
    }
    for ctx in [
        Context::Presence,
        Context::Message,
        Context::Set(EntityKind::Service),
    ] {
        let p = Payload::parse(ctx, elem(xml));
        assert_eq!(
            p.as_ref().map_err(answer).err(),
            Some(SERVICE_UNAVAILABLE),
            "{ctx:?}"
        );
    }
}

#[test]
fn cmr_is_read_in_iq_set_and_message_only() {
    let xml = "<cmr xmlns='urn:xmpp:cmr:0' algorithm='urn:xmpp:cmr:all'/>";
    for ctx in [Context::Set(EntityKind::Service), Context::Message] {
        let p = Payload::parse(ctx, elem(xml)).map(|p| (p.validate(), p));
        assert!(
            matches!(&p, Ok((Ok(()), Payload::Cmr(c))) if c.algorithm == "urn:xmpp:cmr:all"),
            "{p:?}"
        );
    }
    for ctx in [Context::Get, Context::Result, Context::Presence] {
        let p = Payload::parse(ctx, elem(xml));
        assert_eq!(
            p.as_ref().map_err(answer).err(),
            Some(SERVICE_UNAVAILABLE),
            "{ctx:?}"
        );
    }
}

#[test]
fn malformed_cmr_payloads_are_bad_request() {
    let p = Payload::parse(Context::Message, elem("<cmr xmlns='urn:xmpp:cmr:0'/>"));
    assert_eq!(p.as_ref().map_err(answer).err(), Some(BAD_REQUEST));
    let two =
        "<query xmlns='urn:xmpp:cmr:0'><active algorithm='a'/><active algorithm='b'/></query>";
    let p = Payload::parse(Context::Result, elem(two));
    assert_eq!(p.as_ref().map_err(answer).err(), Some(BAD_REQUEST));
}
