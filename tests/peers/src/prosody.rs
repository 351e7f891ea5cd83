//! A Prosody (Debian `prosody`) started for a test: its own configuration and data in a
//! temporary directory, free loopback ports, STARTTLS required with a self-signed
//! certificate the SDK pins, and the Rayo node as a XEP-0114 component.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use rayo_xmpp::tls::{TlsIdentity, TlsSource};

use crate::TempDir;

/// Prosody's virtual host.
pub const HOST: &str = "localhost";
/// The Rayo node's component domain.
pub const COMPONENT: &str = "rayo.localhost";
/// The component secret.
pub const SECRET: &str = "s3cret";

/// A Prosody process and its files.
pub struct Prosody {
    /// Its configuration, data and log.
    pub dir: TempDir,
    /// Client port.
    pub c2s_port: u16,
    /// Component port.
    pub component_port: u16,
    /// SHA-256 of the certificate Prosody presents.
    pub fingerprint: String,
    child: Option<tokio::process::Child>,
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

impl Prosody {
    /// Configures a Prosody with users juliet/r0m30 and romeo/jul13t.
    #[allow(clippy::new_without_default)]
    pub fn new() -> Prosody {
        Prosody::with_components(&[])
    }

    /// [`Prosody::new`] with more components than the node's three (each with [`SECRET`]):
    /// a gateway's two domains and its nodes, say.
    pub fn with_components(extra: &[&str]) -> Prosody {
        let found = std::env::var_os("PATH")
            .map(|p| std::env::split_paths(&p).any(|d| d.join("prosody").is_file()))
            .unwrap_or(false);
        assert!(found, "this test needs Prosody (Debian package prosody)");
        let dir = TempDir::new("prosody");
        let certs = dir.0.join("certs");
        let identity = TlsIdentity::load(&TlsSource::SelfSigned { dir: certs.clone() }, HOST)
            .expect("certificate");
        let (c2s_port, component_port) = (free_port(), free_port());
        let d = dir.0.display();
        let c = certs.display();
        let config = format!(
            r#"run_as_root = true
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
certificates = "{c}"
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{d}/prosody.log" }} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s_port} }}
s2s_ports = {{ }}
c2s_direct_tls_ports = {{ }}
component_ports = {{ {component_port} }}
component_interfaces = {{ "127.0.0.1" }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "tls"; "disco"; "ping"; "posix" }}
modules_disabled = {{ "s2s" }}
authentication = "internal_hashed"
c2s_require_encryption = true
network_settings = {{ nagle = false }}
limits = {{ c2s = {{ rate = "100mb/s" }}; component = {{ rate = "100mb/s" }} }}
VirtualHost "{HOST}"
    ssl = {{ certificate = "{c}/cert.pem"; key = "{c}/key.pem" }}
Component "{COMPONENT}"
    component_secret = "{SECRET}"
Component "call.{COMPONENT}"
    component_secret = "{SECRET}"
Component "mixer.{COMPONENT}"
    component_secret = "{SECRET}"
{more}"#,
            more = extra
                .iter()
                .map(|c| format!("Component \"{c}\"\n    component_secret = \"{SECRET}\"\n"))
                .collect::<String>()
        );
        std::fs::create_dir_all(dir.0.join("data")).expect("data dir");
        std::fs::write(dir.0.join("prosody.cfg.lua"), config).expect("config");
        let p = Prosody {
            dir,
            c2s_port,
            component_port,
            fingerprint: identity.fingerprint,
            child: None,
        };
        for (user, pw) in [("juliet", "r0m30"), ("romeo", "jul13t")] {
            let status = std::process::Command::new("prosodyctl")
                .arg("--config")
                .arg(p.config())
                .args(["register", user, HOST, pw])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .expect("run prosodyctl");
            assert!(status.success(), "prosodyctl register failed");
        }
        p
    }

    fn config(&self) -> std::path::PathBuf {
        self.dir.0.join("prosody.cfg.lua")
    }

    /// Where clients connect.
    pub fn c2s_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.c2s_port))
    }

    /// Where components connect.
    pub fn component_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.component_port))
    }

    /// Starts it and waits until it listens.
    pub async fn start(&mut self) {
        let child = tokio::process::Command::new("prosody")
            .arg("--config")
            .arg(self.config())
            .arg("-F")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start prosody");
        self.child = Some(child);
        let up = tokio::time::timeout(Duration::from_secs(15), async {
            loop {
                let c2s = tokio::net::TcpStream::connect(self.c2s_addr())
                    .await
                    .is_ok();
                let comp = tokio::net::TcpStream::connect(self.component_addr())
                    .await
                    .is_ok();
                if c2s && comp {
                    return;
                }
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
        .await;
        assert!(up.is_ok(), "prosody did not listen; log:\n{}", self.log());
    }

    /// Stops it.
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    /// Its log.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.0.join("prosody.log")).unwrap_or_default()
    }
}
