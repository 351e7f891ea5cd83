//! RFC 3261 §12 dialogs: the identifiers, sequence numbers, target and route set of a call,
//! and the in-dialog requests built from them.

use ezk_sip_types::Method;

use crate::message::{addr_uri, header_param, Message};
use crate::transaction::Peer;
use crate::Error;

/// One dialog (the node is one end of it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dialog {
    /// The Call-ID.
    pub call_id: String,
    /// This side's tag.
    pub local_tag: String,
    /// The peer's tag, once known.
    pub remote_tag: Option<String>,
    /// This side's URI (From of our requests).
    pub local_uri: String,
    /// The peer's URI (To of our requests).
    pub remote_uri: String,
    /// Where in-dialog requests are addressed (the peer's Contact).
    pub remote_target: String,
    /// The route set, in the order requests carry it.
    pub route_set: Vec<String>,
    /// The last CSeq number this side used.
    pub local_cseq: u32,
    /// The last CSeq number the peer used.
    pub remote_cseq: Option<u32>,
    /// Where in-dialog requests are sent.
    pub peer: Peer,
}

impl Dialog {
    /// The dialog of an inbound INVITE, answered with `local_tag`.
    pub fn uas(invite: &Message, local_tag: String, peer: Peer) -> Result<Dialog, Error> {
        let from = invite.header("From").ok_or(Error::Malformed("no From"))?;
        let to = invite.header("To").ok_or(Error::Malformed("no To"))?;
        let target = invite
            .header("Contact")
            .map(|c| addr_uri(c).to_owned())
            .unwrap_or_else(|| addr_uri(from).to_owned());
        Ok(Dialog {
            call_id: invite.call_id()?,
            local_tag,
            remote_tag: invite.from_tag()?,
            local_uri: addr_uri(to).to_owned(),
            remote_uri: addr_uri(from).to_owned(),
            remote_target: target,
            route_set: invite.header_all("Record-Route"),
            local_cseq: 0,
            remote_cseq: Some(invite.cseq()?.0),
            peer,
        })
    }

    /// A new dialog of an outbound call, before any response.
    pub fn uac(
        call_id: String,
        local_tag: String,
        local_uri: String,
        remote_uri: String,
        peer: Peer,
    ) -> Dialog {
        Dialog {
            call_id,
            local_tag,
            remote_tag: None,
            local_uri,
            remote_target: remote_uri.clone(),
            remote_uri,
            route_set: Vec::new(),
            local_cseq: 0,
            remote_cseq: None,
            peer,
        }
    }

    /// Learns the peer's tag, target and route set from a response that makes the dialog.
    pub fn update_from_response(&mut self, resp: &Message) {
        if let Some(to) = resp.header("To") {
            if let Some(tag) = header_param(to, "tag") {
                self.remote_tag = Some(tag.to_owned());
            }
        }
        if let Some(c) = resp.header("Contact") {
            self.remote_target = addr_uri(c).to_owned();
        }
        let mut rr = resp.header_all("Record-Route");
        if !rr.is_empty() {
            rr.reverse();
            self.route_set = rr;
        }
    }

    /// Whether an in-dialog request's CSeq is new (not a retransmission or out of order),
    /// remembering it.
    pub fn accept_remote_cseq(&mut self, n: u32) -> bool {
        match self.remote_cseq {
            Some(last) if n <= last => false,
            _ => {
                self.remote_cseq = Some(n);
                true
            }
        }
    }

    /// A request in the dialog: the next CSeq (the given one for ACK and CANCEL), a new
    /// branch, this side's Via and Contact.
    pub fn request(
        &mut self,
        method: Method,
        cseq: Option<u32>,
        via: &str,
        branch: &str,
        contact: &str,
    ) -> Result<Message, Error> {
        let n = match cseq {
            Some(n) => n,
            None => {
                self.local_cseq += 1;
                self.local_cseq
            }
        };
        let mut m = Message::request(method.clone(), &self.remote_target)?
            .with("Via", &format!("{via};branch={branch}"))
            .with("Max-Forwards", "70")
            .with(
                "From",
                &format!("<{}>;tag={}", self.local_uri, self.local_tag),
            );
        match &self.remote_tag {
            Some(t) => m.push("To", &format!("<{}>;tag={t}", self.remote_uri)),
            None => m.push("To", &format!("<{}>", self.remote_uri)),
        }
        m.push("Call-ID", &self.call_id);
        m.push("CSeq", &format!("{n} {method}"));
        for r in &self.route_set {
            m.push("Route", r);
        }
        if method == Method::INVITE {
            m.push("Contact", &format!("<{contact}>"));
        }
        Ok(m)
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;
    use crate::transaction::Transport;

    #[test]
    fn uas_dialog_and_a_bye() {
        let invite = Message::request(Method::INVITE, "sip:svc@127.0.0.1")
            .expect("uri")
            .with("Via", "SIP/2.0/UDP 127.0.0.1:5061;branch=z9hG4bKa")
            .with("From", "\"Al\" <sip:al@127.0.0.1:5061>;tag=abc")
            .with("To", "<sip:svc@127.0.0.1>")
            .with("Call-ID", "cid")
            .with("CSeq", "5 INVITE")
            .with("Contact", "<sip:al@127.0.0.1:5061;transport=udp>")
            .with("Record-Route", "<sip:proxy;lr>");
        let peer = Peer {
            addr: "127.0.0.1:5061".parse().expect("addr"),
            transport: Transport::Udp,
        };
        let mut d = Dialog::uas(&invite, "mytag".into(), peer).expect("dialog");
        assert_eq!(d.remote_tag.as_deref(), Some("abc"));
        assert!(!d.accept_remote_cseq(5));
        assert!(d.accept_remote_cseq(6));
        let bye = d
            .request(
                Method::BYE,
                None,
                "SIP/2.0/UDP 127.0.0.1:5060",
                "z9hG4bKb",
                "sip:rayo@127.0.0.1",
            )
            .expect("bye");
        assert_eq!(
            bye.request_uri().as_deref(),
            Some("sip:al@127.0.0.1:5061;transport=udp")
        );
        assert_eq!(bye.from_tag().expect("from").as_deref(), Some("mytag"));
        assert_eq!(bye.to_tag().expect("to").as_deref(), Some("abc"));
        assert_eq!(bye.cseq().expect("cseq"), (1, Method::BYE));
        assert_eq!(bye.header("Route"), Some("<sip:proxy;lr>"));
    }
}
