//! Tests of [`crate::fetch`].
#![allow(clippy::expect_used, clippy::unwrap_used, clippy::panic)]

use super::*;
use std::sync::atomic::{AtomicUsize, Ordering};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

fn ok(headers: &[(&str, &str)], body: &[u8]) -> Response {
    Response {
        status: 200,
        headers: headers
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect(),
        body: body.to_vec(),
    }
}

#[test]
fn max_age_keeps_a_copy_fresh_until_it_expires() {
    let (c, t0) = (Cache::default(), Instant::now());
    let doc = c
        .update(
            "http://a/x",
            ok(&[("Cache-Control", "public, max-age=60")], b"x"),
            t0,
        )
        .expect("200");
    assert_eq!(
        c.lookup("http://a/x", t0 + Duration::from_secs(59)),
        Lookup::Fresh(doc)
    );
    assert_eq!(
        c.lookup("http://a/x", t0 + Duration::from_secs(60)),
        Lookup::Revalidate(Validators::default())
    );
}

#[test]
fn no_store_is_not_kept_and_no_cache_is_always_revalidated() {
    let (c, t0) = (Cache::default(), Instant::now());
    c.update(
        "http://a/1",
        ok(&[("cache-control", "no-store, max-age=60")], b"1"),
        t0,
    )
    .expect("200");
    assert_eq!(c.lookup("http://a/1", t0), Lookup::Miss);
    c.update(
        "http://a/2",
        ok(&[("Cache-Control", "no-cache"), ("ETag", "\"v1\"")], b"2"),
        t0,
    )
    .expect("200");
    let v = Validators {
        etag: Some("\"v1\"".into()),
        last_modified: None,
    };
    assert_eq!(c.lookup("http://a/2", t0), Lookup::Revalidate(v));
    // Neither freshness nor validators: nothing worth keeping.
    c.update("http://a/3", ok(&[], b"3"), t0).expect("200");
    assert_eq!(c.lookup("http://a/3", t0), Lookup::Miss);
}

#[test]
fn expires_counts_from_date() {
    let (c, t0) = (Cache::default(), Instant::now());
    let h = [
        ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
        ("Expires", "Sun, 06 Nov 1994 08:50:37 GMT"),
        ("Last-Modified", "Sat, 05 Nov 1994 08:00:00 GMT"),
    ];
    c.update("http://a/e", ok(&h, b"e"), t0).expect("200");
    assert!(matches!(
        c.lookup("http://a/e", t0 + Duration::from_secs(30)),
        Lookup::Fresh(_)
    ));
    let Lookup::Revalidate(v) = c.lookup("http://a/e", t0 + Duration::from_secs(61)) else {
        panic!("stale");
    };
    assert_eq!(v.last_modified.as_deref(), Some(h[2].1));
}

#[test]
fn not_modified_serves_the_cached_body_and_errors_are_not_cached() {
    let (c, t0) = (Cache::default(), Instant::now());
    c.update("http://a/n", ok(&[("ETag", "\"1\"")], b"body"), t0)
        .expect("200");
    let r304 = Response {
        status: 304,
        headers: vec![("cache-control".into(), "max-age=5".into())],
        body: vec![],
    };
    let doc = c.update("http://a/n", r304, t0).expect("304");
    assert_eq!(doc.body.as_slice(), b"body");
    assert!(matches!(c.lookup("http://a/n", t0), Lookup::Fresh(_)));
    let e = c.update(
        "http://a/m",
        Response {
            status: 404,
            ..Response::default()
        },
        t0,
    );
    assert_eq!(
        e,
        Err(Error::Status {
            url: "http://a/m".into(),
            status: 404
        })
    );
}

#[test]
fn uri_lists_skip_comments_and_blank_lines() {
    let l = "# a comment\r\nhttp://a/1.wav\r\n\r\n  file:///tmp/2.wav \n#x\n";
    assert_eq!(parse_uri_list(l), ["http://a/1.wav", "file:///tmp/2.wav"]);
    assert!(parse_uri_list("").is_empty());
}

#[test]
fn file_urls_and_types() {
    assert_eq!(
        file_path("file:///tmp/a%20b.wav").expect("path"),
        "/tmp/a b.wav"
    );
    assert_eq!(file_path("file://localhost/x").expect("path"), "/x");
    assert!(file_path("file://otherhost/x").is_err());
    assert_eq!(content_type_of("/a/b.WAV"), Some("audio/wav"));
    assert_eq!(content_type_of("/a/b"), None);
}

/// A cache reading the temporary directory and `prefixes`, documents up to `max` bytes.
fn cache(prefixes: &[String], max: usize) -> Cache {
    Cache::new(Sources::new(&[std::env::temp_dir()], prefixes, max).expect("sources"))
}

