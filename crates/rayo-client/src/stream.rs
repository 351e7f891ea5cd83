//! The client side of an XMPP stream (RFC 6120): TCP, STARTTLS, SASL (SCRAM-SHA-256,
//! SCRAM-SHA-1, PLAIN over TLS), resource binding; then stanzas in and out.
//!
//! The XML is read with `rayo_xmpp`'s incremental [`StreamReader`] (bounded stanza size) and
//! written with its serializer; SASL is the `sasl` crate's client mechanisms.

use std::collections::VecDeque;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use jid::FullJid;
use minidom::Element;
use rayo_xmpp::xml::{self, StreamReader, XmlEvent, JABBER_CLIENT, NS_STREAMS};
use rustls::pki_types::ServerName;
use sasl::client::mechanisms::{Plain, Scram};
use sasl::client::Mechanism;
use sasl::common::scram::{Sha1, Sha256};
use sasl::common::ChannelBinding;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::client::TlsStream;

use crate::config::{Config, Tls};
use crate::error::Error;

const NS_TLS: &str = "urn:ietf:params:xml:ns:xmpp-tls";
const NS_SASL: &str = "urn:ietf:params:xml:ns:xmpp-sasl";
const NS_BIND: &str = "urn:ietf:params:xml:ns:xmpp-bind";
const NS_SESSION: &str = "urn:ietf:params:xml:ns:xmpp-session";
/// The largest stanza accepted from the server.
const MAX_STANZA: usize = 1024 * 1024;

/// An XML stream over some transport: reads whole top-level elements, writes stanzas.
pub(crate) struct XmlStream<S> {
    io: S,
    reader: StreamReader,
    queue: VecDeque<XmlEvent>,
    buf: Vec<u8>,
}

impl<S: AsyncRead + AsyncWrite + Unpin> XmlStream<S> {
    fn new(io: S) -> Self {
        XmlStream {
            io,
            reader: StreamReader::new(MAX_STANZA),
            queue: VecDeque::new(),
            buf: vec![0; 16 * 1024],
        }
    }

    /// The next event of the stream. Cancel-safe: bytes read are parsed before returning.
    pub(crate) async fn next(&mut self) -> Result<XmlEvent, Error> {
        loop {
            if let Some(ev) = self.queue.pop_front() {
                return Ok(ev);
            }
            let n = self
                .io
                .read(&mut self.buf)
                .await
                .map_err(|e| Error::Connect(e.to_string()))?;
            if n == 0 {
                return Err(Error::Disconnected);
            }
            self.reader
                .feed(&self.buf[..n], &mut self.queue)
                .map_err(|e| Error::Stream(e.to_string()))?;
        }
    }

    /// The next top-level element; a stream error or the end of the stream is an error.
    async fn element(&mut self) -> Result<Element, Error> {
        match self.next().await? {
            XmlEvent::Element(e) if e.is("error", NS_STREAMS) => Err(stream_error(&e)),
            XmlEvent::Element(e) => Ok(e),
            XmlEvent::Open(_) => Err(Error::Stream("unexpected stream header".into())),
            XmlEvent::Close => Err(Error::Stream("the server closed the stream".into())),
        }
    }

    pub(crate) async fn write_raw(&mut self, s: &str) -> Result<(), Error> {
        self.io
            .write_all(s.as_bytes())
            .await
            .map_err(|e| Error::Connect(e.to_string()))?;
        self.io
            .flush()
            .await
            .map_err(|e| Error::Connect(e.to_string()))
    }

    /// Writes stanzas (in `jabber:client`) and flushes.
    pub(crate) async fn write_stanzas(&mut self, stanzas: &[Element]) -> Result<(), Error> {
        let mut s = String::new();
        for el in stanzas {
            xml::write_stanza(&mut s, el, JABBER_CLIENT);
        }
        self.write_raw(&s).await
    }

    /// Opens (or restarts) the stream to `domain` and returns the server's features.
    async fn open(&mut self, domain: &str) -> Result<Element, Error> {
        self.reader.reset();
        self.queue.clear();
        self.write_raw(&xml::stream_header(JABBER_CLIENT, None, Some(domain), None))
            .await?;
        match self.next().await? {
            XmlEvent::Open(h) if h.ns == JABBER_CLIENT => {}
            XmlEvent::Open(h) => {
                return Err(Error::Stream(format!("stream namespace {}", h.ns)));
            }
            _ => return Err(Error::Stream("no stream header".into())),
        }
        let features = self.element().await?;
        if !features.is("features", NS_STREAMS) {
            return Err(Error::Stream(format!(
                "expected <stream:features/>, got <{}/>",
                features.name()
            )));
        }
        Ok(features)
    }
}

