//! The node's async driver: starts the XMPP transport(s), the SIP driver and the core task,
//! and moves what each produces to the others. It takes no decision of its own.

use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jid::{BareJid, Jid};
use minidom::Element;
use rayo_call::{All, Distribution, Engine, MostActive, RoundRobin, Route, Weighted};
use rayo_media::hub::Hub;
use rayo_media::udp::Command as MediaCommand;
use rayo_media::vad::VadConfig;
use rayo_proto::address::{Addressing, Entity};
use rayo_sip::driver::{Command as SipCommand, Driver as SipDriver};
use rayo_xmpp::c2s::{C2sConfig, RateLimit};
use rayo_xmpp::component_client::{ComponentClient, ComponentClientConfig};
use rayo_xmpp::router::{Handled, Handler, Incoming, Outbox};
use rayo_xmpp::scram::{ScramCredentials, Users};
use rayo_xmpp::server::{Listener, ListenerConfig, ServiceHandle};
use rayo_xmpp::tls::TlsSource;
use tokio::sync::{mpsc, watch};

use crate::config::{Algorithm, Config};
use crate::core::{CoreOutput, NodeCore};
use crate::policy::NodePolicy;
use crate::prepare::{prepare, Cache};
use crate::Error;
use rayo_media::sources::Sources;

/// The longest a component's documents may take to fetch and render.
const PREPARE_TIMEOUT: Duration = Duration::from_secs(30);

/// Forwards every stanza for the service to the core task.
struct Forward {
    tx: mpsc::Sender<(Jid, Element)>,
    calls: Arc<Mutex<HashSet<String>>>,
}

/// The most client stanzas waiting for the node's loop. When it is full (the loop is
/// behind), an IQ request is answered `resource-constraint` (wait) at once and any other
/// stanza is dropped.
pub const STANZA_QUEUE: usize = 8192;

impl Handler for Forward {
    fn handle(&mut self, incoming: Incoming, out: &mut Outbox) -> Handled {
        let Incoming {
            from, to, stanza, ..
        } = incoming;
        match self.tx.try_send((from, stanza)) {
            Ok(()) => {}
            Err(mpsc::error::TrySendError::Full((from, stanza))) => {
                let request =
                    stanza.name() == "iq" && matches!(stanza.attr("type"), Some("get" | "set"));
                tracing::debug!(%from, "node busy: a client stanza is refused");
                if request {
                    let (f, t) = (from.to_string(), to.to_string());
                    out.send(rayo_xmpp::router::error_reply(
                        &stanza,
                        &f,
                        &t,
                        "wait",
                        "resource-constraint",
                    ));
                }
            }
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
        Handled::Yes
    }

    fn exists(&self, entity: &Entity) -> bool {
        match entity {
            Entity::Call(id) | Entity::CallOrMixer(id, None) => {
                live_calls(&self.calls).contains(id.as_str())
            }
            _ => true,
        }
    }
}

/// The live calls' ids the XMPP side answers `exists` from. A panic while the lock was held
/// cannot leave the set half-written (it is replaced whole), so a poisoned lock's data is
/// still the last snapshot.
fn live_calls(calls: &Mutex<HashSet<String>>) -> std::sync::MutexGuard<'_, HashSet<String>> {
    calls
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Where outgoing stanzas go.
struct Transports {
    c2s: Option<ServiceHandle>,
    component: Option<Arc<ComponentClient>>,
    domain: String,
}

impl Transports {
    async fn send(&self, stanza: Element) {
        let local = stanza
            .attr("to")
            .and_then(|t| Jid::new(t).ok())
            .is_some_and(|j| j.domain().as_str() == self.domain);
        let r = match (&self.c2s, &self.component) {
            (Some(c), Some(_)) if local => c.send(stanza).await,
            (_, Some(comp)) => comp.send(stanza).await,
            (Some(c), None) => c.send(stanza).await,
            (None, None) => Ok(()),
        };
        if let Err(e) = r {
            tracing::warn!(error = %e, "stanza not sent");
        }
    }
}

/// The most prepared components waiting for the node's loop.
const PREPARED_QUEUE: usize = 1024;

enum Control {
    Shutdown(Duration),
}

/// A running node.
pub struct Node {
    c2s_addr: Option<SocketAddr>,
    sip_addr: SocketAddr,
    fingerprint: Option<String>,
    control: mpsc::Sender<Control>,
    stopped: watch::Receiver<bool>,
    grace: Duration,
    listener: Option<Listener>,
    component: Option<Arc<ComponentClient>>,
}

impl std::fmt::Debug for Node {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Node")
            .field("c2s_addr", &self.c2s_addr)
            .field("sip_addr", &self.sip_addr)
            .finish_non_exhaustive()
    }
}

