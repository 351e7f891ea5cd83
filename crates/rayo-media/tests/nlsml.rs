//! NLSML results: built, parsed back, the spec's example 72, escaping, and a round-trip
//! property.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use proptest::prelude::*;
use rayo_media::nlsml::{Error, Input, Interpretation, NlsmlResult, NS};

#[test]
fn dtmf_result_is_built_and_parsed_back() {
    let xml = NlsmlResult::dtmf("session:grammar-0", "1234#", "1234").to_xml();
    assert_eq!(
        xml,
        format!(
            r#"<result xmlns="{NS}"><interpretation grammar="session:grammar-0" confidence="1"><input mode="dtmf" confidence="1">1 2 3 4 #</input><instance>1234</instance></interpretation></result>"#
        )
    );
    let back = NlsmlResult::parse(&xml).unwrap();
    let i = &back.interpretations[0];
    assert_eq!(i.grammar.as_deref(), Some("session:grammar-0"));
    assert_eq!(i.confidence, Some(1.0));
    let input = i.input.as_ref().unwrap();
    assert_eq!(input.mode.as_deref(), Some("dtmf"));
    assert_eq!(input.digits(), "1234#");
    assert_eq!(i.instance.as_deref(), Some("1234"));
}

#[test]
fn escaping_of_interpretations_and_grammar_names() {
    let r = NlsmlResult::dtmf("http://x/g?a=1&b=\"2\"", "*9", "<a href='x'>&amp;</a>\u{1}");
    let xml = r.to_xml();
    assert!(
        xml.contains("&lt;a href=&apos;x&apos;&gt;&amp;amp;&lt;/a&gt;"),
        "{xml}"
    );
    assert!(
        xml.contains(r#"grammar="http://x/g?a=1&amp;b=&quot;2&quot;""#),
        "{xml}"
    );
    let back = NlsmlResult::parse(&xml).unwrap();
    assert_eq!(
        back.interpretations[0].instance.as_deref(),
        Some("<a href='x'>&amp;</a>")
    );
    assert_eq!(
        back.interpretations[0].grammar.as_deref(),
        Some("http://x/g?a=1&b=\"2\"")
    );
}

#[test]
fn example_72_with_the_old_namespace() {
    let xml = r#"
        <result xmlns="http://www.ietf.org/xml/ns/mrcpv2" grammar="http://foodorder">
          <interpretation>
            <input mode="dtmf" confidence="100">1 2 3 4</input>
          </interpretation>
        </result>"#;
    let r = NlsmlResult::parse(xml).unwrap();
    assert_eq!(r.grammar.as_deref(), Some("http://foodorder"));
    let input = r.interpretations[0].input.as_ref().unwrap();
    assert_eq!(input.confidence, Some(1.0), "100 on the old scale");
    assert_eq!(input.digits(), "1234");
    assert_eq!(r.interpretations[0].instance, None);
}

#[test]
fn instance_with_elements_and_cdata() {
    let xml = r#"<result xmlns="urn:ietf:params:xml:ns:mrcpv2"><interpretation confidence="0.5">
        <instance><pin>12<![CDATA[34]]></pin></instance><input mode="dtmf"><nomatch/></input>
        </interpretation><interpretation/></result>"#;
    let r = NlsmlResult::parse(xml).unwrap();
    assert_eq!(r.interpretations.len(), 2);
    assert_eq!(r.interpretations[0].instance.as_deref(), Some("1234"));
    assert_eq!(r.interpretations[0].confidence, Some(0.5));
}

#[test]
fn malformed_nlsml_is_refused() {
    assert!(matches!(NlsmlResult::parse("<result"), Err(Error::Xml(_))));
    assert!(matches!(NlsmlResult::parse(""), Err(Error::NotNlsml(_))));
    assert!(matches!(
        NlsmlResult::parse("<result><interpretation>"),
        Err(Error::Xml(_))
    ));
    assert!(matches!(
        NlsmlResult::parse("<foo/>"),
        Err(Error::NotNlsml(_))
    ));
    assert!(matches!(
        NlsmlResult::parse(r#"<result xmlns="urn:x"/>"#),
        Err(Error::NotNlsml(_))
    ));
    assert!(matches!(
        NlsmlResult::parse(r#"<result><interpretation confidence="abc"/></result>"#),
        Err(Error::BadConfidence(_))
    ));
    assert!(matches!(
        NlsmlResult::parse(r#"<result><interpretation confidence="101"/></result>"#),
        Err(Error::BadConfidence(_))
    ));
    // Nested as deep as the attack of issue 12 §1 (≈ 3 500 levels): refused, no overflow.
    let deep = format!(
        "<result>{}{}</result>",
        "<a>".repeat(3_500),
        "</a>".repeat(3_500)
    );
    assert!(matches!(NlsmlResult::parse(&deep), Err(Error::TooLarge)));
    rayo_media::nlsml::fuzz_nlsml(
        b"<result><interpretation><input>1</input></interpretation></result>",
    );
    rayo_media::nlsml::fuzz_nlsml(b"\xff");
}

/// Text XML can carry and that parsing gives back as is (no CR: it is normalised to LF).
fn text() -> impl Strategy<Value = String> {
    "[ -~\t\n\u{a0}-\u{2fff}\u{1f600}]{0,24}"
}

fn interpretation() -> impl Strategy<Value = Interpretation> {
    (
        proptest::option::of(text()),
        proptest::option::of(0.0..=1.0f64),
        proptest::option::of((
            proptest::option::of(text()),
            proptest::option::of(0.0..=1.0f64),
            text(),
        )),
        proptest::option::of(text()),
    )
        .prop_map(|(grammar, confidence, input, instance)| Interpretation {
            grammar,
            confidence,
            input: input.map(|(mode, confidence, text)| Input {
                mode,
                confidence,
                text,
            }),
            instance,
        })
}

proptest! {
    #[test]
    fn nlsml_round_trip(grammar in proptest::option::of(text()),
                        interpretations in proptest::collection::vec(interpretation(), 0..4)) {
        let r = NlsmlResult { grammar, interpretations };
        prop_assert_eq!(NlsmlResult::parse(&r.to_xml()).unwrap(), r);
    }

    #[test]
    fn dtmf_results_round_trip(digits in "[0-9*#A-D]{1,20}", interp in text()) {
        let r = NlsmlResult::dtmf("builtin:dtmf/digits", &digits, &interp);
        let back = NlsmlResult::parse(&r.to_xml()).unwrap();
        prop_assert_eq!(back.interpretations[0].input.as_ref().unwrap().digits(), digits);
        prop_assert_eq!(back, r);
    }
}