/// The stream of a logged-in session.
pub(crate) type SecureStream = TlsStream<TcpStream>;

/// A logged-in, bound session.
pub(crate) struct Session {
    /// The stream.
    pub stream: XmlStream<SecureStream>,
    /// The bound JID.
    pub jid: FullJid,
}

pub(crate) fn stream_error(e: &Element) -> Error {
    let cond = e
        .children()
        .find(|c| c.name() != "text")
        .map(|c| c.name().to_owned())
        .unwrap_or_else(|| "undefined-condition".to_owned());
    let text = e.children().find(|c| c.name() == "text").map(|t| t.text());
    match text {
        Some(t) => Error::Stream(format!("stream error <{cond}/>: {t}")),
        None => Error::Stream(format!("stream error <{cond}/>")),
    }
}

/// Connects, secures, authenticates and binds, within the connect timeout.
pub(crate) async fn open(config: &Config) -> Result<Session, Error> {
    tokio::time::timeout(config.connect_timeout, negotiate(config))
        .await
        .map_err(|_| Error::Connect("timed out connecting and logging in".into()))?
}

async fn negotiate(config: &Config) -> Result<Session, Error> {
    let domain = config.jid.domain().to_string();
    let Tls::Required { trust } = &config.tls;
    let connector = crate::tls::connector(trust)?;
    let addr = config.server_addr();
    let tcp = TcpStream::connect(&addr)
        .await
        .map_err(|e| Error::Connect(format!("{addr}: {e}")))?;
    let _ = tcp.set_nodelay(true);
    let mut plain = XmlStream::new(tcp);
    let features = plain.open(&domain).await?;
    if features.get_child("starttls", NS_TLS).is_none() {
        return Err(Error::Tls("the server does not offer STARTTLS".into()));
    }
    plain
        .write_raw(&format!("<starttls xmlns='{NS_TLS}'/>"))
        .await?;
    let answer = plain.element().await?;
    if !answer.is("proceed", NS_TLS) {
        return Err(Error::Tls(format!(
            "STARTTLS refused: <{}/>",
            answer.name()
        )));
    }
    let name = ServerName::try_from(domain.clone())
        .map_err(|e| Error::Config(format!("server name {domain:?}: {e}")))?;
    let tls = connector
        .connect(name, plain.io)
        .await
        .map_err(|e| Error::Tls(e.to_string()))?;
    let mut stream = XmlStream::new(tls);
    let features = stream.open(&domain).await?;
    authenticate(&mut stream, &features, config).await?;
    let features = stream.open(&domain).await?;
    let jid = bind(&mut stream, &features, config).await?;
    Ok(Session { stream, jid })
}

/// The mechanisms the server offers, in our order of preference.
pub(crate) fn choose_mechanism(features: &Element) -> Option<&'static str> {
    let offered: Vec<String> = features
        .get_child("mechanisms", NS_SASL)?
        .children()
        .filter(|c| c.is("mechanism", NS_SASL))
        .map(|c| c.text().trim().to_owned())
        .collect();
    ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN"]
        .into_iter()
        .find(|m| offered.iter().any(|o| o == m))
}

async fn authenticate(
    stream: &mut XmlStream<SecureStream>,
    features: &Element,
    config: &Config,
) -> Result<(), Error> {
    let user = config
        .jid
        .node()
        .map(|n| n.to_string())
        .ok_or_else(|| Error::Config("the JID has no user part".into()))?;
    let name = choose_mechanism(features)
        .ok_or_else(|| Error::Auth("no supported SASL mechanism offered".into()))?;
    let pw = config.password.clone();
    let scram_err = |e| Error::Auth(format!("SCRAM: {e:?}"));
    let mut mech: Box<dyn Mechanism + Send> = match name {
        "SCRAM-SHA-256" => {
            Box::new(Scram::<Sha256>::new(user, pw, ChannelBinding::None).map_err(scram_err)?)
        }
        "SCRAM-SHA-1" => {
            Box::new(Scram::<Sha1>::new(user, pw, ChannelBinding::None).map_err(scram_err)?)
        }
        _ => Box::new(Plain::new(user, pw)),
    };
    let initial = B64.encode(mech.initial());
    stream
        .write_raw(&format!(
            "<auth xmlns='{NS_SASL}' mechanism='{name}'>{initial}</auth>"
        ))
        .await?;
    loop {
        let el = stream.element().await?;
        let data = || {
            B64.decode(el.text().trim())
                .map_err(|_| Error::Auth("bad base64 from the server".into()))
        };
        match el.name() {
            "challenge" if el.ns() == NS_SASL => {
                let resp = mech
                    .response(&data()?)
                    .map_err(|e| Error::Auth(e.to_string()))?;
                stream
                    .write_raw(&format!(
                        "<response xmlns='{NS_SASL}'>{}</response>",
                        B64.encode(resp)
                    ))
                    .await?;
            }
            "success" if el.ns() == NS_SASL => {
                mech.success(&data()?)
                    .map_err(|e| Error::Auth(format!("server not verified: {e}")))?;
                return Ok(());
            }
            "failure" if el.ns() == NS_SASL => {
                let cond = el
                    .children()
                    .find(|c| c.name() != "text")
                    .map(|c| c.name().to_owned())
                    .unwrap_or_else(|| "failure".to_owned());
                return Err(Error::Auth(cond));
            }
            other => return Err(Error::Stream(format!("unexpected <{other}/> during SASL"))),
        }
    }
}

