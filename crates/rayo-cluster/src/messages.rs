//! Messages between the gateway's own clients (bots logged in to its c2s listener, each a
//! [`crate::Peer::Session`] link): the gateway is their XMPP server, so a message from one
//! bot to another of the same application is delivered, and XEP-0354 governs how: a
//! message of type `normal` or `chat` to a bare JID goes to the resources the JID's chosen
//! algorithm picks (or the message's own `<cmr algorithm='…'/>` hint), among those whose
//! presence priority is not negative (RFC 6121 §8.5.2.1.1); by default to all of them. A
//! message to a full JID goes to that resource. Messages across applications, or to a JID
//! with no resource present, are refused like any unknown addressee.

use jid::Jid;
use minidom::Element;

use crate::config::Distribution;
use crate::gateway::Gateway;
use crate::link::{Admitted, Refusal};
use crate::store::Store;

/// A message's routing hint (XEP-0354 §5), if it names an algorithm the gateway implements.
fn hint(message: &Element) -> Option<Distribution> {
    message
        .get_child("cmr", rayo_proto::ns::CMR)
        .and_then(|c| c.attr("algorithm"))
        .and_then(Distribution::from_uri)
}

impl<S: Store> Gateway<S> {
    /// Whether `to` names one of the gateway's clients (a resource present, or a bare JID
    /// with one), rather than a call or mixer.
    pub(crate) fn is_client_jid(&self, to: &Jid) -> bool {
        let call = to.node().map(|n| n.as_str().to_owned()).unwrap_or_default();
        if self.store.call(&call).ok().flatten().is_some() {
            return false;
        }
        let present = self.store.clients_of(&to.to_bare()).unwrap_or_default();
        match to.resource() {
            Some(_) => present.iter().any(|r| r.jid == *to) || self.client_links.contains_key(to),
            None => !present.is_empty(),
        }
    }

    /// A message from one client to another.
    pub(crate) fn client_message(&mut self, adm: &Admitted, st: Element) -> Result<(), Refusal> {
        let same_app =
            self.app_of(&adm.from).is_some() && self.app_of(&adm.from) == self.app_of(&adm.to);
        if !same_app {
            return Err(Refusal::UnknownEntity);
        }
        let to = if adm.to.resource().is_some() {
            vec![adm.to.clone()]
        } else {
            let bare = adm.to.to_bare();
            let records = self.store.clients_of(&bare)?;
            let resources: Vec<Jid> = records
                .iter()
                .filter(|r| r.priority >= 0)
                .map(|r| r.jid.clone())
                .collect();
            let routed = matches!(st.attr("type"), None | Some("normal" | "chat"));
            let algorithm = hint(&st)
                .or_else(|| self.store.routing(&bare).ok().flatten())
                .unwrap_or(Distribution::All);
            if !routed || algorithm == Distribution::All || resources.len() < 2 {
                resources
            } else {
                let pool = format!("cmr-msg:{bare}");
                let turn = self.store.next_round_robin(&pool)?;
                self.one_of(algorithm, &bare, resources, turn)
                    .into_iter()
                    .collect()
            }
        };
        if to.is_empty() {
            return Err(Refusal::UnknownEntity);
        }
        for r in to {
            self.send_to_client(&r, st.clone());
        }
        Ok(())
    }
}
