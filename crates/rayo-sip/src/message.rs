//! SIP messages: parsing and printing on ezk-sip-types (start line, header names with their
//! compact forms, typed header values), the headers also kept in their received order.

use ezk_sip_types::header::typed::{CSeq, CallID, FromTo, Via};
use ezk_sip_types::msg::{MessageLine, PullParser, RequestLine, StatusLine};
use ezk_sip_types::print::{AppendCtx, PrintCtx, UriContext};
use ezk_sip_types::{Headers, Method, Name, StatusCode};

use crate::Error;

/// Largest message accepted (a datagram or a framed stream message).
pub const MAX_MESSAGE: usize = 65_535;

/// A SIP request or response.
#[derive(Debug, Clone)]
pub struct Message {
    /// The request or status line.
    pub line: MessageLine,
    /// The headers for lookup by name (compact forms resolved) and typed decoding.
    pub headers: Headers,
    /// Every header as it came or was added, in order: (name as written, value).
    pub ordered: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Message {
    /// A new request without headers.
    pub fn request(method: Method, uri: &str) -> Result<Self, Error> {
        let line: MessageLine = format!("{method} {uri} SIP/2.0")
            .parse()
            .map_err(|_| Error::InvalidUri(uri.to_owned()))?;
        Ok(Message {
            line,
            headers: Headers::new(),
            ordered: Vec::new(),
            body: Vec::new(),
        })
    }

    /// A new response without headers.
    pub fn response(code: u16) -> Self {
        let code = StatusCode::from(code);
        Message {
            line: MessageLine::Response(StatusLine {
                code,
                reason: code.text().map(Into::into),
            }),
            headers: Headers::new(),
            ordered: Vec::new(),
            body: Vec::new(),
        }
    }

    /// Parses one message at the start of `buf`. With `stream` (TCP) the body is as long as
    /// Content-Length says (0 without it) and [`Error::Incomplete`] asks for more bytes;
    /// otherwise the datagram ends the body. Returns the message and the bytes it took.
    pub fn parse(buf: &[u8], stream: bool) -> Result<(Message, usize), Error> {
        // Leading CRLFs are keep-alives (RFC 5626).
        let skip = buf
            .iter()
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        let buf = &buf[skip..];
        let mut parser = PullParser::new(buf, 0);
        let mut lines = Vec::new();
        for line in &mut parser {
            match line {
                Ok(l) => lines.push(l),
                Err(_) if stream && buf.len() < MAX_MESSAGE => return Err(Error::Incomplete),
                Err(_) => return Err(Error::Malformed("message head does not end")),
            }
        }
        let head_end = parser.head_end();
        let mut lines = lines.into_iter();
        let first = lines.next().ok_or(Error::Malformed("empty message"))?;
        let first =
            std::str::from_utf8(first).map_err(|_| Error::Malformed("start line is not UTF-8"))?;
        let line: MessageLine = first
            .trim()
            .parse()
            .map_err(|_| Error::Malformed("bad start line"))?;
        let mut m = Message {
            line,
            headers: Headers::new(),
            ordered: Vec::new(),
            body: Vec::new(),
        };
        for l in lines {
            let l = std::str::from_utf8(l).map_err(|_| Error::Malformed("header is not UTF-8"))?;
            let (name, value) = l
                .split_once(':')
                .ok_or(Error::Malformed("header without colon"))?;
            let name = name.trim();
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_graphic()) {
                return Err(Error::Malformed("bad header name"));
            }
            // Unfold continuation lines.
            let value = value
                .split(['\r', '\n'])
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" ");
            m.push(name, &value);
        }
        let rest = &buf[head_end..];
        let len = match m.header("Content-Length") {
            Some(v) => v
                .trim()
                .parse::<usize>()
                .map_err(|_| Error::Malformed("bad Content-Length"))?,
            None if stream => 0,
            None => rest.len(),
        };
        if len > MAX_MESSAGE {
            return Err(Error::Malformed("Content-Length too large"));
        }
        if rest.len() < len {
            return Err(if stream {
                Error::Incomplete
            } else {
                Error::Malformed("body shorter than Content-Length")
            });
        }
        m.body = rest[..len].to_vec();
        Ok((m, skip + head_end + len))
    }

    /// Appends a header.
    pub fn push(&mut self, name: &str, value: &str) {
        self.headers
            .insert(Name::from(name.to_owned()), value.to_owned());
        self.ordered.push((name.to_owned(), value.to_owned()));
    }

    /// Builder form of [`Message::push`].
    pub fn with(mut self, name: &str, value: &str) -> Self {
        self.push(name, value);
        self
    }

    /// Removes every header of `name`.
    pub fn remove(&mut self, name: &str) {
        let n = Name::from(name.to_owned());
        self.headers.remove(&n);
        self.ordered.retain(|(k, _)| Name::from(k.clone()) != n);
    }

    /// Sets the body and its Content-Type.
    pub fn set_body(&mut self, content_type: &str, body: Vec<u8>) {
        self.remove("Content-Type");
        self.push("Content-Type", content_type);
        self.body = body;
    }

    /// The first value of a header (any spelling of its name).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .get_raw(&Name::from(name.to_owned()))
            .next()
            .map(|v| &**v)
    }

    /// Every value of a header, in order.
    pub fn header_all(&self, name: &str) -> Vec<String> {
        self.headers
            .get_raw(&Name::from(name.to_owned()))
            .map(|v| v.to_string())
            .collect()
    }

    /// The method of a request.
    pub fn method(&self) -> Option<&Method> {
        self.line.request_method()
    }

    /// The status of a response.
    pub fn status(&self) -> Option<u16> {
        match &self.line {
            MessageLine::Response(s) => Some(s.code.into_u16()),
            MessageLine::Request(_) => None,
        }
    }

    /// The Request-URI of a request, printed.
    pub fn request_uri(&self) -> Option<String> {
        match &self.line {
            MessageLine::Request(RequestLine { uri, .. }) => Some(
                uri.print_ctx(PrintCtx {
                    method: None,
                    uri: Some(UriContext::ReqUri),
                })
                .to_string(),
            ),
            MessageLine::Response(_) => None,
        }
    }

    /// The Call-ID.
    pub fn call_id(&self) -> Result<String, Error> {
        let c: CallID = self
            .headers
            .get_named()
            .map_err(|_| Error::Malformed("missing or bad Call-ID"))?;
        Ok(c.0.to_string())
    }

    /// The CSeq number and method.
    pub fn cseq(&self) -> Result<(u32, Method), Error> {
        let c: CSeq = self
            .headers
            .get_named()
            .map_err(|_| Error::Malformed("missing or bad CSeq"))?;
        Ok((c.cseq, c.method))
    }

    /// The top Via's branch parameter.
    pub fn branch(&self) -> Result<String, Error> {
        let v: Via = self
            .headers
            .get_named()
            .map_err(|_| Error::Malformed("missing or bad Via"))?;
        v.params
            .get_val("branch")
            .map(|b| b.to_string())
            .ok_or(Error::Malformed("Via without branch"))
    }

    /// The sent-by (host and port) of the top Via, as written, lower-cased; empty when the
    /// Via has none (RFC 3261 §17.2.3 matches server transactions on branch and sent-by).
    pub fn sent_by(&self) -> String {
        let v = self.header("Via").unwrap_or("");
        let top = v.split(',').next().unwrap_or("");
        let after = top
            .trim()
            .split_once(char::is_whitespace)
            .map(|(_, r)| r)
            .unwrap_or("");
        after
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase()
    }

    fn name_addr_header(&self, name: &str) -> Result<FromTo, Error> {
        self.headers
            .get(Name::from(name.to_owned()))
            .map_err(|_| Error::Malformed("missing or bad From/To"))
    }

    /// The tag of From.
    pub fn from_tag(&self) -> Result<Option<String>, Error> {
        Ok(self.name_addr_header("From")?.tag.map(|t| t.to_string()))
    }

    /// The tag of To.
    pub fn to_tag(&self) -> Result<Option<String>, Error> {
        Ok(self.name_addr_header("To")?.tag.map(|t| t.to_string()))
    }

    /// The URI of From (or To), without display name or parameters.
    pub fn uri_of(&self, name: &str) -> Result<String, Error> {
        let v = self
            .header(name)
            .ok_or(Error::Malformed("missing From/To"))?;
        Ok(addr_uri(v).to_owned())
    }

    /// The message as bytes, with a Content-Length of its body.
    pub fn to_bytes(&self) -> Vec<u8> {
        let ctx = PrintCtx {
            method: None,
            uri: Some(UriContext::ReqUri),
        };
        let mut s = format!("{}\r\n", self.line.print_ctx(ctx));
        for (k, v) in &self.ordered {
            if !k.eq_ignore_ascii_case("content-length") && k != "l" {
                s.push_str(k);
                s.push_str(": ");
                s.push_str(v);
                s.push_str("\r\n");
            }
        }
        s.push_str(&format!("Content-Length: {}\r\n\r\n", self.body.len()));
        let mut v = s.into_bytes();
        v.extend_from_slice(&self.body);
        v
    }
}

