//! A real Rayo node for the SDK's tests: rayo-xmpp's c2s listener on a free loopback port
//! (STARTTLS with a fresh self-signed certificate) whose handler feeds every stanza to a
//! `rayo_call::Engine` and sends its outputs back. The test plays the signalling and media
//! layers: it injects `SignalEvent`s and `MediaEvent`s and reads the engine's actions.
#![allow(
    dead_code,
    missing_docs,
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::large_enum_variant
)]

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;
use rayo_call::{
    All, CallId, Config as EngineConfig, Engine, Input, MediaAction, MediaEvent, Output, Route,
    SignalAction, SignalEvent,
};
use rayo_client::{Client, Config, Offer, Offers, Trust};
use rayo_proto::address::Addressing;
use rayo_xmpp::c2s::C2sConfig;
use rayo_xmpp::component_client::{ComponentClient, ComponentClientConfig};
use rayo_xmpp::router::{Handled, Handler, Incoming, Outbox};
use rayo_xmpp::scram::Users;
use rayo_xmpp::server::{Listener, ListenerConfig, ServiceHandle};
use rayo_xmpp::tls::TlsSource;
use tokio::sync::mpsc;
use xmpp_parsers::iq::Iq;
use xmpp_parsers::message::Message;
use xmpp_parsers::presence::Presence;

pub const DOMAIN: &str = "rayo.test";
#[allow(unused_imports)]
pub use rayo_peers::{prosody, TempDir};

pub const WAIT: Duration = Duration::from_secs(10);

/// What the engine asked the signalling or media layer to do.
#[derive(Debug, Clone, PartialEq)]
pub enum Action {
    Signal(SignalAction),
    Media(MediaAction),
}

type Shared = Arc<Mutex<Engine>>;

/// Feeds stanzas to the engine; returns its stanzas, forwards its actions.
struct Bridge {
    engine: Shared,
    actions: mpsc::UnboundedSender<Action>,
}

fn run(engine: &Shared, actions: &mpsc::UnboundedSender<Action>, input: Input) -> Vec<Element> {
    let mut e = engine.lock().expect("engine");
    e.handle(Instant::now(), input);
    let mut stanzas = Vec::new();
    while let Some(o) = e.poll_output() {
        match o {
            Output::Iq(iq) => stanzas.push(iq.into()),
            Output::Presence(p) => stanzas.push(p.into()),
            Output::Message(m) => stanzas.push(m.into()),
            Output::Signal(a) => {
                let _ = actions.send(Action::Signal(a));
            }
            Output::Media(a) => {
                let _ = actions.send(Action::Media(a));
            }
            // Nothing to fetch here: admitted as it is.
            Output::Prepare(p) => e.accept_component(Instant::now(), p),
        }
    }
    stanzas
}

impl Handler for Bridge {
    fn handle(&mut self, incoming: Incoming, out: &mut Outbox) -> Handled {
        let stanza = incoming.stanza;
        let input = match stanza.name() {
            "iq" => Iq::try_from(stanza).ok().map(Input::Iq),
            "presence" => Presence::try_from(stanza).ok().map(Input::Presence),
            "message" => Message::try_from(stanza).ok().map(Input::Message),
            _ => None,
        };
        let Some(input) = input else {
            return Handled::No;
        };
        for s in run(&self.engine, &self.actions, input) {
            out.send(s);
        }
        Handled::Yes
    }
}

/// Takes every stanza and never answers.
struct Silent;

impl Handler for Silent {
    fn handle(&mut self, _: Incoming, _: &mut Outbox) -> Handled {
        Handled::Yes
    }
}

/// How the node is reached: its own c2s listener, or as a component of Prosody.
enum Reach {
    C2s {
        listener: Listener,
        fingerprint: String,
        handle: ServiceHandle,
        _dir: TempDir,
    },
    Component(ComponentClient),
}

pub struct Node {
    reach: Reach,
    engine: Shared,
    actions: mpsc::UnboundedSender<Action>,
    pub actions_rx: mpsc::UnboundedReceiver<Action>,
}

fn users() -> Users {
    let mut u = Users::new();
    u.add_password("juliet", "r0m30").expect("OS randomness");
    u.add_password("romeo", "jul13t").expect("OS randomness");
    u
}

fn addressing() -> Addressing {
    addressing_of(DOMAIN)
}

fn addressing_of(service: &str) -> Addressing {
    Addressing::new(service, Some("call"), Some("mixer")).expect("domains")
}

async fn listener<H: Handler>(handler: H) -> (Listener, String, TempDir) {
    let dir = TempDir::new("client");
    let config = ListenerConfig::new(
        0,
        C2sConfig::new(DOMAIN, users()),
        Some(TlsSource::SelfSigned { dir: dir.0.clone() }),
    );
    let listener = Listener::start(config, addressing(), handler)
        .await
        .expect("listener starts");
    let fp = listener.fingerprint().expect("TLS on").to_owned();
    (listener, fp, dir)
}

