//! Fetching the documents an output names by URL: `file://`, `http://` and `https://`, with a
//! per-URL cache that follows the response's caching headers.
//!
//! The HTTP client is `ureq` (rustls with ring, webpki roots; no gzip, cookies or JSON),
//! run on tokio's blocking pool. It is a small synchronous client on `std::net` whose tree
//! shares rustls/ring with the rest of the workspace; an async client (`reqwest`, `hyper`
//! with its connection pool) brings `hyper`, `h2`, `tower` and more for what is a handful of
//! prompt fetches before a component starts, which the blocking pool absorbs.
//!
//! Only what the operator allowed is read ([`crate::sources::Sources`]): every fetch, the
//! URLs of a `text/uri-list` included, is checked first; redirects are not followed (a
//! `3xx` is refused like any other status), no proxy is used, and the addresses a name
//! resolves to are checked when the connection is made. Documents are bounded while they are
//! read. Error texts quote the URL, never what was read.
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

use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{DefaultConnector, NextTimeout};

use crate::sources::Sources;

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
    /// A URL the operator's allow-list refuses, or a file under it that does not exist.
    #[error(transparent)]
    Refused(#[from] crate::sources::Refused),
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
    /// A document larger than the configured bound.
    #[error("{url}: larger than {max} bytes")]
    TooLarge {
        /// The URL fetched.
        url: String,
        /// The bound.
        max: usize,
    },
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
    let max_age = directives.iter().find_map(|d| {
        d.strip_prefix("max-age=")?
            .trim_matches('"')
            .parse::<u64>()
            .ok()
    });
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

/// Samples rendered from a URL, with the fingerprint of the bytes they were rendered from.
type Rendered = (u64, Arc<Vec<i16>>);

/// The per-URL document cache (and the HTTP agent that fills it).
#[derive(Debug)]
pub struct Cache {
    entries: Mutex<HashMap<String, Entry>>,
    /// Audio already rendered from a URL, by the URL and a fingerprint of the bytes it was
    /// rendered from: every call playing the same prompt shares one copy of its samples.
    rendered: Mutex<HashMap<String, Rendered>>,
    agent: ureq::Agent,
    sources: Arc<Sources>,
}

/// The most rendered documents [`Cache`] keeps (beyond, the oldest half is dropped).
pub const MAX_RENDERED: usize = 512;

/// A fingerprint of a document's bytes (length and SipHash of the content).
pub fn fingerprint(bytes: &[u8]) -> u64 {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    bytes.len().hash(&mut h);
    bytes.hash(&mut h);
    h.finish()
}

impl Default for Cache {
    /// A cache that may read nothing.
    fn default() -> Self {
        Self::new(Sources::default())
    }
}

/// The resolver of the HTTP agent: the system's, keeping only public addresses for a host
/// no explicit prefix names.
#[derive(Debug)]
struct GuardedResolver {
    sources: Arc<Sources>,
    inner: DefaultResolver,
}

impl Resolver for GuardedResolver {
    fn resolve(
        &self,
        uri: &ureq::http::Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let all = self.inner.resolve(uri, config, timeout)?;
        let https = uri.scheme_str() == Some("https");
        let (host, port) = match uri.authority() {
            Some(a) => (
                a.host(),
                a.port_u16().unwrap_or(if https { 443 } else { 80 }),
            ),
            None => return Err(ureq::Error::HostNotFound),
        };
        if self.sources.trusted_host(host, port) {
            return Ok(all);
        }
        let mut kept = self.empty();
        for a in all.iter().filter(|a| crate::sources::is_public(a.ip())) {
            kept.push(*a);
        }
        if kept.is_empty() {
            tracing::info!(%host, "document host refused: it resolves to no public address");
            return Err(ureq::Error::HostNotFound);
        }
        Ok(kept)
    }
}

impl Cache {
    /// An empty cache reading only from `sources`.
    pub fn new(sources: Sources) -> Self {
        let sources = Arc::new(sources);
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_global(Some(TIMEOUT))
            .max_redirects(0)
            .proxy(None)
            .build();
        let resolver = GuardedResolver {
            sources: sources.clone(),
            inner: DefaultResolver::default(),
        };
        let agent = ureq::Agent::with_parts(config, DefaultConnector::default(), resolver);
        Cache {
            entries: Mutex::new(HashMap::new()),
            rendered: Mutex::new(HashMap::new()),
            agent,
            sources,
        }
    }

    /// The audio rendered earlier from `url` when its bytes had fingerprint `fp`.
    pub fn rendered(&self, url: &str, fp: u64) -> Option<Arc<Vec<i16>>> {
        let r = self
            .rendered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        r.get(url).filter(|(f, _)| *f == fp).map(|(_, s)| s.clone())
    }

    /// Keeps the audio rendered from `url`'s bytes of fingerprint `fp`.
    pub fn keep_rendered(&self, url: &str, fp: u64, samples: Arc<Vec<i16>>) {
        let mut r = self
            .rendered
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if r.len() >= MAX_RENDERED {
            let drop: Vec<String> = r.keys().take(MAX_RENDERED / 2).cloned().collect();
            for k in drop {
                r.remove(&k);
            }
        }
        r.insert(url.to_owned(), (fp, samples));
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

    /// Fetches `url` (through the cache for http and https), if the allow-list lets it.
    pub async fn fetch(&self, url: &str) -> Result<Fetched, Error> {
        let lower = url.to_ascii_lowercase();
        let max = self.sources.max_bytes();
        if lower.starts_with("file://") {
            let path = file_path(url)?;
            let owned = url.to_owned();
            let sources = self.sources.clone();
            return tokio::task::spawn_blocking(move || {
                let resolved = sources.check_file(&owned, &path)?;
                read_file(&owned, &resolved, max)
            })
            .await
            .map_err(|e| transport(url, e))?;
        }
        if !lower.starts_with("http://") && !lower.starts_with("https://") {
            return Err(Error::UnsupportedUrl(url.chars().take(200).collect()));
        }
        self.sources.check_http(url)?;
        let validators = match self.lookup(url, Instant::now()) {
            Lookup::Fresh(doc) => return Ok(doc),
            Lookup::Revalidate(v) => v,
            Lookup::Miss => Validators::default(),
        };
        let (agent, owned) = (self.agent.clone(), url.to_owned());
        let response =
            tokio::task::spawn_blocking(move || http_get(&agent, &owned, &validators, max))
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

/// What a failed HTTP exchange is called in an error text: the kind of failure only, so
/// that texts say nothing about hosts beyond whether they answered.
fn http_failure(url: &str, e: &ureq::Error) -> Error {
    tracing::debug!(%url, error = %e, "document fetch failed");
    let reason = match e {
        ureq::Error::Timeout(_) => "timed out",
        ureq::Error::HostNotFound => "host not found or not allowed",
        _ => "the connection failed",
    };
    transport(url, reason)
}

/// One GET, conditional when validators are given, its body at most `max` bytes.
fn http_get(agent: &ureq::Agent, url: &str, v: &Validators, max: usize) -> Result<Response, Error> {
    let mut req = agent.get(url);
    if let Some(etag) = &v.etag {
        req = req.header("If-None-Match", etag);
    }
    if let Some(lm) = &v.last_modified {
        req = req.header("If-Modified-Since", lm);
    }
    let mut resp = req.call().map_err(|e| http_failure(url, &e))?;
    let status = resp.status().as_u16();
    let headers = resp
        .headers()
        .iter()
        .filter_map(|(k, v)| Some((k.as_str().to_owned(), v.to_str().ok()?.to_owned())))
        .collect();
    let body = if status == 200 {
        resp.body_mut()
            .with_config()
            .limit(max as u64)
            .read_to_vec()
            .map_err(|e| match e {
                ureq::Error::BodyExceedsLimit(_) => Error::TooLarge {
                    url: url.to_owned(),
                    max,
                },
                e => http_failure(url, &e),
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
        match (
            bytes[i],
            bytes.get(i + 1).copied().and_then(hex),
            bytes.get(i + 2).copied().and_then(hex),
        ) {
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

/// Reads an allowed regular file, at most `max` bytes (counted while reading: a file that
/// grows, or lies about its size, is stopped at the bound).
fn read_file(url: &str, path: &std::path::Path, max: usize) -> Result<Fetched, Error> {
    use std::io::Read;
    let too_large = || Error::TooLarge {
        url: url.to_owned(),
        max,
    };
    let file = std::fs::File::open(path).map_err(|e| transport(url, e.kind()))?;
    let meta = file.metadata().map_err(|e| transport(url, e.kind()))?;
    if !meta.is_file() {
        return Err(crate::sources::Refused::NotAllowed(url.chars().take(200).collect()).into());
    }
    if meta.len() > max as u64 {
        return Err(too_large());
    }
    let mut body = Vec::new();
    file.take(max as u64 + 1)
        .read_to_end(&mut body)
        .map_err(|e| transport(url, e.kind()))?;
    if body.len() > max {
        return Err(too_large());
    }
    Ok(Fetched {
        content_type: path.to_str().and_then(content_type_of).map(str::to_owned),
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
#[path = "fetch_tests.rs"]
mod tests;
