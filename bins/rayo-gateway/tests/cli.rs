//! The `rayo-gateway` binary: checks configurations, starts, and drains on SIGTERM.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_rayo-gateway");

fn example() -> String {
    format!("{}/gateway.example.toml", env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn the_example_checks_and_a_broken_file_is_named_with_its_mistake() {
    let out = Command::new(BIN)
        .args(["--check-config", "--config", &example()])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    assert_eq!(
        String::from_utf8_lossy(&out.stdout).trim(),
        "configuration ok"
    );

    let dir = std::env::temp_dir().join(format!("rayo-gateway-cli-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let bad = dir.join("bad.toml");
    std::fs::write(
        &bad,
        "[gateway]\nbalance = \"random\"\n[c2s]\n[node_listener]\n",
    )
    .expect("file");
    let out = Command::new(BIN)
        .args(["--check-config", "--config"])
        .arg(&bad)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("gateway.balance"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn it_starts_on_a_configuration_prints_its_listeners_and_drains_on_sigterm() {
    let dir = std::env::temp_dir().join(format!("rayo-gateway-run-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let cfg = dir.join("gateway.toml");
    let text = format!(
        "[gateway]\ndrain_time = 1.0\n\
         [c2s]\nlisten = \"127.0.0.1:0\"\nself_signed_dir = \"{}\"\n\
         [[users]]\nname = \"rayo\"\npassword = \"pw\"\n\
         [node_listener]\nlisten = \"127.0.0.1:0\"\n\
         [[nodes]]\ndomain = \"node1.localhost\"\nsecret = \"s\"\n\
         [[applications]]\nname = \"dev\"\nclients = [\"rayo@localhost\"]\nuris = [\"*\"]\n",
        dir.join("tls").display()
    );
    std::fs::write(&cfg, text).expect("file");
    let mut child = Command::new(BIN)
        .arg("--config")
        .arg(&cfg)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("starts");
    let mut lines = BufReader::new(child.stdout.take().expect("stdout")).lines();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        seen.push(lines.next().expect("a line").expect("text"));
    }
    assert!(
        seen[0].starts_with("XMPP c2s (clients) on 127.0.0.1:"),
        "{seen:?}"
    );
    assert!(seen[1].starts_with("TLS certificate SHA-256 "), "{seen:?}");
    assert!(
        seen[2].starts_with("node listener (XEP-0114) on 127.0.0.1:"),
        "{seen:?}"
    );
    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .expect("kill")
        .success());
    let until = Instant::now() + Duration::from_secs(10);
    let status = loop {
        if let Some(s) = child.try_wait().expect("wait") {
            break s;
        }
        assert!(
            Instant::now() < until,
            "the gateway did not stop after SIGTERM"
        );
        std::thread::sleep(Duration::from_millis(50));
    };
    assert!(status.success(), "{status:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