fn routes(cfg: &Config) -> Result<Vec<Route>, Error> {
    cfg.routes
        .iter()
        .map(|r| {
            let targets = r
                .targets
                .iter()
                .map(|t| Jid::new(t).map_err(|e| Error::Config(format!("route target {t}: {e}"))))
                .collect::<Result<Vec<_>, _>>()?;
            let dist: Box<dyn Distribution> = match r.algorithm {
                Algorithm::All => Box::new(All),
                Algorithm::MostActive => Box::new(MostActive),
                Algorithm::RoundRobin => Box::new(RoundRobin::default()),
                Algorithm::Weighted => Box::new(Weighted::new(r.weights.clone())),
            };
            let mut route = Route::new(&r.pattern, targets, dist);
            if let Some(t) = r.offer_timeout {
                route = route.with_offer_timeout(Duration::from_secs_f64(t));
            }
            Ok(route)
        })
        .collect()
}

/// The clients registered to dial: route targets and listed dialers. A user of the c2s
/// listener who is neither may log in (to watch, or to take part in joins) but not dial.
fn known_clients(cfg: &Config) -> HashSet<BareJid> {
    let mut known = HashSet::new();
    for t in cfg
        .routes
        .iter()
        .flat_map(|r| &r.targets)
        .chain(&cfg.limits.dialers)
    {
        if let Ok(j) = Jid::new(t) {
            known.insert(j.to_bare());
        }
    }
    known
}

fn users(cfg: &Config) -> Result<Users, Error> {
    let mut users = Users::new();
    for u in &cfg.users {
        if let Some(p) = &u.password {
            users.add_password(&u.name, p)?;
        }
        for s in &u.scram {
            if let Some(c) = ScramCredentials::from_config(s) {
                users.add_credentials(&u.name, c);
            }
        }
    }
    Ok(users)
}

