//! Requests the gateway sends to nodes (commands it forwards under fresh ids, dials, pings,
//! its own rejects and hangups) and their answers: each answer is taken only from the node
//! the request went to, and goes back to the client under the client's own id, from the
//! address the client sent it to; a request unanswered in time is answered
//! `remote-server-timeout`.

use std::time::{Duration, Instant};

use jid::Jid;
use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

use crate::envelope;
use crate::gateway::{Gateway, Output, Timer};
use crate::link::{LinkId, Refusal, Side};
use crate::pending::{PendingIq, Purpose};
use crate::store::Store;

impl<S: Store> Gateway<S> {
    /// A result or error from a node: it answers something pending, from that node.
    pub(crate) fn node_answer(&mut self, now: Instant, link: LinkId, domain: &str, st: Element) {
        let id = st.attr("id").unwrap_or_default().to_owned();
        let ours = self.pending.get(&id).is_some_and(|p| p.node == domain);
        let Some(p) = ours.then(|| self.pending.take(&id)).flatten() else {
            if self.pending.take_abandoned(&id, domain) {
                return self.late_dial(now, domain, &st);
            }
            return self.push(Output::Dropped {
                link,
                reason: Refusal::Unsolicited,
            });
        };
        self.timers.remove(&(p.deadline, Timer::Iq(id)));
        self.answered(now, domain, p, Some(st));
    }

    /// A node answered a dial after the gateway gave up on it (and retried it elsewhere, or
    /// told the client it failed): the call it placed has nobody to control it, so it is
    /// hung up.
    fn late_dial(&mut self, now: Instant, node: &str, answer: &Element) {
        let call = answer
            .get_child("ref", rayo_proto::ns::RAYO)
            .and_then(|r| r.attr("uri"))
            .and_then(|u| rayo_proto::address::jid_from_uri(u).ok())
            .filter(|j| j.domain().as_str().eq_ignore_ascii_case(node) && j.node().is_some());
        let Some(call) = call else {
            return;
        };
        tracing::info!(node, %call, "a dial answered after its timeout: the call is hung up");
        let hangup = Element::builder("hangup", rayo_proto::ns::RAYO).build();
        let own = PendingIq::own(Purpose::Own, now);
        let timeout = self.cfg.iq_timeout;
        if let Err(why) = self.iq_to_node(now, node, call.as_str(), "set", hangup, own, timeout) {
            tracing::warn!(%why, node, %call, "a late dial's call not hung up");
        }
    }

    /// A pending IQ was answered (`Some`) or timed out / lost its node (`None`).
    pub(crate) fn answered(
        &mut self,
        now: Instant,
        domain: &str,
        p: PendingIq,
        answer: Option<Element>,
    ) {
        match p.purpose.clone() {
            Purpose::Ping => self.ping_answered(now, domain, answer.as_ref()),
            Purpose::Own => {}
            Purpose::Command { entity } => self.command_answered(p, entity, answer),
            Purpose::Dial { request, tried } => self.dial_answered(now, p, request, tried, answer),
        }
    }

    /// Relays a node's answer to a command back to the client that sent it.
    fn command_answered(&mut self, p: PendingIq, entity: Option<String>, answer: Option<Element>) {
        let Some(client) = p.client.clone() else {
            return;
        };
        let reply = match answer {
            Some(mut a) => {
                let uri = a
                    .get_child("ref", rayo_proto::ns::RAYO)
                    .and_then(|r| r.attr("uri"))
                    .map(str::to_owned);
                if let (Some(call), Some(uri)) = (entity.as_deref(), uri) {
                    self.record_component(call, &uri, &client);
                }
                self.outward(&mut a);
                a
            }
            None => self.timeout_error(&p),
        };
        self.reply_to_client(&p, &client, reply);
    }

    /// The client's reply: the answer readdressed with the client's id.
    pub(crate) fn reply_to_client(&mut self, p: &PendingIq, client: &Jid, mut reply: Element) {
        if let Some(from) = &p.reply_from {
            envelope::address(&mut reply, from, client);
        }
        envelope::set_attr(&mut reply, "id", &p.client_id);
        self.send_to_client(client, reply);
    }

    /// `remote-server-timeout` for a request that got no answer.
    pub(crate) fn timeout_error(&self, p: &PendingIq) -> Element {
        let mut e = Element::builder("iq", rayo_proto::ns::JABBER_CLIENT).build();
        envelope::set_attr(&mut e, "type", "error");
        envelope::set_attr(&mut e, "id", &p.client_id);
        let err = envelope::error(ErrorType::Wait, DefinedCondition::RemoteServerTimeout, None);
        e.append_child(Element::from(err));
        e
    }

    fn record_component(&mut self, call: &str, uri: &str, client: &Jid) {
        let Ok(jid) = rayo_proto::address::jid_from_uri(uri) else {
            return;
        };
        if let (Some(parent), Some(res)) = (jid.node(), jid.resource()) {
            if parent.as_str() == call {
                if let Err(e) = self
                    .store
                    .put_component_owner(call, res.as_str(), client.clone())
                {
                    tracing::warn!(%e, "component owner not recorded");
                }
            }
        }
    }

    /// Sends an IQ of this type with this payload to `to` on `node`, and waits for its answer.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn iq_to_node(
        &mut self,
        now: Instant,
        node: &str,
        to: &str,
        type_: &str,
        payload: Element,
        p: PendingIq,
        timeout: Duration,
    ) -> Result<(), Refusal> {
        let mut iq = Element::builder("iq", rayo_proto::ns::JABBER_CLIENT)
            .append(payload)
            .build();
        envelope::set_attr(&mut iq, "type", type_);
        envelope::set_attr(&mut iq, "to", to);
        self.send_to_node(now, node, iq, p, timeout)
    }

    /// Sends a request to a node under a fresh id and waits for its answer.
    pub(crate) fn send_to_node(
        &mut self,
        now: Instant,
        node: &str,
        mut request: Element,
        mut p: PendingIq,
        timeout: Duration,
    ) -> Result<(), Refusal> {
        let link = self
            .registry
            .link(node)
            .ok_or_else(|| Refusal::NoRoute(node.to_owned()))?;
        if self.pending.len() >= self.cfg.max_pending_iqs {
            return Err(Refusal::Limit("pending IQs"));
        }
        let id = self.pending.fresh_id();
        envelope::set_attr(&mut request, "id", &id);
        envelope::set_attr(&mut request, "from", self.cfg.domains.internal().as_str());
        p.node = node.to_owned();
        p.deadline = now + timeout;
        self.timers.insert((p.deadline, Timer::Iq(id.clone())));
        self.pending.insert(id, p);
        self.send(link, Side::Internal, request);
        Ok(())
    }
}
