//! The user agent's outbound side: dialling, cancelling, digest authentication and the
//! responses to the node's own requests.

use super::*;

impl UserAgent {
    pub(super) fn cancel(&mut self, now: Instant, id: &CallId) -> Result<(), Error> {
        let c = self.calls.get_mut(id).ok_or(Error::UnknownCall)?;
        if c.inbound || c.phase != Phase::Early {
            return Err(Error::WrongState);
        }
        c.phase = Phase::Cancelling;
        // RFC 3261 §9.1: the INVITE's Request-URI, Call-ID, From, To, CSeq number and top Via.
        let mut cancel = Message {
            line: c.invite.line.clone(),
            headers: Default::default(),
            ordered: Vec::new(),
            body: Vec::new(),
        };
        if let ezk_sip_types::msg::MessageLine::Request(l) = &mut cancel.line {
            l.method = Method::CANCEL;
        }
        for (k, v) in &c.invite.ordered {
            match k.to_ascii_lowercase().as_str() {
                "via" | "from" | "to" | "call-id" | "route" | "max-forwards" => cancel.push(k, v),
                "cseq" => cancel.push(
                    k,
                    &format!("{} CANCEL", v.split_whitespace().next().unwrap_or("1")),
                ),
                _ => {}
            }
        }
        let peer = c.dialog.peer;
        let key = self.tx.send_request(now, cancel, peer)?;
        self.client.insert(key, (id.clone(), Purpose::Other));
        Ok(())
    }

    pub(super) fn dial(
        &mut self,
        now: Instant,
        id: CallId,
        to: &str,
        from: Option<&str>,
        headers: &[Header],
    ) -> Result<(), Error> {
        let Destination {
            addr: dest,
            credentials,
        } = self
            .cfg
            .destination(to)
            .map_err(|e| Error::InvalidUri(e.to_string()))?;
        let peer = Peer {
            addr: dest,
            transport: self.cfg.transport,
        };
        // A tel: URI goes to the trunk as the equivalent SIP URI (RFC 3261 §19.1.6).
        let sip_to;
        let to = match addr_uri(to).strip_prefix("tel:") {
            Some(number) => {
                let number = number.split(';').next().unwrap_or(number);
                sip_to = format!("sip:{number}@{dest};user=phone");
                sip_to.as_str()
            }
            None => to,
        };
        let local_uri = from
            .map(|f| addr_uri(f).to_owned())
            .unwrap_or_else(|| self.contact());
        let call_id = format!("{}@{}", self.token()?, self.cfg.local.ip());
        let tag = self.token()?;
        let mut dialog = Dialog::uac(
            call_id.clone(),
            tag,
            local_uri,
            addr_uri(to).to_owned(),
            peer,
        );
        let branch = self.branch()?;
        let mut invite =
            dialog.request(Method::INVITE, None, &self.via(), &branch, &self.contact())?;
        add_dial_headers(&mut invite, headers)?;
        // Taken last: held from here by the call inserted below.
        let local_rtp = self.allocate_port().ok_or(Error::NoRtpPort)?;
        invite.set_body("application/sdp", sdp::offer(local_rtp, 1, 1));
        self.remember_dialog(&dialog, &id);
        self.calls.insert(
            id.clone(),
            Call {
                inbound: false,
                phase: Phase::Early,
                dialog,
                invite_tx: None,
                invite: invite.clone(),
                local_rtp,
                negotiated: None,
                media_started: false,
                sdp_version: 1,
                ringing_reported: false,
                auth_tried: false,
                credentials,
                ack: None,
            },
        );
        let key = match self.tx.send_request(now, invite, peer) {
            Ok(k) => k,
            Err(e) => {
                // Nothing was sent: the call and its port are given back.
                self.end(&id, None, Vec::new());
                return Err(e);
            }
        };
        if let Some(c) = self.calls.get_mut(&id) {
            c.invite_tx = Some(key.clone());
        }
        self.client.insert(key, (id, Purpose::Invite));
        Ok(())
    }

    pub(super) fn send_ack(&mut self, id: &CallId, cseq: u32) {
        // No randomness, no ACK (the peer's retransmissions and timers end the call).
        let Ok(branch) = self.branch() else {
            return;
        };
        let via = self.via();
        let contact = self.contact();
        let Some(c) = self.calls.get_mut(id) else {
            return;
        };
        if let Ok(ack) = c
            .dialog
            .request(Method::ACK, Some(cseq), &via, &branch, &contact)
        {
            let peer = c.dialog.peer;
            c.ack = Some(ack.clone());
            self.tx.send_stateless(peer, &ack);
        }
    }

    pub(super) fn on_response(&mut self, now: Instant, key: TxKey, msg: Message) {
        let Some((id, purpose)) = self.client.get(&key).cloned() else {
            return;
        };
        let Some(status) = msg.status() else { return };
        if status >= 200 && !(purpose == Purpose::Invite && (200..300).contains(&status)) {
            self.client.remove(&key);
        }
        match purpose {
            Purpose::Invite => self.on_invite_response(now, &id, status, msg),
            Purpose::Other => {}
        }
    }

