//! Which `<header name='…' value='…'/>` a client may have put on the wire (XEP-0327 §6.7).
//!
//! A Rayo header on `<dial>`, `<accept>`, `<answer>`, `<redirect>`, `<reject>` or
//! `<hangup>` becomes a SIP header line. Without a check, a CR/LF in a value (or a name with
//! a colon) would write extra header lines of the client's choosing, and a name the node
//! writes itself (Via, Call-ID, Contact…) or one carrying credentials or routing
//! (Authorization, Route…) would override what the node controls. [`check`] is the one rule
//! both the engine (which refuses the command with `bad-request`) and the SIP layer (which
//! never writes such a header) apply.
//!
//! ```
//! use rayo_proto::generated::rayo::Header;
//! use rayo_proto::header::{check, HeaderError};
//!
//! let ok = Header { name: "X-Skill".into(), value: "agent\tlevel 2".into() };
//! assert_eq!(check(&ok), Ok(()));
//! let evil = Header { name: "X-Skill".into(), value: "a\r\nVia: evil".into() };
//! assert_eq!(check(&evil), Err(HeaderError::Value("X-Skill".into())));
//! let via = Header { name: "v".into(), value: "SIP/2.0/UDP evil".into() };
//! assert_eq!(check(&via), Err(HeaderError::Reserved("v".into())));
//! ```

use crate::generated::rayo::Header;

/// Names (lowercase) a client may not set: those the node writes itself, those carrying
/// credentials, and those deciding routing, with their compact forms (RFC 3261 §7.3.3,
/// §20).
pub const RESERVED: &[&str] = &[
    "via",
    "v",
    "from",
    "f",
    "to",
    "t",
    "call-id",
    "i",
    "cseq",
    "contact",
    "m",
    "max-forwards",
    "content-length",
    "l",
    "content-type",
    "c",
    "content-encoding",
    "e",
    "record-route",
    "route",
    "authorization",
    "proxy-authorization",
    "www-authenticate",
    "proxy-authenticate",
    "authentication-info",
];

/// Why a header may not be sent. The text names the header.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HeaderError {
    /// The name is not an RFC 3261 `token` (empty, or with a space, colon, control…).
    #[error("header name {0:?} is not a SIP token")]
    Name(String),
    /// The name is one the node controls, or one carrying credentials or routing.
    #[error("header {0:?} is set by the node and may not be given")]
    Reserved(String),
    /// The value of the named header has a CR, LF, NUL or other control character (HTAB
    /// excepted).
    #[error("header {0:?} has a control character in its value")]
    Value(String),
}

/// Whether `c` is a character of an RFC 3261 `token` (§25.1).
fn token_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || "-.!%*_+`'~".contains(c)
}

/// Whether `name` is an RFC 3261 `token`: one or more of alphanumerics and `-.!%*_+`'~`.
pub fn is_token(name: &str) -> bool {
    !name.is_empty() && name.chars().all(token_char)
}

/// Whether `name` (in any case) is one a client may not set ([`RESERVED`]).
pub fn is_reserved(name: &str) -> bool {
    RESERVED.iter().any(|r| r.eq_ignore_ascii_case(name))
}

/// Whether `value` may be written after a header's colon: no control character but HTAB.
pub fn is_value(value: &str) -> bool {
    !value.chars().any(|c| c.is_control() && c != '\t')
}

/// Checks one header: its name a token and not reserved, its value free of controls.
pub fn check(h: &Header) -> Result<(), HeaderError> {
    if !is_token(&h.name) {
        Err(HeaderError::Name(h.name.clone()))
    } else if is_reserved(&h.name) {
        Err(HeaderError::Reserved(h.name.clone()))
    } else if !is_value(&h.value) {
        Err(HeaderError::Value(h.name.clone()))
    } else {
        Ok(())
    }
}

/// Checks every header, in order; the first refused is the error.
pub fn check_all(headers: &[Header]) -> Result<(), HeaderError> {
    headers.iter().try_for_each(check)
}

