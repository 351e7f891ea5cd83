//! The media transport of a Rayo node: G.711 audio over RTP with DTMF.
//!
//! Sans-IO where it keeps state: [`rtp`] parses and frames packets, [`jitter`] reorders them
//! by `now`, [`dtmf`] handles RFC 4733 telephone events, [`inband`] finds DTMF tones in the
//! audio, [`stream`] puts them together for one call, [`latch`] takes its packets only from
//! the negotiated peer. [`udp`] is the thin tokio driver: sockets from a port range, one
//! packet every 20 ms by the clock.
//!
//! [`srgs`], [`nlsml`] and [`input`] are the input component: SRGS and builtin DTMF
//! grammars, NLSML results, and its sans-IO timing state machine.
//!
//! [`record`] is the record component, writing WAV files with [`wav`] and ending on silence
//! with the voice-activity detector of [`vad`].
//!
//! [`output`] renders an output's documents ([`fetch`] by URL with a cache, [`audio`]
//! decoding, [`tts`] with espeak-ng after [`ssml`] checks) and plays them with its sans-IO
//! player; [`prompt`] couples that player with an input component.
//!
//! ```
//! use std::time::{Duration, Instant};
//! use rayo_media::stream::{DtmfSource, Receiver, Sender, StreamConfig};
//!
//! let mut tx = Sender::new(StreamConfig::pcmu(), 0x1234, 1, 0);
//! let mut rx = Receiver::new(StreamConfig::pcmu());
//! tx.send_dtmf('5')?;
//! let t0 = Instant::now();
//! for i in 0..10 {
//!     let mut packet = Vec::new();
//!     tx.tick(&[0; 160], &mut packet); // one 20 ms tick
//!     rx.handle_datagram(t0 + Duration::from_millis(20 * i), &packet);
//! }
//! assert_eq!(rx.poll_dtmf(), Some(('5', DtmfSource::Rfc4733)));
//! assert_eq!(rx.stats().malformed, 0);
//! # Ok::<(), rayo_media::Error>(())
//! ```

pub mod audio;
pub mod backlog;
pub mod bridge;
pub mod components;
pub mod dtmf;
pub mod fetch;
pub mod g711;
pub mod hub;
pub mod inband;
pub mod input;
pub mod jitter;
pub mod latch;
pub mod nlsml;
pub mod output;
pub mod prompt;
pub mod record;
pub mod rtp;
pub mod sources;
pub mod srgs;
pub mod ssml;
pub mod stream;
pub mod tts;
pub mod udp;
pub mod vad;
pub mod wav;

/// What can go wrong in the media transport.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A peer sent bytes that are not a well-formed RTP packet or telephone-event payload.
    #[error("malformed packet: {0}")]
    Malformed(&'static str),
    /// A character that is no DTMF digit.
    #[error("not a DTMF digit: {0:?}")]
    UnknownDigit(char),
    /// Something needed was not negotiated for the stream.
    #[error("not negotiated: {0}")]
    NotNegotiated(&'static str),
    /// No port of the configured range could be bound.
    #[error("no free RTP port in the configured range")]
    PortsExhausted,
    /// A socket error.
    #[error("socket: {0}")]
    Io(#[from] std::io::Error),
}

/// Fuzz entry point: the extreme [`Shape`](rayo_proto::shape::Shape) `data` describes, as
/// the body of an SSML document, of an SRGS rule and of an NLSML result. Each parser reads
/// it or refuses it; one nested beyond twice the parsers' depth bound (64) must be refused.
///
/// # Panics
///
/// When a parser accepts a document nested beyond its bound: the bug the fuzzer looks for.
pub fn fuzz_shape(data: &[u8]) {
    let Some(shape) = rayo_proto::shape::Shape::from_bytes(data) else {
        return;
    };
    let ssml = ssml::parse(&shape.inside("speak", "")).map(drop);
    let srgs = srgs::Grammar::parse(&format!(
        r#"<grammar xmlns="http://www.w3.org/2001/06/grammar" version="1.0" mode="dtmf" root="r">{}</grammar>"#,
        shape.inside("rule", r#" id="r""#)
    ))
    .map(|g| {
        let _ = g.match_digits("123");
    });
    let nlsml = nlsml::NlsmlResult::parse(&shape.inside("result", "")).map(drop);
    if shape.depth > 2 * ssml::MAX_DEPTH {
        assert!(ssml.is_err(), "SSML {} deep accepted", shape.depth);
        assert!(srgs.is_err(), "SRGS {} deep accepted", shape.depth);
        assert!(nlsml.is_err(), "NLSML {} deep accepted", shape.depth);
    }
}

#[cfg(test)]
mod shape_tests {
    #[test]
    fn documents_of_extreme_shapes_never_overflow() {
        // The attack depth of issue 12 §1, a wide one, and small ones.
        for (depth, width, name) in [
            (3_500u16, 0u16, 1u8),
            (0, 16_000, 2),
            (70, 10, 0),
            (3, 3, 5),
        ] {
            let [d0, d1] = depth.to_le_bytes();
            let [w0, w1] = width.to_le_bytes();
            super::fuzz_shape(&[d0, d1, w0, w1, name, b'1', b'2']);
        }
    }
}
