//! Stanza envelopes read and written as elements: `from`, `to`, `id`, `type`, and the error
//! replies RFC 6120 §8.3 prescribes.
//!
//! The gateway forwards payloads it does not need to understand, so it works on
//! [`Element`]s rather than typed stanzas: nothing a node or client sends is lost in transit.

use jid::Jid;
use minidom::rxml::{Namespace, NcName};
use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType, StanzaError};

/// The three kinds of stanza (RFC 6120 §8).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// `<iq/>`.
    Iq,
    /// `<presence/>`.
    Presence,
    /// `<message/>`.
    Message,
}

/// The kind of a stanza element, or `None` for anything else.
pub fn kind(stanza: &Element) -> Option<Kind> {
    match stanza.name() {
        "iq" => Some(Kind::Iq),
        "presence" => Some(Kind::Presence),
        "message" => Some(Kind::Message),
        _ => None,
    }
}

/// Whether the stanza is an IQ request (`get` or `set`): the only stanzas that must be answered.
pub fn is_request(stanza: &Element) -> bool {
    kind(stanza) == Some(Kind::Iq) && matches!(stanza.attr("type"), Some("get" | "set"))
}

/// A JID attribute (`from`, `to`), parsed; `None` when absent or not a JID.
pub fn jid_attr(stanza: &Element, name: &str) -> Option<Jid> {
    stanza.attr(name).and_then(|s| Jid::new(s).ok())
}

/// Sets an attribute without a namespace (creating it if absent).
pub fn set_attr(el: &mut Element, name: &str, value: &str) {
    if let Ok(name) = NcName::try_from(name) {
        el.set_attr(Namespace::NONE, name, value.to_owned());
    }
}

/// Sets both addresses of a stanza.
pub fn address(stanza: &mut Element, from: &Jid, to: &Jid) {
    set_attr(stanza, "from", from.as_str());
    set_attr(stanza, "to", to.as_str());
}

/// A stanza error of this type and condition, with a human-readable text when given.
pub fn error(type_: ErrorType, condition: DefinedCondition, text: Option<&str>) -> StanzaError {
    let mut e = rayo_proto::error::stanza_error(type_, condition);
    if let Some(t) = text {
        e.texts.insert(String::from("en"), t.to_owned());
    }
    e
}

/// The error reply to a request: addressed back to its sender from `from` (the address it was
/// sent to, unless the gateway answers for another), same id, echoing the payload.
/// `None` for anything but an IQ request, which must not be answered (RFC 6120 §8.3.1).
pub fn error_reply(request: &Element, from: Option<&Jid>, err: StanzaError) -> Option<Element> {
    if !is_request(request) {
        return None;
    }
    let mut reply = Element::builder("iq", request.ns()).build();
    copy_reply_envelope(request, from, &mut reply);
    set_attr(&mut reply, "type", "error");
    for child in request.children() {
        reply.append_child(child.clone());
    }
    reply.append_child(Element::from(err));
    Some(reply)
}

/// The result reply to a request, with an optional payload.
pub fn result_reply(
    request: &Element,
    from: Option<&Jid>,
    payload: Option<Element>,
) -> Option<Element> {
    if !is_request(request) {
        return None;
    }
    let mut reply = Element::builder("iq", request.ns()).build();
    copy_reply_envelope(request, from, &mut reply);
    set_attr(&mut reply, "type", "result");
    if let Some(p) = payload {
        reply.append_child(p);
    }
    Some(reply)
}

fn copy_reply_envelope(request: &Element, from: Option<&Jid>, reply: &mut Element) {
    if let Some(f) = from.map(Jid::as_str).or(request.attr("to")) {
        set_attr(reply, "from", f);
    }
    if let Some(t) = request.attr("from") {
        set_attr(reply, "to", t);
    }
    if let Some(id) = request.attr("id") {
        set_attr(reply, "id", id);
    }
}

/// The first child element, the payload of an IQ.
pub fn payload(stanza: &Element) -> Option<&Element> {
    stanza.children().next()
}

/// The stanza error condition of an error stanza, by its element name.
pub fn error_condition(stanza: &Element) -> Option<String> {
    let err = stanza.get_child("error", minidom::NSChoice::Any)?;
    err.children()
        .find(|c| c.ns() == rayo_proto::ns::STANZAS && c.name() != "text")
        .map(|c| c.name().to_owned())
}

/// The stanza serialised, for logs and tests.
pub fn to_xml(stanza: &Element) -> String {
    let mut buf = Vec::new();
    match stanza.write_to(&mut buf) {
        Ok(()) => String::from_utf8_lossy(&buf).into_owned(),
        Err(e) => format!("<unserialisable {e}/>"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_answer_requests_only() {
        let get: Element = "<iq xmlns='jabber:client' type='get' id='a1' from='a@b/c' to='d'>\
            <query xmlns='q'/></iq>"
            .parse()
            .unwrap_or_else(|e| unreachable!("{e}"));
        let err = error(
            ErrorType::Cancel,
            DefinedCondition::ServiceUnavailable,
            Some("no"),
        );
        let reply = error_reply(&get, None, err.clone()).unwrap_or_else(|| unreachable!());
        assert_eq!(reply.attr("type"), Some("error"));
        assert_eq!(reply.attr("to"), Some("a@b/c"));
        assert_eq!(reply.attr("from"), Some("d"));
        assert_eq!(reply.attr("id"), Some("a1"));
        assert_eq!(
            error_condition(&reply).as_deref(),
            Some("service-unavailable")
        );
        let mut result = get.clone();
        set_attr(&mut result, "type", "result");
        assert!(error_reply(&result, None, err).is_none());
    }
}