/// Reserved names a `<dial>` may set all the same: a pre-loaded route set (RFC 3261
/// §8.1.1.1), as XEP-0327 example 89 shows. The node still sends the INVITE to the next hop
/// its configuration gives (a trunk, the outbound proxy or the dialled address); the Route
/// headers only tell that hop where the request goes next.
pub const DIAL_MAY_SET: &[&str] = &["route"];

/// [`check_all`] for the headers of a `<dial>`, which may also set [`DIAL_MAY_SET`].
pub fn check_dial(headers: &[Header]) -> Result<(), HeaderError> {
    headers.iter().try_for_each(|h| {
        let may_set = DIAL_MAY_SET.iter().any(|n| n.eq_ignore_ascii_case(&h.name));
        match check(h) {
            Err(HeaderError::Reserved(_)) if may_set && is_value(&h.value) => Ok(()),
            Err(HeaderError::Reserved(name)) if may_set => Err(HeaderError::Value(name)),
            other => other,
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(name: &str, value: &str) -> Header {
        Header {
            name: name.into(),
            value: value.into(),
        }
    }

    /// Asserts a header named `name` is refused as `error(name)`.
    fn assert_name_refused(name: &str, error: fn(String) -> HeaderError) {
        assert_eq!(check(&h(name, "v")), Err(error(name.into())), "{name:?}");
    }

    #[test]
    fn names_that_are_not_tokens_are_refused() {
        for name in [
            "",
            "X Skill",
            "X-Skill:",
            "Via: evil",
            "X\r\nVia",
            "X\u{0}",
            "É",
        ] {
            assert_name_refused(name, HeaderError::Name);
        }
    }

    #[test]
    fn reserved_names_are_refused_in_any_case() {
        for name in [
            "Via",
            "v",
            "FROM",
            "f",
            "To",
            "t",
            "Call-ID",
            "i",
            "CSeq",
            "Contact",
            "m",
            "Max-Forwards",
            "Content-Length",
            "l",
            "Content-Type",
            "c",
            "Record-Route",
            "route",
            "Authorization",
            "Proxy-Authorization",
            "WWW-Authenticate",
            "Proxy-Authenticate",
        ] {
            assert_name_refused(name, HeaderError::Reserved);
        }
    }

    #[test]
    fn values_with_controls_are_refused_but_tab_is_not() {
        for value in [
            "a\r\nVia: evil",
            "a\rb",
            "a\nb",
            "a\u{0}b",
            "a\u{7f}b",
            "\u{85}",
        ] {
            assert_eq!(
                check(&h("X-Skill", value)),
                Err(HeaderError::Value("X-Skill".into())),
                "{value:?}"
            );
        }
        assert_eq!(check(&h("X-Skill", "agent\tlevel 2; q=\"é\"")), Ok(()));
        assert_eq!(check(&h("P-Asserted-Identity", "<sip:a@b>")), Ok(()));
    }

    #[test]
    fn the_first_bad_header_of_a_list_is_named() {
        let list = [h("X-A", "1"), h("X-B", "2\n"), h("Via", "3")];
        assert_eq!(check_all(&list), Err(HeaderError::Value("X-B".into())));
        assert_eq!(check_all(&list[..1]), Ok(()));
    }

    #[test]
    fn a_dial_may_preload_routes_and_nothing_else_reserved() {
        let route = h("Route", "<sip:proxy.example.com;lr>");
        assert_eq!(check(&route), Err(HeaderError::Reserved("Route".into())));
        assert_eq!(check_dial(&[route.clone(), h("x-a", "1")]), Ok(()));
        assert_eq!(
            check_dial(&[h("route", "a\r\nVia: evil")]),
            Err(HeaderError::Value("route".into()))
        );
        assert_eq!(
            check_dial(&[route, h("Via", "x")]),
            Err(HeaderError::Reserved("Via".into()))
        );
    }
}
