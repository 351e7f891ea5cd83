//! Every stanza of every example of XEP-0327, XEP-0349 and XEP-0354 parses (envelope and
//! payload), serialises, and parses back equal; commands and events pass validation except
//! the spec's own non-compliant listings, which fail with the error a server would answer.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::path::PathBuf;

use rayo_proto::document::split;

fn examples_dir() -> PathBuf {
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..");
    let dir = std::env::var_os("RAYO_SPEC_EXAMPLES")
        .map(PathBuf::from)
        .unwrap_or_else(|| root.join("specs/examples"));
    assert!(dir.is_dir(), "spec examples not found at {}", dir.display());
    dir
}

/// Listings of the specs that break a MUST of XEP-0327, with the error a server answers.
const NON_COMPLIANT: &[(&str, usize, &str)] = &[
    // §7.9: "The <reject/> element MUST contain a single reject reason element."
    ("xep-0327-082.xml", 0, "bad-request"),
];

/// The one file with a non-XML tail: the SIP MESSAGE an XMPP message translates to.
const NON_XML_TAIL: &[&str] = &["xep-0327-090.xml"];

#[test]
fn every_spec_example_round_trips() {
    let dir = examples_dir();
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("readable")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "xml"))
        .collect();
    files.sort();
    assert_eq!(files.len(), 110, "94 + 4 + 12 examples");
    let mut failures = Vec::new();
    let mut stanzas = 0;
    for path in &files {
        let name = path
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let text = std::fs::read_to_string(path).expect("utf-8");
        let (chunks, tail) = split(&text);
        match (&tail, NON_XML_TAIL.contains(&name.as_str())) {
            (None, false) | (Some(_), true) => {}
            (Some(e), false) => failures.push(format!("{name}: {e}")),
            (None, true) => failures.push(format!("{name}: expected a non-XML tail")),
        }
        if chunks.is_empty() {
            failures.push(format!("{name}: no stanza"));
        }
        for (i, chunk) in chunks.iter().enumerate() {
            stanzas += 1;
            let item = match chunk.item() {
                Ok(item) => item,
                Err(e) => {
                    failures.push(format!("{name} #{i} (line {}): parse: {e}", chunk.line));
                    continue;
                }
            };
            let expected = NON_COMPLIANT
                .iter()
                .find(|(f, n, _)| *f == name && *n == i)
                .map(|(_, _, c)| *c);
            match (item.validate(), expected) {
                (Ok(()), None) => {}
                (Err(e), Some(c)) if e.condition_name() == c => {}
                (r, exp) => failures.push(format!(
                    "{name} #{i}: validation {:?}, expected {exp:?}",
                    r.map_err(|e| e.to_string())
                )),
            }
            let elem = minidom::Element::from(item.clone());
            let mut xml = Vec::new();
            elem.write_to(&mut xml).expect("serialises");
            let reparsed =
                minidom::Element::from_reader_with_prefixes(&xml[..], "jabber:client".to_owned())
                    .map_err(|e| e.to_string())
                    .and_then(|e| {
                        rayo_proto::document::Chunk {
                            line: 1,
                            text: String::from_utf8_lossy(&xml).into_owned(),
                        }
                        .item()
                        .map_err(|err| format!("{err} in {e:?}"))
                    });
            match reparsed {
                Ok(again) if again == item => {}
                Ok(again) => failures.push(format!(
                    "{name} #{i}: round trip differs:\n{item:?}\n{again:?}"
                )),
                Err(e) => failures.push(format!(
                    "{name} #{i}: reparse: {e}\n{}",
                    String::from_utf8_lossy(&xml)
                )),
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(stanzas >= 150, "only {stanzas} stanzas read");
}
