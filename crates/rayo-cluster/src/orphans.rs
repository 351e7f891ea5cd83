//! Calls whose controlling client went away (an unavailable presence, or its link lost): its
//! application's [`ClientLoss`] policy says whether they are hung up at once, or kept for a
//! grace period in case the client comes back (with the same full JID: the DCP is a full
//! JID) and hung up after it.

use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;

use crate::gateway::{Gateway, Timer};
use crate::pending::{PendingIq, Purpose};
use crate::store::{CallRecord, ClientShow, Store};

/// What happens to a client's calls when it goes away.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClientLoss {
    /// They are hung up at once.
    Hangup,
    /// They go on for this long; if the client is not back by then, they are hung up.
    Keep(Duration),
    /// They pass to another available resource of the same bare JID, which is sent the
    /// call's offer again (from the call, as first offered) to learn of it and controls it
    /// from then on; with no other resource available, or for a dialled call (which has no
    /// offer to send), as [`ClientLoss::Keep`].
    Reoffer(Duration),
}

impl Default for ClientLoss {
    fn default() -> Self {
        ClientLoss::Keep(DEFAULT_ORPHAN_GRACE)
    }
}

/// How long calls outlive their client by default ([`ClientLoss::Keep`]).
pub const DEFAULT_ORPHAN_GRACE: Duration = Duration::from_secs(30);

impl<S: Store> Gateway<S> {
    /// A client is gone: forgotten, and its calls handled by its application's policy.
    pub(crate) fn client_lost(&mut self, now: Instant, client: &Jid) {
        self.client_links.remove(client);
        if let Err(e) = self.store.remove_client(client) {
            tracing::warn!(%e, %client, "client not removed");
        }
        let calls = match self.store.calls_controlled_by(client) {
            Ok(c) => c,
            Err(e) => return tracing::warn!(%e, %client, "calls of a lost client not found"),
        };
        if calls.is_empty() {
            return;
        }
        let policy = self
            .cfg
            .application_of(client)
            .map(|a| a.on_client_lost)
            .unwrap_or(ClientLoss::Hangup);
        for call in calls {
            match policy {
                ClientLoss::Hangup => self.hang_up(now, &call.id, &call.node),
                ClientLoss::Reoffer(grace) if !self.reoffer(&call, client) => {
                    self.keep(now, &call.id, client, grace)
                }
                ClientLoss::Reoffer(_) => {}
                ClientLoss::Keep(grace) => self.keep(now, &call.id, client, grace),
            }
        }
    }

    /// Keeps a lost client's call for `grace`.
    fn keep(&mut self, now: Instant, id: &str, client: &Jid, grace: Duration) {
        // One grace period per call: a client flapping does not pile up timers.
        let timer = Timer::Orphan(id.to_owned(), client.to_string());
        if let Some(before) = self.orphans.insert(id.to_owned(), now + grace) {
            self.timers.remove(&(before, timer.clone()));
        }
        self.timers.insert((now + grace, timer));
    }

    /// Hands a lost client's call to another available resource of its bare JID, offering
    /// it the call; `false` if there is none (or the call changed hands meanwhile).
    fn reoffer(&mut self, call: &CallRecord, lost: &Jid) -> bool {
        let Some(mut offer) = call.offer.as_deref().cloned() else {
            return false; // A dialled call: nothing to offer.
        };
        let others = self.store.clients_of(&lost.to_bare()).unwrap_or_default();
        let Some(next) = others
            .into_iter()
            .find(|c| c.jid != *lost && c.show == ClientShow::Available)
        else {
            return false;
        };
        if !matches!(
            self.store.transfer_call(&call.id, lost, &next.jid),
            Ok(true)
        ) {
            return false;
        }
        let Ok(from) = Jid::new(&format!("{}@{}", call.id, self.cfg.domains.external())) else {
            return true;
        };
        tracing::info!(call = call.id, to = %next.jid, "call handed to another resource");
        crate::envelope::address(&mut offer, &from, &next.jid);
        self.send_to_client(&next.jid, offer);
        true
    }

    /// A lost client's grace period for a call is over: hung up unless it came back.
    pub(crate) fn orphan_expired(&mut self, now: Instant, id: &str, client: &str) {
        self.orphans.remove(id);
        let Ok(Some(call)) = self.store.call(id) else {
            return;
        };
        let Some(controller) = call.controller.filter(|c| c.as_str() == client) else {
            return;
        };
        let back = self
            .store
            .clients_of(&controller.to_bare())
            .is_ok_and(|r| r.iter().any(|c| c.jid == controller));
        if !back {
            tracing::info!(id, client, "controlling client did not come back: hung up");
            self.hang_up(now, id, &call.node);
        }
    }

    /// Hangs a call up at its node, for the gateway's own reasons.
    pub(crate) fn hang_up(&mut self, now: Instant, id: &str, node: &str) {
        let hangup = Element::builder("hangup", rayo_proto::ns::RAYO).build();
        let p = PendingIq::own(Purpose::Own, now);
        let to = format!("{id}@{node}");
        let timeout = self.cfg.iq_timeout;
        if let Err(why) = self.iq_to_node(now, node, &to, "set", hangup, p, timeout) {
            tracing::warn!(%why, id, "hangup not sent");
        }
    }
}
