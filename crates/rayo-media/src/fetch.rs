//! Fetching the documents an output names by URL: `file://`, `http://` and `https://`, with a
//! per-URL cache that follows the response's caching headers.
//!
//! The HTTP client is `ureq` (rustls with ring, webpki roots; no gzip, cookies or JSON),
//! run on tokio's blocking pool. It is a small synchronous client on `std::net` whose tree
//! shares rustls/ring with the rest of the workspace; an async client (`reqwest`, `hyper`
//! with its connection pool) brings `hyper`, `h2`, `tower` and more for what is a handful of
//! prompt fetches before a component starts, which the blocking pool absorbs.
//!
//! The cache logic is sans-IO: [`Cache::lookup`] and [`Cache::update`] take `now`.
//! `Cache-Control: no-store` is never stored; `no-cache` (or `Pragma: no-cache`) is stored
//! but revalidated every time; `max-age` sets the freshness lifetime, else `Expires` minus
//! `Date`. A stale entry with an `ETag` or `Last-Modified` is revalidated with
//! `If-None-Match`/`If-Modified-Since`, and a `304` serves it again with renewed freshness.
//! A response with neither freshness nor validator is not stored.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// The largest document fetched, in bytes.
pub const MAX_BYTES: usize = 64 * 1024 * 1024;
/// The most URLs the cache keeps.
pub const MAX_ENTRIES: usize = 256;
/// How long one HTTP fetch may take.
pub const TIMEOUT: Duration = Duration::from_secs(10);
/// The `text/uri-list` content type (RFC 2483).
pub const URI_LIST: &str = "text/uri-list";

/// Why a document could not be fetched.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A URL of a scheme other than `file`, `http` and `https`.
    #[error("unsupported url {0:?}")]
    UnsupportedUrl(String),
    /// The server answered with a status other than 200 (or 304 to a revalidation).
    #[error("{url}: HTTP status {status}")]
    Status {
        /// The URL fetched.
        url: String,
        /// The status received.
        status: u16,
    },
    /// The connection or the file read failed.
    #[error("{url}: {reason}")]
    Transport {
        /// The URL fetched.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A document larger than [`MAX_BYTES`].
    #[error("{0}: larger than {MAX_BYTES} bytes")]
    TooLarge(String),
}

/// A fetched document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Fetched {
    /// Its content type, parameters included, if the source said (or the file name tells).
    pub content_type: Option<String>,
    /// The bytes.
    pub body: Arc<Vec<u8>>,
}

/// An HTTP response, as the cache sees it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Response {
    /// The status code.
    pub status: u16,
    /// The header fields, names in any case.
    pub headers: Vec<(String, String)>,
    /// The body.
    pub body: Vec<u8>,
}

impl Response {
    /// The first value of a header field.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

/// The validators to send when revalidating a stale entry.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Validators {
    /// For `If-None-Match`.
    pub etag: Option<String>,
    /// For `If-Modified-Since`.
    pub last_modified: Option<String>,
}

/// What the cache has for a URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// A fresh copy: no request needed.
    Fresh(Fetched),
    /// A stale copy: send a conditional request with these validators.
    Revalidate(Validators),
    /// Nothing.
    Miss,
}

#[derive(Debug, Clone)]
struct Entry {
    doc: Fetched,
    fresh_until: Option<Instant>,
    validators: Validators,
}

/// How long a response stays fresh from `now` (`None`: stale at once), and whether it may be
/// stored at all.
fn freshness(r: &Response, now: Instant) -> (bool, Option<Instant>) {
    let cc = r.header("cache-control").unwrap_or("").to_ascii_lowercase();
    let directives: Vec<&str> = cc.split(',').map(str::trim).collect();
    if directives.contains(&"no-store") {
        return (false, None);
    }
    let no_cache = directives.iter().any(|d| d.starts_with("no-cache"))
        || (cc.is_empty()
            && r.header("pragma")
                .is_some_and(|p| p.to_ascii_lowercase().contains("no-cache")));
    if no_cache {
        return (true, None);
    }
    let max_age = directives
        .iter()
        .find_map(|d| d.strip_prefix("max-age=")?.trim_matches('"').parse::<u64>().ok());
    let lifetime = max_age.map(Duration::from_secs).or_else(|| {
        let date = chrono::DateTime::parse_from_rfc2822(r.header("date")?).ok()?;
        let expires = chrono::DateTime::parse_from_rfc2822(r.header("expires")?).ok()?;
        (expires - date).to_std().ok()
    });
    (
        true,
        lifetime
            .filter(|d| !d.is_zero())
            .and_then(|d| now.checked_add(d)),
    )
}

