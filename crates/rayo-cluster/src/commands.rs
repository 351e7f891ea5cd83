//! What clients send (XEP-0349 §4.1, §4.4): their availability, requests to the service,
//! and commands to calls, mixers and components, which go to the node holding the entity
//! under a fresh IQ id, `from` the internal domain, their URIs rewritten.
//!
//! A call takes commands only from its controlling party, or from a client it was offered
//! to: the first `accept`, `answer`, `redirect` or `reject` of one claims the call
//! atomically in the [`Store`]; every other client gets `conflict`, as a node answers one
//! that is not its DCP. An unknown entity gets `item-not-found`.

use std::time::Instant;

use jid::Jid;
use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

use crate::envelope::{self, Kind};
use crate::gateway::{Gateway, Output};
use crate::link::{Admitted, LinkId, Refusal, Side};
use crate::pending::{PendingIq, Purpose};
use crate::rewrite;
use crate::store::{CallRecord, Claim, ClientRecord, ClientShow, MixerRecord, Store};

impl<S: Store> Gateway<S> {
    /// A stanza from a client, admitted.
    pub(crate) fn client_stanza(&mut self, now: Instant, link: LinkId, adm: Admitted, st: Element) {
        let to_entity = adm.to.node().is_some();
        match (envelope::kind(&st), to_entity) {
            (Some(Kind::Presence), false) => self.client_presence(now, link, &adm.from, &st),
            (Some(Kind::Iq), _) if !envelope::is_request(&st) => self.push(Output::Dropped {
                link,
                reason: Refusal::Unsolicited,
            }),
            (Some(Kind::Iq), false) if adm.to.resource().is_none() => {
                self.service_request(now, link, &adm, st)
            }
            (Some(Kind::Message), true) if self.is_client_jid(&adm.to) => {
                if let Err(why) = self.client_message(&adm, st.clone()) {
                    self.refuse(link, Side::External, &st, why);
                }
            }
            (Some(Kind::Iq | Kind::Message), true) => {
                if let Err(why) = self.entity_command(now, &adm, st.clone()) {
                    self.refuse(link, Side::External, &st, why);
                }
            }
            _ => self.refuse(link, Side::External, &st, Refusal::UnknownEntity),
        }
    }

    /// A client's directed presence to the external domain: its availability for offers.
    fn client_presence(&mut self, now: Instant, link: LinkId, from: &Jid, p: &Element) {
        let show = p
            .get_child("show", minidom::NSChoice::Any)
            .map(|s| s.text());
        let result = match p.attr("type") {
            Some("unavailable") => {
                self.client_lost(now, from);
                Ok(())
            }
            None => self.store.put_client(ClientRecord {
                jid: from.clone(),
                show: match show.as_deref().map(str::trim) {
                    None | Some("chat") => ClientShow::Available,
                    Some(_) => ClientShow::Busy,
                },
                priority: p
                    .get_child("priority", minidom::NSChoice::Any)
                    .and_then(|e| e.text().trim().parse().ok())
                    .unwrap_or(0),
            }),
            Some(_) => {
                return self.push(Output::Dropped {
                    link,
                    reason: Refusal::Unhandled,
                })
            }
        };
        if let Err(e) = result {
            self.push(Output::Dropped {
                link,
                reason: Refusal::Store(e),
            });
        }
    }

    /// An IQ request to the external domain itself.
    fn service_request(&mut self, now: Instant, link: LinkId, adm: &Admitted, st: Element) {
        let payload = envelope::payload(&st);
        if payload.is_some_and(|p| p.is("dial", rayo_proto::ns::RAYO)) {
            return self.dial(now, link, adm, st);
        }
        if payload.is_some_and(crate::cmr::is_cmr) {
            return self.cmr_request(link, &adm.from, &st);
        }
        if payload.is_some_and(|p| p.ns() == rayo_proto::ns::RAYO) {
            let err = envelope::error(
                ErrorType::Cancel,
                DefinedCondition::FeatureNotImplemented,
                None,
            );
            return self.reply_error(link, Side::External, &st, None, err);
        }
        self.gateway_request(link, Side::External, &st);
    }

