//! The harness of the tests that run `rayo dial` and `rayo listen` as a user would: a real
//! node ([`rayo_server::Node`]) on free loopback ports, sipp (Debian `sip-tester`) with the
//! scenarios of `tests/sip/`, and the built `rayo` binary whose output is read line by line.
//! A missing peer fails the test; nothing is skipped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

pub mod prosody;

use std::net::{SocketAddr, UdpSocket};
use std::path::PathBuf;
use std::process::{ExitStatus, Stdio};
use std::sync::atomic::{AtomicU16, Ordering};
use std::time::Duration;

use rayo_server::{Config, Node};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

/// How long a test waits for anything before failing.
pub const WAIT: Duration = Duration::from_secs(30);
/// The loopback address everything runs on.
pub const LOOPBACK: &str = "127.0.0.1";
/// The development user's password on the test node.
pub const PASSWORD: &str = "s3cret";

/// A directory removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory under the system's temporary directory.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU16 = AtomicU16::new(0);
        let p = std::env::temp_dir().join(format!(
            "rayo-cli-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).expect("temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

static NEXT: AtomicU16 = AtomicU16::new(0);

/// `n` consecutive free UDP ports (even first), spread by process id and a counter so that
/// tests running at once do not pick the same.
pub fn free_udp_ports(n: u16) -> u16 {
    let pid = std::process::id() as u16;
    loop {
        let k = NEXT.fetch_add(1, Ordering::Relaxed);
        let base = 40000 + (pid.wrapping_mul(61) % 400) * 20 + (k % 100) * 96 % 8000;
        let base = base & !1;
        if (0..n).all(|i| UdpSocket::bind((LOOPBACK, base + i)).is_ok()) {
            return base;
        }
    }
}

/// A scenario file of `tests/sip/`.
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../tests/sip")
        .join(name)
}

/// A node on free loopback ports with the embedded defaults: user `rayo` (password
/// [`PASSWORD`]), every call offered to `rayo@localhost`.
pub struct TestNode {
    /// The node.
    pub node: Node,
    /// Its certificate and recordings.
    pub dir: TempDir,
}

impl TestNode {
    /// Starts it.
    pub async fn start() -> TestNode {
        let dir = TempDir::new("node");
        let mut cfg = Config::embedded(PASSWORD);
        let sip = free_udp_ports(1);
        cfg.sip.listen = format!("{LOOPBACK}:{sip}").parse().expect("address");
        let rtp = free_udp_ports(20);
        cfg.rtp.first_port = rtp;
        cfg.rtp.last_port = rtp + 18;
        if let Some(c) = cfg.c2s.as_mut() {
            c.listen = format!("{LOOPBACK}:0").parse().expect("address");
            c.self_signed_dir = dir.0.join("tls");
        }
        cfg.recording.dir = dir.0.join("recordings");
        let node = Node::start(cfg).await.expect("the node starts");
        TestNode { node, dir }
    }

    /// The connection flags a user passes for this node: its c2s address, the password,
    /// the certificate's fingerprint (the JID is the default `rayo@localhost`).
    pub fn flags(&self) -> Vec<String> {
        vec![
            "--server".into(),
            self.node.c2s_addr().expect("c2s").to_string(),
            "--password".into(),
            PASSWORD.into(),
            "--fingerprint".into(),
            self.node.fingerprint().expect("a certificate").to_owned(),
        ]
    }

    /// The SIP address.
    pub fn sip(&self) -> SocketAddr {
        self.node.sip_addr()
    }

    /// Ends every call and stops.
    pub async fn stop(self) {
        self.node.shutdown_within(Duration::ZERO).await;
    }
}

/// A running sipp.
pub struct Sipp {
    child: Child,
    /// Its SIP port.
    pub port: u16,
    name: String,
}

impl Sipp {
    /// Starts sipp with scenario `name` for one call, calling `target` (UAC scenarios, as
    /// user `service`) or waiting for a call (UAS scenarios, `target` None).
    pub fn start(name: &str, target: Option<SocketAddr>, service: &str) -> Sipp {
        if let Err(e) = std::process::Command::new("sipp").arg("-v").output() {
            panic!("sipp is needed by these tests and was not found ({e}); apt-get install -y sip-tester");
        }
        let port = free_udp_ports(1);
        let media = free_udp_ports(4);
        let mut cmd = Command::new("sipp");
        cmd.arg("-sf").arg(scenario(name));
        cmd.args(["-m", "1", "-i", LOOPBACK, "-mi", LOOPBACK, "-nostdin"]);
        cmd.args(["-timeout", "40", "-timeout_error", "-s", service]);
        cmd.args(["-p", &port.to_string(), "-mp", &media.to_string()]);
        // RAYO_SIPP_TRACE=DIR keeps sipp's message and error logs in DIR.
        if let Ok(dir) = std::env::var("RAYO_SIPP_TRACE") {
            let base = format!("{dir}/{name}-{port}");
            cmd.args([
                "-trace_msg",
                "-message_file",
                &format!("{base}.messages.log"),
            ]);
            cmd.args(["-trace_err", "-error_file", &format!("{base}.errors.log")]);
        }
        if let Some(t) = target {
            cmd.arg(t.to_string());
        }
        cmd.stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let child = cmd.spawn().expect("sipp starts");
        Sipp {
            child,
            port,
            name: name.into(),
        }
    }

    /// The SIP URI that reaches this sipp.
    pub fn uri(&self, user: &str) -> String {
        format!("sip:{user}@{LOOPBACK}:{}", self.port)
    }

    /// Waits for sipp to finish its one call; fails the test unless the scenario passed.
    pub async fn passed(mut self) {
        let status = tokio::time::timeout(Duration::from_secs(50), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("sipp {} did not finish", self.name))
            .expect("sipp exit status");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            let _ = e.read_to_string(&mut err).await;
        }
        assert!(
            status.success(),
            "sipp scenario {} failed ({status}): {err}",
            self.name
        );
    }
}

