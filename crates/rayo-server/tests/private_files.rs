//! The node refuses a TLS key or a recording directory another local user could have
//! planted or could read into, and makes its own state private (Unix modes).
#![cfg(unix)]
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::os::unix::fs::{DirBuilderExt, PermissionsExt};
use std::path::{Path, PathBuf};

use rayo_server::config::Config;
use rayo_server::Node;

/// A `0700` directory under the temporary directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        let p =
            std::env::temp_dir().join(format!("rayo-server-private-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::DirBuilder::new()
            .mode(0o700)
            .create(&p)
            .expect("scratch directory");
        Scratch(p)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

/// A node on loopback ports chosen by the OS, its state under `dir`.
fn config(dir: &Path) -> Config {
    let mut cfg = Config::embedded("pw");
    cfg.sip.listen = "127.0.0.1:0".parse().unwrap();
    if let Some(c) = &mut cfg.c2s {
        c.listen = "127.0.0.1:0".parse().unwrap();
        c.self_signed_dir = dir.join("tls");
    }
    cfg.recording.dir = dir.join("recordings");
    cfg
}

async fn refused(cfg: Config) -> String {
    match Node::start(cfg).await {
        Ok(_) => panic!("the node started"),
        Err(e) => e.to_string(),
    }
}

#[tokio::test]
async fn a_fresh_start_makes_its_directories_0700_and_its_key_0600() {
    let s = Scratch::new("fresh");
    let node = Node::start(config(&s.0)).await.expect("the node starts");
    assert!(node.fingerprint().is_some());
    assert_eq!(mode(&s.0.join("tls")), 0o700);
    assert_eq!(mode(&s.0.join("tls").join("key.pem")), 0o600);
    assert_eq!(mode(&s.0.join("recordings")), 0o700);
}

#[tokio::test]
async fn a_world_writable_key_stops_the_start_naming_it() {
    let s = Scratch::new("key666");
    let tls = s.0.join("tls");
    let node = Node::start(config(&s.0)).await.expect("the node starts");
    drop(node);
    let key = tls.join("key.pem");
    chmod(&key, 0o666);
    let err = refused(config(&s.0)).await;
    assert!(err.contains(&key.display().to_string()), "{err}");
    assert!(err.contains("writable by group or others"), "{err}");

    // The same key configured explicitly.
    let mut cfg = config(&s.0);
    if let Some(c) = &mut cfg.c2s {
        c.cert = Some(tls.join("cert.pem"));
        c.key = Some(key.clone());
    }
    let err = refused(cfg).await;
    assert!(err.contains(&key.display().to_string()), "{err}");
}

#[tokio::test]
async fn a_world_writable_recording_directory_stops_the_start_naming_it() {
    let s = Scratch::new("rec777");
    let rec = s.0.join("recordings");
    std::fs::create_dir(&rec).expect("dir");
    chmod(&rec, 0o777);
    let err = refused(config(&s.0)).await;
    assert!(err.contains("[recording] dir"), "{err}");
    assert!(err.contains(&rec.display().to_string()), "{err}");
    assert!(err.contains("writable by group or others"), "{err}");
}

#[tokio::test]
async fn a_world_writable_self_signed_directory_stops_the_start_naming_it() {
    let s = Scratch::new("tls777");
    let tls = s.0.join("tls");
    std::fs::create_dir(&tls).expect("dir");
    chmod(&tls, 0o777);
    let err = refused(config(&s.0)).await;
    assert!(err.contains(&tls.display().to_string()), "{err}");
    assert!(!tls.join("key.pem").exists(), "no key generated into it");
}

#[test]
fn the_default_state_lives_in_a_private_directory_not_the_shared_temp_one() {
    let cfg = Config::embedded("pw");
    let tls = &cfg.c2s.as_ref().expect("c2s").self_signed_dir;
    let rec = &cfg.recording.dir;
    assert!(tls.ends_with("tls") && rec.ends_with("recordings"));
    assert_eq!(tls.parent(), rec.parent(), "one state directory");
    if std::env::var_os("HOME").is_some() || std::env::var_os("XDG_STATE_HOME").is_some() {
        let tmp = std::env::temp_dir();
        assert!(!tls.starts_with(&tmp), "{}", tls.display());
        assert!(tls.ends_with("rayo-node/tls"), "{}", tls.display());
    }
}
