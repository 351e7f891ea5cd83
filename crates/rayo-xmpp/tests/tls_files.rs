//! The TLS key and the self-signed certificate's directory: made private, and refused when
//! another local user could have planted or changed them (Unix modes and owners).
#![cfg(unix)]
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::os::unix::fs::PermissionsExt;
use std::path::Path;

use common::tempdir::Dir;
use rayo_xmpp::tls::{TlsIdentity, TlsSource};

fn mode(p: &Path) -> u32 {
    std::fs::metadata(p).expect("exists").permissions().mode() & 0o777
}

fn chmod(p: &Path, mode: u32) {
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode)).expect("chmod");
}

fn self_signed(dir: &Path) -> TlsSource {
    TlsSource::SelfSigned {
        dir: dir.to_owned(),
    }
}

#[test]
fn a_fresh_self_signed_directory_is_0700_and_its_key_0600() {
    let base = Dir::new("tls-fresh");
    let dir = base.path().join("state").join("tls");
    TlsIdentity::load(&self_signed(&dir), "localhost").expect("generated");
    assert_eq!(mode(&dir), 0o700);
    assert_eq!(mode(&dir.join("key.pem")), 0o600);
    // Reused on the next start.
    TlsIdentity::load(&self_signed(&dir), "localhost").expect("reused");
}

#[test]
fn a_world_writable_self_signed_directory_is_refused() {
    let base = Dir::new("tls-dir777");
    let dir = base.path().join("tls");
    std::fs::create_dir(&dir).expect("dir");
    chmod(&dir, 0o777);
    let err = TlsIdentity::load(&self_signed(&dir), "localhost")
        .expect_err("a 0777 directory is refused")
        .to_string();
    assert!(err.contains(&dir.display().to_string()), "{err}");
    assert!(err.contains("writable by group or others"), "{err}");
    assert!(!dir.join("key.pem").exists(), "nothing generated into it");
}

#[test]
fn a_planted_writable_self_signed_key_is_refused() {
    let base = Dir::new("tls-key666");
    let dir = base.path().join("tls");
    TlsIdentity::load(&self_signed(&dir), "localhost").expect("generated");
    let key = dir.join("key.pem");
    chmod(&key, 0o666);
    let err = TlsIdentity::load(&self_signed(&dir), "localhost")
        .expect_err("a 0666 key is refused")
        .to_string();
    assert!(err.contains(&key.display().to_string()), "{err}");
    assert!(err.contains("writable by group or others"), "{err}");
}

#[test]
fn a_configured_key_writable_by_others_or_in_a_shared_directory_is_refused() {
    let base = Dir::new("tls-files");
    let made = base.path().join("made");
    TlsIdentity::load(&self_signed(&made), "localhost").expect("generated");
    let files = TlsSource::Files {
        cert: made.join("cert.pem"),
        key: made.join("key.pem"),
    };
    TlsIdentity::load(&files, "localhost").expect("a private key loads");

    chmod(&made.join("key.pem"), 0o666);
    let err = TlsIdentity::load(&files, "localhost")
        .expect_err("a 0666 key is refused")
        .to_string();
    assert!(
        err.contains(&made.join("key.pem").display().to_string()),
        "{err}"
    );

    chmod(&made.join("key.pem"), 0o600);
    chmod(&made, 0o777);
    let err = TlsIdentity::load(&files, "localhost")
        .expect_err("a key in a 0777 directory is refused")
        .to_string();
    assert!(err.contains(&made.display().to_string()), "{err}");
    assert!(err.contains("writable by group or others"), "{err}");
    chmod(&made, 0o700);
}

/// Issue 12 §15: a key file owned by another user (who could have planted or may change it)
/// is refused, whatever its mode. Run as root, the test hands a fresh key to another uid
/// (`nobody`, else the first of a few that this system maps); run as anyone else, it points
/// at a system file another user owns and nobody else may write (`/etc/passwd`, …): either
/// way the owner is not this user.
#[cfg(target_os = "linux")]
#[test]
fn a_configured_key_owned_by_another_user_is_refused() {
    use std::os::unix::fs::MetadataExt;
    let base = Dir::new("tls-owner");
    let made = base.path().join("made");
    TlsIdentity::load(&self_signed(&made), "localhost").expect("generated");
    let me = std::fs::metadata("/proc/self").expect("proc").uid();
    let (key, other) = if me == 0 {
        let key = made.join("key.pem");
        let other = [65_534, 1, 2, 1000]
            .into_iter()
            .find(|uid| std::os::unix::fs::chown(&key, Some(*uid), None).is_ok())
            .expect("root can hand a file to another uid");
        (key, other)
    } else {
        ["/etc/passwd", "/etc/hosts", "/etc/os-release", "/bin/sh"]
            .iter()
            .map(std::path::PathBuf::from)
            .filter_map(|p| std::fs::metadata(&p).ok().map(|m| (p, m)))
            .find(|(_, m)| m.uid() != me && m.mode() & 0o022 == 0)
            .map(|(p, m)| (p, m.uid()))
            .expect("a system file another user owns")
    };
    let files = TlsSource::Files {
        cert: made.join("cert.pem"),
        key: key.clone(),
    };
    let err = TlsIdentity::load(&files, "localhost")
        .expect_err("a key owned by another user is refused")
        .to_string();
    assert!(err.contains(&key.display().to_string()), "{err}");
    assert!(
        err.contains(&format!(
            "owned by uid {other}, not by this user (uid {me})"
        )),
        "{err}"
    );
}