impl Node {
    /// Starts a node: binds SIP, starts the c2s listener and/or the component connection,
    /// and the core.
    pub async fn start(cfg: Config) -> Result<Node, Error> {
        cfg.check().map_err(|e| Error::Config(e.to_string()))?;
        let s = &cfg.service;
        let addressing = Addressing::new(
            &s.domain,
            s.call_subdomain.as_deref(),
            s.mixer_subdomain.as_deref(),
        )
        .map_err(|e| Error::Config(format!("service domain: {e}")))?;

        // SIP and media.
        let mut ua = rayo_sip::ua::Config::new(cfg.sip.listen);
        ua.rtp_ip = cfg.rtp.ip.unwrap_or(cfg.sip.listen.ip());
        ua.rtp_first = cfg.rtp.first_port;
        ua.rtp_last = cfg.rtp.last_port;
        ua.rtp_latch_window = cfg.rtp.latch_window();
        if let Some((lo, hi)) = ephemeral_ports()
            .filter(|&(lo, hi)| cfg.rtp.first_port <= hi && cfg.rtp.last_port >= lo)
        {
            // A call's RTP port is bound when its media starts: one of the kernel's ephemeral
            // ports may by then be some other socket's, and that call ends with an error.
            tracing::warn!(
                first = cfg.rtp.first_port,
                last = cfg.rtp.last_port,
                "the RTP port range overlaps the kernel's ephemeral ports ({lo}–{hi}, \
                 net.ipv4.ip_local_port_range): calls may fail to bind their RTP port"
            );
        }
        ua.inband_dtmf = cfg.sip.inband_dtmf;
        ua.max_tcp_connections = cfg.sip.max_tcp_connections;
        ua.max_tcp_connections_per_source = cfg.sip.max_tcp_connections_per_source;
        ua.transaction_limits = rayo_sip::transaction::Limits {
            max_transactions: cfg.sip.max_transactions,
            max_transactions_per_source: cfg.sip.max_transactions_per_source,
            retry_after: Duration::from_secs(u64::from(cfg.limits.source_retry_after.max(1))),
            max_refusals_per_second: cfg.sip.max_refusals_per_second,
            reserved_for_known: Some(cfg.sip.reserved_for_known()),
        };
        ua.trunks = cfg
            .trunks
            .iter()
            .map(|t| rayo_sip::ua::Trunk {
                pattern: t.pattern.clone(),
                proxy: t.proxy,
                credentials: match (&t.username, &t.password) {
                    (Some(u), Some(p)) => Some(rayo_sip::auth::Credentials {
                        username: u.clone(),
                        password: p.clone(),
                    }),
                    _ => None,
                },
            })
            .collect();
        let sip_routes = ua.clone();
        let sip = SipDriver::spawn(ua).await?;
        let sip_addr = sip.local;
        tracing::info!(%sip_addr, "SIP listening (UDP and TCP)");

        // What clients may make the node read.
        let d = &cfg.documents;
        let sources = Sources::new(&d.file_dirs, &d.http_prefixes, d.max_bytes)
            .map_err(|e| Error::Config(format!("[documents] {e}")))?;
        // The engine and its policy; recordings go to a directory only this user can use.
        rayo_proto::private_fs::ensure_private_dir(&cfg.recording.dir)
            .map_err(|e| Error::Config(format!("[recording] dir: {e}")))?;
        let now = Instant::now();
        let gateway = match &cfg.cluster {
            Some(cl) => Some(
                Jid::new(&cl.gateway)
                    .map_err(|e| Error::Config(format!("cluster.gateway: {e}")))?,
            ),
            None => None,
        };
        let mut policy = NodePolicy::new(
            known_clients(&cfg),
            cfg.limits.unknown_clients_may_dial,
            cfg.limits.dial_rate_per_client,
            cfg.limits.max_calls,
            cfg.recording.dir.clone(),
            now,
        )
        .with_sip_routes(sip_routes);
        if let Some(g) = &gateway {
            policy = policy.with_gateway(g.to_bare());
        }
        let mut ecfg = rayo_call::Config::new(addressing.clone());
        ecfg.routes = match &gateway {
            // Behind a gateway every call is offered to it; it routes.
            Some(g) => vec![Route::new("*", vec![g.clone()], Box::new(All))],
            None => routes(&cfg)?,
        };
        ecfg.default_offer_timeout = cfg.limits.default_offer_timeout();
        ecfg.max_components_per_party = cfg.limits.max_components_per_call;
        // A gateway is one client for all of its applications' bots: only the per-call
        // limit applies to it.
        ecfg.max_components_per_client = match &gateway {
            Some(_) => usize::MAX,
            None => cfg.limits.max_components_per_client,
        };
        ecfg.orphan_grace = cfg.limits.orphan_grace();
        let mut core = NodeCore::new(Engine::with_policy(ecfg, policy), &s.domain)
            .with_source_limit(
                cfg.limits.max_calls_per_source,
                Duration::from_secs(u64::from(cfg.limits.source_retry_after)),
            );
        if let Some(g) = gateway {
            tracing::info!(gateway = %g, "cluster mode: serving a gateway");
            core = core.with_gateway(g, now);
        }

        // XMPP.
        let (stx, srx) = mpsc::channel(STANZA_QUEUE);
        let calls = Arc::new(Mutex::new(HashSet::new()));
        let mut c2s_addr = None;
        let mut fingerprint = None;
        let mut listener = None;
        let mut c2s_handle = None;
        if let Some(c) = &cfg.c2s {
            let mut c2s = C2sConfig::new(&s.domain, users(&cfg)?);
            c2s.allow_plain_without_tls = c.allow_plain_without_tls;
            c2s.max_stanza_size = c.max_stanza_size;
            c2s.max_stanza_depth = c.max_stanza_depth;
            c2s.max_negotiation_queued_bytes = c.max_queued_bytes_unbound;
            c2s.max_outbound_bytes = c.max_queued_bytes;
            c2s.max_negotiation_elements = c.max_negotiation_elements;
            c2s.rate_limit = Some(RateLimit {
                per_second: c.max_stanzas_per_second,
                burst: c.max_stanzas_per_second * 2.0,
            });
            let tls = TlsSource::files_or_self_signed(
                c.cert.as_ref(),
                c.key.as_ref(),
                &c.self_signed_dir,
            );
            let lcfg = ListenerConfig {
                addr: c.listen,
                c2s,
                tls: Some(tls),
                connection_queue: 4096,
                max_connections: c.max_connections,
                max_connections_per_source: c.max_connections_per_source,
                max_failed_logins_per_minute: c.max_failed_logins_per_minute,
            };
            let l = Listener::start(
                lcfg,
                addressing.clone(),
                Forward {
                    tx: stx.clone(),
                    calls: calls.clone(),
                },
            )
            .await?;
            c2s_addr = Some(l.local_addr());
            fingerprint = l.fingerprint().map(str::to_owned);
            tracing::info!(
                addr = %l.local_addr(),
                fingerprint = fingerprint.as_deref().unwrap_or("-"),
                "XMPP c2s listening (STARTTLS)"
            );
            c2s_handle = Some(l.handle());
            listener = Some(l);
        }
        let component = cfg.component.as_ref().map(|c| {
            let mut ccfg = ComponentClientConfig::new(c.server, &s.domain, &c.secret);
            ccfg.subdomains = c.subdomains;
            ccfg.component.max_stanza_depth = c.max_stanza_depth.clamp(8, 1024);
            Arc::new(ComponentClient::start(
                ccfg,
                addressing.clone(),
                Forward {
                    tx: stx.clone(),
                    calls: calls.clone(),
                },
            ))
        });
        let transports = Transports {
            c2s: c2s_handle,
            component: component.clone(),
            domain: s.domain.clone(),
        };

        // One message ever: `shutdown_within` takes the handle.
        let (ctl_tx, ctl_rx) = mpsc::channel(1);
        let (stopped_tx, stopped) = watch::channel(false);
        tokio::spawn(run(
            core,
            srx,
            sip,
            transports,
            ctl_rx,
            Published {
                stopped: stopped_tx,
                calls,
            },
            Arc::new(Cache::new(sources)),
        ));
        Ok(Node {
            c2s_addr,
            sip_addr,
            fingerprint,
            control: ctl_tx,
            stopped,
            grace: cfg.grace(),
            listener,
            component,
        })
    }

