//! The rules of XEP-0327 that its schemas cannot express, checked after parsing.
//!
//! Each broken rule is an [`Error::Rule`] (or [`Error::Uri`] for a bad `xmpp:` URI), which a
//! server answers with `bad-request` (modify), as XEP-0327 §6.3.1 and §6.5.1 prescribe for
//! malformed commands.

use crate::address::jid_from_uri;
use crate::command::{
    CallCommand, Command, ComponentCommand, ComponentStart, MixerCommand, OutputCommand,
    ServiceCommand,
};
use crate::error::Error;
use crate::event::{CompleteMetadata, Event};
use crate::generated::{input, output, prompt, rayo, record};

fn rule(name: &'static str, rule: &'static str) -> Error {
    Error::Rule { name, rule }
}

/// Checks a command.
pub fn command(c: &Command) -> Result<(), Error> {
    match c {
        Command::Service(ServiceCommand::Dial(d)) => dial(d),
        Command::Call(c) => match c {
            CallCommand::Accept(x) => headers(&x.headers),
            CallCommand::Answer(x) => headers(&x.headers),
            CallCommand::Hangup(x) => headers(&x.headers),
            CallCommand::Redirect(x) => {
                uri("redirect", &x.to)?;
                headers(&x.headers)
            }
            CallCommand::Reject(x) => {
                if x.reason.is_none() {
                    return Err(rule(
                        "reject",
                        "MUST contain a single reject reason element (XEP-0327 §7.9)",
                    ));
                }
                headers(&x.headers)
            }
            CallCommand::Join(j) => join(j),
            CallCommand::Unjoin(u) => unjoin(u),
            CallCommand::Start(s) => start(s),
        },
        Command::Mixer(m) => match m {
            MixerCommand::Join(j) => join(j),
            MixerCommand::Unjoin(u) => unjoin(u),
            MixerCommand::Start(s) => start(s),
        },
        Command::Component(ComponentCommand::Output(OutputCommand::Seek(s))) => {
            if s.amount.is_zero() {
                return Err(rule(
                    "seek",
                    "amount MUST be a positive number of milliseconds (XEP-0327 §7.19.3.8)",
                ));
            }
            Ok(())
        }
        Command::Component(_) => Ok(()),
    }
}

/// Checks an event.
pub fn event(e: &Event) -> Result<(), Error> {
    match e {
        Event::Offer(o) => {
            uri("offer", &o.to)?;
            headers(&o.headers)
        }
        Event::Ringing(x) => headers(&x.headers),
        Event::Answered(x) => headers(&x.headers),
        Event::End(x) => headers(&x.headers),
        Event::Joined(j) => party(
            "joined",
            j.call_uri.as_deref(),
            j.mixer_name.as_deref(),
            true,
        ),
        Event::Unjoined(j) => party(
            "unjoined",
            j.call_uri.as_deref(),
            j.mixer_name.as_deref(),
            true,
        ),
        Event::StartedSpeaking(s) => jid_from_uri(&s.call_uri).map(drop),
        Event::StoppedSpeaking(s) => jid_from_uri(&s.call_uri).map(drop),
        Event::InputTimersStarted(_) => Ok(()),
        Event::Complete(c) => {
            for m in &c.metadata {
                if let CompleteMetadata::Recording(r) = m {
                    if r.size < 0 {
                        return Err(rule("recording", "size MUST NOT be negative"));
                    }
                }
            }
            Ok(())
        }
    }
}

/// `<header/>`: a non-empty name (XEP-0327 §7.1: "A token giving the name").
fn headers(hs: &[rayo::Header]) -> Result<(), Error> {
    if hs.iter().any(|h| h.name.trim().is_empty()) {
        return Err(rule(
            "header",
            "name MUST be a non-empty token (XEP-0327 §7.1)",
        ));
    }
    Ok(())
}

