//! SDP offer/answer (RFC 3264) for one audio stream: PCMU, PCMA and telephone-event.

use std::net::{IpAddr, SocketAddr};

use rayo_media::g711::Law;

use crate::Error;

/// The payload type this side offers for telephone-event.
pub const TELEPHONE_EVENT_PT: u8 = 101;

/// Media direction (RFC 3264 §5.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Both ways.
    SendRecv,
    /// The describing side only sends.
    SendOnly,
    /// The describing side only receives.
    RecvOnly,
    /// Neither.
    Inactive,
}

impl Direction {
    fn attr(self) -> &'static str {
        match self {
            Direction::SendRecv => "sendrecv",
            Direction::SendOnly => "sendonly",
            Direction::RecvOnly => "recvonly",
            Direction::Inactive => "inactive",
        }
    }

    /// The direction an answer takes for an offer in this direction.
    pub fn answer(self) -> Direction {
        match self {
            Direction::SendOnly => Direction::RecvOnly,
            Direction::RecvOnly => Direction::SendOnly,
            d => d,
        }
    }
}

/// The audio stream of a session description, as parsed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Audio {
    /// Where the peer receives RTP.
    pub addr: IpAddr,
    /// Its port (0: stream refused).
    pub port: u16,
    /// Payload types in preference order.
    pub formats: Vec<u8>,
    /// `a=rtpmap` entries: payload type, encoding name (upper case), clock rate.
    pub rtpmap: Vec<(u8, String, u32)>,
    /// The direction.
    pub direction: Direction,
}

/// What both sides agreed on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Negotiated {
    /// Where to send RTP.
    pub remote: SocketAddr,
    /// The audio codec and its payload type.
    pub audio: (u8, Law),
    /// The telephone-event payload type, if both support it.
    pub telephone_event: Option<u8>,
    /// The direction from this side's point of view.
    pub direction: Direction,
}

/// Parses the first audio stream of an SDP body.
pub fn parse(body: &[u8]) -> Result<Audio, Error> {
    let text = std::str::from_utf8(body).map_err(|_| Error::Sdp("not UTF-8"))?;
    let mut session_addr: Option<IpAddr> = None;
    let mut audio: Option<Audio> = None;
    let mut in_audio = false;
    let mut session_dir = Direction::SendRecv;
    for line in text.lines() {
        let line = line.trim_end_matches('\r');
        let Some((k, v)) = line.split_once('=') else {
            continue;
        };
        match k {
            "m" => {
                if audio.is_some() {
                    in_audio = false;
                    continue;
                }
                let mut parts = v.split_whitespace();
                let kind = parts.next().unwrap_or("");
                let port = parts.next().unwrap_or("");
                let proto = parts.next().unwrap_or("");
                in_audio = kind == "audio" && proto == "RTP/AVP";
                if in_audio {
                    let port = port
                        .split('/')
                        .next()
                        .unwrap_or("")
                        .parse::<u16>()
                        .map_err(|_| Error::Sdp("bad port"))?;
                    let formats = parts
                        .filter_map(|f| f.parse::<u8>().ok())
                        .filter(|f| *f < 128)
                        .collect();
                    audio = Some(Audio {
                        addr: session_addr.unwrap_or(IpAddr::from([0, 0, 0, 0])),
                        port,
                        formats,
                        rtpmap: Vec::new(),
                        direction: session_dir,
                    });
                }
            }
            "c" => {
                let addr = v
                    .split_whitespace()
                    .nth(2)
                    .and_then(|a| a.split('/').next())
                    .and_then(|a| a.parse::<IpAddr>().ok())
                    .ok_or(Error::Sdp("bad connection address"))?;
                match (&mut audio, in_audio) {
                    (Some(a), true) => a.addr = addr,
                    (None, _) => session_addr = Some(addr),
                    _ => {}
                }
            }
            "a" => {
                let dir = match v {
                    "sendrecv" => Some(Direction::SendRecv),
                    "sendonly" => Some(Direction::SendOnly),
                    "recvonly" => Some(Direction::RecvOnly),
                    "inactive" => Some(Direction::Inactive),
                    _ => None,
                };
                match (&mut audio, in_audio, dir) {
                    (None, _, Some(d)) => session_dir = d,
                    (Some(a), true, Some(d)) => a.direction = d,
                    (Some(a), true, None) => {
                        if let Some(map) = v.strip_prefix("rtpmap:") {
                            let (pt, rest) = map.split_once(' ').ok_or(Error::Sdp("bad rtpmap"))?;
                            let pt = pt
                                .trim()
                                .parse::<u8>()
                                .map_err(|_| Error::Sdp("bad rtpmap"))?;
                            let mut enc = rest.trim().split('/');
                            let name = enc.next().unwrap_or("").to_ascii_uppercase();
                            let rate = enc.next().and_then(|r| r.parse().ok()).unwrap_or(0);
                            a.rtpmap.push((pt, name, rate));
                        }
                    }
                    _ => {}
                }
            }
            _ => {}
        }
    }
    audio.ok_or(Error::Sdp("no RTP/AVP audio stream"))
}

impl Audio {
    fn encoding(&self, pt: u8) -> Option<(String, u32)> {
        if let Some((_, n, r)) = self.rtpmap.iter().find(|(p, _, _)| *p == pt) {
            return Some((n.clone(), *r));
        }
        match pt {
            0 => Some(("PCMU".into(), 8000)),
            8 => Some(("PCMA".into(), 8000)),
            _ => None,
        }
    }