/// The per-URL document cache (and the HTTP agent that fills it).
#[derive(Debug)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
    agent: ureq::Agent,
}

impl Default for Cache {
    fn default() -> Self {
        Self::new()
    }
}

impl Cache {
    /// An empty cache.
    pub fn new() -> Self {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .build()
            .into();
        Cache {
            entries: Mutex::new(HashMap::new()),
            agent,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// What the cache holds for `url` at `now`.
    pub fn lookup(&self, url: &str, now: Instant) -> Lookup {
        match self.lock().get(url) {
            Some(e) if e.fresh_until.is_some_and(|t| now < t) => Lookup::Fresh(e.doc.clone()),
            Some(e) => Lookup::Revalidate(e.validators.clone()),
            None => Lookup::Miss,
        }
    }

    /// Takes the response to a request for `url` made at `now`: stores what may be stored and
    /// returns the document (the cached one for a `304`).
    pub fn update(&self, url: &str, response: Response, now: Instant) -> Result<Fetched, Error> {
        let (store, fresh_until) = freshness(&response, now);
        let mut entries = self.lock();
        if response.status == 304 {
            if let Some(e) = entries.get_mut(url) {
                e.fresh_until = fresh_until;
                return Ok(e.doc.clone());
            }
        }
        if response.status != 200 {
            return Err(Error::Status {
                url: url.to_owned(),
                status: response.status,
            });
        }
        let validators = Validators {
            etag: response.header("etag").map(str::to_owned),
            last_modified: response.header("last-modified").map(str::to_owned),
        };
        let doc = Fetched {
            content_type: response.header("content-type").map(str::to_owned),
            body: Arc::new(response.body),
        };
        let worth = fresh_until.is_some() || validators != Validators::default();
        if store && worth {
            if entries.len() >= MAX_ENTRIES && !entries.contains_key(url) {
                let stalest = entries
                    .iter()
                    .min_by_key(|(_, e)| e.fresh_until)
                    .map(|(k, _)| k.clone());
                if let Some(k) = stalest {
                    entries.remove(&k);
                }
            }
            let entry = Entry {
                doc: doc.clone(),
                fresh_until,
                validators,
            };
            entries.insert(url.to_owned(), entry);
        } else {
            entries.remove(url);
        }
        Ok(doc)
    }

    /// Fetches `url` (through the cache for http and https).
    pub async fn fetch(&self, url: &str) -> Result<Fetched, Error> {
        let lower = url.to_ascii_lowercase();
        if lower.starts_with("file://") {
            let path = file_path(url)?;
            let owned = url.to_owned();
            return tokio::task::spawn_blocking(move || read_file(&owned, &path))
                .await
                .map_err(|e| transport(url, e))?;
        }
        if !lower.starts_with("http://") && !lower.starts_with("https://") {
            return Err(Error::UnsupportedUrl(url.chars().take(200).collect()));
        }
        let validators = match self.lookup(url, Instant::now()) {
            Lookup::Fresh(doc) => return Ok(doc),
            Lookup::Revalidate(v) => v,
            Lookup::Miss => Validators::default(),
        };
        let (agent, owned) = (self.agent.clone(), url.to_owned());
        let response = tokio::task::spawn_blocking(move || http_get(&agent, &owned, &validators))
            .await
            .map_err(|e| transport(url, e))??;
        self.update(url, response, Instant::now())
    }
}

fn transport(url: &str, e: impl std::fmt::Display) -> Error {
    Error::Transport {
        url: url.to_owned(),
        reason: e.to_string(),
    }
}

/// One GET, conditional when validators are given.
fn http_get(agent: &ureq::Agent, url: &str, v: &Validators) -> Result<Response, Error> {
    let mut req = agent.get(url);
    if let Some(etag) = &v.etag {
        req = req.header("If-None-Match", etag);
    }
    if let Some(lm) = &v.last_modified {
        req = req.header("If-Modified-Since", lm);
    }
    let mut resp = req.call().map_err(|e| transport(url, e))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = if status == 200 {
        resp.body_mut()
            .with_config()
            .limit(MAX_BYTES as u64)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Error::TooLarge(url.to_owned()),
                e => transport(url, e),
            })?
    } else {
        Vec::new()
    };
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// The path of a `file://` URL (host empty or `localhost`; `%XX` escapes decoded).
pub fn file_path(url: &str) -> Result<String, Error> {
    let rest = url.get(7..).unwrap_or("");
    let rest = rest.strip_prefix("localhost").unwrap_or(rest);
    if !rest.starts_with('/') {
        return Err(Error::UnsupportedUrl(url.chars().take(200).collect()));
    }
    let bytes = rest.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        match (bytes[i], bytes.get(i + 1).copied().and_then(hex), bytes.get(i + 2).copied().and_then(hex)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (b, _, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    String::from_utf8(out).map_err(|_| Error::UnsupportedUrl(url.chars().take(200).collect()))
}

/// The content type a file name suggests.
pub fn content_type_of(path: &str) -> Option<&'static str> {
    let ext = path.rsplit_once('.')?.1.to_ascii_lowercase();
    Some(match ext.as_str() {
        "wav" | "wave" => "audio/wav",
        "au" | "snd" | "ul" | "ulaw" => "audio/basic",
        "mp3" => "audio/mpeg",
        "ogg" | "oga" => "audio/ogg",
        "txt" => "text/plain",
        "ssml" => "application/ssml+xml",
        "uri" | "uris" | "urls" => URI_LIST,
        _ => return None,
    })
}

fn read_file(url: &str, path: &str) -> Result<Fetched, Error> {
    let meta = std::fs::metadata(path).map_err(|e| transport(url, e))?;
    if meta.len() > MAX_BYTES as u64 {
        return Err(Error::TooLarge(url.to_owned()));
    }
    let body = std::fs::read(path).map_err(|e| transport(url, e))?;
    Ok(Fetched {
        content_type: content_type_of(path).map(str::to_owned),
        body: Arc::new(body),
    })
}

/// The URLs of a `text/uri-list` document (RFC 2483): one per line, CRLF or LF, `#` lines are
/// comments, blank lines ignored.
pub fn parse_uri_list(text: &str) -> Vec<String> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
#[allow(clippy::expect_used, clippy::unwrap_used)]
mod tests {
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
        let (c, t0) = (Cache::new(), Instant::now());
        let doc = c
            .update("http://a/x", ok(&[("Cache-Control", "public, max-age=60")], b"x"), t0)
            .expect("200");
        assert_eq!(c.lookup("http://a/x", t0 + Duration::from_secs(59)), Lookup::Fresh(doc));
        assert_eq!(
            c.lookup("http://a/x", t0 + Duration::from_secs(60)),
            Lookup::Revalidate(Validators::default())
        );
    }

    #[test]
    fn no_store_is_not_kept_and_no_cache_is_always_revalidated() {
        let (c, t0) = (Cache::new(), Instant::now());
        c.update("http://a/1", ok(&[("cache-control", "no-store, max-age=60")], b"1"), t0)
            .expect("200");
        assert_eq!(c.lookup("http://a/1", t0), Lookup::Miss);
        c.update("http://a/2", ok(&[("Cache-Control", "no-cache"), ("ETag", "\"v1\"")], b"2"), t0)
            .expect("200");
        let v = Validators { etag: Some("\"v1\"".into()), last_modified: None };
        assert_eq!(c.lookup("http://a/2", t0), Lookup::Revalidate(v));
        // Neither freshness nor validators: nothing worth keeping.
        c.update("http://a/3", ok(&[], b"3"), t0).expect("200");
        assert_eq!(c.lookup("http://a/3", t0), Lookup::Miss);
    }

    #[test]
    fn expires_counts_from_date() {
        let (c, t0) = (Cache::new(), Instant::now());
        let h = [
            ("Date", "Sun, 06 Nov 1994 08:49:37 GMT"),
            ("Expires", "Sun, 06 Nov 1994 08:50:37 GMT"),
            ("Last-Modified", "Sat, 05 Nov 1994 08:00:00 GMT"),
        ];
        c.update("http://a/e", ok(&h, b"e"), t0).expect("200");
        assert!(matches!(c.lookup("http://a/e", t0 + Duration::from_secs(30)), Lookup::Fresh(_)));
        let Lookup::Revalidate(v) = c.lookup("http://a/e", t0 + Duration::from_secs(61)) else {
            panic!("stale");
        };
        assert_eq!(v.last_modified.as_deref(), Some(h[2].1));
    }

    #[test]
    fn not_modified_serves_the_cached_body_and_errors_are_not_cached() {
        let (c, t0) = (Cache::new(), Instant::now());
        c.update("http://a/n", ok(&[("ETag", "\"1\"")], b"body"), t0).expect("200");
        let r304 = Response { status: 304, headers: vec![("cache-control".into(), "max-age=5".into())], body: vec![] };
        let doc = c.update("http://a/n", r304, t0).expect("304");
        assert_eq!(doc.body.as_slice(), b"body");
        assert!(matches!(c.lookup("http://a/n", t0), Lookup::Fresh(_)));
        let e = c.update("http://a/m", Response { status: 404, ..Response::default() }, t0);
        assert_eq!(e, Err(Error::Status { url: "http://a/m".into(), status: 404 }));
    }

    #[test]
    fn uri_lists_skip_comments_and_blank_lines() {
        let l = "# a comment\r\nhttp://a/1.wav\r\n\r\n  file:///tmp/2.wav \n#x\n";
        assert_eq!(parse_uri_list(l), ["http://a/1.wav", "file:///tmp/2.wav"]);
        assert!(parse_uri_list("").is_empty());
    }

    #[test]
    fn file_urls_and_types() {
        assert_eq!(file_path("file:///tmp/a%20b.wav").expect("path"), "/tmp/a b.wav");
        assert_eq!(file_path("file://localhost/x").expect("path"), "/x");
        assert!(file_path("file://otherhost/x").is_err());
        assert_eq!(content_type_of("/a/b.WAV"), Some("audio/wav"));
        assert_eq!(content_type_of("/a/b"), None);
    }

    #[tokio::test]
    async fn files_and_unsupported_schemes() {
        let path = std::env::temp_dir().join(format!("rayo-fetch-{}.txt", std::process::id()));
        std::fs::write(&path, b"hello").expect("write");
        let c = Cache::new();
        let doc = c.fetch(&format!("file://{}", path.display())).await.expect("reads");
        assert_eq!((doc.content_type.as_deref(), doc.body.as_slice()), (Some("text/plain"), &b"hello"[..]));
        let _ = std::fs::remove_file(&path);
        assert!(matches!(c.fetch("ftp://x/y").await, Err(Error::UnsupportedUrl(_))));
        assert!(matches!(c.fetch("file:///no/such/file").await, Err(Error::Transport { .. })));
    }

    /// A tiny HTTP/1.1 server: `/cached` is fresh for a minute, `/etag` is revalidated every
    /// time (304 when `If-None-Match` matches), anything else is 404. Counts requests.
    async fn server(hits: Arc<AtomicUsize>) -> std::net::SocketAddr {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
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
                let reply = if req.starts_with("get /cached ") {
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nCache-Control: max-age=60\r\nContent-Length: 6\r\nConnection: close\r\n\r\ncached".to_owned()
                } else if req.starts_with("get /etag ") && req.contains("if-none-match: \"v1\"") {
                    "HTTP/1.1 304 Not Modified\r\nETag: \"v1\"\r\nConnection: close\r\n\r\n".to_owned()
                } else if req.starts_with("get /etag ") {
                    "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nETag: \"v1\"\r\nCache-Control: no-cache\r\nContent-Length: 4\r\nConnection: close\r\n\r\netag".to_owned()
                } else {
                    "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_owned()
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
        let c = Cache::new();
        let url = format!("http://{addr}/cached");
        for _ in 0..3 {
            let d = c.fetch(&url).await.expect("fetched");
            assert_eq!((d.content_type.as_deref(), d.body.as_slice()), (Some("text/plain"), &b"cached"[..]));
        }
        assert_eq!(hits.load(Ordering::SeqCst), 1, "fresh copies need no request");
        let url = format!("http://{addr}/etag");
        for _ in 0..2 {
            assert_eq!(c.fetch(&url).await.expect("fetched").body.as_slice(), b"etag");
        }
        assert_eq!(hits.load(Ordering::SeqCst), 3, "no-cache revalidates");
        let e = c.fetch(&format!("http://{addr}/missing")).await;
        assert!(matches!(e, Err(Error::Status { status: 404, .. })));
    }
}