/// The `rayo` binary, running, its standard output read line by line as it comes.
pub struct Rayo {
    child: Child,
    out: Lines<BufReader<ChildStdout>>,
    /// The lines read so far.
    pub seen: Vec<String>,
}

/// What a finished `rayo` printed.
#[derive(Debug)]
pub struct Finished {
    /// Its exit status.
    pub status: ExitStatus,
    /// Every line of standard output.
    pub stdout: Vec<String>,
    /// Standard error.
    pub stderr: String,
}

impl Rayo {
    /// Starts `rayo ARGS` with no `RAYO_*` variable but those of `env`.
    pub fn spawn<S: AsRef<std::ffi::OsStr>>(args: &[S], env: &[(&str, &str)]) -> Rayo {
        let mut cmd = Command::new(env!("CARGO_BIN_EXE_rayo"));
        cmd.args(args);
        for k in [
            "RAYO_JID",
            "RAYO_PASSWORD",
            "RAYO_SERVER",
            "RAYO_DOMAIN",
            "RAYO_FINGERPRINT",
        ] {
            cmd.env_remove(k);
        }
        cmd.envs(env.iter().copied());
        cmd.stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        let mut child = cmd.spawn().expect("rayo starts");
        let out = BufReader::new(child.stdout.take().expect("stdout")).lines();
        Rayo {
            child,
            out,
            seen: Vec::new(),
        }
    }

    /// The next line of standard output, within [`WAIT`].
    pub async fn line(&mut self) -> String {
        match tokio::time::timeout(WAIT, self.out.next_line()).await {
            Ok(Ok(Some(l))) => {
                self.seen.push(l.clone());
                l
            }
            Ok(Ok(None)) => panic!("rayo's output ended; it printed {:?}", self.seen),
            Ok(Err(e)) => panic!("reading rayo's output: {e}"),
            Err(_) => panic!(
                "no line from rayo within {WAIT:?}; it printed {:?}",
                self.seen
            ),
        }
    }

    /// Waits (up to a minute) for rayo to exit, and gives everything it printed.
    pub async fn finish(mut self) -> Finished {
        let rest = async {
            while let Ok(Some(l)) = self.out.next_line().await {
                self.seen.push(l);
            }
            let mut stderr = String::new();
            if let Some(mut e) = self.child.stderr.take() {
                let _ = e.read_to_string(&mut stderr).await;
            }
            (self.child.wait().await.expect("exit status"), stderr)
        };
        let (status, stderr) = tokio::time::timeout(Duration::from_secs(60), rest)
            .await
            .unwrap_or_else(|_| panic!("rayo did not exit in a minute"));
        Finished {
            status,
            stdout: self.seen,
            stderr,
        }
    }
}