    /// Chooses what to answer: the first of the offer's G.711 formats, telephone-event if
    /// offered. Nothing usable is [`Error::NotAcceptable`] (SIP 488).
    pub fn negotiate(&self) -> Result<Negotiated, Error> {
        if self.port == 0 {
            return Err(Error::NotAcceptable);
        }
        let mut audio = None;
        let mut te = None;
        for &pt in &self.formats {
            match self.encoding(pt) {
                Some((n, 8000)) if n == "PCMU" && audio.is_none() => audio = Some((pt, Law::Ulaw)),
                Some((n, 8000)) if n == "PCMA" && audio.is_none() => audio = Some((pt, Law::Alaw)),
                Some((n, 8000)) if n == "TELEPHONE-EVENT" && te.is_none() => te = Some(pt),
                _ => {}
            }
        }
        let audio = audio.ok_or(Error::NotAcceptable)?;
        Ok(Negotiated {
            remote: SocketAddr::new(self.addr, self.port),
            audio,
            telephone_event: te,
            direction: self.direction.answer(),
        })
    }
}

fn header(local: IpAddr, session: u64, version: u64) -> String {
    let ip = if local.is_ipv4() { "IP4" } else { "IP6" };
    format!("v=0\r\no=rayo {session} {version} IN {ip} {local}\r\ns=rayo\r\nc=IN {ip} {local}\r\nt=0 0\r\n")
}

/// An offer of PCMU, PCMA and telephone-event on `local`.
pub fn offer(local: SocketAddr, session: u64, version: u64) -> Vec<u8> {
    let mut s = header(local.ip(), session, version);
    s.push_str(&format!(
        "m=audio {} RTP/AVP 0 8 {te}\r\na=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
        local.port(),
        te = TELEPHONE_EVENT_PT
    ));
    s.into_bytes()
}

/// The answer to an offer that negotiated to `n`, receiving on `local`.
pub fn answer(local: SocketAddr, n: &Negotiated, session: u64, version: u64) -> Vec<u8> {
    let mut s = header(local.ip(), session, version);
    let (pt, law) = n.audio;
    let name = match law {
        Law::Ulaw => "PCMU",
        Law::Alaw => "PCMA",
    };
    match n.telephone_event {
        Some(te) => s.push_str(&format!(
            "m=audio {} RTP/AVP {pt} {te}\r\na=rtpmap:{pt} {name}/8000\r\na=rtpmap:{te} telephone-event/8000\r\na=fmtp:{te} 0-16\r\n",
            local.port()
        )),
        None => s.push_str(&format!("m=audio {} RTP/AVP {pt}\r\na=rtpmap:{pt} {name}/8000\r\n", local.port())),
    }
    s.push_str(&format!("a=ptime:20\r\na={}\r\n", n.direction.attr()));
    s.into_bytes()
}

/// Fuzzing entry point: parses `data` as an SDP offer, negotiates and answers it; an answer
/// must parse back. Never panics otherwise.
pub fn fuzz_bytes(data: &[u8]) {
    if let Ok(n) = parse(data).and_then(|a| a.negotiate()) {
        let local = SocketAddr::new(n.remote.ip(), 20000);
        let ans = answer(local, &n, 1, 1);
        assert!(parse(&ans).is_ok(), "our answer parses");
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    const SIPP: &str = "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 8 0 101\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-11,16\r\n";

    #[test]
    fn answers_sipps_offer() {
        let a = parse(SIPP.as_bytes()).expect("valid");
        let n = a.negotiate().expect("usable");
        assert_eq!(n.remote, "127.0.0.1:6000".parse().expect("addr"));
        assert_eq!(n.audio, (8, Law::Alaw));
        assert_eq!(n.telephone_event, Some(101));
        let ans = answer("127.0.0.1:20000".parse().expect("addr"), &n, 1, 1);
        let back = parse(&ans).expect("our answer parses");
        assert_eq!((back.port, back.formats.clone()), (20000, vec![8, 101]));
    }

    #[test]
    fn nothing_usable_is_not_acceptable() {
        let g729 =
            "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 18\r\na=rtpmap:18 G729/8000\r\n";
        assert!(matches!(
            parse(g729.as_bytes()).expect("valid").negotiate(),
            Err(Error::NotAcceptable)
        ));
        let video = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=video 4000 RTP/AVP 96\r\n";
        assert!(parse(video.as_bytes()).is_err());
        let refused = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 0 RTP/AVP 0\r\n";
        assert!(parse(refused.as_bytes())
            .expect("valid")
            .negotiate()
            .is_err());
    }

    #[test]
    fn hold_offer_gets_recvonly() {
        let hold = "v=0\r\nc=IN IP4 10.0.0.1\r\nm=audio 4000 RTP/AVP 0\r\na=sendonly\r\n";
        let n = parse(hold.as_bytes())
            .expect("valid")
            .negotiate()
            .expect("usable");
        assert_eq!(n.direction, Direction::RecvOnly);
        assert_eq!(n.audio, (0, Law::Ulaw));
        assert_eq!(n.telephone_event, None);
    }

    #[test]
    fn our_offer_round_trips() {
        let o = offer("127.0.0.1:30000".parse().expect("addr"), 7, 1);
        let a = parse(&o).expect("valid");
        assert_eq!(a.formats, vec![0, 8, 101]);
        assert_eq!(a.negotiate().expect("usable").telephone_event, Some(101));
    }
}
