//! Round trip of every generated type: value → `Element` → bytes (`Element::write_to`) →
//! `Element` → value, equal to the original. The enumerated attribute types also go
//! through their XML text. Commands, events, payloads and stanzas are in
//! `proptest_roundtrip_model.rs`.

#![allow(clippy::panic, clippy::expect_used)] // a failing test panics

mod strategies;

use std::fmt::Debug;

use minidom::Element;
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;
use strategies::*;
use xso::error::FromElementError;
use xso::{AsXmlText, FromXmlText};

/// Serialises `e` with `write_to` and reads the bytes back.
fn through_bytes(e: &Element) -> Result<Element, TestCaseError> {
    let mut bytes = Vec::new();
    e.write_to(&mut bytes)
        .map_err(|err| TestCaseError::fail(format!("write_to: {err}")))?;
    let text = String::from_utf8_lossy(&bytes).into_owned();
    Element::from_reader(&bytes[..])
        .map_err(|err| TestCaseError::fail(format!("reparse: {err}\n{text}")))
}

fn round_trip<T>(value: T) -> Result<(), TestCaseError>
where
    T: Into<Element> + TryFrom<Element, Error = FromElementError> + Clone + PartialEq + Debug,
{
    let again = through_bytes(&value.clone().into())?;
    match T::try_from(again.clone()) {
        Ok(back) => prop_assert_eq!(back, value),
        Err(e) => return Err(TestCaseError::fail(format!("{e:?} reading back {again:?}"))),
    }
    Ok(())
}

fn text_round_trip<T>(value: T) -> Result<(), TestCaseError>
where
    T: AsXmlText + FromXmlText + PartialEq + Debug,
{
    let text = value
        .as_xml_text()
        .map_err(|e| TestCaseError::fail(e.to_string()))?
        .into_owned();
    let back = T::from_xml_text(text).map_err(|e| TestCaseError::fail(e.to_string()))?;
    prop_assert_eq!(back, value);
    Ok(())
}

macro_rules! round_trips {
    ($($name:ident: $strategy:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(64))]
            $(
                #[test]
                fn $name(value in $strategy) {
                    round_trip(value)?;
                }
            )*
        }
    };
}

macro_rules! text_round_trips {
    ($($name:ident: $strategy:expr;)*) => {
        proptest! {
            #![proptest_config(ProptestConfig::with_cases(16))]
            $(
                #[test]
                fn $name(value in $strategy) {
                    text_round_trip(value)?;
                }
            )*
        }
    };
}

round_trips! {
    rayo_offer: offer();
    rayo_header: header();
    rayo_ringing: ringing();
    rayo_answered: answered();
    rayo_end: end();
    rayo_end_reason: end_reason();
    rayo_accept: accept();
    rayo_answer: answer();
    rayo_redirect: redirect();
    rayo_reject: reject();
    rayo_reject_reason: reject_reason();
    rayo_hangup: hangup();
    rayo_dial: dial();
    rayo_join: join();
    rayo_unjoin: unjoin();
    rayo_joined: joined();
    rayo_unjoined: unjoined();
    rayo_started_speaking: started_speaking();
    rayo_stopped_speaking: stopped_speaking();
    rayo_ref: reference();
    ext_stop_: ext_stop();
    ext_complete_: ext_complete();
    ext_complete_stop_: ext_complete_stop();
    ext_complete_hangup_: ext_complete_hangup();
    ext_complete_error_: ext_complete_error();
    output_output: output();
    output_document: document();
    output_pause: Just(rayo_proto::generated::output::Pause);
    output_resume: Just(rayo_proto::generated::output::Resume);
    output_speed_up: Just(rayo_proto::generated::output::SpeedUp);
    output_speed_down: Just(rayo_proto::generated::output::SpeedDown);
    output_volume_up: Just(rayo_proto::generated::output::VolumeUp);
    output_volume_down: Just(rayo_proto::generated::output::VolumeDown);
    output_seek: seek();
    output_complete_finish: finish();
    output_complete_max_time: max_time();
    input_input: input();
    input_grammar: grammar();
    input_complete_match: input_match();
    input_complete_noinput: noinput();
    input_complete_nomatch: nomatch();
    prompt_prompt: prompt();
    prompt_input_timers_started: input_timers_started();
    record_record: record();
    record_hint: hint();
    record_pause: Just(rayo_proto::generated::record::Pause);
    record_resume: Just(rayo_proto::generated::record::Resume);
    record_complete_recording: recording();
    record_complete_max_duration: Just(rayo_proto::generated::record_complete::MaxDuration);
    record_complete_initial_timeout: Just(rayo_proto::generated::record_complete::InitialTimeout);
    record_complete_final_timeout: Just(rayo_proto::generated::record_complete::FinalTimeout);
    cmr_query: query();
    cmr_active: active();
    cmr_available: available();
    cmr_cmr: cmr();
}

text_round_trips! {
    rayo_join_direction_text: join_direction();
    rayo_join_media_text: join_media();
    output_seek_direction_text: seek_direction();
    input_mode_text: input_mode();
    record_direction_text: record_direction();
    input_fraction_text: fraction();
}
