//! The harness of the tests that run `rayo dial` and `rayo listen` as a user would: a real
//! node ([`rayo_server::Node`]) on free loopback ports, sipp (Debian `sip-tester`) with the
//! scenarios of `tests/sip/`, and the built `rayo` binary whose output is read line by line.
//! A missing peer fails the test; nothing is skipped.
#![allow(dead_code, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

#[allow(unused_imports)]
pub use rayo_peers::{free_udp_ports, prosody, Sipp, TempDir};

use std::net::SocketAddr;
use std::process::{ExitStatus, Stdio};
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
        TestNode::start_with(|_| {}).await
    }

    /// [`TestNode::start`] with `tune` applied to the configuration last.
    pub async fn start_with(tune: impl FnOnce(&mut Config)) -> TestNode {
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
        tune(&mut cfg);
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

    /// Kills rayo at once (SIGKILL): a bot that crashes, its stream never closed.
    pub fn kill(&mut self) {
        let _ = self.child.start_kill();
    }

    /// Waits (up to a minute) for rayo to exit, and gives everything it printed.
    pub async fn finish(mut self) -> Finished {
        let mut stderr_pipe = self.child.stderr.take();
        let stderr = async {
            let mut stderr = String::new();
            if let Some(e) = stderr_pipe.as_mut() {
                let _ = e.read_to_string(&mut stderr).await;
            }
            stderr
        };
        let stdout = async {
            while let Ok(Some(l)) = self.out.next_line().await {
                self.seen.push(l);
            }
        };
        let ended = tokio::time::timeout(Duration::from_secs(60), async {
            let (_, stderr) = tokio::join!(stdout, stderr);
            stderr
        })
        .await;
        match ended {
            Ok(stderr) => Finished {
                status: self.child.wait().await.expect("exit status"),
                stdout: self.seen,
                stderr,
            },
            Err(_) => {
                let _ = self.child.kill().await;
                panic!("rayo did not exit in a minute; it printed {:?}", self.seen)
            }
        }
    }
}
