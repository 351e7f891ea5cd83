//! Events from nodes to clients (XEP-0349 §4.1): a presence or message from a call, mixer or
//! component on a node goes to the client(s) it concerns, from the same entity under the
//! external domain, its payload rewritten; an unavailable presence ends the entity's state.
//!
//! Who gets it: a call's events go to its controlling party (DCP), or to the clients it is
//! offered to while it has none; a component's to the client that started it (else the
//! call's DCP); a mixer's to the clients whose calls joined it.

use std::time::Instant;

use jid::Jid;
use minidom::Element;

use crate::envelope::{self, Kind};
use crate::gateway::{Gateway, Output};
use crate::link::{Admitted, LinkId, Refusal};
use crate::rewrite;
use crate::store::Store;

enum Entity {
    Call,
    Mixer,
}

impl<S: Store> Gateway<S> {
    /// A presence or message from `id@node[/resource]`.
    pub(crate) fn node_event(
        &mut self,
        now: Instant,
        link: LinkId,
        node: &str,
        adm: &Admitted,
        st: Element,
    ) {
        let Some(id) = adm.from.node().map(|n| n.as_str().to_owned()) else {
            return;
        };
        let resource = adm.from.resource().map(|r| r.as_str().to_owned());
        let is_presence = envelope::kind(&st) == Some(Kind::Presence);
        if is_presence && resource.is_none() && st.has_child("offer", rayo_proto::ns::RAYO) {
            return self.offer(now, node, &adm.from, st);
        }
        let (entity, targets) = match self.event_targets(node, &id, resource.as_deref()) {
            Ok(t) => t,
            Err(reason) => return self.push(Output::Dropped { link, reason }),
        };
        let from = rewrite::with_domain(&adm.from, self.cfg.domains.external());
        let from = crate::tenancy::unscope_jid(&from, &self.cfg.applications);
        let ended = is_presence && st.attr("type") == Some("unavailable");
        let mut st = st;
        self.outward(&mut st);
        // A copy for every target but the last, which takes the stanza itself.
        if let Some((last, others)) = targets.split_last() {
            for to in others {
                let mut s = st.clone();
                envelope::address(&mut s, &from, to);
                self.send_to_client(to, s);
            }
            envelope::address(&mut st, &from, last);
            self.send_to_client(last, st);
        }
        if !ended {
            return;
        }
        let removed = match (resource, entity) {
            (Some(r), _) => self.store.remove_component(&id, &r),
            (None, Entity::Call) => self.store.remove_call(&id).map(drop),
            (None, Entity::Mixer) => self.store.remove_mixer(&id).map(drop),
        };
        if let Err(e) = removed {
            tracing::warn!(%e, id, "ended entity not removed");
        }
    }

    fn event_targets(
        &self,
        node: &str,
        id: &str,
        resource: Option<&str>,
    ) -> Result<(Entity, Vec<Jid>), Refusal> {
        let owner = match resource {
            Some(r) => self.store.component_owner(id, r)?,
            None => None,
        };
        if let Some(call) = self.store.call(id)?.filter(|c| c.node == node) {
            let targets = match (owner, call.controller) {
                (Some(o), _) | (None, Some(o)) => vec![o],
                (None, None) => call.offered,
            };
            return Ok((Entity::Call, targets));
        }
        if let Some(mixer) = self.store.mixer(id)?.filter(|m| m.node == node) {
            let targets = match owner {
                Some(o) => vec![o],
                None => mixer.clients.into_iter().collect(),
            };
            return Ok((Entity::Mixer, targets));
        }
        Err(Refusal::UnknownEntity)
    }
}
