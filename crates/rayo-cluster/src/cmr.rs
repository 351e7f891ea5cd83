//! Customizable message routing (XEP-0354) per bare JID: a client asks which algorithm is
//! active for its bare JID and which are available (`<query xmlns='urn:xmpp:cmr:0'/>`, get),
//! and chooses one (`<cmr algorithm='…'/>`, set) for all its resources.
//!
//! The gateway applies the choice to how **offers** are spread over the JID's available
//! resources: `urn:xmpp:cmr:all` offers each call to all of them (the first accept wins),
//! `urn:xmpp:cmr:roundrobin` to the next one in turn. This is the project's own policy:
//! XEP-0354 speaks only of messages of type normal and chat. Before a choice, the
//! application's [`crate::Distribution`] is active.

use jid::Jid;
use minidom::Element;
use xmpp_parsers::stanza_error::{DefinedCondition, ErrorType};

use crate::config::Distribution;
use crate::envelope;
use crate::gateway::Gateway;
use crate::link::{LinkId, Refusal, Side};
use crate::store::Store;

const NS: &str = rayo_proto::ns::CMR;

/// Whether an IQ payload is XEP-0354's.
pub(crate) fn is_cmr(payload: &Element) -> bool {
    payload.is("query", NS) || payload.is("cmr", NS)
}

impl<S: Store> Gateway<S> {
    /// The routing algorithm active for a client's bare JID.
    pub fn routing_of(&self, client: &Jid) -> Distribution {
        let chosen = self.store.routing(&client.to_bare()).ok().flatten();
        chosen.unwrap_or_else(|| {
            self.cfg
                .application_of(client)
                .map_or(Distribution::All, |a| a.distribution)
        })
    }

    /// A XEP-0354 request from `client`.
    pub(crate) fn cmr_request(&mut self, link: LinkId, client: &Jid, st: &Element) {
        let Some(payload) = envelope::payload(st) else {
            return;
        };
        let reply = match (st.attr("type"), payload.name()) {
            (Some("get"), "query") => {
                let mut query = Element::builder("query", NS).build();
                query.append_child(algorithm("active", self.routing_of(client)));
                for d in Distribution::ALL {
                    query.append_child(algorithm("available", d));
                }
                envelope::result_reply(st, None, Some(query))
            }
            (Some("set"), "cmr") => {
                let chosen = payload.attr("algorithm").and_then(Distribution::from_uri);
                let Some(algorithm) = chosen else {
                    let err =
                        envelope::error(ErrorType::Cancel, DefinedCondition::NotAllowed, None);
                    return self.reply_error(link, Side::External, st, None, err);
                };
                if let Err(e) = self.store.set_routing(&client.to_bare(), algorithm) {
                    return self.refuse(link, Side::External, st, Refusal::Store(e));
                }
                envelope::result_reply(st, None, None)
            }
            _ => {
                let err = envelope::error(ErrorType::Modify, DefinedCondition::BadRequest, None);
                return self.reply_error(link, Side::External, st, None, err);
            }
        };
        if let Some(r) = reply {
            self.send(link, Side::External, r);
        }
    }
}

fn algorithm(element: &str, d: Distribution) -> Element {
    let mut e = Element::builder(element, NS).build();
    envelope::set_attr(&mut e, "algorithm", d.uri());
    e
}
