//! A Prosody started for a test or bench, with its own configuration and data in a
//! temporary directory, on free loopback ports.

use std::net::SocketAddr;
use std::process::Stdio;
use std::time::Duration;

use futures_util::StreamExt;
use minidom::Element;
use tokio_xmpp::connect::DnsConfig;
use tokio_xmpp::jid::{BareJid, Jid};
use tokio_xmpp::xmlstream::Timeouts;
use tokio_xmpp::{Client, Event, IqRequest, IqResponse};

use super::{free_port, tempdir, TEST_NS};

pub const HOST: &str = "localhost";
pub const COMPONENT: &str = "rayo.localhost";
pub const SECRET: &str = "s3cret";

/// A Prosody with its own configuration and data in a temporary directory.
pub struct Prosody {
    pub dir: tempdir::Dir,
    pub c2s_port: u16,
    pub component_port: u16,
    child: Option<tokio::process::Child>,
}

fn require(binary: &str) {
    let found = std::env::var_os("PATH")
        .map(|p| std::env::split_paths(&p).any(|d| d.join(binary).is_file()))
        .unwrap_or(false);
    assert!(
        found,
        "`{binary}` not found: this test needs Prosody (Debian package prosody)"
    );
}

impl Prosody {
    pub fn new() -> Prosody {
        require("prosody");
        require("prosodyctl");
        let dir = tempdir::Dir::new("prosody");
        let (c2s_port, component_port) = (free_port(), free_port());
        let d = dir.path().display();
        let config = format!(
            r#"run_as_root = true
pidfile = "{d}/prosody.pid"
data_path = "{d}/data"
certificates = "{d}"
log = {{ {{ levels = {{ min = "info" }}, to = "file", filename = "{d}/prosody.log" }} }}
interfaces = {{ "127.0.0.1" }}
c2s_ports = {{ {c2s_port} }}
s2s_ports = {{ }}
c2s_direct_tls_ports = {{ }}
component_ports = {{ {component_port} }}
component_interfaces = {{ "127.0.0.1" }}
http_ports = {{ }}
https_ports = {{ }}
modules_enabled = {{ "roster"; "saslauth"; "disco"; "ping"; "posix" }}
modules_disabled = {{ "s2s"; "tls" }}
authentication = "internal_hashed"
c2s_require_encryption = false
allow_unencrypted_plain_auth = true
network_settings = {{ nagle = false }}
limits = {{ c2s = {{ rate = "100mb/s" }}; component = {{ rate = "100mb/s" }} }}
VirtualHost "{HOST}"
Component "{COMPONENT}"
    component_secret = "{SECRET}"
Component "call.{COMPONENT}"
    component_secret = "{SECRET}"
Component "mixer.{COMPONENT}"
    component_secret = "{SECRET}"
"#
        );
        std::fs::create_dir_all(dir.path().join("data")).expect("data dir");
        std::fs::write(dir.path().join("prosody.cfg.lua"), config).expect("config");
        let p = Prosody {
            dir,
            c2s_port,
            component_port,
            child: None,
        };
        let status = std::process::Command::new("prosodyctl")
            .arg("--config")
            .arg(p.config())
            .args(["register", "juliet", HOST, "r0m30"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("run prosodyctl");
        assert!(status.success(), "prosodyctl register failed");
        p
    }

    fn config(&self) -> std::path::PathBuf {
        self.dir.path().join("prosody.cfg.lua")
    }

    pub fn c2s_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.c2s_port))
    }

    pub fn component_addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.component_port))
    }

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
        assert!(
            up.is_ok(),
            "prosody did not listen within 15 s; log:\n{}",
            self.log()
        );
    }

    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill().await;
        }
    }

    pub fn log(&self) -> String {
        std::fs::read_to_string(self.dir.path().join("prosody.log")).unwrap_or_default()
    }
}

/// A client of Prosody (plain TCP on loopback).
pub async fn prosody_client(p: &Prosody) -> Client {
    let mut c = plaintext_client(&format!("juliet@{HOST}"), "r0m30", p.c2s_addr());
    let online = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match c.next().await {
                Some(Event::Online { .. }) => return,
                Some(_) => {}
                None => panic!("client ended"),
            }
        }
    })
    .await;
    assert!(
        online.is_ok(),
        "no login to prosody within 15 s; log:\n{}",
        p.log()
    );
    c
}

/// A tokio-xmpp client over plain TCP to `addr` (not yet online).
pub fn plaintext_client(jid: &str, password: &str, addr: SocketAddr) -> Client {
    Client::new_plaintext(
        BareJid::new(jid).expect("jid"),
        password,
        DnsConfig::addr(&addr.to_string()),
        Timeouts::tight(),
    )
}

/// Waits until `c` is online.
pub async fn wait_online(c: &mut Client) {
    let online = tokio::time::timeout(Duration::from_secs(15), async {
        loop {
            match c.next().await {
                Some(Event::Online { .. }) => return,
                Some(_) => {}
                None => panic!("client ended"),
            }
        }
    })
    .await;
    assert!(online.is_ok(), "no login within 15 s");
}

/// Sends an echo IQ to the component and returns the answer's payload.
pub async fn echo(c: &mut Client, n: u32) -> Element {
    echo_to(c, COMPONENT, n).await
}

/// Sends an echo IQ to `to` and returns the answer's payload.
pub async fn echo_to(c: &mut Client, to: &str, n: u32) -> Element {
    let payload: Element = format!("<echo xmlns='{TEST_NS}'>{n}</echo>")
        .parse()
        .expect("xml");
    let token = tokio::time::timeout(
        Duration::from_secs(10),
        c.send_iq(Some(Jid::new(to).expect("jid")), IqRequest::Get(payload)),
    )
    .await
    .expect("IQ sent within 10 s");
    let resp = tokio::time::timeout(Duration::from_secs(10), token)
        .await
        .expect("answer within 10 s")
        .expect("answered");
    match resp {
        IqResponse::Result(Some(p)) => p,
        other => panic!("not a result: {other:?}"),
    }
}
