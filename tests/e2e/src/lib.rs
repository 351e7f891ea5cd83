//! The harness of the end-to-end tests: a real node ([`rayo_server::Node`]) on free loopback
//! ports, bots built on the SDK ([`rayo_client`]), sipp (Debian `sip-tester`) with the
//! scenarios of `tests/sip/`, and Prosody (Debian `prosody`) for component mode. A missing
//! peer fails the test; nothing is skipped.

// A test harness: failing loudly on anything unexpected is its job.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::path::{Path, PathBuf};
use std::time::Duration;

use rayo_client::{CallEvent, Client, Config as ClientConfig, EndReason, Offer, Offers, Trust};
pub use rayo_peers::{
    free_tcp_port, free_udp_ports, prosody, scenario, Sipp, TempDir, BENCH_RTP, LOOPBACK,
};
use rayo_server::{Config, Node};

pub mod gateway;

/// How long a test waits for anything before failing.
pub const WAIT: Duration = Duration::from_secs(20);

/// The password of every test user.
pub const PASSWORD: &str = "s3cret";

/// A node under test, with what it needs kept alive.
pub struct TestNode {
    /// The node.
    pub node: Node,
    /// Its working directory (certificate, recordings).
    pub dir: TempDir,
}

impl TestNode {
    /// A node on free loopback ports: users `bot`, `bot2` and `stranger` (password
    /// [`PASSWORD`]), every call offered to `bot@localhost` and `bot2@localhost`, `tune`
    /// applied last.
    pub async fn start(tune: impl FnOnce(&mut Config)) -> TestNode {
        let dir = TempDir::new("node");
        let mut cfg = Config::embedded(PASSWORD);
        cfg.users = ["bot", "bot2", "stranger"]
            .into_iter()
            .map(|n| rayo_server::config::User {
                name: n.into(),
                password: Some(PASSWORD.into()),
                scram: Vec::new(),
            })
            .collect();
        cfg.routes[0].targets = vec!["bot@localhost".into(), "bot2@localhost".into()];
        let sip = free_udp_ports(1);
        cfg.sip.listen = format!("{LOOPBACK}:{sip}").parse().expect("address");
        let rtp = free_udp_ports(40);
        cfg.rtp.first_port = rtp;
        cfg.rtp.last_port = rtp + 38;
        if let Some(c) = &mut cfg.c2s {
            c.listen = format!("{LOOPBACK}:0").parse().expect("address");
            c.self_signed_dir = dir.0.join("tls");
        }
        cfg.recording.dir = dir.0.join("recordings");
        // Output documents may come from the node's `prompts` directory only.
        let prompts = dir.0.join("prompts");
        std::fs::create_dir_all(&prompts).expect("the prompts directory");
        cfg.documents.file_dirs = vec![prompts];
        tune(&mut cfg);
        let node = Node::start(cfg).await.expect("the node starts");
        TestNode { node, dir }
    }

    /// The directory `file:` documents may be read from (`[documents] file_dirs`).
    pub fn prompts(&self) -> PathBuf {
        self.dir.0.join("prompts")
    }

    /// The SDK's configuration for `user` on this node, pinning its certificate.
    pub fn client_config(&self, user: &str) -> ClientConfig {
        ClientConfig::new(&format!("{user}@localhost/e2e"), PASSWORD)
            .expect("client config")
            .server(self.node.c2s_addr().expect("c2s listener").to_string())
            .trust(Trust::Pinned(
                self.node.fingerprint().expect("a certificate").to_owned(),
            ))
            .command_timeout(Duration::from_secs(15))
            .with_mixer_domain("localhost")
    }

    /// A bot logged in as `user`, available for calls (its presence seen by the node).
    pub async fn bot(&self, user: &str) -> (Client, Offers) {
        let (client, offers) =
            tokio::time::timeout(WAIT, Client::connect(self.client_config(user)))
                .await
                .expect("login in time")
                .expect("login");
        client.set_available().expect("presence sent");
        client.ping().await.expect("the node answers pings");
        (client, offers)
    }
}

/// The next offer, within [`WAIT`].
pub async fn next_offer(offers: &mut Offers) -> Offer {
    tokio::time::timeout(WAIT, offers.next())
        .await
        .expect("an offer in time")
        .expect("offers open")
}

/// Waits (each event within [`WAIT`]) for the call's end and returns its reason.
pub async fn end_reason(call: &mut rayo_client::Call) -> EndReason {
    loop {
        match tokio::time::timeout(WAIT, call.events().next())
            .await
            .expect("an event in time")
        {
            Some(CallEvent::End { reason, .. }) => return reason,
            Some(_) => {}
            None => panic!("events ended without an end"),
        }
    }
}

/// Writes a WAV file of `seconds` of a known signal (a chirp from 300 to 3000 Hz, 8 kHz,
/// 16-bit mono) and returns its path and samples.
pub fn chirp_wav(dir: &Path, seconds: f64) -> (PathBuf, Vec<i16>) {
    let n = (seconds * 8000.0) as usize;
    let samples: Vec<i16> = (0..n)
        .map(|i| {
            let t = i as f64 / 8000.0;
            let f0 = 300.0;
            let k = (3000.0 - f0) / seconds;
            let phase = 2.0 * std::f64::consts::PI * (f0 * t + 0.5 * k * t * t);
            (phase.sin() * 12000.0) as i16
        })
        .collect();
    let path = dir.join("chirp.wav");
    std::fs::write(&path, rayo_media::audio::encode_wav(&samples, 8000, 1)).expect("WAV written");
    (path, samples)
}