#[tokio::test]
async fn files_and_unsupported_schemes() {
    let path = std::env::temp_dir().join(format!("rayo-fetch-{}.txt", std::process::id()));
    std::fs::write(&path, b"hello").expect("write");
    let c = cache(&[], 1000);
    let doc = c
        .fetch(&format!("file://{}", path.display()))
        .await
        .expect("reads");
    assert_eq!(
        (doc.content_type.as_deref(), doc.body.as_slice()),
        (Some("text/plain"), &b"hello"[..])
    );
    let _ = std::fs::remove_file(&path);
    assert!(matches!(
        c.fetch("ftp://x/y").await,
        Err(Error::UnsupportedUrl(_))
    ));
    let missing = std::env::temp_dir().join("rayo-fetch-no-such-file");
    assert!(matches!(
        c.fetch(&format!("file://{}", missing.display())).await,
        Err(Error::Refused(crate::sources::Refused::NotFound(_)))
    ));
    // Outside the allowed directory, a device, a directory: refused, nothing read.
    for url in [
        "file:///no/such/file",
        "file:///etc/hostname",
        "file:///dev/zero",
    ] {
        assert!(
            matches!(
                c.fetch(url).await,
                Err(Error::Refused(crate::sources::Refused::NotAllowed(_)))
            ),
            "{url}"
        );
    }
}

#[tokio::test]
async fn files_are_bounded_while_read() {
    let path = std::env::temp_dir().join(format!("rayo-fetch-{}-big.wav", std::process::id()));
    std::fs::write(&path, vec![0u8; 2001]).expect("write");
    let url = format!("file://{}", path.display());
    assert!(matches!(
        cache(&[], 2000).fetch(&url).await,
        Err(Error::TooLarge { max: 2000, .. })
    ));
    assert_eq!(
        cache(&[], 2001).fetch(&url).await.expect("fits").body.len(),
        2001
    );
    let _ = std::fs::remove_file(&path);
}

/// A tiny HTTP/1.1 server: `/cached` is fresh for a minute, `/etag` is revalidated every
/// time (304 when `If-None-Match` matches), anything else is 404. Counts requests.
async fn server(hits: Arc<AtomicUsize>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            hits.fetch_add(1, Ordering::SeqCst);
            let mut buf = vec![0; 4096];
            let mut n = 0;
            while !buf[..n].windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut buf[n..]).await {
                    Ok(0) | Err(_) => break,
                    Ok(k) => n += k,
                }
            }
            let req = String::from_utf8_lossy(&buf[..n]).to_ascii_lowercase();
            let reply = if req.starts_with("get /redirect ") {
                "HTTP/1.1 302 Found\r\nLocation: /cached\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
            } else if req.starts_with("get /big ") {
                format!(
                    "HTTP/1.1 200 OK\r\nContent-Length: 3000\r\nConnection: close\r\n\r\n{}",
                    "x".repeat(3000)
                )
            } else if req.starts_with("get /cached ") {
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=60\r\nContent-Length: 6\r\nConnection: close\r\n\r\ncached".to_owned()
            } else if req.starts_with("get /etag ") && req.contains("if-none-match: \"v1\"") {
                "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n".to_owned()
            } else if req.starts_with("get /etag ") {
                "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"v1\"\r\nCache-Control: no-cache\r\nContent-Length: 4\r\nConnection: close\r\n\r\netag".to_owned()
            } else {
                "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
                    .to_owned()
            };
            let _ = s.write_all(reply.as_bytes()).await;
            let _ = s.shutdown().await;
        }
    });
    addr
}

#[tokio::test]
async fn http_fetches_are_cached_and_revalidated() {
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = server(hits.clone()).await;
    let c = cache(&[format!("http://{addr}/")], 1000);
    let url = format!("http://{addr}/cached");
    for _ in 0..3 {
        let d = c.fetch(&url).await.expect("fetched");
        assert_eq!(
            (d.content_type.as_deref(), d.body.as_slice()),
            (Some("text/plain"), &b"cached"[..])
        );
    }
    assert_eq!(
        hits.load(Ordering::SeqCst),
        1,
        "fresh copies need no request"
    );
    let url = format!("http://{addr}/etag");
    for _ in 0..2 {
        assert_eq!(
            c.fetch(&url).await.expect("fetched").body.as_slice(),
            b"etag"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 3, "no-cache revalidates");
    let e = c.fetch(&format!("http://{addr}/missing")).await;
    assert!(matches!(e, Err(Error::Status { status: 404, .. })));
}

#[tokio::test]
async fn http_only_from_allowed_prefixes_no_redirect_bounded() {
    let hits = Arc::new(AtomicUsize::new(0));
    let addr = server(hits.clone()).await;
    let port = addr.port();
    let c = cache(&[format!("http://{addr}/cached/")], 1000);
    assert!(matches!(
        c.fetch(&format!("http://{addr}/etag")).await,
        Err(Error::Refused(crate::sources::Refused::NotAllowed(_)))
    ));
    assert_eq!(
        hits.load(Ordering::SeqCst),
        0,
        "a refused URL is never requested"
    );
    // `*` is any public host: a name resolving to loopback is refused when it is resolved,
    // and so is a loopback literal.
    let any = cache(&["*".into()], 1000);
    for url in [
        format!("http://localhost:{port}/cached"),
        format!("http://127.0.0.1:{port}/cached"),
    ] {
        let e = any.fetch(&url).await.expect_err("loopback refused");
        assert!(
            matches!(e, Error::Transport { .. } | Error::Refused(_)),
            "{url}: {e}"
        );
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no connection was made");
    // Redirects are not followed; bodies are bounded.
    let c = cache(&[format!("http://{addr}/")], 1000);
    assert!(matches!(
        c.fetch(&format!("http://{addr}/redirect")).await,
        Err(Error::Status { status: 302, .. })
    ));
    assert!(matches!(
        c.fetch(&format!("http://{addr}/big")).await,
        Err(Error::TooLarge { max: 1000, .. })
    ));
}