    pub(super) fn on_invite_response(
        &mut self,
        now: Instant,
        id: &CallId,
        status: u16,
        msg: Message,
    ) {
        let Some(c) = self.calls.get_mut(id) else {
            return;
        };
        match status {
            100 => {}
            101..=199 => {
                if status == 183 && !msg.body.is_empty() && c.negotiated.is_none() {
                    c.negotiated = sdp::parse(&msg.body).and_then(|a| a.negotiate()).ok();
                }
                let first = !c.ringing_reported;
                c.ringing_reported = true;
                if first {
                    self.signal(
                        id,
                        SignalEvent::Ringing {
                            headers: headers_of(&msg),
                        },
                    );
                }
                self.start_media(id);
            }
            200..=299 => {
                let cancelling = c.phase == Phase::Cancelling;
                let first = c.phase != Phase::Confirmed;
                c.dialog.update_from_response(&msg);
                if !msg.body.is_empty() {
                    if let Ok(n) = sdp::parse(&msg.body).and_then(|a| a.negotiate()) {
                        c.negotiated = Some(n);
                    }
                }
                c.phase = Phase::Confirmed;
                let n = msg.cseq().map(|(n, _)| n).unwrap_or(1);
                self.send_ack(id, n);
                if cancelling {
                    // The answer crossed our CANCEL: end the call we no longer want.
                    if let Ok(bye) = self.in_dialog(id, Method::BYE) {
                        let _ = self.send_client(now, id, bye, Purpose::Other);
                    }
                    self.end(id, None, Vec::new());
                } else if first {
                    self.signal(
                        id,
                        SignalEvent::Answered {
                            headers: headers_of(&msg),
                        },
                    );
                    self.start_media(id);
                }
            }
            401 | 407 if !c.auth_tried && c.credentials.is_some() => {
                c.auth_tried = true;
                let name = if status == 401 {
                    "WWW-Authenticate"
                } else {
                    "Proxy-Authenticate"
                };
                let challenges = msg.header_all(name);
                let (Ok(ch), Some(creds)) = (Challenge::choose(&challenges), c.credentials.clone())
                else {
                    self.end(id, Some(failure_reason(status)), headers_of(&msg));
                    return;
                };
                let (Ok(cnonce), Ok(branch)) = (self.token(), self.branch()) else {
                    // No randomness: no authenticated retry, the call fails as challenged.
                    self.end(id, Some(failure_reason(status)), headers_of(&msg));
                    return;
                };
                let via = self.via();
                let contact = self.contact();
                let Some(c) = self.calls.get_mut(id) else {
                    return;
                };
                let uri = c.dialog.remote_target.clone();
                let Ok(mut invite) =
                    c.dialog
                        .request(Method::INVITE, None, &via, &branch, &contact)
                else {
                    return;
                };
                // The client's headers again, its pre-loaded route set included.
                let dial_may_set = |k: &str| {
                    rayo_proto::header::DIAL_MAY_SET
                        .iter()
                        .any(|n| n.eq_ignore_ascii_case(k))
                };
                for (k, v) in &c.invite.ordered {
                    if !rayo_proto::header::is_reserved(k) || dial_may_set(k) {
                        invite.push(k, v);
                    }
                }
                let header = if status == 401 {
                    "Authorization"
                } else {
                    "Proxy-Authorization"
                };
                invite.push(header, &ch.authorize(&creds, "INVITE", &uri, &cnonce, 1));
                invite.set_body("application/sdp", c.invite.body.clone());
                c.invite = invite.clone();
                let peer = c.dialog.peer;
                if let Ok(key) = self.tx.send_request(now, invite, peer) {
                    if let Some(c) = self.calls.get_mut(id) {
                        c.invite_tx = Some(key.clone());
                    }
                    self.client.insert(key, (id.clone(), Purpose::Invite));
                }
            }
            _ => {
                let cancelled = c.phase == Phase::Cancelling;
                // After our CANCEL the engine has already ended the call.
                let reason = (!cancelled).then(|| failure_reason(status));
                self.end(id, reason, headers_of(&msg));
            }
        }
    }

    pub(super) fn on_stray(&mut self, msg: Message) {
        // A 2xx retransmitted after its transaction: ACK it again.
        if let Some(200..=299) = msg.status() {
            if let Some(id) = self.dialog_of(&msg) {
                if let Some(c) = self.calls.get(&id) {
                    if let Some(ack) = &c.ack {
                        let peer = c.dialog.peer;
                        let ack = ack.clone();
                        self.tx.send_stateless(peer, &ack);
                    }
                }
            }
        }
    }

    pub(super) fn on_tx_timeout(&mut self, now: Instant, key: TxKey) {
        if key.server {
            // No ACK for our 2xx (timer L): the call is not up; end it with a BYE.
            if key.method == "INVITE" {
                let id = self
                    .calls
                    .iter()
                    .find(|(_, c)| c.invite_tx.as_ref() == Some(&key))
                    .map(|(id, _)| id.clone());
                if let Some(id) = id {
                    if self
                        .calls
                        .get(&id)
                        .is_some_and(|c| c.phase == Phase::Confirmed)
                    {
                        if let Ok(bye) = self.in_dialog(&id, Method::BYE) {
                            let _ = self.send_client(now, &id, bye, Purpose::Other);
                        }
                        self.end(
                            &id,
                            Some(EndReason::Error {
                                platform_code: code(408),
                            }),
                            Vec::new(),
                        );
                    }
                }
            }
            return;
        }
        let Some((id, purpose)) = self.client.remove(&key) else {
            return;
        };
        if purpose == Purpose::Invite {
            let cancelled = self
                .calls
                .get(&id)
                .is_some_and(|c| c.phase == Phase::Cancelling);
            let reason = (!cancelled).then_some(EndReason::Timeout {
                platform_code: code(408),
            });
            self.end(&id, reason, Vec::new());
        }
    }
}
