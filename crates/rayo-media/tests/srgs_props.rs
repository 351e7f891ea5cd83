//! Properties of the SRGS matcher: random grammars written as XML, parsed back and matched,
//! agree with a brute-force reference matcher on the parsed rule tree.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::BTreeSet;

use proptest::prelude::*;
use rayo_media::srgs::parse::Node;
use rayo_media::srgs::{Grammar, MatchState};

const ALPHABET: [char; 3] = ['1', '2', '#'];

fn symbol(bit: usize) -> u16 {
    match ALPHABET[bit] {
        '1' => 1 << 1,
        '2' => 1 << 2,
        _ => 1 << 11,
    }
}

fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        4 => (0..3usize).prop_map(|i| Node::Symbols(symbol(i))),
        1 => Just(Node::Null),
        1 => Just(Node::Void),
        1 => Just(Node::Garbage),
        1 => "[a-z]{1,3}".prop_map(Node::Tag),
    ];
    leaf.prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            proptest::collection::vec(inner.clone(), 1..4).prop_map(Node::Seq),
            proptest::collection::vec((1u32..4, inner.clone()), 1..4)
                .prop_map(|v| Node::OneOf(v.into_iter().map(|(w, n)| (f64::from(w), n)).collect())),
            (inner, 0u32..3, proptest::option::of(0u32..3)).prop_map(|(n, min, extra)| {
                Node::Repeat {
                    node: Box::new(n),
                    min,
                    max: extra.map(|e| min + e),
                }
            }),
        ]
    })
}

/// The node as SRGS XML, inside a rule or item.
fn write(node: &Node, out: &mut String) {
    match node {
        Node::Symbols(m) => {
            let i = (0..3).find(|&i| symbol(i) == *m).unwrap();
            out.push_str(&format!(" {} ", ALPHABET[i]));
        }
        Node::Seq(v) => {
            out.push_str("<item>");
            v.iter().for_each(|n| write(n, out));
            out.push_str("</item>");
        }
        Node::OneOf(v) => {
            out.push_str("<one-of>");
            for (w, n) in v {
                out.push_str(&format!(r#"<item weight="{w}">"#));
                write(n, out);
                out.push_str("</item>");
            }
            out.push_str("</one-of>");
        }
        Node::Repeat { node, min, max } => {
            let max = max.map(|m| m.to_string()).unwrap_or_default();
            out.push_str(&format!(r#"<item repeat="{min}-{max}">"#));
            write(node, out);
            out.push_str("</item>");
        }
        Node::Null => out.push_str(r#"<ruleref special="NULL"/>"#),
        Node::Void => out.push_str(r#"<ruleref special="VOID"/>"#),
        Node::Garbage => out.push_str(r#"<ruleref special="GARBAGE"/>"#),
        Node::Tag(t) => out.push_str(&format!("<tag>{t}</tag>")),
        other => panic!("not generated: {other:?}"),
    }
}

/// Every position where `node` can end when started at `pos` of `input`.
fn ends(node: &Node, input: &[u16], pos: usize) -> BTreeSet<usize> {
    match node {
        Node::Symbols(m) => input
            .get(pos)
            .filter(|&&d| d & m != 0)
            .map(|_| pos + 1)
            .into_iter()
            .collect(),
        Node::Seq(v) => v.iter().fold(BTreeSet::from([pos]), |at, n| {
            at.iter().flat_map(|&p| ends(n, input, p)).collect()
        }),
        Node::OneOf(v) => v.iter().flat_map(|(_, n)| ends(n, input, pos)).collect(),
        Node::Repeat { node, min, max } => {
            let limit = max.unwrap_or(min + input.len() as u32 + 1);
            let mut at = BTreeSet::from([pos]);
            let mut all = BTreeSet::new();
            for k in 0..=limit {
                if k >= *min {
                    all.extend(at.iter().copied());
                }
                at = at.iter().flat_map(|&p| ends(node, input, p)).collect();
            }
            all
        }
        Node::Null | Node::Tag(_) => BTreeSet::from([pos]),
        Node::Void => BTreeSet::new(),
        Node::Garbage => (pos..=input.len()).collect(),
        other => panic!("not generated: {other:?}"),
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(400))]
    #[test]
    fn matcher_agrees_with_brute_force(root in node(), digits in proptest::collection::vec(0..3usize, 0..7)) {
        let mut xml = String::from(r#"<grammar xmlns="http://www.w3.org/2001/06/grammar" mode="dtmf" root="r"><rule id="r">"#);
        write(&root, &mut xml);
        xml.push_str("</rule></grammar>");
        let grammar = Grammar::parse(&xml).unwrap();
        let text: String = digits.iter().map(|&i| ALPHABET[i]).collect();
        let input: Vec<u16> = digits.iter().map(|&i| symbol(i)).collect();
        let (state, interpretation) = grammar.match_digits(&text).unwrap();
        let expected = ends(&root, &input, 0).contains(&input.len());
        prop_assert_eq!(state.is_match(), expected, "{} on {}", text, xml);
        prop_assert_eq!(interpretation.is_some(), expected);
        // After nomatch or max-match, no next digit can complete a match.
        if matches!(state, MatchState::NoMatch | MatchState::MaxMatch) {
            for (extra, name) in ALPHABET.iter().enumerate() {
                let mut longer = input.clone();
                longer.push(symbol(extra));
                prop_assert!(!ends(&root, &longer, 0).contains(&longer.len()), "{} then {}: {}", text, name, xml);
            }
        }
    }
}
