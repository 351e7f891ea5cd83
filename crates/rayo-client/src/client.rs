//! The client: connection, availability, dialling, mixers.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use jid::{BareJid, FullJid, Jid};
use minidom::Element;
use rayo_proto::generated::rayo::{Dial, Header};
use tokio::sync::Notify;
use xmpp_parsers::presence::Show;

use crate::call::{Call, JoinTarget};
use crate::config::Config;
use crate::core::{Answer, Core, Expect};
use crate::error::Error;
use crate::mixer::Mixer;
use crate::offer::Offers;

/// What the handles and the driver task share.
pub(crate) struct Shared {
    core: Mutex<Core>,
    /// Wakes the driver: something was queued, or it must stop.
    pub(crate) wake: Notify,
    stop: AtomicBool,
    pub(crate) config: Config,
}

impl Shared {
    pub(crate) fn core(&self) -> MutexGuard<'_, Core> {
        self.core.lock().unwrap_or_else(PoisonError::into_inner)
    }

    pub(crate) fn stopping(&self) -> bool {
        self.stop.load(Ordering::SeqCst)
    }
}

/// The message routing algorithms of a service (XEP-0354), as [`Client::routing`] found them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Routing {
    /// The algorithm active for this account's bare JID (a URI).
    pub active: String,
    /// The algorithms it may choose.
    pub available: Vec<String>,
}

/// A connection to a Rayo service, shared by every handle made from it (cheap to clone).
///
/// A driver task owns the stream: it writes what the handles queue, reads every stanza and
/// hands it to the sans-IO state, and reconnects with jittered exponential backoff when the
/// stream drops ([`Config::reconnect`]). While disconnected, commands fail at once with
/// [`Error::Disconnected`]; after reconnecting, the last availability is announced again.
///
/// The stream closes when [`Client::close`] is called, or when the last handle (client,
/// offers, call, mixer, component) is dropped.
#[derive(Clone)]
pub struct Client {
    pub(crate) shared: Arc<Shared>,
    _closer: Arc<Closer>,
}

/// Held by every handle but not by the driver: dropping the last one stops the driver.
struct Closer(Arc<Shared>);

impl Drop for Closer {
    fn drop(&mut self) {
        self.0.stop.store(true, Ordering::SeqCst);
        self.0.wake.notify_one();
    }
}

impl std::fmt::Debug for Client {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Client")
            .field("jid", &self.jid())
            .field("connected", &self.is_connected())
            .finish()
    }
}

impl Client {
    /// Connects, secures the stream (STARTTLS), logs in and binds a resource; returns the
    /// client and the stream of calls offered to it. A failure here is returned, not
    /// retried ([`Error::Auth`], [`Error::Tls`], [`Error::Connect`] …).
    ///
    /// The client is not offered calls until it says it is available
    /// ([`Client::set_available`]).
    pub async fn connect(config: Config) -> Result<(Client, Offers), Error> {
        let service = config.service()?;
        let session = crate::stream::open(&config).await?;
        let (tx, rx) = crate::event_queue::channel();
        let mut core = Core::new(service, tx);
        core.connected(session.jid.clone());
        let shared = Arc::new(Shared {
            core: Mutex::new(core),
            wake: Notify::new(),
            stop: AtomicBool::new(false),
            config,
        });
        tokio::spawn(crate::driver::run(shared.clone(), session));
        let client = Client {
            _closer: Arc::new(Closer(shared.clone())),
            shared,
        };
        let offers = Offers::new(client.clone(), rx);
        Ok((client, offers))
    }

    /// The JID bound on the current (or last) stream.
    pub fn jid(&self) -> Option<FullJid> {
        self.shared.core().jid().cloned()
    }

    /// Whether the stream is up.
    pub fn is_connected(&self) -> bool {
        self.shared.core().is_connected()
    }