    /// The c2s listener's address.
    pub fn c2s_addr(&self) -> Option<SocketAddr> {
        self.c2s_addr
    }

    /// The SIP address (UDP and TCP).
    pub fn sip_addr(&self) -> SocketAddr {
        self.sip_addr
    }

    /// The SHA-256 fingerprint of the c2s TLS certificate.
    pub fn fingerprint(&self) -> Option<&str> {
        self.fingerprint.as_deref()
    }

    /// Waits up to `timeout` for every component stream to be up (component mode).
    pub async fn component_connected(&self, timeout: Duration) -> bool {
        let Some(c) = &self.component else {
            return false;
        };
        let until = Instant::now() + timeout;
        while !c.is_connected() {
            if Instant::now() >= until {
                return false;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        true
    }

    /// Stops taking calls, tells clients, lets live calls run for the configured grace
    /// period, ends the rest, and returns when no call is left.
    pub async fn shutdown(self) {
        let grace = self.grace;
        self.shutdown_within(grace).await;
    }

    /// [`Node::shutdown`] with another grace period.
    pub async fn shutdown_within(mut self, grace: Duration) {
        let _ = self.control.try_send(Control::Shutdown(grace));
        while !*self.stopped.borrow() {
            if self.stopped.changed().await.is_err() {
                break;
            }
        }
        // Let the last stanzas and BYEs leave before the transports go.
        tokio::time::sleep(Duration::from_millis(200)).await;
        if let Some(l) = self.listener.take() {
            l.shutdown();
        }
    }
}

/// What the loop keeps up to date for the [`Node`] handle and the XMPP side.
struct Published {
    /// Set once shutdown is done.
    stopped: watch::Sender<bool>,
    /// The ids of the live calls (the router's snapshot).
    calls: Arc<Mutex<HashSet<String>>>,
}

async fn run(
    mut core: NodeCore,
    mut stanzas: mpsc::Receiver<(Jid, Element)>,
    mut sip: SipDriver,
    transports: Transports,
    mut control: mpsc::Receiver<Control>,
    published: Published,
    cache: Arc<Cache>,
) {
    let Published { stopped, calls } = published;
    // Prepared components: the loop always takes them, and the core bounds how many are
    // being prepared (components per call and per client), so senders wait little.
    let (ptx, mut prx) = mpsc::channel(PREPARED_QUEUE);
    let mut hub = Hub::spawn(VadConfig::default());
    // What the core said before anything happened (a cluster node's first presence) goes
    // out before the first wait.
    let mut started = false;
    loop {
        let wake = core.poll_timeout();
        tokio::select! {
            () = std::future::ready(()), if !started => started = true,
            Some((from, stanza)) = stanzas.recv() => core.handle_stanza(Instant::now(), from, stanza),
            Some(ev) = sip.events.recv() => core.handle_sip(Instant::now(), ev),
            Some((ticket, result)) = prx.recv() => core.handle_prepared(Instant::now(), ticket, result),
            Some(ev) = hub.events.recv() => core.handle_hub(Instant::now(), ev),
            Some(c) = control.recv() => match c {
                Control::Shutdown(grace) => core.shutdown(Instant::now(), grace),
            },
            _ = async {
                match wake {
                    Some(t) => tokio::time::sleep_until(t.into()).await,
                    None => std::future::pending::<()>().await,
                }
            } => core.handle_timeout(Instant::now()),
        }
        // The snapshot first: an offer sent below may be accepted at once, and the accept
        // must find its call.
        if core.take_live_changed() {
            let mut c = live_calls(&calls);
            c.clear();
            c.extend(core.live_call_ids());
        }
        let mut done = false;
        while let Some(o) = core.poll_output() {
            match o {
                CoreOutput::Stanza(s) => transports.send(s).await,
                CoreOutput::NodePresence(p) => {
                    if let Some(c) = &transports.component {
                        if let Err(e) = c.set_presence(p).await {
                            tracing::warn!(error = %e, "node presence not sent");
                        }
                    }
                }
                // Awaited: the drivers always take commands, so a full queue is a short
                // wait that pushes back on what the loop takes (stanzas, SIP events).
                CoreOutput::Sip(c) => {
                    let _ = sip.commands.send(c).await;
                }
                CoreOutput::Prepare { ticket, start } => {
                    let ptx = ptx.clone();
                    let cache = cache.clone();
                    tokio::spawn(async move {
                        // Fetching and rendering are bounded: a stuck server or TTS process
                        // refuses the command instead of holding the client's stanzas.
                        let r = tokio::time::timeout(PREPARE_TIMEOUT, prepare(start, &cache))
                            .await
                            .unwrap_or_else(|_| {
                                Err(rayo_call::Refusal::new(
                                    xmpp_parsers::stanza_error::ErrorType::Wait,
                                    xmpp_parsers::stanza_error::DefinedCondition::ResourceConstraint,
                                )
                                .with_text("fetching or rendering the documents took too long"))
                            });
                        let _ = ptx.send((ticket, r)).await;
                    });
                }
                CoreOutput::Hub(c) => {
                    let _ = hub.commands.send(c).await;
                }
                CoreOutput::Tap(call) => {
                    let tap = MediaCommand::Tap {
                        call: call.0.clone(),
                        hub: hub.inputs.clone(),
                    };
                    let _ = sip.commands.send(SipCommand::Media(call, tap)).await;
                }
                CoreOutput::Stopped => done = true,
            }
        }
        if done {
            let _ = stopped.send(true);
            // Keep serving until the transports are dropped: late BYEs and stanzas.
            tokio::time::sleep(Duration::from_millis(300)).await;
            let _ = sip.commands.send(SipCommand::Stop).await;
            return;
        }
    }
}

/// The kernel's ephemeral port range (Linux's `net.ipv4.ip_local_port_range`), where it can
/// be read.
fn ephemeral_ports() -> Option<(u16, u16)> {
    let text = std::fs::read_to_string("/proc/sys/net/ipv4/ip_local_port_range").ok()?;
    let mut it = text.split_whitespace().map(|w| w.parse::<u16>().ok());
    Some((it.next()??, it.next()??))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn iq(id: &str) -> Incoming {
        let stanza: Element = format!(
            "<iq xmlns='jabber:client' type='get' id='{id}' from='bot@localhost/a' to='c1@localhost'><ping xmlns='urn:xmpp:ping'/></iq>"
        )
        .parse()
        .expect("xml");
        Incoming {
            from: Jid::new("bot@localhost/a").expect("jid"),
            to: Jid::new("c1@localhost").expect("jid"),
            entity: Entity::Call(jid::NodePart::new("c1").expect("node").into_owned()),
            stanza,
        }
    }

    /// Issue 12 §17: a poisoned lock answered `true` for any call. The snapshot is replaced
    /// whole, so a poisoned lock still holds the last one: a call that is not in it does
    /// not exist, one that is does.
    #[test]
    fn a_poisoned_snapshot_still_answers_from_the_last_one() {
        let calls = Arc::new(Mutex::new(HashSet::from(["c1".to_owned()])));
        let c = calls.clone();
        let _ = std::thread::spawn(move || {
            let _g = c.lock().expect("lock");
            panic!("poisoning the lock");
        })
        .join();
        assert!(calls.is_poisoned());
        let (tx, _rx) = mpsc::channel(1);
        let f = Forward { tx, calls };
        let call = |id: &str| Entity::Call(jid::NodePart::new(id).expect("node").into_owned());
        assert!(f.exists(&call("c1")));
        assert!(!f.exists(&call("c2")));
    }

    /// Issue 12 §16: the queue to the node's loop is bounded; a request that finds it full
    /// is answered `resource-constraint` at once, not queued.
    #[test]
    fn a_full_stanza_queue_answers_requests_with_resource_constraint() {
        let (tx, _rx) = mpsc::channel(1);
        let mut f = Forward {
            tx,
            calls: Arc::new(Mutex::new(HashSet::new())),
        };
        let mut out = Outbox::default();
        assert!(matches!(f.handle(iq("1"), &mut out), Handled::Yes));
        assert!(out.is_empty(), "queued");
        f.handle(iq("2"), &mut out);
        let refused = out.take();
        assert_eq!(refused.len(), 1);
        assert_eq!(refused[0].attr("id"), Some("2"));
        assert_eq!(refused[0].attr("type"), Some("error"));
        let condition = refused[0]
            .children()
            .filter(|e| e.name() == "error")
            .flat_map(|e| e.children())
            .map(|c| c.name().to_owned())
            .next();
        assert_eq!(condition.as_deref(), Some("resource-constraint"));
    }
}