/// Mixer JIDs of the test node: the node has no subdomains, mixers live at its domain.
pub trait MixerDomain {
    /// Mixers live at `domain`.
    fn with_mixer_domain(self, domain: &str) -> Self;
}

impl MixerDomain for ClientConfig {
    fn with_mixer_domain(mut self, domain: &str) -> Self {
        self.mixer_domain = Some(domain.to_owned());
        self
    }
}

/// `seconds` of a sine at `hz`, amplitude `amp`, 8 kHz.
pub fn tone(hz: f64, seconds: f64, amp: f64) -> Vec<i16> {
    (0..(seconds * 8000.0) as usize)
        .map(|i| ((i as f64 * 2.0 * std::f64::consts::PI * hz / 8000.0).sin() * amp) as i16)
        .collect()
}

/// Writes `samples` as raw G.711 μ-law, what sipp's `rtp_stream` sends with payload 0 (it
/// sends a file's bytes as they are: a WAV header would be heard as a click every loop).
pub fn ulaw_raw(path: &Path, samples: &[i16]) {
    let data: Vec<u8> = samples
        .iter()
        .map(|s| rayo_media::g711::linear_to_ulaw(*s))
        .collect();
    std::fs::write(path, data).expect("audio written");
}

/// The share of a signal's power at `hz` (Goertzel over the whole signal), 0..=1.
pub fn tone_share(samples: &[i16], hz: f64) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    let w = 2.0 * std::f64::consts::PI * hz / 8000.0;
    let coeff = 2.0 * w.cos();
    let (mut s1, mut s2) = (0.0f64, 0.0f64);
    let mut total = 0.0f64;
    for x in samples {
        let x = f64::from(*x);
        total += x * x;
        let s0 = x + coeff * s1 - s2;
        s2 = s1;
        s1 = s0;
    }
    let power = s1 * s1 + s2 * s2 - coeff * s1 * s2;
    let n = samples.len() as f64;
    if total == 0.0 {
        0.0
    } else {
        (2.0 * power / n / total).min(1.0)
    }
}

/// The RMS level of a signal.
pub fn rms(samples: &[i16]) -> f64 {
    if samples.is_empty() {
        return 0.0;
    }
    (samples.iter().map(|s| f64::from(*s).powi(2)).sum::<f64>() / samples.len() as f64).sqrt()
}

/// The samples of a recording named by a completion's metadata (mono WAV), after checking
/// that only the node's user may read it (`0600`, Unix).
pub fn recording(done: &rayo_client::Complete) -> Vec<i16> {
    use rayo_client::proto::event::CompleteMetadata;
    let uri = done
        .metadata
        .iter()
        .find_map(|m| match m {
            CompleteMetadata::Recording(r) => Some(r.uri.clone()),
            _ => None,
        })
        .expect("recording metadata");
    let path = uri.strip_prefix("file://").expect("a file URI");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(path)
            .expect("the recording")
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o600, "recording {path} mode {mode:o}");
    }
    let mut wav = hound::WavReader::open(path).expect("a readable WAV");
    assert_eq!(wav.spec().channels, 1, "a mono recording");
    wav.samples::<i16>().map(|s| s.expect("sample")).collect()
}

/// How faithfully `recorded` carries `source` (looped when `looped`), window by window: each
/// quarter second of sound is matched against the best-aligned stretch of the source, and the
/// median of those normalised correlations is returned with the number of windows with sound.
/// One 20 ms frame lost or repeated on a loaded machine spoils one window, not the verdict.
pub fn windowed_correlation(recorded: &[i16], source: &[i16], looped: bool) -> (f64, usize) {
    const W: usize = 2000;
    let n = source.len();
    let at = |i: usize| -> Option<f64> {
        if looped {
            Some(f64::from(source[i % n]))
        } else {
            source.get(i).map(|s| f64::from(*s))
        }
    };
    let mut scores = Vec::new();
    for w in recorded.chunks_exact(W) {
        if rms(w) < 100.0 {
            continue;
        }
        let ww: f64 = w.iter().map(|x| f64::from(*x).powi(2)).sum();
        let offsets = if looped { n } else { n.saturating_sub(W / 2) };
        let mut best = 0.0f64;
        for off in 0..offsets {
            let (mut ab, mut ss) = (0.0f64, 0.0f64);
            for (i, r) in w.iter().enumerate() {
                let x = at(off + i).unwrap_or(0.0);
                ab += f64::from(*r) * x;
                ss += x * x;
            }
            if ss > 0.0 {
                best = best.max(ab / (ww * ss).sqrt());
            }
        }
        scores.push(best);
    }
    if scores.is_empty() {
        return (0.0, 0);
    }
    scores.sort_by(f64::total_cmp);
    (scores[scores.len() / 2], scores.len())
}
