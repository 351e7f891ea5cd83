//! The node's answers to the engine's questions ([`rayo_call::Policy`]): who may dial and how
//! often, how many calls fit, and whether a component can run — which the node finds out by
//! building it, so a component that cannot run is refused before the client gets a `<ref/>`.

use std::collections::{HashMap, HashSet};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use jid::{BareJid, Jid};
use rayo_call::{ComponentId, Party, Policy, Refusal};
use rayo_media::components::Running;
use rayo_media::input::{FetchedGrammar, InputComponent};
use rayo_media::output::{Player, Rendered};
use rayo_media::prompt::Prompt;
use rayo_media::record::Recorder;
use rayo_proto::command::ComponentStart;
use rayo_proto::generated::rayo::{Dial, JoinDirection, JoinMedia};
use rayo_proto::generated::record_complete::Recording;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

/// What the driver fetched and rendered for a component before it is started.
#[derive(Debug, Default, Clone)]
pub struct Prepared {
    /// The output documents (of an output or a prompt), rendered to 8 kHz audio.
    pub documents: Vec<Rendered>,
    /// The grammar documents of an input's (or prompt's) `url`s, by url.
    pub grammars: HashMap<String, FetchedGrammar>,
}

/// A token bucket.
#[derive(Debug, Clone, Copy)]
struct Bucket {
    tokens: f64,
    at: Instant,
}

/// The node's policy.
#[derive(Debug)]
pub struct NodePolicy {
    /// The time of the input being handled (set by the core before each engine call).
    pub(crate) now: Instant,
    /// Bare JIDs allowed to dial.
    known: HashSet<BareJid>,
    unknown_may_dial: bool,
    rate: f64,
    buckets: HashMap<BareJid, Bucket>,
    /// Calls live now (kept by the core).
    pub(crate) live_calls: usize,
    max_calls: usize,
    recording_dir: PathBuf,
    /// The component built by the last successful check, waiting for its start.
    pub(crate) built: Option<Running>,
    /// Recorders by component, for closing them when their call ends.
    pub(crate) recorders: HashMap<ComponentId, Arc<Mutex<Recorder>>>,
    next_file: u64,
    /// The SIP side's routing, to tell a dialable target from one that is not.
    sip: Option<rayo_sip::ua::Config>,
    /// The gateway this node serves (cluster mode): it may dial, unmetered, since it speaks
    /// for every client and meters each application itself.
    gateway: Option<BareJid>,
}

/// How a media error's condition maps to a refusal: the one table of the node.
pub(crate) fn refusal(condition: &str, text: String) -> Refusal {
    let (t, c) = match condition {
        "feature-not-implemented" => (ErrorType::Modify, DefinedCondition::FeatureNotImplemented),
        "resource-constraint" => (ErrorType::Wait, DefinedCondition::ResourceConstraint),
        "item-not-found" => (ErrorType::Cancel, DefinedCondition::ItemNotFound),
        "not-acceptable" => (ErrorType::Modify, DefinedCondition::NotAcceptable),
        "not-allowed" => (ErrorType::Cancel, DefinedCondition::NotAllowed),
        "internal-server-error" => (ErrorType::Wait, DefinedCondition::InternalServerError),
        _ => (ErrorType::Modify, DefinedCondition::BadRequest),
    };
    Refusal::new(t, c).with_text(text)
}

impl NodePolicy {
    /// A policy allowing `known` clients to dial `rate` times a second each, holding at most
    /// `max_calls`, writing recordings to `recording_dir`.
    pub fn new(
        known: HashSet<BareJid>,
        unknown_may_dial: bool,
        rate: f64,
        max_calls: usize,
        recording_dir: PathBuf,
        now: Instant,
    ) -> Self {
        NodePolicy {
            now,
            known,
            unknown_may_dial,
            rate,
            buckets: HashMap::new(),
            live_calls: 0,
            max_calls,
            recording_dir,
            built: None,
            recorders: HashMap::new(),
            next_file: 0,
            sip: None,
            gateway: None,
        }
    }

    /// Serves a gateway (XEP-0349): `gateway` may dial, without the per-client dial rate
    /// (the gateway limits each application's dials itself); the call limit still holds.
    pub fn with_gateway(mut self, gateway: BareJid) -> Self {
        self.known.insert(gateway.clone());
        self.gateway = Some(gateway);
        self
    }

    /// Dials are checked against the SIP side's trunks and proxy: a target no INVITE can be
    /// sent for is refused with `bad-request` before any call exists (§6.2.1.1).
    pub fn with_sip_routes(mut self, sip: rayo_sip::ua::Config) -> Self {
        self.sip = Some(sip);
        self
    }

    /// Whether another call fits.
    pub fn has_room(&self) -> bool {
        self.live_calls < self.max_calls
    }

