//! The driver task: moves stanzas between the stream and the sans-IO [`Core`], runs its
//! deadlines, and reconnects with jittered exponential backoff.
//!
//! [`Core`]: crate::core::Core

use std::collections::hash_map::RandomState;
use std::hash::{BuildHasher, Hasher};
use std::sync::Arc;
use std::time::{Duration, Instant};

use rayo_xmpp::xml::{XmlEvent, NS_STREAMS, STREAM_CLOSE};

use crate::client::Shared;
use crate::error::Error;
use crate::stream::{self, SecureStream, Session, XmlStream};

/// Runs until the client is closed, or the stream drops and reconnecting is off or hopeless
/// (the credentials were refused).
pub(crate) async fn run(shared: Arc<Shared>, mut session: Session) {
    let mut jitter = Jitter::new();
    loop {
        let why = drive(&shared, &mut session.stream).await;
        shared.core().disconnected();
        if shared.stopping() {
            break;
        }
        match why {
            Ok(()) => break,
            Err(e) => tracing::warn!(error = %e, "stream to the Rayo server dropped"),
        }
        if !shared.config.reconnect.enabled {
            break;
        }
        let mut attempt = 0u32;
        session = loop {
            let delay = shared.config.reconnect.delay(attempt, jitter.next());
            let until = tokio::time::Instant::now() + delay;
            loop {
                tokio::select! {
                    _ = tokio::time::sleep_until(until) => break,
                    // Woken by a handle: only closing cuts the wait short.
                    _ = shared.wake.notified() => {}
                }
                if shared.stopping() {
                    shared.core().shutdown();
                    return;
                }
            }
            match stream::open(&shared.config).await {
                Ok(s) => break s,
                Err(Error::Auth(e)) => {
                    tracing::error!(error = %e, "the server refused the credentials; giving up");
                    shared.core().shutdown();
                    return;
                }
                Err(e) => {
                    tracing::info!(error = %e, attempt, "reconnecting failed");
                    attempt = attempt.saturating_add(1);
                }
            }
        };
        tracing::info!(jid = %session.jid, "reconnected");
        shared.core().connected(session.jid.clone());
    }
    shared.core().shutdown();
}

/// Moves stanzas until the stream drops (`Err`) or the client is closed (`Ok`).
async fn drive(shared: &Shared, stream: &mut XmlStream<SecureStream>) -> Result<(), Error> {
    loop {
        let (batch, deadline) = {
            let mut core = shared.core();
            let mut batch = Vec::new();
            while let Some(s) = core.poll_transmit() {
                batch.push(s);
            }
            (batch, core.poll_timeout())
        };
        if !batch.is_empty() {
            stream.write_stanzas(&batch).await?;
        }
        if shared.stopping() {
            let _ = stream.write_raw(STREAM_CLOSE).await;
            return Ok(());
        }
        let deadline = deadline.unwrap_or_else(|| Instant::now() + Duration::from_secs(3600));
        tokio::select! {
            ev = stream.next() => match ev? {
                XmlEvent::Element(el) if el.is("error", NS_STREAMS) => {
                    return Err(stream::stream_error(&el));
                }
                XmlEvent::Element(el) => {
                    if let Some(tap) = &shared.config.tap {
                        let _ = tap.try_send(el.clone());
                    }
                    shared.core().handle_stanza(el)
                }
                XmlEvent::Close => return Err(Error::Stream("the server closed the stream".into())),
                XmlEvent::Open(_) => return Err(Error::Stream("unexpected stream header".into())),
            },
            _ = shared.wake.notified() => {}
            _ = tokio::time::sleep_until(deadline.into()) => {
                shared.core().handle_timeout(Instant::now());
            }
        }
    }
}

/// Uniform values in `0..1` for the backoff jitter (splitmix64 seeded by the process's
/// random hash keys: no dependency, not for cryptography).
struct Jitter(u64);

impl Jitter {
    fn new() -> Self {
        let mut h = RandomState::new().build_hasher();
        h.write_u64(0x5eed);
        Jitter(h.finish())
    }

    fn next(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]
mod tests {
    use super::*;

    #[test]
    fn jitter_is_in_range() {
        let mut j = Jitter::new();
        for _ in 0..1000 {
            let v = j.next();
            assert!((0.0..1.0).contains(&v));
        }
    }
}