    /// Tells the Rayo service this client takes calls: directed presence with
    /// `<show>chat</show>` and the client caps (XEP-0327 §6.1).
    pub fn set_available(&self) -> Result<(), Error> {
        self.set_show(Show::Chat)
    }

    /// Tells the Rayo service this client takes no new calls: `<show>dnd</show>` (§6.1).
    pub fn set_busy(&self) -> Result<(), Error> {
        self.set_show(Show::Dnd)
    }

    fn set_show(&self, show: Show) -> Result<(), Error> {
        let r = self.shared.core().set_show(show);
        self.shared.wake.notify_one();
        r
    }

    /// Pings the Rayo service (XEP-0199) and returns the round-trip time. Stanzas of one
    /// stream are handled in order, so once this returns the server has seen everything
    /// sent before it (such as [`Client::set_available`]).
    pub async fn ping(&self) -> Result<Duration, Error> {
        let to = self.shared.config.service()?;
        let start = Instant::now();
        let rx = self.shared.core().query(
            start,
            to,
            Element::bare("ping", rayo_proto::ns::PING),
            self.shared.config.command_timeout,
        )?;
        self.shared.wake.notify_one();
        rx.await.unwrap_or(Err(Error::Disconnected))?;
        Ok(start.elapsed())
    }

    /// The message routing algorithms of the service (XEP-0354): the one active for this
    /// account's bare JID and those available. A Rayo gateway applies the active one to how
    /// it spreads offers over the account's resources.
    pub async fn routing(&self) -> Result<Routing, Error> {
        let to = self.shared.config.service()?;
        let query = Element::bare("query", rayo_proto::ns::CMR);
        let rx = self.shared.core().query(
            Instant::now(),
            to,
            query,
            self.shared.config.command_timeout,
        )?;
        self.shared.wake.notify_one();
        let answer = rx.await.unwrap_or(Err(Error::Disconnected))?;
        let crate::core::Answer::Done(Some(q)) = answer else {
            return Err(Error::Protocol(
                "a routing query answered without a query".into(),
            ));
        };
        let of = |name: &str| -> Vec<String> {
            q.children()
                .filter(|c| c.is(name, rayo_proto::ns::CMR))
                .filter_map(|c| c.attr("algorithm").map(str::to_owned))
                .collect()
        };
        let active = of("active").into_iter().next().ok_or_else(|| {
            Error::Protocol("a routing query answered without an active algorithm".into())
        })?;
        Ok(Routing {
            active,
            available: of("available"),
        })
    }

    /// Chooses the message routing algorithm for every resource of this account's bare JID
    /// (XEP-0354), by URI (`urn:xmpp:cmr:roundrobin`, …); one the service does not offer
    /// gets [`Error::Stanza`] `not-allowed`.
    pub async fn set_routing(&self, algorithm: &str) -> Result<(), Error> {
        let to = self.shared.config.service()?;
        let mut cmr = Element::bare("cmr", rayo_proto::ns::CMR);
        rayo_xmpp::xml::set_attr(&mut cmr, "algorithm", algorithm);
        let rx = self.shared.core().request(
            Instant::now(),
            to,
            cmr,
            crate::core::Expect::Nothing,
            self.shared.config.command_timeout,
        )?;
        self.shared.wake.notify_one();
        rx.await.unwrap_or(Err(Error::Disconnected)).map(|_| ())
    }

    /// Places an outbound call (§6.2.1); its ringing and answered events follow on
    /// [`Call::events`].
    pub async fn dial(&self, dial: DialBuilder) -> Result<Call, Error> {
        let to = self.shared.config.service()?;
        match self.command(to, dial.build().into(), Expect::Call).await? {
            Answer::Call(parts) => Ok(Call::new(self.clone(), parts)),
            _ => Err(Error::Protocol("dial answered without a call".into())),
        }
    }