fn bridge(
    service: &str,
    users_domain: &str,
) -> (
    Bridge,
    Shared,
    mpsc::UnboundedSender<Action>,
    mpsc::UnboundedReceiver<Action>,
) {
    let mut cfg = EngineConfig::new(addressing_of(service));
    let targets = ["juliet", "romeo"]
        .iter()
        .map(|u| Jid::new(&format!("{u}@{users_domain}")).expect("jid"))
        .collect();
    cfg.routes.push(Route::new("*", targets, Box::new(All)));
    let engine: Shared = Arc::new(Mutex::new(Engine::new(cfg)));
    let (tx, rx) = mpsc::unbounded_channel();
    let b = Bridge {
        engine: engine.clone(),
        actions: tx.clone(),
    };
    (b, engine, tx, rx)
}

impl Node {
    /// A node with its own c2s listener, offering every call to juliet and romeo at once.
    pub async fn start() -> Node {
        let (b, engine, actions, actions_rx) = bridge(DOMAIN, DOMAIN);
        let (listener, fingerprint, dir) = listener(b).await;
        let handle = listener.handle();
        Node {
            reach: Reach::C2s {
                listener,
                fingerprint,
                handle,
                _dir: dir,
            },
            engine,
            actions,
            actions_rx,
        }
    }

    /// A node attached to an XMPP server as the component `service` (with `call.` and
    /// `mixer.` subdomains), offering calls to juliet and romeo of `users_domain`.
    pub async fn component(
        server: SocketAddr,
        service: &str,
        secret: &str,
        users_domain: &str,
    ) -> Node {
        let (b, engine, actions, actions_rx) = bridge(service, users_domain);
        let mut config = ComponentClientConfig::new(server, service, secret);
        config.subdomains = true;
        let mut component = ComponentClient::start(config, addressing_of(service), b);
        component
            .wait_connected(WAIT)
            .await
            .expect("component connected");
        Node {
            reach: Reach::Component(component),
            engine,
            actions,
            actions_rx,
        }
    }

    pub fn config(&self, user: &str, password: &str) -> Config {
        match &self.reach {
            Reach::C2s {
                listener,
                fingerprint,
                ..
            } => client_config(listener, fingerprint, user, password),
            Reach::Component(_) => panic!("log in to the XMPP server instead"),
        }
    }

    /// Logs in with `config` and makes the client available; returns once the engine knows.
    pub async fn client_with(&self, config: Config) -> (Client, Offers) {
        let (client, offers) = Client::connect(config).await.expect("login");
        client.set_available().expect("presence");
        client.ping().await.expect("ping");
        (client, offers)
    }

    /// Logs `user` in and makes it available; returns once the engine knows.
    pub async fn client(&self, user: &str, password: &str) -> (Client, Offers) {
        let (client, offers) = Client::connect(self.config(user, password))
            .await
            .expect("login");
        client.set_available().expect("presence");
        client.ping().await.expect("ping");
        (client, offers)
    }

    /// Tells the engine something, as the signalling or media layer would.
    pub async fn input(&self, input: Input) {
        let stanzas = run(&self.engine, &self.actions, input);
        for s in stanzas {
            match &self.reach {
                Reach::C2s { handle, .. } => handle.send(s).await.expect("router up"),
                Reach::Component(c) => c.send(s).await.expect("router up"),
            }
        }
    }

    /// A new inbound call.
    pub async fn incoming(&self, to: &str, from: &str) -> CallId {
        let call = self
            .engine
            .lock()
            .expect("engine")
            .allocate_call_id()
            .expect("OS randomness");
        self.signal(
            &call,
            SignalEvent::Incoming {
                to: to.into(),
                from: Some(from.into()),
                headers: vec![rayo_client::header("x-skill", "agent")],
                early_media: false,
            },
        )
        .await;
        call
    }

    pub async fn signal(&self, call: &CallId, event: SignalEvent) {
        self.input(Input::Signal {
            call: call.clone(),
            event,
        })
        .await
    }

    pub async fn media(&self, event: MediaEvent) {
        self.input(Input::Media(event)).await
    }

    /// The next action of the engine.
    pub async fn action(&mut self) -> Action {
        tokio::time::timeout(WAIT, self.actions_rx.recv())
            .await
            .expect("an action in time")
            .expect("engine alive")
    }
}

/// A node whose handler never answers.
pub async fn silent_node() -> (Listener, String, TempDir) {
    listener(Silent).await
}

pub fn client_config(listener: &Listener, fp: &str, user: &str, password: &str) -> Config {
    Config::new(&format!("{user}@{DOMAIN}/bot"), password)
        .expect("config")
        .server(listener.local_addr().to_string())
        .trust(Trust::Pinned(fp.to_owned()))
}

pub async fn next_offer(offers: &mut Offers) -> Offer {
    tokio::time::timeout(WAIT, offers.next())
        .await
        .expect("an offer in time")
        .expect("offers open")
}
