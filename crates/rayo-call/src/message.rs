//! Call-bound instant messages (XEP-0327 §6.8).

use std::time::Instant;

use jid::Jid;
use rayo_proto::error::stanza_error;
use xmpp_parsers::message::{Lang, Message, MessageType};
use xmpp_parsers::stanza_error::{DefinedCondition as C, ErrorType as T};

use crate::call::Target;
use crate::engine::{Engine, Output};
use crate::policy::Policy;
use crate::signal::SignalAction;
use crate::CallId;

impl<P: Policy> Engine<P> {
    /// A message to a call: type `normal` goes to the remote party; other types get
    /// `feature-not-implemented` (modify), an untranslatable one the same with `cancel`.
    pub(crate) fn handle_message(&mut self, _now: Instant, m: Message) {
        let (Some(from), Some(to)) = (m.from.clone(), m.to.clone()) else {
            return;
        };
        if m.type_ == MessageType::Error {
            return;
        }
        let call = match self.resolve(&from, &to) {
            Some(Target::Call(c)) => c,
            _ => return self.message_error(&m, T::Cancel, C::ItemNotFound),
        };
        // §6.8.1: "If a message is directed to the call's JID with a type other than
        // 'normal' then the server MUST return a <feature-not-implemented/> error with a
        // type of 'modify'", whoever sends it.
        if m.type_ != MessageType::Normal {
            return self.message_error(&m, T::Modify, C::FeatureNotImplemented);
        }
        let is_dcp = self
            .calls
            .get(&call)
            .is_some_and(|c| c.dcp.as_ref() == Some(&from));
        if !is_dcp {
            return self.message_error(&m, T::Cancel, C::Conflict);
        }
        let body = m.get_best_body_cloned(vec!["en"]).map(|(_, b)| b);
        match body {
            Some(body) if !body.is_empty() => {
                self.signal(SignalAction::SendMessage { call, body });
            }
            // Nothing the remote party's protocol could carry.
            _ => self.message_error(&m, T::Cancel, C::FeatureNotImplemented),
        }
    }

    /// A message from the remote party, to the call's DCP.
    pub(crate) fn message_to_client(&mut self, call: &CallId, to: &Jid, body: String) {
        let Some(from) = self.calls.get(call).map(|c| c.jid.clone()) else {
            return;
        };
        let mut m = Message::normal(Some(to.clone())).with_body(Lang::new(), body);
        m.from = Some(from.into());
        self.emit(Output::Message(m));
    }

    fn message_error(&mut self, m: &Message, t: T, c: C) {
        let mut e = Message::error(m.from.clone());
        e.from = m.to.clone();
        e.id = m.id.clone();
        e.payloads.push(stanza_error(t, c).into());
        self.emit(Output::Message(e));
    }
}