    /// Whether `client` may command the call: its DCP, or a PCP; a PCP's `accept`, `answer`,
    /// `redirect` or `reject` claims it (XEP-0327 §6.2.2: the first of those makes the DCP).
    fn authorize_call(
        &mut self,
        call: CallRecord,
        client: &Jid,
        st: &Element,
    ) -> Result<String, Refusal> {
        let id = call.id.as_str();
        match &call.controller {
            Some(c) if c == client => return Ok(call.node),
            Some(_) => return Err(Refusal::NotController),
            None => {}
        }
        let claims = envelope::payload(st).is_some_and(|p| {
            p.ns() == rayo_proto::ns::RAYO
                && matches!(p.name(), "accept" | "answer" | "redirect" | "reject")
        });
        if !claims {
            return if call.is_offered_to(client) {
                Ok(call.node)
            } else {
                Err(Refusal::NotController)
            };
        }
        match self.store.claim_call(id, client)? {
            Claim::Won => Ok(call.node),
            Claim::Lost(_) | Claim::NotOffered => Err(Refusal::NotController),
            Claim::NoCall => Err(Refusal::UnknownEntity),
        }
    }

    /// The node a call or mixer id is on.
    pub(crate) fn locate(&self, id: &str) -> Option<String> {
        if let Ok(Some(c)) = self.store.call(id) {
            return Some(c.node);
        }
        self.store.mixer(id).ok().flatten().map(|m| m.node)
    }

    /// Rewrites a client's payload for `node`; a call or mixer on another node is refused.
    pub(crate) fn inward(&self, st: &mut Element, node: &Jid) -> Result<(), Refusal> {
        let ext = self.cfg.domains.external().clone();
        rewrite::payload_to_node(st, &ext, node, &|id| self.locate(id))
            .map_err(|e| Refusal::CrossNode(e.call))
    }

    /// A command (IQ request) or message to a call, mixer or component.
    fn entity_command(
        &mut self,
        now: Instant,
        adm: &Admitted,
        mut st: Element,
    ) -> Result<(), Refusal> {
        let id = adm
            .to
            .node()
            .map(|n| n.as_str().to_owned())
            .unwrap_or_default();
        let (internal_id, node) = match self.store.call(&id)? {
            Some(call) => (id.clone(), self.authorize_call(call, &adm.from, &st)?),
            None => {
                let app = self.app_of(&adm.from).ok_or(Refusal::UnknownEntity)?;
                let scoped = crate::tenancy::scoped(&app, &id);
                let mixer = self.store.mixer(&scoped)?.ok_or(Refusal::UnknownEntity)?;
                if !mixer.clients.contains(&adm.from) {
                    return Err(Refusal::UnknownEntity);
                }
                (scoped, mixer.node)
            }
        };
        let node_jid = Jid::new(&node).map_err(|_| Refusal::NoRoute(node.clone()))?;
        self.tenant_payload(&mut st, &adm.from)?;
        self.inward(&mut st, &node_jid)?;
        self.note_mixer_join(&st, &node, &adm.from)?;
        let mut to = format!("{internal_id}@{node}");
        if let Some(r) = adm.to.resource() {
            to.push('/');
            to.push_str(r.as_str());
        }
        envelope::set_attr(&mut st, "to", &to);
        if envelope::kind(&st) == Some(Kind::Message) {
            let link = self.registry.link(&node).ok_or(Refusal::NoRoute(node))?;
            envelope::set_attr(&mut st, "from", self.cfg.domains.internal().as_str());
            self.send(link, Side::Internal, st);
            return Ok(());
        }
        let p = PendingIq::for_client(
            adm.from.clone(),
            st.attr("id").unwrap_or_default(),
            adm.to.clone(),
            Purpose::Command {
                entity: Some(internal_id),
            },
            now,
        );
        let timeout = self.cfg.iq_timeout;
        self.send_to_node(now, &node, st, p, timeout)
    }

    /// A join into a mixer by name: the mixer is (or will be) on the call's node, and the
    /// client gets its events.
    pub(crate) fn note_mixer_join(
        &mut self,
        st: &Element,
        node: &str,
        client: &Jid,
    ) -> Result<(), Refusal> {
        let joins = st.children().flat_map(|p| {
            std::iter::once(p)
                .chain(p.children())
                .filter(|e| e.is("join", rayo_proto::ns::RAYO))
        });
        let names: Vec<String> = joins
            .filter_map(|j| j.attr("mixer-name").map(str::to_owned))
            .collect();
        for name in names {
            let mut mixer = self.store.mixer(&name)?.unwrap_or_else(|| MixerRecord {
                name: name.clone(),
                node: node.to_owned(),
                clients: Default::default(),
            });
            if mixer.node != node {
                return Err(Refusal::CrossNode(name));
            }
            mixer.clients.insert(client.clone());
            self.store.put_mixer(mixer)?;
        }
        Ok(())
    }
}
