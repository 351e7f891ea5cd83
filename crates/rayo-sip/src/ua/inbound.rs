//! The user agent's inbound side: requests from peers (new calls, re-INVITEs, CANCEL, BYE,
//! MESSAGE, OPTIONS) and the responses to inbound INVITEs.

use super::*;

impl UserAgent {
    pub(super) fn on_request(&mut self, now: Instant, key: TxKey, msg: Message, peer: Peer) {
        let Some(method) = msg.method().cloned() else {
            return;
        };
        let call = self.dialog_of(&msg);
        if method == Method::ACK {
            if let Some(id) = call {
                self.on_ack(&id, &msg);
            }
            return;
        }
        let Some(tag) = self.token_or_500(now, &key, &msg) else {
            return;
        };
        if method == Method::OPTIONS {
            let mut r = response_to(&msg, 200, Some(&tag));
            r.push("Allow", "INVITE, ACK, CANCEL, BYE, OPTIONS, MESSAGE");
            r.push("Accept", "application/sdp, text/plain");
            let _ = self.tx.send_response(now, &key, r);
            return;
        }
        if method == Method::CANCEL {
            // RFC 3261 §9.2: a CANCEL matches the INVITE's server transaction (same branch
            // and sent-by), not a dialog.
            let invite_key = TxKey {
                method: "INVITE".into(),
                ..key.clone()
            };
            let Some(id) = self.inbound_invites.get(&invite_key).cloned() else {
                self.respond(now, &key, &msg, 481, Some(&tag));
                return;
            };
            self.respond(now, &key, &msg, 200, Some(&tag));
            let Some(c) = self.calls.get(&id) else { return };
            if c.inbound && c.phase == Phase::Early {
                if let Some(itx) = c.invite_tx.clone() {
                    let ltag = c.dialog.local_tag.clone();
                    let inv = c.invite.clone();
                    self.respond(now, &itx, &inv, 487, Some(&ltag));
                }
                self.end(
                    &id,
                    Some(EndReason::Hungup {
                        platform_code: code(487),
                    }),
                    headers_of(&msg),
                );
            }
            return;
        }
        if method == Method::INVITE {
            let in_dialog = matches!(msg.to_tag(), Ok(Some(_)));
            match call {
                Some(id) => self.on_reinvite(now, &id, key, msg),
                // RFC 3261 §12.2.2: a To tag naming no dialog of ours.
                None if in_dialog => self.respond(now, &key, &msg, 481, None),
                // No To tag: a new call, even when the node dialled itself (the looped
                // INVITE shares the Call-ID and From tag of the outbound call but is
                // another dialog, so it is offered like any inbound call).
                None => self.on_invite(now, key, msg, peer),
            }
            return;
        }
        let Some(id) = call else {
            self.respond(
                now,
                &key,
                &msg,
                if method == Method::BYE || method == Method::MESSAGE {
                    481
                } else {
                    501
                },
                Some(&tag),
            );
            return;
        };
        let ltag = self.calls.get(&id).map(|c| c.dialog.local_tag.clone());
        if let (Some(c), Ok((n, _))) = (self.calls.get_mut(&id), msg.cseq()) {
            c.dialog.accept_remote_cseq(n);
        }
        if method == Method::BYE {
            self.respond(now, &key, &msg, 200, ltag.as_deref());
            self.end(
                &id,
                Some(EndReason::Hungup {
                    platform_code: code(200),
                }),
                headers_of(&msg),
            );
        } else if method == Method::MESSAGE {
            self.respond(now, &key, &msg, 200, ltag.as_deref());
            let body = String::from_utf8_lossy(&msg.body).into_owned();
            self.signal(&id, SignalEvent::Message { body });
        } else {
            self.respond(now, &key, &msg, 501, ltag.as_deref());
        }
    }

    /// A fresh token (a To tag, a call id) for handling `msg`; without randomness, `msg` is
    /// answered 500 (no tag, no dialog, no call) and there is none.
    fn token_or_500(&mut self, now: Instant, key: &TxKey, msg: &Message) -> Option<String> {
        match self.token() {
            Ok(t) => Some(t),
            Err(_) => {
                self.respond(now, key, msg, 500, None);
                None
            }
        }
    }

