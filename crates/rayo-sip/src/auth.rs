//! Digest authentication of outbound requests (RFC 3261 §22, RFC 8760: MD5 and SHA-256,
//! qop=auth), for a trunk whose credentials come from configuration.

use md5::Md5;
use sha2::{Digest, Sha256};

use crate::Error;

/// Credentials of an outbound trunk.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The user name.
    pub username: String,
    /// The password.
    pub password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("username", &self.username)
            .finish_non_exhaustive()
    }
}

/// A digest algorithm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Algorithm {
    /// MD5.
    Md5,
    /// SHA-256 (RFC 8760).
    Sha256,
}

/// A parsed `WWW-Authenticate` / `Proxy-Authenticate` digest challenge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    /// The realm.
    pub realm: String,
    /// The nonce.
    pub nonce: String,
    /// The opaque value to echo.
    pub opaque: Option<String>,
    /// The algorithm.
    pub algorithm: Algorithm,
    /// Whether qop=auth was offered.
    pub qop_auth: bool,
}

/// Splits `k=v, k="v, w"` into pairs.
fn params(s: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = s;
    loop {
        rest = rest.trim_start_matches([' ', ',', '\t']);
        let Some(eq) = rest.find('=') else { break };
        let key = rest[..eq].trim().to_ascii_lowercase();
        rest = &rest[eq + 1..];
        let value;
        if let Some(q) = rest.strip_prefix('"') {
            let end = q.find('"').unwrap_or(q.len());
            value = q[..end].to_owned();
            rest = q.get(end + 1..).unwrap_or("");
        } else {
            let end = rest.find(',').unwrap_or(rest.len());
            value = rest[..end].trim().to_owned();
            rest = &rest[end..];
        }
        out.push((key, value));
    }
    out
}

impl Challenge {
    /// Parses one challenge header value; `None` if it is not a digest challenge with a
    /// supported algorithm.
    pub fn parse(value: &str) -> Option<Challenge> {
        let v = value.trim();
        let scheme = v.get(..6)?;
        if !scheme.eq_ignore_ascii_case("digest") {
            return None;
        }
        let mut c = Challenge {
            realm: String::new(),
            nonce: String::new(),
            opaque: None,
            algorithm: Algorithm::Md5,
            qop_auth: false,
        };
        let mut nonce = false;
        for (k, val) in params(&v[6..]) {
            match k.as_str() {
                "realm" => c.realm = val,
                "nonce" => {
                    c.nonce = val;
                    nonce = true;
                }
                "opaque" => c.opaque = Some(val),
                "algorithm" => {
                    c.algorithm = match val.to_ascii_uppercase().as_str() {
                        "MD5" => Algorithm::Md5,
                        "SHA-256" => Algorithm::Sha256,
                        _ => return None,
                    }
                }
                "qop" => {
                    c.qop_auth = val
                        .split(',')
                        .any(|q| q.trim().eq_ignore_ascii_case("auth"))
                }
                _ => {}
            }
        }
        nonce.then_some(c)
    }

    /// The best of several challenges: SHA-256 before MD5 (RFC 8760 §2.4).
    pub fn choose(values: &[String]) -> Result<Challenge, Error> {
        let mut all: Vec<_> = values.iter().filter_map(|v| Challenge::parse(v)).collect();
        all.sort_by_key(|c| {
            if c.algorithm == Algorithm::Sha256 {
                0
            } else {
                1
            }
        });
        all.into_iter()
            .next()
            .ok_or(Error::Auth("no supported digest challenge"))
    }

    /// The `Authorization` value for `method` on `uri`, with client nonce `cnonce` and nonce
    /// count `nc`.
    pub fn authorize(
        &self,
        creds: &Credentials,
        method: &str,
        uri: &str,
        cnonce: &str,
        nc: u32,
    ) -> String {
        let h = |s: String| match self.algorithm {
            Algorithm::Md5 => hex(&Md5::digest(s.as_bytes())),
            Algorithm::Sha256 => hex(&Sha256::digest(s.as_bytes())),
        };
        let ha1 = h(format!(
            "{}:{}:{}",
            creds.username, self.realm, creds.password
        ));
        let ha2 = h(format!("{method}:{uri}"));
        let alg = match self.algorithm {
            Algorithm::Md5 => "MD5",
            Algorithm::Sha256 => "SHA-256",
        };
        let mut v = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{uri}\"",
            creds.username, self.realm, self.nonce
        );
        if self.qop_auth {
            let nc = format!("{nc:08x}");
            let resp = h(format!("{ha1}:{}:{nc}:{cnonce}:auth:{ha2}", self.nonce));
            v.push_str(&format!(
                ", response=\"{resp}\", algorithm={alg}, cnonce=\"{cnonce}\", qop=auth, nc={nc}"
            ));
        } else {
            let resp = h(format!("{ha1}:{}:{ha2}", self.nonce));
            v.push_str(&format!(", response=\"{resp}\", algorithm={alg}"));
        }
        if let Some(o) = &self.opaque {
            v.push_str(&format!(", opaque=\"{o}\""));
        }
        v
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
    use super::*;

    fn response_of(auth: &str) -> String {
        params(auth.trim_start_matches("Digest "))
            .into_iter()
            .find(|(k, _)| k == "response")
            .map(|(_, v)| v)
            .unwrap_or_default()
    }

    /// RFC 7616 §3.9.1: the same digest computation, both algorithms.
    #[test]
    fn rfc7616_vectors() {
        let creds = Credentials {
            username: "Mufasa".into(),
            password: "Circle of Life".into(),
        };
        let base = "realm=\"http-auth@example.org\", qop=\"auth, auth-int\", nonce=\"7ypf/xlj9XXwfDPEoM4URrv/xwf94BcCAzFZH4GiTo0v\", opaque=\"FQhe/qaU925kfnzjCev0ciny7QMkPqMAFRtzCUYo5tdS\"";
        let challenges = vec![
            format!("Digest {base}, algorithm=MD5"),
            format!("Digest {base}, algorithm=SHA-256"),
        ];
        let c = Challenge::choose(&challenges).expect("supported");
        assert_eq!(c.algorithm, Algorithm::Sha256);
        let cnonce = "f2/wE4q74E6zIJEtWaHKaf5wv/H5QzzpXusqGemxURZJ";
        let a = c.authorize(&creds, "GET", "/dir/index.html", cnonce, 1);
        assert_eq!(
            response_of(&a),
            "753927fa0e85d155564e2e272a28d1802ca10daf4496794697cf8db5856cb6c1"
        );
        assert!(a.contains("nc=00000001") && a.contains("opaque=\"FQhe"));
        let md5 = Challenge::parse(&challenges[0]).expect("md5");
        let a = md5.authorize(&creds, "GET", "/dir/index.html", cnonce, 1);
        assert_eq!(response_of(&a), "8ca523f5e9506fed4657c9700eebdbec");
    }

    #[test]
    fn unsupported_or_broken_challenges() {
        assert!(Challenge::parse("Basic realm=\"x\"").is_none());
        assert!(Challenge::parse("Digest realm=\"x\", nonce=\"n\", algorithm=AKAv1-MD5").is_none());
        assert!(Challenge::parse("Digest realm=\"x").is_none());
        assert!(Challenge::parse("Dig").is_none());
        assert!(Challenge::parse("Digesté realm=\"x\"").is_none());
        assert!(Challenge::choose(&[]).is_err());
    }
}
