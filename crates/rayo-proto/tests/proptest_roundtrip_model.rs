//! Round trip of the hand-written layer: `Command` (through `Command::parse` with the
//! command's own target), `Event` and `Complete` (through `Event::parse`), `Payload` (in the
//! context it is found in) and `Stanza` (IQ set with a command, IQ result with a ref,
//! presence with events, message with a routing hint), each through serialised bytes.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod strategies;

use minidom::Element;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use rayo_proto::address::EntityKind;
use rayo_proto::generated::ext;
use rayo_proto::payload::Payload;
use rayo_proto::{Command, Event, Stanza};
use strategies::*;

/// Serialises `e` with `write_to` and reads the bytes back.
fn through_bytes(e: &Element) -> Result<Element, TestCaseError> {
    let mut bytes = Vec::new();
    e.write_to(&mut bytes)
        .map_err(|err| TestCaseError::fail(format!("write_to: {err}")))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Element::from_reader(&bytes[..])
        .map_err(|err| TestCaseError::fail(format!("reparse: {err}\n{text}")))
}

fn fail(what: &str, e: impl std::fmt::Display, elem: &Element) -> TestCaseError {
    TestCaseError::fail(format!("{what}: {e}\nin {elem:?}"))
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(64))]

    #[test]
    fn command_round_trips_through_parse(cmd in command()) {
        let again = through_bytes(&Element::from(cmd.clone()))?;
        let back = Command::parse(cmd.target(), again.clone())
            .map_err(|e| fail("Command::parse", e, &again))?;
        prop_assert_eq!(back.name(), cmd.name());
        prop_assert_eq!(back, cmd);
    }

    #[test]
    fn command_sent_to_another_kind_of_entity_is_refused(cmd in command()) {
        let again = through_bytes(&Element::from(cmd.clone()))?;
        for target in [EntityKind::Service, EntityKind::Call, EntityKind::Mixer, EntityKind::Component] {
            let shared = matches!(
                (cmd.target(), target),
                (EntityKind::Call, EntityKind::Mixer) | (EntityKind::Mixer, EntityKind::Call)
            ) && matches!(cmd.name(), "join" | "unjoin" | "output" | "input" | "prompt" | "record");
            if target != cmd.target() && !shared {
                let r = Command::parse(target, again.clone());
                prop_assert!(
                    matches!(&r, Err(e) if e.condition_name() == "feature-not-implemented"),
                    "{} to a {}: {:?}", cmd.name(), target, r
                );
            }
        }
    }

    #[test]
    fn event_round_trips_through_parse(ev in event()) {
        let again = through_bytes(&Element::from(ev.clone()))?;
        let back = Event::parse(again.clone()).map_err(|e| fail("Event::parse", e, &again))?;
        prop_assert_eq!(back, ev);
    }

    #[test]
    fn complete_round_trips_through_ext_complete(c in complete()) {
        let generic = ext::Complete::from(c.clone());
        let again = through_bytes(&Element::from(generic))?;
        let generic = ext::Complete::try_from(again.clone())
            .map_err(|e| fail("ext::Complete", format!("{e:?}"), &again))?;
        let back = rayo_proto::event::Complete::try_from(generic)
            .map_err(|e| fail("Complete::try_from", e, &again))?;
        prop_assert_eq!(back, c);
    }

    #[test]
    fn payload_round_trips_in_its_context((ctx, p) in payload()) {
        let again = through_bytes(&Element::from(p.clone()))?;
        let back = Payload::parse(ctx, again.clone()).map_err(|e| fail("Payload::parse", e, &again))?;
        prop_assert_eq!(back, p);
    }

    #[test]
    fn stanza_round_trips_through_parse(s in stanza()) {
        let again = through_bytes(&Element::from(s.clone()))?;
        let back = Stanza::parse(again.clone()).map_err(|e| fail("Stanza::parse", e, &again))?;
        prop_assert_eq!(back, s);
    }
}