/// The URI inside a name-addr or addr-spec header value (`"Bob" <sip:b@x>;tag=1` → `sip:b@x`).
pub fn addr_uri(value: &str) -> &str {
    if let Some(start) = value.find('<') {
        let rest = &value[start + 1..];
        return rest.split('>').next().unwrap_or(rest).trim();
    }
    value.split(';').next().unwrap_or(value).trim()
}

/// A parameter of a header value (`tag` of `<sip:a@b>;tag=x`), outside the angle brackets.
pub fn header_param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    let after = match value.rfind('>') {
        Some(i) => &value[i + 1..],
        None => value,
    };
    after.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// Fuzzing entry point: parses `data` as a datagram and as stream bytes and reads every
/// header the stack reads. Never panics.
pub fn fuzz_bytes(data: &[u8]) {
    for stream in [false, true] {
        if let Ok((m, _)) = Message::parse(data, stream) {
            let _ = (
                m.call_id(),
                m.cseq(),
                m.branch(),
                m.from_tag(),
                m.to_tag(),
                m.uri_of("From"),
            );
            let _ = (m.request_uri(), m.status(), m.header_all("Record-Route"));
            if let Some(v) = m.header("Contact") {
                let _ = (addr_uri(v), header_param(v, "expires"));
            }
            let _ = Message::parse(&m.to_bytes(), true);
        }
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const INVITE: &[u8] = b"INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n\
Via: SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bK-1-0\r\n\
From: sipp <sip:sipp@127.0.0.1:5061>;tag=42\r\n\
To: sut <sip:service@127.0.0.1:5060>\r\n\
i: 1-1@127.0.0.1\r\n\
CSeq: 1 INVITE\r\n\
Contact: sip:sipp@127.0.0.1:5061\r\n\
X-Custom: one,\r\n two\r\n\
Content-Type: application/sdp\r\n\
Content-Length: 4\r\n\r\nv=0\n";

    #[test]
    fn parses_a_request() {
        let (m, n) = Message::parse(INVITE, false).expect("valid");
        assert_eq!(n, INVITE.len());
        assert_eq!(m.method(), Some(&Method::INVITE));
        assert_eq!(
            m.request_uri().as_deref(),
            Some("sip:service@127.0.0.1:5060")
        );
        assert_eq!(m.call_id().expect("call-id"), "1-1@127.0.0.1");
        assert_eq!(m.cseq().expect("cseq"), (1, Method::INVITE));
        assert_eq!(m.branch().expect("branch"), "z9hG4bK-1-0");
        assert_eq!(m.from_tag().expect("from").as_deref(), Some("42"));
        assert_eq!(m.to_tag().expect("to"), None);
        assert_eq!(m.uri_of("From").expect("from"), "sip:sipp@127.0.0.1:5061");
        assert_eq!(m.header("x-custom"), Some("one, two"));
        assert_eq!(m.ordered[3].0, "i");
        assert_eq!(m.body, b"v=0\n");
    }

    #[test]
    fn prints_and_reparses() {
        let mut r = Message::response(486)
            .with("Call-ID", "abc")
            .with("CSeq", "7 INVITE");
        r.set_body("text/plain", b"hi".to_vec());
        let bytes = r.to_bytes();
        let text = String::from_utf8(bytes.clone()).expect("utf-8");
        assert!(text.starts_with("SIP/2.0 486 Busy Here\r\n"), "{text}");
        let (m, _) = Message::parse(&bytes, true).expect("valid");
        assert_eq!(m.status(), Some(486));
        assert_eq!(m.body, b"hi");
    }

    #[test]
    fn stream_framing_and_garbage() {
        assert!(matches!(
            Message::parse(&INVITE[..100], true),
            Err(Error::Incomplete)
        ));
        assert!(matches!(
            Message::parse(&INVITE[..INVITE.len() - 2], true),
            Err(Error::Incomplete)
        ));
        assert!(Message::parse(&INVITE[..100], false).is_err());
        assert!(Message::parse(b"\r\n\r\n", false).is_err());
        assert!(Message::parse(b"HELLO\r\n\r\n", false).is_err());
        assert!(Message::parse(b"SIP/2.0 200 OK\r\nContent-Length: x\r\n\r\n", false).is_err());
        assert!(Message::parse(
            b"SIP/2.0 200 OK\r\nContent-Length: 99999999999\r\n\r\n",
            false
        )
        .is_err());
        assert_eq!(header_param("<sip:a@b;x=1>;tag=t1", "tag"), Some("t1"));
        assert_eq!(header_param("<sip:a@b;tag=no>", "tag"), None);
        assert_eq!(addr_uri("\"A\" <sip:a@b>;tag=1"), "sip:a@b");
    }
}
