//! Where documents and grammars may come from: the operator's allow-list.
//!
//! A client names URLs in its commands; the node reads only what the operator allowed:
//! `file:` URLs under configured directories (after every symlink and `..` is resolved, and
//! only regular files), `http(s):` URLs under configured prefixes. With no source configured
//! every URL is refused. The prefix `*` allows any public host: the addresses a name resolves
//! to are checked when the connection is made (so a name re-pointed between check and
//! connect does not get through), and loopback, private, link-local, shared, multicast and
//! reserved addresses are refused. A host named by an explicit prefix is trusted whatever
//! it resolves to: the operator chose it.
//!
//! Refusals quote the URL the client sent, never anything read.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::path::{Component, Path, PathBuf};

use ureq::http::Uri;

/// The default bound on one document, in bytes.
pub const DEFAULT_MAX_BYTES: usize = 16 * 1024 * 1024;

/// An allowed `http(s)` URL prefix.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Prefix {
    https: bool,
    /// Lowercase.
    host: String,
    port: u16,
    /// Starts and ends with `/`.
    path: String,
}

/// Why a configured source was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// A prefix that is not `*` nor `http(s)://host[:port]/path/`.
    #[error(
        "document source {0:?}: an http(s) prefix is `*` or `http(s)://host[:port]/path/` \
         (no user info, no query, ending with `/`)"
    )]
    Prefix(String),
    /// A directory that is not absolute or cannot be resolved.
    #[error("document directory {path:?}: {reason}")]
    Dir {
        /// The directory configured.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
}

/// A URL the allow-list lets through, and how to read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Allowed {
    /// A regular file, by its resolved path.
    File(PathBuf),
    /// An `http(s)` URL; `public_only` when it was let through by `*` alone (its addresses
    /// must then be public).
    Http {
        /// Whether only public addresses may be reached.
        public_only: bool,
    },
}

/// Why a URL was refused by the allow-list.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum Refused {
    /// The URL is under no configured source.
    #[error("{0} is not among the sources this node may read documents from")]
    NotAllowed(String),
    /// A file URL under an allowed directory that does not exist.
    #[error("{0}: no such file")]
    NotFound(String),
}

/// The operator's allow-list of document sources.
#[derive(Debug, Clone)]
pub struct Sources {
    dirs: Vec<PathBuf>,
    prefixes: Vec<Prefix>,
    any_public: bool,
    max_bytes: usize,
}

impl Default for Sources {
    /// Nothing allowed.
    fn default() -> Self {
        Sources {
            dirs: Vec::new(),
            prefixes: Vec::new(),
            any_public: false,
            max_bytes: DEFAULT_MAX_BYTES,
        }
    }
}

fn url_cut(url: &str) -> String {
    url.chars().take(200).collect()
}

fn parse_prefix(p: &str) -> Option<Prefix> {
    let uri: Uri = p.parse().ok()?;
    let https = match uri.scheme_str()? {
        s if s.eq_ignore_ascii_case("https") => true,
        s if s.eq_ignore_ascii_case("http") => false,
        _ => return None,
    };
    let authority = uri.authority()?;
    if authority.as_str().contains('@') || uri.query().is_some() || !p.ends_with('/') {
        return None;
    }
    Some(Prefix {
        https,
        host: authority.host().to_ascii_lowercase(),
        port: authority.port_u16().unwrap_or(if https { 443 } else { 80 }),
        path: uri.path().to_owned(),
    })
}

/// Whether a path is absolute and made of plain names only (no `.` or `..`).
fn plain(path: &Path) -> bool {
    path.is_absolute()
        && path
            .components()
            .all(|c| matches!(c, Component::RootDir | Component::Normal(_)))
}

impl Sources {
    /// An allow-list of `dirs` for `file:` URLs and `prefixes` for `http(s):` URLs (`*`:
    /// any public host), each document at most `max_bytes`. Directories are resolved now
    /// (they must exist).
    pub fn new(
        dirs: &[PathBuf],
        prefixes: &[String],
        max_bytes: usize,
    ) -> Result<Self, ConfigError> {
        let mut s = Sources {
            max_bytes,
            ..Sources::default()
        };
        for d in dirs {
            let bad = |reason: String| ConfigError::Dir {
                path: d.clone(),
                reason,
            };
            if !d.is_absolute() {
                return Err(bad("not an absolute path".into()));
            }
            let resolved = d.canonicalize().map_err(|e| bad(e.to_string()))?;
            if !resolved.is_dir() {
                return Err(bad("not a directory".into()));
            }
            s.dirs.push(resolved);
        }
        for p in prefixes {
            if p == "*" {
                s.any_public = true;
            } else {
                s.prefixes
                    .push(parse_prefix(p).ok_or_else(|| ConfigError::Prefix(p.clone()))?);
            }
        }
        Ok(s)
    }

    /// The most bytes of one document.
    pub fn max_bytes(&self) -> usize {
        self.max_bytes
    }

