//! Helpers shared by the namespace tests, in the style of xmpp-parsers' own tests: parse a
//! literal, check that a typed value serialises to the expected element, and classify the
//! errors xso gives (`Mismatch` returning the element untouched, `Invalid`).
#![allow(dead_code)]

use std::fmt::Debug;

use minidom::Element;
use rayo_proto::address::EntityKind;
use rayo_proto::{Command, Error, Event};
use xso::error::FromElementError;

/// Parses a literal of the tests.
pub fn elem(xml: &str) -> Element {
    xml.parse()
        .unwrap_or_else(|e| panic!("test XML {xml:?} is not well-formed: {e}"))
}

/// Parses `xml` into `T`, which must succeed.
pub fn parse<T>(xml: &str) -> T
where
    T: TryFrom<Element, Error = FromElementError>,
{
    match T::try_from(elem(xml)) {
        Ok(v) => v,
        Err(e) => panic!("{xml} did not parse: {e:?}"),
    }
}

/// `value` serialises to exactly the element `xml` parses to, and back to `value`.
pub fn assert_serialises<T>(value: T, xml: &str)
where
    T: Into<Element> + TryFrom<Element, Error = FromElementError> + Clone + PartialEq + Debug,
{
    let expected = elem(xml);
    let got: Element = value.clone().into();
    assert_eq!(got, expected, "serialised form of {value:?}");
    assert_eq!(T::try_from(got).ok(), Some(value));
}

/// `xml` is an element `T` does not claim: `Mismatch`, which returns it unchanged.
pub fn assert_mismatch<T>(xml: &str)
where
    T: TryFrom<Element, Error = FromElementError> + Debug,
{
    let e = elem(xml);
    match T::try_from(e.clone()) {
        Err(FromElementError::Mismatch(returned)) => assert_eq!(returned, e),
        other => panic!("expected Mismatch for {xml}, got {other:?}"),
    }
}

/// `xml` is an element of `T` that breaks its schema: `Invalid`. Returns xso's message.
pub fn invalid<T>(xml: &str) -> String
where
    T: TryFrom<Element, Error = FromElementError> + Debug,
{
    match T::try_from(elem(xml)) {
        Err(FromElementError::Invalid(e)) => e.to_string(),
        other => panic!("expected Invalid for {xml}, got {other:?}"),
    }
}

/// The condition and type a server answers `Command::parse_valid(target, xml)` with.
pub fn refusal(target: EntityKind, xml: &str) -> (&'static str, &'static str) {
    match Command::parse_valid(target, elem(xml)) {
        Err(e) => answer(&e),
        Ok(c) => panic!("{xml} sent to a {target} was accepted as {c:?}"),
    }
}

/// The condition and type a server answers an event refused by `Event::parse` or
/// `Event::validate` with.
pub fn event_refusal(xml: &str) -> (&'static str, &'static str) {
    match Event::parse(elem(xml)).and_then(|ev| ev.validate().map(|()| ev)) {
        Err(e) => answer(&e),
        Ok(ev) => panic!("{xml} was accepted as {ev:?}"),
    }
}

/// `(condition, type)` of an error, such as `("bad-request", "modify")`.
pub fn answer(e: &Error) -> (&'static str, &'static str) {
    (
        e.condition_name(),
        rayo_proto::error::type_name(&e.error_type()),
    )
}

/// What a server answers a malformed command or event with.
pub const BAD_REQUEST: (&str, &str) = ("bad-request", "modify");
/// What a server answers an unknown payload with.
pub const SERVICE_UNAVAILABLE: (&str, &str) = ("service-unavailable", "cancel");
/// What a server answers a command sent to the wrong kind of entity with.
pub const FEATURE_NOT_IMPLEMENTED: (&str, &str) = ("feature-not-implemented", "cancel");

/// `Command::parse_valid(target, xml)`, which must succeed.
pub fn command(target: EntityKind, xml: &str) -> Command {
    Command::parse_valid(target, elem(xml))
        .unwrap_or_else(|e| panic!("{xml} sent to a {target} refused: {e}"))
}

/// `Event::parse(xml)` followed by `validate`, which must both succeed.
pub fn event(xml: &str) -> Event {
    let ev = Event::parse(elem(xml)).unwrap_or_else(|e| panic!("{xml} refused: {e}"));
    ev.validate()
        .unwrap_or_else(|e| panic!("{xml} failed validation: {e}"));
    ev
}
