//! Decisions the engine leaves to the deployment: who may dial, what the media engine can
//! do, how many resources there are. Every method has a permissive default.

use jid::Jid;
use rayo_proto::command::ComponentStart;
use rayo_proto::generated::rayo::{Dial, JoinDirection, JoinMedia};
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

use crate::media::Party;
use crate::ComponentId;

/// A refusal, as the stanza error the client gets.
#[derive(Debug, Clone, PartialEq)]
pub struct Refusal {
    /// The error type.
    pub type_: ErrorType,
    /// The condition.
    pub condition: DefinedCondition,
    /// A human-readable explanation.
    pub text: Option<String>,
}

impl Refusal {
    /// A refusal without text.
    pub fn new(type_: ErrorType, condition: DefinedCondition) -> Self {
        Refusal {
            type_,
            condition,
            text: None,
        }
    }

    /// Adds an explanation.
    pub fn with_text(mut self, text: impl Into<String>) -> Self {
        self.text = Some(text.into());
        self
    }

    /// `registration-required` (auth): the client is unknown and unknown clients may not
    /// dial (XEP-0327 §6.2.1.1).
    pub fn registration_required() -> Self {
        Self::new(ErrorType::Auth, DefinedCondition::RegistrationRequired)
    }

    /// `not-authorized` (auth): the client may not make this call.
    pub fn not_authorized() -> Self {
        Self::new(ErrorType::Auth, DefinedCondition::NotAuthorized)
    }

    /// `feature-not-implemented` (cancel): not supported at all.
    pub fn not_implemented() -> Self {
        Self::new(ErrorType::Cancel, DefinedCondition::FeatureNotImplemented)
    }

    /// `feature-not-implemented` (modify): this option or value is not supported.
    pub fn option_not_implemented() -> Self {
        Self::new(ErrorType::Modify, DefinedCondition::FeatureNotImplemented)
    }

    /// `resource-constraint` (wait): not enough resources now.
    pub fn resource_constraint() -> Self {
        Self::new(ErrorType::Wait, DefinedCondition::ResourceConstraint)
    }

    /// `bad-request` (modify): the command is malformed.
    pub fn bad_request() -> Self {
        Self::new(ErrorType::Modify, DefinedCondition::BadRequest)
    }
}

/// No id could be drawn (the OS gave no randomness): `internal-server-error` (wait), and
/// nothing was created.
impl From<rayo_proto::random::RandomError> for Refusal {
    fn from(e: rayo_proto::random::RandomError) -> Self {
        Self::new(ErrorType::Wait, DefinedCondition::InternalServerError).with_text(e.to_string())
    }
}

/// How wide a security zone is (XEP-0327 §4.1): at least the DCP's bare JID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ZoneScope {
    /// JIDs with the same bare JID as the DCP (the spec's minimum).
    #[default]
    BareJid,
    /// All JIDs of the DCP's domain.
    Domain,
}

/// Deployment decisions. The engine asks; the answer `Ok(())` lets the command proceed.
pub trait Policy {
    /// May `client` dial this call? Refuse with `registration-required`, `not-authorized`,
    /// `feature-not-implemented`, `resource-constraint` or `bad-request` (§6.2.1.1).
    fn authorize_dial(&mut self, client: &Jid, dial: &Dial) -> Result<(), Refusal> {
        let _ = (client, dial);
        Ok(())
    }

    /// Does this component need work done outside the engine (documents fetched and
    /// rendered) before it can be checked? Then an admitted command comes out as
    /// [`crate::Output::Prepare`] and waits for the driver; otherwise it is checked at once.
    fn needs_preparation(&self, on: &Party, spec: &ComponentStart) -> bool {
        let _ = (on, spec);
        false
    }

    /// Can the media engine run this component on this party? Refuse with
    /// `feature-not-implemented` (cancel: the component; modify: an option),
    /// `resource-constraint` or `bad-request` (§6.5.1).
    fn check_component(&mut self, on: &Party, spec: &ComponentStart) -> Result<(), Refusal> {
        let _ = (on, spec);
        Ok(())
    }

    /// Can these two parties be joined like this? Refuse with `feature-not-implemented`
    /// (modify) for an unsupported direction/media combination, or `resource-constraint`.
    fn check_join(
        &mut self,
        a: &Party,
        b: &Party,
        direction: JoinDirection,
        media: JoinMedia,
    ) -> Result<(), Refusal> {
        let _ = (a, b, direction, media);
        Ok(())
    }

    /// Can a mixer be created now? Refuse with `resource-constraint`.
    fn create_mixer(&mut self, name: &str) -> Result<(), Refusal> {
        let _ = name;
        Ok(())
    }

    /// A record component ends because its call or mixer ended: close its file now and say
    /// what it holds. XEP-0327 §6.5.6: "Record component completion provides recording
    /// metadata in all cases", and a hangup completes components synchronously, before the
    /// end event (§6.6.3). The node answers from its media engine; `None` when it has none.
    fn finalize_recording(
        &mut self,
        component: &ComponentId,
    ) -> Option<rayo_proto::generated::record_complete::Recording> {
        let _ = component;
        None
    }
}

/// The permissive policy: everything is allowed.
#[derive(Debug, Default, Clone, Copy)]
pub struct AllowAll;

impl Policy for AllowAll {}