    /// Whether `host:port` is named by an explicit prefix (its addresses are trusted).
    pub fn trusted_host(&self, host: &str, port: u16) -> bool {
        self.prefixes
            .iter()
            .any(|p| p.port == port && p.host.eq_ignore_ascii_case(host))
    }

    /// Whether a `file:` path (already decoded) is allowed, and the file it resolves to.
    /// Nothing outside the allowed directories is touched: the path is first checked as
    /// written, then resolved and checked again.
    pub fn check_file(&self, url: &str, path: &str) -> Result<PathBuf, Refused> {
        let path = Path::new(path);
        let refused = || Refused::NotAllowed(url_cut(url));
        let under = |d: &PathBuf| path.starts_with(d) || under_resolved(path, d);
        if !plain(path) || !self.dirs.iter().any(under) {
            return Err(refused());
        }
        let resolved = match path.canonicalize() {
            Ok(p) => p,
            Err(_) => return Err(Refused::NotFound(url_cut(url))),
        };
        if !self.dirs.iter().any(|d| resolved.starts_with(d)) {
            return Err(refused());
        }
        match std::fs::metadata(&resolved) {
            Ok(m) if m.is_file() => Ok(resolved),
            Ok(_) => Err(refused()),
            Err(_) => Err(Refused::NotFound(url_cut(url))),
        }
    }

    /// Whether an `http(s):` URL is allowed.
    pub fn check_http(&self, url: &str) -> Result<Allowed, Refused> {
        let refused = || Refused::NotAllowed(url_cut(url));
        let uri: Uri = url.parse().map_err(|_| refused())?;
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            _ => return Err(refused()),
        };
        let authority = uri.authority().ok_or_else(refused)?;
        if authority.as_str().contains('@') {
            return Err(refused());
        }
        let host = authority.host();
        let port = authority.port_u16().unwrap_or(if https { 443 } else { 80 });
        let path = uri.path();
        // A dot segment (plain or percent-encoded) could climb out of a prefix's path once
        // the server resolves it.
        let lower = path.to_ascii_lowercase();
        if path.split('/').any(|seg| seg == "." || seg == "..") || lower.contains("%2e") {
            return Err(refused());
        }
        let listed = self.prefixes.iter().any(|p| {
            p.https == https
                && p.port == port
                && p.host.eq_ignore_ascii_case(host)
                && path.starts_with(&p.path)
        });
        if listed {
            return Ok(Allowed::Http { public_only: false });
        }
        if self.any_public {
            // An address literal is checked here; a name when it is resolved.
            let literal = host.trim_start_matches('[').trim_end_matches(']');
            if let Ok(ip) = literal.parse::<IpAddr>() {
                if !is_public(ip) {
                    return Err(refused());
                }
            }
            return Ok(Allowed::Http { public_only: true });
        }
        Err(refused())
    }
}

/// Whether the nearest existing ancestor of `path` resolves under `dir` (stored resolved):
/// a directory configured through a symlink still matches URLs written with its unresolved
/// name. Only the ancestors' metadata is looked at, nothing is read.
fn under_resolved(path: &Path, dir: &Path) -> bool {
    path.ancestors()
        .skip(1)
        .find_map(|a| a.canonicalize().ok())
        .is_some_and(|r| r.starts_with(dir))
}

/// Whether an address is on the public Internet: not loopback, private (RFC 1918, unique
/// local), link-local, shared (RFC 6598), unspecified, broadcast, multicast, documentation,
/// benchmarking or reserved; IPv4 embedded in IPv6 (mapped, NAT64) is judged as IPv4.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => public_v4(v4),
        IpAddr::V6(v6) => public_v6(v6),
    }
}

fn public_v4(ip: Ipv4Addr) -> bool {
    let [a, b, c, _] = ip.octets();
    !(ip.is_loopback()
        || ip.is_private()
        || ip.is_link_local()
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || a == 0
        || (a == 100 && (64..128).contains(&b))
        || (a == 192 && b == 0 && c == 0)
        || (a == 198 && (18..20).contains(&b))
        || a >= 240)
}

fn public_v6(ip: Ipv6Addr) -> bool {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return public_v4(v4);
    }
    let s = ip.segments();
    if s[0] == 0x64 && s[1] == 0xff9b && s[2..6] == [0, 0, 0, 0] {
        let o = ip.octets();
        return public_v4(Ipv4Addr::new(o[12], o[13], o[14], o[15]));
    }
    !(ip.is_loopback()
        || ip.is_unspecified()
        || ip.is_multicast()
        || (s[0] & 0xfe00) == 0xfc00
        || (s[0] & 0xffc0) == 0xfe80
        || (s[0] & 0xffc0) == 0xfec0
        || (s[0] == 0x2001 && s[1] == 0x0db8)
        || s[..6] == [0, 0, 0, 0, 0, 0])
}

#[cfg(test)]
#[path = "sources_tests.rs"]
mod tests;
