//! The real peers tests start on loopback, shared by the end-to-end tests, the SDK's and the
//! CLI's: sipp (Debian `sip-tester`) with the scenarios of `tests/sip/`, Prosody (Debian
//! `prosody`) with a configuration of its own, free ports and temporary directories. A
//! missing peer fails the test; nothing is skipped.

// A test harness: failing loudly on anything unexpected is its job.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

pub mod prosody;

use std::net::{SocketAddr, UdpSocket};
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::atomic::{AtomicU16, AtomicU32, Ordering};
use std::time::Duration;

use tokio::process::{Child, Command};

/// The loopback address everything runs on.
pub const LOOPBACK: &str = "127.0.0.1";

/// A directory removed when dropped.
#[derive(Debug)]
pub struct TempDir(pub PathBuf);

impl TempDir {
    /// A fresh directory (`0700`, only this user may use it) under the system's temporary
    /// directory.
    pub fn new(tag: &str) -> TempDir {
        static N: AtomicU16 = AtomicU16::new(0);
        let p = std::env::temp_dir().join(format!(
            "rayo-e2e-{tag}-{}-{}",
            std::process::id(),
            N.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&p);
        let mut b = std::fs::DirBuilder::new();
        b.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
        b.create(&p).expect("temporary directory");
        TempDir(p)
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Where [`free_udp_ports`] hands out ports: below the kernel's ephemeral range (Linux's
/// default is 32768–60999, `net.ipv4.ip_local_port_range`). A port of that range that is
/// free when a test picks it can be taken a moment later by any socket bound to port 0 (a
/// stranger's socket in a test, a peer's, the SDK's) — and the node binds a call's RTP port
/// only when the call's media starts, so such a clash ended calls at random.
const PORTS: std::ops::Range<u16> = 10_000..BENCH_RTP.0;

/// The RTP ports of the benches' nodes (first and last), which [`free_udp_ports`] never
/// hands out: a bench's node cycles through thousands of them while sipp instances and
/// other nodes come and go on ports of their own, and a port of another socket inside a
/// node's range ended the call that drew it. 2 500 calls at once (the load script holds
/// 2 000); benches run alone, so one range serves them all.
pub const BENCH_RTP: (u16, u16) = (25_000, 29_999);

/// Ports handed out so far by this process.
static NEXT: AtomicU32 = AtomicU32::new(0);

/// How many blocks [`PORTS`] is cut into: a process hands out ports from its own block (by
/// its id), so that test processes running at once (a test binary and the processes it
/// starts, or binaries run side by side) draw from different ports unless their ids fall
/// in the same block.
const BLOCKS: u32 = 16;

/// `n` consecutive ports free for UDP and TCP (even first), below the ephemeral range, from
/// this process's block of the ports 10000–24999: each call moves on by `n`, so that a range comes back
/// only after the whole block has been handed out (ranges are not bound at once: a node
/// binds its RTP ports call by call, so being free now is not enough).
pub fn free_udp_ports(n: u16) -> u16 {
    // Even, so that every range starts on an even port.
    let block = (u32::from(PORTS.end - PORTS.start) / BLOCKS) & !1;
    let start = u32::from(PORTS.start) + (std::process::id() % BLOCKS) * block;
    let n32 = u32::from(n.max(1)).div_ceil(2) * 2;
    assert!(n32 <= block, "{n} ports do not fit in a block of {block}");
    // Free for TCP too: the node's SIP listens on both.
    let free = |p: u16| {
        UdpSocket::bind((LOOPBACK, p)).is_ok() && std::net::TcpListener::bind((LOOPBACK, p)).is_ok()
    };
    for _ in 0..10_000 {
        let at = NEXT.fetch_add(n32, Ordering::Relaxed) % block;
        // A range never runs past the block's end: it starts again at the beginning.
        let at = if at + n32 > block { 0 } else { at };
        let Ok(base) = u16::try_from(start + at) else {
            break;
        };
        if (0..n).all(|i| free(base + i)) {
            return base;
        }
    }
    panic!("no {n} free ports in a row on {LOOPBACK}")
}

/// A free TCP port.
pub fn free_tcp_port() -> u16 {
    std::net::TcpListener::bind((LOOPBACK, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// A scenario file of `tests/sip/`.
pub fn scenario(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../sip")
        .join(name)
}

/// A running sipp.
pub struct Sipp {
    child: Child,
    /// Its SIP port.
    pub port: u16,
    name: String,
}

fn sipp_binary() -> &'static str {
    match std::process::Command::new("sipp").arg("-v").output() {
        Ok(_) => "sipp",
        Err(e) => panic!(
            "sipp is needed by these tests and was not found ({e}); apt-get install -y sip-tester"
        ),
    }
}

impl Sipp {
    /// Starts sipp with scenario `name` for one call, calling `target` as user `service`
    /// (UAC scenarios) or waiting for a call (UAS scenarios, `target` None), with `extra`
    /// arguments, in directory `cwd` (files its scenario reads).
    pub fn start(
        name: &str,
        target: Option<SocketAddr>,
        service: &str,
        extra: &[&str],
        cwd: Option<&Path>,
    ) -> Sipp {
        Sipp::start_calls(name, target, service, 1, extra, cwd)
    }

    /// [`Sipp::start`] for `calls` calls (a UAS takes that many; a UAC places them).
    pub fn start_calls(
        name: &str,
        target: Option<SocketAddr>,
        service: &str,
        calls: u32,
        extra: &[&str],
        cwd: Option<&Path>,
    ) -> Sipp {
        let bin = sipp_binary();
        let port = free_udp_ports(1);
        let media = free_udp_ports(4);
        let mut cmd = Command::new(bin);
        cmd.arg("-sf").arg(scenario(name));
        cmd.args([
            "-m",
            &calls.to_string(),
            "-i",
            LOOPBACK,
            "-mi",
            LOOPBACK,
            "-nostdin",
        ]);
        cmd.args(["-timeout", "40", "-timeout_error", "-s", service]);
        cmd.args(["-p", &port.to_string(), "-mp", &media.to_string()]);
        cmd.args(extra);
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
        if let Some(d) = cwd {
            cmd.current_dir(d);
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

    /// Waits for sipp to finish its calls; fails the test unless the scenario passed.
    pub async fn passed(mut self) {
        let status = tokio::time::timeout(Duration::from_secs(50), self.child.wait())
            .await
            .unwrap_or_else(|_| panic!("sipp {} did not finish", self.name))
            .expect("sipp exit status");
        let mut err = String::new();
        if let Some(mut e) = self.child.stderr.take() {
            use tokio::io::AsyncReadExt;
            let _ = e.read_to_string(&mut err).await;
        }
        assert!(
            status.success(),
            "sipp scenario {} failed ({status}): {err}",
            self.name
        );
    }
}