    fn input(
        &self,
        cmd: &rayo_proto::generated::input::Input,
        grammars: &HashMap<String, FetchedGrammar>,
    ) -> Result<InputComponent, Refusal> {
        InputComponent::from_command(cmd, self.now, |url| grammars.get(url).cloned())
            .map_err(|e| refusal(e.condition(), e.to_string()))
    }

    /// A fresh recording file (its name not guessable by other clients) and its URI.
    fn record_path(&mut self) -> Result<(PathBuf, String), Refusal> {
        self.next_file += 1;
        let name = format!(
            "rec-{}-{}.wav",
            rayo_proto::random::token(16)?,
            self.next_file
        );
        let path = self.recording_dir.join(name);
        let uri = format!("file://{}", path.display());
        Ok((path, uri))
    }

    /// Builds the media component of `spec` on `on` from what was `prepared` for it.
    pub(crate) fn build(
        &mut self,
        on: &Party,
        spec: &ComponentStart,
        prepared: Prepared,
    ) -> Result<Running, Refusal> {
        let on_mixer = matches!(on, Party::Mixer(_));
        Ok(match spec {
            ComponentStart::Input(cmd) => Running::Input(self.input(cmd, &prepared.grammars)?),
            ComponentStart::Output(cmd) => {
                Running::Output(Player::new(cmd, prepared.documents, self.now))
            }
            ComponentStart::Prompt(cmd) => {
                let grammars = &prepared.grammars;
                let p = Prompt::new(cmd, prepared.documents.clone(), self.now, |url| {
                    grammars.get(url).cloned()
                })
                .map_err(|e| refusal(e.condition(), e.to_string()))?;
                Running::Prompt(p)
            }
            ComponentStart::Record(cmd) => {
                rayo_proto::private_fs::ensure_private_dir(&self.recording_dir).map_err(|e| {
                    tracing::warn!(error = %e, "recording directory refused");
                    refusal(
                        "internal-server-error",
                        "the recording directory is unusable".into(),
                    )
                })?;
                let (path, uri) = self.record_path()?;
                let rec = Recorder::new(cmd, path, uri, self.now, on_mixer)
                    .map_err(|e| refusal(e.condition(), e.to_string()))?;
                Running::Record(Arc::new(Mutex::new(rec)))
            }
        })
    }
}

impl Policy for NodePolicy {
    fn authorize_dial(&mut self, client: &Jid, dial: &Dial) -> Result<(), Refusal> {
        let bare = client.to_bare();
        if !self.unknown_may_dial && !self.known.contains(&bare) {
            return Err(Refusal::registration_required()
                .with_text("this client is not registered with the node"));
        }
        if let Some(sip) = &self.sip {
            if let Err(e) = sip.destination(&dial.to) {
                return Err(Refusal::bad_request().with_text(format!("cannot dial: {e}")));
            }
        }
        if !self.has_room() {
            return Err(Refusal::resource_constraint().with_text("the node is at its call limit"));
        }
        if self.gateway.as_ref() == Some(&bare) {
            return Ok(());
        }
        let now = self.now;
        let rate = self.rate;
        let b = self.buckets.entry(bare).or_insert(Bucket {
            tokens: rate.max(1.0),
            at: now,
        });
        let refill = now.saturating_duration_since(b.at).as_secs_f64() * rate;
        b.tokens = (b.tokens + refill).min(rate.max(1.0));
        b.at = now;
        if b.tokens < 1.0 {
            return Err(Refusal::resource_constraint().with_text("dial rate limit reached"));
        }
        b.tokens -= 1.0;
        Ok(())
    }

    /// Outputs and prompts have documents to render, inputs may name grammars by URL.
    fn needs_preparation(&self, _on: &Party, spec: &ComponentStart) -> bool {
        match spec {
            ComponentStart::Output(_) | ComponentStart::Prompt(_) => true,
            ComponentStart::Input(i) => i
                .grammars
                .iter()
                .any(|g| g.url.as_deref().is_some_and(|u| !u.starts_with("builtin:"))),
            ComponentStart::Record(_) => false,
        }
    }

    fn check_component(&mut self, on: &Party, spec: &ComponentStart) -> Result<(), Refusal> {
        self.built = None;
        let r = self.build(on, spec, Prepared::default())?;
        self.built = Some(r);
        Ok(())
    }

    fn check_join(
        &mut self,
        _a: &Party,
        _b: &Party,
        _direction: JoinDirection,
        media: JoinMedia,
    ) -> Result<(), Refusal> {
        match media {
            JoinMedia::Bridge => Ok(()),
            // Direct media needs re-INVITEs moving each party's RTP to the other; the SIP
            // layer does not send re-INVITEs yet.
            JoinMedia::Direct => Err(Refusal::option_not_implemented()
                .with_text("media='direct' is not supported; join with media='bridge'")),
        }
    }

    fn finalize_recording(&mut self, component: &ComponentId) -> Option<Recording> {
        let rec = self.recorders.remove(component)?;
        let mut rec = rec.lock().unwrap_or_else(|e| e.into_inner());
        Some(rec.finish())
    }
}