/// A URI attribute: non-empty, with a scheme (RFC 3986 §3).
fn uri(name: &'static str, value: &str) -> Result<(), Error> {
    let scheme_ok = value.split_once(':').is_some_and(|(scheme, _)| {
        let mut b = scheme.bytes();
        b.next().is_some_and(|c| c.is_ascii_alphabetic())
            && b.all(|c| c.is_ascii_alphanumeric() || matches!(c, b'+' | b'-' | b'.'))
    });
    if !scheme_ok {
        return Err(rule(
            name,
            "the URI MUST have a scheme, such as sip: or tel:",
        ));
    }
    Ok(())
}

fn dial(d: &rayo::Dial) -> Result<(), Error> {
    uri("dial", &d.to)?;
    if let Some(from) = &d.from {
        uri("dial", from)?;
    }
    if let Some(u) = &d.uri {
        jid_from_uri(u)?;
    }
    headers(&d.headers)?;
    d.joins.iter().try_for_each(join)
}

/// The party of a join: exactly one of call-uri and mixer-name (`required`), or at most one.
fn party(
    name: &'static str,
    call_uri: Option<&str>,
    mixer_name: Option<&str>,
    required: bool,
) -> Result<(), Error> {
    match (call_uri, mixer_name) {
        (Some(_), Some(_)) => Err(rule(
            name,
            "call-uri MUST NOT be set if mixer-name is set (XEP-0327 §7.12)",
        )),
        (None, None) if required => Err(rule(
            name,
            "one of call-uri and mixer-name is REQUIRED (XEP-0327 §7.12)",
        )),
        (Some(u), None) => jid_from_uri(u).map(drop),
        (None, Some(m)) if m.trim().is_empty() => {
            Err(rule(name, "mixer-name MUST be a non-empty token"))
        }
        _ => Ok(()),
    }
}

fn join(j: &rayo::Join) -> Result<(), Error> {
    party("join", j.call_uri.as_deref(), j.mixer_name.as_deref(), true)
}

fn unjoin(u: &rayo::Unjoin) -> Result<(), Error> {
    party(
        "unjoin",
        u.call_uri.as_deref(),
        u.mixer_name.as_deref(),
        false,
    )
}

fn start(s: &ComponentStart) -> Result<(), Error> {
    match s {
        ComponentStart::Output(o) => output(o),
        ComponentStart::Input(i) => input(i),
        ComponentStart::Prompt(p) => prompt(p),
        ComponentStart::Record(r) => record(r),
    }
}

/// `url` xor (`content-type` and a body): XEP-0327 §7.19.3.1.1 and §7.19.4.1.1.
fn document(
    name: &'static str,
    url: Option<&str>,
    content_type: Option<&str>,
    body: &str,
) -> Result<(), Error> {
    let has_body = !body.trim().is_empty();
    match (url, content_type, has_body) {
        (Some(u), None, false) => uri(name, u),
        (Some(_), _, _) => Err(rule(
            name,
            "url MUST NOT be given with a content-type or a body (XEP-0327 §7.19.3.1.1)",
        )),
        (None, Some(ct), true) if !ct.trim().is_empty() => Ok(()),
        (None, _, _) => Err(rule(
            name,
            "MUST have either a url or a content-type and a body (XEP-0327 §7.19.3.1.1)",
        )),
    }
}

fn output(o: &output::Output) -> Result<(), Error> {
    if o.documents.is_empty() {
        return Err(rule(
            "output",
            "MUST contain one or more <document/> elements (XEP-0327 §7.19.3.1)",
        ));
    }
    o.documents.iter().try_for_each(|d| {
        document(
            "document",
            d.url.as_deref(),
            d.content_type.as_deref(),
            &d.body,
        )
    })
}

fn input(i: &input::Input) -> Result<(), Error> {
    if i.grammars.is_empty() {
        return Err(rule(
            "input",
            "MUST contain one or more <grammar/> elements (XEP-0327 §7.19.4.1)",
        ));
    }
    i.grammars.iter().try_for_each(|g| {
        document(
            "grammar",
            g.url.as_deref(),
            g.content_type.as_deref(),
            &g.body,
        )
    })
}

fn prompt(p: &prompt::Prompt) -> Result<(), Error> {
    output(&p.output)?;
    input(&p.input)
}

