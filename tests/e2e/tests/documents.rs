//! Issue 12 §5–6: what a client can make the node read. Documents and grammars come only
//! from the sources the operator listed (`[documents]`), refusals quote nothing read, and
//! nothing is fetched for a command the engine refuses.
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use rayo_client::proto::event::{CompleteReason, OutputReason};
use rayo_client::{Error, InputSpec, Output};
use rayo_e2e::{next_offer, Sipp, TestNode, WAIT};

/// An HTTP server on loopback answering every GET with a short WAV; counts connections.
async fn wav_server(hits: Arc<AtomicUsize>) -> std::net::SocketAddr {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let tone: Vec<i16> = (0..4000).map(|i| ((i % 40) * 500 - 10000) as i16).collect();
    let wav = rayo_media::audio::encode_wav(&tone, 8000, 1);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            hits.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0; 4096];
            let _ = s.read(&mut buf).await;
            let head = format!(
                "HTTP/1.1 200 OK\r\nContent-Type: audio/wav\r\nContent-Length: {}\r\n\
                 Connection: close\r\n\r\n",
                wav.len()
            );
            let _ = s.write_all(head.as_bytes()).await;
            let _ = s.write_all(&wav).await;
            let _ = s.shutdown().await;
        }
    });
    addr
}

/// The condition and text of a refused command.
fn refused(r: Result<impl std::fmt::Debug, Error>) -> (String, String) {
    match r {
        Err(e @ Error::Stanza { .. }) => (
            e.condition_name().unwrap_or("").to_owned(),
            match e {
                Error::Stanza { text, .. } => text.unwrap_or_default(),
                _ => String::new(),
            },
        ),
        other => panic!("expected a stanza error, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_client_makes_the_node_read_only_what_the_operator_allowed() {
    let hits = Arc::new(AtomicUsize::new(0));
    let web = wav_server(hits.clone()).await;
    let node = TestNode::start(|cfg| {
        cfg.documents.http_prefixes = vec![format!("http://{web}/ok/")];
    })
    .await;
    let key = node.dir.0.join("tls").join("key.pem");

    // A logged-in user with no call: refused by the engine, and nothing is fetched.
    let (stranger, _) = node.bot("stranger").await;
    let nowhere = stranger.mixer("nosuchmixer").expect("a mixer handle");
    let (condition, _) = refused(
        nowhere
            .output(Output::url(format!("http://{web}/ok/a.wav")))
            .await,
    );
    assert_eq!(condition, "item-not-found");
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "nothing fetched for a refused command"
    );

    let (_client, mut offers) = node.bot("bot").await;
    let sipp = Sipp::start(
        "uac_node_hangs_up.xml",
        Some(node.node.sip_addr()),
        "docs",
        &[],
        None,
    );
    let call = next_offer(&mut offers).await.call;
    call.answer([]).await.expect("answered");
    assert!(key.exists(), "the node's TLS key is at {}", key.display());

    // Files outside the allowed directory, devices, other hosts and other paths: not-allowed,
    // and the text quotes nothing of what is there.
    for url in [
        "file:///etc/passwd".to_owned(),
        "file:///dev/zero".to_owned(),
        format!("file://{}", key.display()),
        format!("file://{}/../tls/key.pem", node.prompts().display()),
        format!("http://{web}/other/a.wav"),
        "http://169.254.169.254/latest/meta-data/".to_owned(),
    ] {
        let (condition, text) = refused(call.output(Output::url(url.clone())).await);
        assert_eq!(condition, "not-allowed", "{url}: {text}");
        assert!(
            !text.contains("root:") && !text.contains("PRIVATE"),
            "{text}"
        );
        let mut grammar = InputSpec::builtin("builtin:dtmf/boolean");
        grammar.inner.grammars[0].url = Some(url.clone());
        let (condition, text) = refused(call.input(grammar).await);
        assert_eq!(condition, "not-allowed", "grammar {url}: {text}");
        assert!(
            !text.contains("root:") && !text.contains("PRIVATE"),
            "{text}"
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "no refused URL was requested"
    );

    // A file in the allowed directory that is not a grammar: refused, its content not quoted.
    let secret = node.prompts().join("notes.grxml");
    std::fs::write(&secret, "TOPSECRET not a grammar").expect("write");
    let mut grammar = InputSpec::builtin("builtin:dtmf/boolean");
    grammar.inner.grammars[0].url = Some(format!("file://{}", secret.display()));
    let (condition, text) = refused(call.input(grammar).await);
    assert_eq!(condition, "bad-request", "{text}");
    assert!(!text.contains("TOPSECRET"), "{text}");

    // What the operator allowed plays.
    let played = call
        .output(Output::url(format!("http://{web}/ok/a.wav")))
        .await
        .expect("an allowed URL plays");
    let done = tokio::time::timeout(WAIT, played.complete())
        .await
        .expect("in time")
        .expect("completes");
    assert_eq!(done.reason, CompleteReason::Output(OutputReason::Finish));
    assert_eq!(hits.load(Ordering::SeqCst), 1);
    call.hangup([]).await.expect("hung up");
    sipp.passed().await;
    node.node.shutdown_within(std::time::Duration::ZERO).await;
}