    /// A handle on the mixer `name` (§6.4), created by the server when a call first joins
    /// it. Its events arrive once [`Mixer::subscribe`] was sent (or this client joined a
    /// call to it).
    pub fn mixer(&self, name: &str) -> Result<Mixer, Error> {
        let jid = BareJid::new(&format!("{name}@{}", self.shared.config.mixers()))
            .map_err(|e| Error::Config(format!("mixer name {name:?}: {e}")))?;
        let events = self.shared.core().watch_mixer(jid.clone());
        Ok(Mixer::new(self.clone(), name.to_owned(), jid, events))
    }

    /// Closes the stream and stops reconnecting; every handle fails with
    /// [`Error::Disconnected`] afterwards.
    pub fn close(&self) {
        self.shared.stop.store(true, Ordering::SeqCst);
        self.shared.wake.notify_one();
    }

    /// Sends a command and waits for its answer.
    pub(crate) async fn command(
        &self,
        to: Jid,
        payload: Element,
        expect: Expect,
    ) -> Result<Answer, Error> {
        if self.shared.stopping() {
            return Err(Error::Disconnected);
        }
        let rx = self.shared.core().request(
            Instant::now(),
            to,
            payload,
            expect,
            self.shared.config.command_timeout,
        )?;
        self.shared.wake.notify_one();
        rx.await.unwrap_or(Err(Error::Disconnected))
    }

    /// Sends an IQ `get` and returns its result's payload, if any.
    pub(crate) async fn get(&self, to: Jid, payload: Element) -> Result<Option<Element>, Error> {
        if self.shared.stopping() {
            return Err(Error::Disconnected);
        }
        let rx = self.shared.core().query(
            Instant::now(),
            to,
            payload,
            self.shared.config.command_timeout,
        )?;
        self.shared.wake.notify_one();
        match rx.await.unwrap_or(Err(Error::Disconnected))? {
            Answer::Done(payload) => Ok(payload),
            _ => Err(Error::Protocol("a query answered with a new entity".into())),
        }
    }

    /// Sends a command whose result carries nothing.
    pub(crate) async fn command_ok(&self, to: Jid, payload: Element) -> Result<(), Error> {
        self.command(to, payload, Expect::Nothing).await.map(drop)
    }

    /// Queues a stanza that expects no answer.
    pub(crate) fn send(&self, stanza: Element) -> Result<(), Error> {
        if self.shared.stopping() {
            return Err(Error::Disconnected);
        }
        self.shared.core().send(stanza)?;
        self.shared.wake.notify_one();
        Ok(())
    }
}

/// A `<dial/>` to send (XEP-0327 §6.2.1).
#[derive(Debug, Clone, PartialEq)]
pub struct DialBuilder {
    /// Whom to call (a `tel:` or `sip:` URI).
    pub to: String,
    /// The caller id to present.
    pub from: Option<String>,
    /// Headers for the signalling, in order.
    pub headers: Vec<Header>,
    /// Join the new call here instead of to the media server.
    pub join: Option<JoinTarget>,
    /// Give up if not answered within this.
    pub timeout: Option<Duration>,
}

impl DialBuilder {
    /// A dial to `to`.
    pub fn new(to: impl Into<String>) -> Self {
        DialBuilder {
            to: to.into(),
            from: None,
            headers: Vec::new(),
            join: None,
            timeout: None,
        }
    }

    /// The caller id.
    pub fn from(mut self, from: impl Into<String>) -> Self {
        self.from = Some(from.into());
        self
    }

    /// Adds a header.
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(crate::header(name, value));
        self
    }

    /// Joins the call to a call or mixer as soon as it is up.
    pub fn join(mut self, target: JoinTarget) -> Self {
        self.join = Some(target);
        self
    }

    /// The answer timeout.
    pub fn timeout(mut self, d: Duration) -> Self {
        self.timeout = Some(d);
        self
    }

    fn build(self) -> Dial {
        Dial {
            to: self.to,
            from: self.from,
            uri: None,
            timeout: self.timeout,
            headers: self.headers,
            joins: self.join.map(JoinTarget::into_join).into_iter().collect(),
        }
    }
}