    pub(super) fn on_invite(&mut self, now: Instant, key: TxKey, msg: Message, peer: Peer) {
        let Some(tag) = self.token_or_500(now, &key, &msg) else {
            return;
        };
        let Some(id) = self.token_or_500(now, &key, &msg).map(CallId) else {
            return;
        };
        let negotiated = if msg.body.is_empty() {
            None
        } else {
            match sdp::parse(&msg.body).and_then(|a| a.negotiate()) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.respond(now, &key, &msg, 488, Some(&tag));
                    return;
                }
            }
        };
        let dialog = match Dialog::uas(&msg, tag.clone(), peer) {
            Ok(d) => d,
            Err(_) => {
                self.respond(now, &key, &msg, 400, Some(&tag));
                return;
            }
        };
        let to = msg.uri_of("To").unwrap_or_default();
        let from = msg.uri_of("From").ok();
        let headers = headers_of(&msg);
        let Some(local_rtp) = self.allocate_port() else {
            // Every RTP port is held by a live call: no call, the caller may retry later.
            tracing::warn!("inbound call refused: no RTP port free");
            self.respond(now, &key, &msg, 503, Some(&tag));
            return;
        };
        self.remember_dialog(&dialog, &id);
        self.inbound_invites.insert(key.clone(), id.clone());
        self.calls.insert(
            id.clone(),
            Call {
                inbound: true,
                phase: Phase::Early,
                dialog,
                invite_tx: Some(key),
                invite: msg,
                local_rtp,
                negotiated,
                media_started: false,
                sdp_version: 1,
                ringing_reported: false,
                auth_tried: false,
                credentials: None,
                ack: None,
            },
        );
        self.signal(
            &id,
            SignalEvent::Incoming {
                to,
                from,
                headers,
                early_media: true,
            },
        );
    }

    pub(super) fn on_reinvite(&mut self, now: Instant, id: &CallId, key: TxKey, msg: Message) {
        let Some(c) = self.calls.get_mut(id) else {
            return;
        };
        if let Ok((n, _)) = msg.cseq() {
            c.dialog.accept_remote_cseq(n);
        }
        let ltag = c.dialog.local_tag.clone();
        let negotiated = if msg.body.is_empty() {
            c.negotiated
        } else {
            match sdp::parse(&msg.body).and_then(|a| a.negotiate()) {
                Ok(n) => Some(n),
                Err(_) => {
                    self.respond(now, &key, &msg, 488, Some(&ltag));
                    return;
                }
            }
        };
        c.sdp_version += 1;
        let local = c.local_rtp;
        let version = c.sdp_version;
        let moved = match (c.negotiated, negotiated) {
            (Some(a), Some(b)) => a.remote != b.remote,
            _ => false,
        };
        c.negotiated = negotiated;
        let mut r = response_to(&msg, 200, Some(&ltag));
        r.push("Contact", &format!("<{}>", self.contact()));
        let body = match &negotiated {
            Some(n) if !msg.body.is_empty() => sdp::answer(local, n, 1, version),
            _ => sdp::offer(local, 1, version),
        };
        r.set_body("application/sdp", body);
        let _ = self.tx.send_response(now, &key, r);
        if let (true, Some(n)) = (moved, negotiated) {
            self.out.push_back(Output::MediaUpdate {
                call: id.clone(),
                remote: n.remote,
            });
        }
    }

    pub(super) fn on_ack(&mut self, id: &CallId, msg: &Message) {
        // A late offer's answer comes in the ACK.
        let Some(c) = self.calls.get_mut(id) else {
            return;
        };
        if c.negotiated.is_none() && !msg.body.is_empty() {
            if let Ok(n) = sdp::parse(&msg.body).and_then(|a| a.negotiate()) {
                c.negotiated = Some(n);
                self.start_media(id);
            }
        }
    }

    pub(super) fn inbound_response(
        &mut self,
        now: Instant,
        id: &CallId,
        status: u16,
        headers: &[Header],
        with_sdp: bool,
        contact: Option<&str>,
    ) -> Result<(), Error> {
        let c = self.calls.get(id).ok_or(Error::UnknownCall)?;
        if !c.inbound || c.phase != Phase::Early {
            return Err(Error::WrongState);
        }
        let key = c.invite_tx.clone().ok_or(Error::WrongState)?;
        let mut r = response_to(&c.invite, status, Some(&c.dialog.local_tag));
        if (100..300).contains(&status) && status != 100 {
            r.push("Contact", &format!("<{}>", self.contact()));
        }
        if let Some(target) = contact {
            r.push("Contact", &format!("<{target}>"));
        }
        add_headers(&mut r, headers)?;
        if with_sdp {
            let body = match &c.negotiated {
                Some(n) => sdp::answer(c.local_rtp, n, 1, c.sdp_version),
                None => sdp::offer(c.local_rtp, 1, c.sdp_version),
            };
            r.set_body("application/sdp", body);
        }
        self.tx.send_response(now, &key, r)?;
        if with_sdp {
            self.start_media(id);
        }
        if status >= 200 {
            if let Some(c) = self.calls.get_mut(id) {
                c.phase = Phase::Confirmed;
            }
        }
        if status >= 300 {
            self.end(id, None, Vec::new());
        }
        Ok(())
    }
}
