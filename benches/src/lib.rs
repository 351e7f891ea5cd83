//! Inputs and helpers of the criterion benches in `benches/`.
//!
//! Absolute timings mean nothing from one machine to another, so every bench measures a
//! baseline in the same run and prints its ratio to it ([`median_ratio`]).
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::time::{Duration, Instant};

use minidom::Element;
use rayo_proto::Stanza;

/// One input of the stanza benches.
#[derive(Debug, Clone, Copy)]
pub struct Case {
    /// Short name, used in bench ids and ratio lines.
    pub name: &'static str,
    /// The stanza, as it arrives on the wire.
    pub xml: &'static str,
}

/// The stanzas measured: an offer presence with eight headers (XEP-0327 example 25 with six
/// more SIP headers), an output command with an SSML document in CDATA (example 61) and a
/// complete presence with an NLSML match (example 72).
pub const CASES: [Case; 3] = [
    Case {
        name: "offer",
        xml: include_str!("../fixtures/offer.xml"),
    },
    Case {
        name: "output-ssml",
        xml: include_str!("../fixtures/output-ssml.xml"),
    },
    Case {
        name: "complete-nlsml",
        xml: include_str!("../fixtures/complete-nlsml.xml"),
    },
];

/// The baseline: the DOM parse alone, as `rayo_proto::document::Chunk::element` does it
/// (elements without a namespace read as `jabber:client`).
pub fn dom_parse(xml: &[u8]) -> Result<Element, minidom::Error> {
    Element::from_reader_with_prefixes(xml, rayo_proto::ns::JABBER_CLIENT.to_owned())
}

/// The full typed path from bytes: the DOM parse, then [`Stanza::parse`].
pub fn typed_parse(xml: &[u8]) -> Result<Stanza, String> {
    let elem = dom_parse(xml).map_err(|e| e.to_string())?;
    Stanza::parse(elem).map_err(|e| e.to_string())
}

/// Serialises an element into `out` (cleared first).
pub fn write(elem: &Element, out: &mut Vec<u8>) -> Result<(), minidom::Error> {
    out.clear();
    elem.write_to(out)
}

/// Serialises a typed stanza into `out` (cleared first): the conversion to an element,
/// then its serialisation.
pub fn write_typed(stanza: Stanza, out: &mut Vec<u8>) -> Result<(), minidom::Error> {
    write(&Element::from(stanza), out)
}

/// The median, over `rounds` rounds, of the time `candidate` takes divided by the time
/// `baseline` takes, both run the same number of times per round (enough for the baseline
/// to take `batch`), in alternating order so that a drift of the machine's speed hits both.
pub fn median_ratio(
    rounds: usize,
    batch: Duration,
    mut baseline: impl FnMut(),
    mut candidate: impl FnMut(),
) -> f64 {
    let mut iters: u32 = 1;
    loop {
        let start = Instant::now();
        for _ in 0..iters {
            baseline();
        }
        if start.elapsed() >= batch || iters >= 1 << 24 {
            break;
        }
        iters = iters.saturating_mul(2);
    }
    let time = |f: &mut dyn FnMut()| {
        let start = Instant::now();
        for _ in 0..iters {
            f();
        }
        start.elapsed().as_secs_f64()
    };
    let mut ratios: Vec<f64> = (0..rounds.max(1))
        .map(|round| {
            let (b, c) = if round % 2 == 0 {
                let b = time(&mut baseline);
                (b, time(&mut candidate))
            } else {
                let c = time(&mut candidate);
                (time(&mut baseline), c)
            };
            c / b.max(f64::MIN_POSITIVE)
        })
        .collect();
    ratios.sort_by(f64::total_cmp);
    ratios[ratios.len() / 2]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_case_parses_validates_and_round_trips() {
        for case in CASES {
            let stanza =
                typed_parse(case.xml.as_bytes()).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            stanza
                .validate()
                .unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let mut out = Vec::new();
            write_typed(stanza.clone(), &mut out).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            let again = typed_parse(&out).unwrap_or_else(|e| panic!("{}: {e}", case.name));
            assert_eq!(again, stanza, "{}", case.name);
        }
    }

    #[test]
    fn the_cases_are_what_the_benches_claim() {
        let offer = dom_parse(CASES[0].xml.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
        let headers = offer
            .children()
            .filter(|c| c.name() == "offer")
            .flat_map(|o| o.children())
            .filter(|h| h.name() == "header")
            .count();
        assert_eq!(headers, 8);
        assert!(CASES[1].xml.contains("<![CDATA[") && CASES[1].xml.contains("<speak"));
        assert!(CASES[2].xml.contains("<![CDATA[") && CASES[2].xml.contains("mrcpv2"));
    }
}