fn record(r: &record::Record) -> Result<(), Error> {
    if r.hints.iter().any(|h| h.name.trim().is_empty()) {
        return Err(rule("hint", "name MUST NOT be empty (XEP-0327 §7.19.6.1)"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use crate::address::EntityKind;
    use crate::command::Command;

    fn check(target: EntityKind, xml: &str) -> Result<(), String> {
        let e: minidom::Element = xml.parse().map_err(|e| format!("{e}"))?;
        Command::parse_valid(target, e)
            .map(drop)
            .map_err(|e| e.condition_name().to_owned())
    }

    #[test]
    fn join_needs_exactly_one_party() {
        let call = EntityKind::Call;
        assert_eq!(
            check(call, "<join xmlns='urn:xmpp:rayo:1'/>"),
            Err("bad-request".into())
        );
        assert_eq!(
            check(
                call,
                "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:b@call.x' mixer-name='m'/>"
            ),
            Err("bad-request".into())
        );
        assert_eq!(
            check(call, "<join xmlns='urn:xmpp:rayo:1' call-uri='xmpp:'/>"),
            Err("bad-request".into())
        );
        assert_eq!(
            check(call, "<join xmlns='urn:xmpp:rayo:1' mixer-name='m'/>"),
            Ok(())
        );
        assert_eq!(check(call, "<unjoin xmlns='urn:xmpp:rayo:1'/>"), Ok(()));
    }

    #[test]
    fn document_url_xor_body() {
        let call = EntityKind::Call;
        let out = |doc: &str| format!("<output xmlns='urn:xmpp:rayo:output:1'>{doc}</output>");
        assert_eq!(
            check(call, &out("<document url='http://x/a.wav'/>")),
            Ok(())
        );
        assert_eq!(
            check(
                call,
                &out("<document content-type='text/plain'>Hi</document>")
            ),
            Ok(())
        );
        assert_eq!(
            check(
                call,
                &out("<document url='http://x' content-type='text/plain'/>")
            ),
            Err("bad-request".into())
        );
        assert_eq!(
            check(call, &out("<document content-type='text/plain'/>")),
            Err("bad-request".into())
        );
        assert_eq!(
            check(call, &out("<document>Hi</document>")),
            Err("bad-request".into())
        );
        assert_eq!(check(call, &out("")), Err("bad-request".into()));
    }

    #[test]
    fn reject_needs_a_reason() {
        let call = EntityKind::Call;
        assert_eq!(
            check(call, "<reject xmlns='urn:xmpp:rayo:1'/>"),
            Err("bad-request".into())
        );
        assert_eq!(
            check(call, "<reject xmlns='urn:xmpp:rayo:1'><busy/></reject>"),
            Ok(())
        );
        assert_eq!(
            check(
                call,
                "<reject xmlns='urn:xmpp:rayo:1'><busy/><decline/></reject>"
            ),
            Err("bad-request".into())
        );
    }

    #[test]
    fn seek_amount_positive_and_repeat_times_non_negative() {
        let comp = EntityKind::Component;
        let seek = |a: &str| {
            format!("<seek xmlns='urn:xmpp:rayo:output:1' direction='forward' amount='{a}'/>")
        };
        assert_eq!(check(comp, &seek("0")), Err("bad-request".into()));
        assert_eq!(check(comp, &seek("-20")), Err("bad-request".into()));
        assert_eq!(check(comp, &seek("20000")), Ok(()));
        assert_eq!(
            check(
                EntityKind::Call,
                "<output xmlns='urn:xmpp:rayo:output:1' repeat-times='-1'><document url='http://x'/></output>"
            ),
            Err("bad-request".into())
        );
    }

    #[test]
    fn dial_rules() {
        let svc = EntityKind::Service;
        assert_eq!(
            check(svc, "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'/>"),
            Ok(())
        );
        assert_eq!(
            check(svc, "<dial xmlns='urn:xmpp:rayo:1' to=''/>"),
            Err("bad-request".into())
        );
        assert_eq!(
            check(
                svc,
                "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1' uri='sip:x@y'/>"
            ),
            Err("bad-request".into())
        );
        assert_eq!(
            check(
                svc,
                "<dial xmlns='urn:xmpp:rayo:1' to='tel:+1'><join/></dial>"
            ),
            Err("bad-request".into())
        );
    }
}
