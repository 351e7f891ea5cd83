//! The c2s listener against slixmpp (Debian `python3-slixmpp`), driven by
//! `tests/xmpp/slix_client.py`: SCRAM login over STARTTLS, IQ round trip, disco#info,
//! presence; a wrong password refused.
#![allow(missing_docs, clippy::unwrap_used, clippy::expect_used, clippy::panic)]

mod common;

use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use common::*;

const PYTHON: &str = "/usr/bin/python3";

fn script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../tests/xmpp/slix_client.py")
}

fn require_slixmpp() {
    let ok = std::process::Command::new(PYTHON)
        .args(["-c", "import slixmpp"])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    assert!(
        ok,
        "slixmpp is missing: this test needs {PYTHON} with slixmpp (Debian package python3-slixmpp)"
    );
}

async fn run(l: &TestListener, user: &str, password: &str, mode: &str) -> (bool, String, String) {
    let cafile = l.dir.path().join("cert.pem");
    let addr = l.listener.local_addr();
    let child = tokio::process::Command::new(PYTHON)
        .arg(script())
        .args([
            addr.ip().to_string(),
            addr.port().to_string(),
            format!("{user}@{DOMAIN}/slix"),
            password.to_owned(),
            cafile.display().to_string(),
            mode.to_owned(),
        ])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("start the slixmpp script");
    let out = tokio::time::timeout(Duration::from_secs(40), child.wait_with_output())
        .await
        .expect("slixmpp script finished within 40 s")
        .expect("slixmpp script ran");
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slixmpp_scram_login_iq_disco_presence() {
    require_slixmpp();
    // Without PLAIN, slixmpp must use SCRAM.
    let l = start_listener(|c| c.offer_plain = false).await;
    let (ok, stdout, stderr) = run(&l, "juliet", "r0m30", "session").await;
    assert!(
        ok,
        "slixmpp session failed\nstdout:\n{stdout}\nstderr:\n{stderr}"
    );
    for check in [
        "OK auth",
        "OK session juliet@rayo.test/",
        "OK iq",
        "OK disco",
        "OK presence",
    ] {
        assert!(
            stdout.contains(check),
            "missing {check:?}\nstdout:\n{stdout}\nstderr:\n{stderr}"
        );
    }
    l.listener.shutdown();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slixmpp_wrong_password_is_refused() {
    require_slixmpp();
    let l = start_listener(|c| c.offer_plain = false).await;
    let (ok, stdout, stderr) = run(&l, "juliet", "wrong", "wrong-password").await;
    assert!(
        ok && stdout.contains("AUTH_FAILED"),
        "stdout:\n{stdout}\nstderr:\n{stderr}"
    );
    l.listener.shutdown();
}