async fn bind(
    stream: &mut XmlStream<SecureStream>,
    features: &Element,
    config: &Config,
) -> Result<FullJid, Error> {
    if features.get_child("bind", NS_BIND).is_none() {
        return Err(Error::Stream(
            "the server offers no resource binding".into(),
        ));
    }
    let resource = match config.jid.resource() {
        Some(r) => format!("<resource>{}</resource>", xml::escape(r.as_str())),
        None => String::new(),
    };
    stream
        .write_raw(&format!(
            "<iq type='set' id='bind-1'><bind xmlns='{NS_BIND}'>{resource}</bind></iq>"
        ))
        .await?;
    let jid = loop {
        let el = stream.element().await?;
        if el.name() != "iq" || el.attr("id") != Some("bind-1") {
            continue;
        }
        if el.attr("type") != Some("result") {
            return Err(Error::Stream("resource binding refused".into()));
        }
        let text = el
            .get_child("bind", NS_BIND)
            .and_then(|b| b.get_child("jid", NS_BIND))
            .map(|j| j.text())
            .ok_or_else(|| Error::Stream("no JID in the bind result".into()))?;
        break FullJid::new(text.trim())
            .map_err(|e| Error::Stream(format!("bound JID {text:?}: {e}")))?;
    };
    let session_required = features
        .get_child("session", NS_SESSION)
        .is_some_and(|s| !s.has_child("optional", NS_SESSION));
    if session_required {
        stream
            .write_raw(&format!(
                "<iq type='set' id='sess-1'><session xmlns='{NS_SESSION}'/></iq>"
            ))
            .await?;
        loop {
            let el = stream.element().await?;
            if el.name() == "iq" && el.attr("id") == Some("sess-1") {
                break;
            }
        }
    }
    Ok(jid)
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    /// A server (or a man in the middle before TLS) sending a stanza nested thousands of
    /// levels deep gets a stream error from the SDK, not a stack overflow of the bot.
    #[tokio::test]
    async fn a_deeply_nested_stanza_from_the_server_is_a_stream_error() {
        let (ours, mut server) = tokio::io::duplex(64 * 1024);
        let mut stream = XmlStream::new(ours);
        let depth = 3_500;
        let deep = format!(
            "<stream:stream xmlns='jabber:client' xmlns:stream='{NS_STREAMS}'>\
             <message>{}{}</message>",
            "<a>".repeat(depth),
            "</a>".repeat(depth)
        );
        server.write_all(deep.as_bytes()).await.expect("write");
        let refused = match stream.next().await {
            Ok(XmlEvent::Open(_)) => stream.next().await,
            other => other,
        };
        let Err(Error::Stream(why)) = refused else {
            panic!("the deep stanza is refused: {refused:?}")
        };
        assert!(why.contains("deep"), "{why}");
    }

    #[test]
    fn prefers_scram_sha_256() {
        let f = |m: &str| -> Element {
            format!("<features xmlns='{NS_STREAMS}'><mechanisms xmlns='{NS_SASL}'>{m}</mechanisms></features>")
                .parse()
                .expect("xml")
        };
        let all = "<mechanism>PLAIN</mechanism><mechanism>SCRAM-SHA-1</mechanism>\
                   <mechanism>SCRAM-SHA-256</mechanism>";
        assert_eq!(choose_mechanism(&f(all)), Some("SCRAM-SHA-256"));
        assert_eq!(
            choose_mechanism(&f("<mechanism>PLAIN</mechanism>")),
            Some("PLAIN")
        );
        assert_eq!(
            choose_mechanism(&f("<mechanism>DIGEST-MD5</mechanism>")),
            None
        );
    }

    #[test]
    fn stream_errors_name_their_condition() {
        let e: Element = format!(
            "<error xmlns='{NS_STREAMS}'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/>\
             <text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>replaced</text></error>"
        )
        .parse()
        .expect("xml");
        assert_eq!(
            stream_error(&e).to_string(),
            "stream: stream error <conflict/>: replaced"
        );
    }
}
