//! Server side of SASL SCRAM-SHA-1 and SCRAM-SHA-256 (RFC 5802, RFC 7677) and PLAIN
//! (RFC 4616), against salted credentials: the server never holds a password.

use std::collections::HashMap;

use base64::engine::general_purpose::STANDARD as B64;
use base64::Engine as _;
use hmac::{Hmac, KeyInit, Mac};
use rayo_proto::random::RandomError;
use sha1::{Digest, Sha1};
use sha2::Sha256;

/// Iterations used when deriving credentials from a password.
pub const DEFAULT_ITERATIONS: u32 = 4096;

/// The hash a SCRAM mechanism is built on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ScramHash {
    /// SCRAM-SHA-1.
    Sha1,
    /// SCRAM-SHA-256.
    Sha256,
}

impl ScramHash {
    /// The SASL mechanism name.
    pub fn mechanism(self) -> &'static str {
        match self {
            ScramHash::Sha1 => "SCRAM-SHA-1",
            ScramHash::Sha256 => "SCRAM-SHA-256",
        }
    }

    fn hmac(self, key: &[u8], data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => <Hmac<Sha1> as KeyInit>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
            ScramHash::Sha256 => <Hmac<Sha256> as KeyInit>::new_from_slice(key)
                .map(|m| m.chain_update(data).finalize().into_bytes().to_vec())
                .unwrap_or_default(),
        }
    }

    fn hash(self, data: &[u8]) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => Sha1::digest(data).to_vec(),
            ScramHash::Sha256 => Sha256::digest(data).to_vec(),
        }
    }

    fn salted_password(self, password: &[u8], salt: &[u8], iterations: u32) -> Vec<u8> {
        match self {
            ScramHash::Sha1 => {
                let mut out = vec![0u8; 20];
                pbkdf2::pbkdf2_hmac::<Sha1>(password, salt, iterations, &mut out);
                out
            }
            ScramHash::Sha256 => {
                let mut out = vec![0u8; 32];
                pbkdf2::pbkdf2_hmac::<Sha256>(password, salt, iterations, &mut out);
                out
            }
        }
    }
}

/// What a server stores for one user and one hash (RFC 5802 §3): salt, iteration count,
/// `StoredKey` and `ServerKey`.
#[derive(Clone, PartialEq, Eq)]
pub struct ScramCredentials {
    /// The hash.
    pub hash: ScramHash,
    /// The salt.
    pub salt: Vec<u8>,
    /// The PBKDF2 iteration count.
    pub iterations: u32,
    /// `H(HMAC(SaltedPassword, "Client Key"))`.
    pub stored_key: Vec<u8>,
    /// `HMAC(SaltedPassword, "Server Key")`.
    pub server_key: Vec<u8>,
}

impl std::fmt::Debug for ScramCredentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ScramCredentials")
            .field("hash", &self.hash)
            .field("iterations", &self.iterations)
            .finish_non_exhaustive()
    }
}

impl ScramCredentials {
    /// Derives the credentials for `password`; the password itself is not kept.
    pub fn derive(hash: ScramHash, password: &str, salt: &[u8], iterations: u32) -> Self {
        let salted = hash.salted_password(password.as_bytes(), salt, iterations);
        let client_key = hash.hmac(&salted, b"Client Key");
        ScramCredentials {
            hash,
            salt: salt.to_vec(),
            iterations,
            stored_key: hash.hash(&client_key),
            server_key: hash.hmac(&salted, b"Server Key"),
        }
    }

    /// Whether `password` matches (for PLAIN), in time independent of where they differ.
    pub fn verify_password(&self, password: &str) -> bool {
        let salted = self
            .hash
            .salted_password(password.as_bytes(), &self.salt, self.iterations);
        let client_key = self.hash.hmac(&salted, b"Client Key");
        ct_eq(&self.hash.hash(&client_key), &self.stored_key)
    }

    /// The form used in configuration files:
    /// `SCRAM-SHA-256$iterations$salt$stored-key$server-key` (base64 fields).
    pub fn to_config(&self) -> String {
        format!(
            "{}${}${}${}${}",
            self.hash.mechanism(),
            self.iterations,
            B64.encode(&self.salt),
            B64.encode(&self.stored_key),
            B64.encode(&self.server_key)
        )
    }

    /// Reads [`ScramCredentials::to_config`]'s form.
    pub fn from_config(s: &str) -> Option<Self> {
        let mut parts = s.split('$');
        let hash = match parts.next()? {
            "SCRAM-SHA-1" => ScramHash::Sha1,
            "SCRAM-SHA-256" => ScramHash::Sha256,
            _ => return None,
        };
        let iterations = parts.next()?.parse().ok()?;
        let salt = B64.decode(parts.next()?).ok()?;
        let stored_key = B64.decode(parts.next()?).ok()?;
        let server_key = B64.decode(parts.next()?).ok()?;
        if parts.next().is_some() {
            return None;
        }
        Some(ScramCredentials {
            hash,
            salt,
            iterations,
            stored_key,
            server_key,
        })
    }
}

/// Whether `a` and `b` are equal, in time that depends only on their lengths.
pub(crate) fn ct_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// The users allowed to log in, each with SCRAM-SHA-1 and SCRAM-SHA-256 credentials.
#[derive(Debug, Clone, Default)]
pub struct Users {
    users: HashMap<String, Vec<ScramCredentials>>,
    fake_salts: FakeSalts,
}

/// The secret key the salts of unknown names are derived from (drawn from the OS the first
/// time one is needed): an unknown name gets the same salt every time, as a real user does,
/// and nobody without the key can tell it from a real one.
#[derive(Clone, Default)]
struct FakeSalts(std::sync::OnceLock<[u8; 32]>);

impl std::fmt::Debug for FakeSalts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("FakeSalts(..)")
    }
}

impl FakeSalts {
    /// The made-up salt of `user` for `hash`; `None` without OS randomness for the key.
    fn salt(&self, hash: ScramHash, user: &str) -> Option<Vec<u8>> {
        let key = match self.0.get() {
            Some(k) => k,
            None => {
                let mut k = [0u8; 32];
                rayo_proto::random::fill(&mut k).ok()?;
                let _ = self.0.set(k);
                self.0.get()?
            }
        };
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).ok()?;
        mac.update(hash.mechanism().as_bytes());
        mac.update(&[0]);
        mac.update(user.as_bytes());
        Some(mac.finalize().into_bytes()[..16].to_vec())
    }
}

impl Users {
    /// No users.
    pub fn new() -> Self {
        Users::default()
    }

    /// Adds `user` with `password`, derived with a fresh random salt for each hash; only the
    /// derived keys are kept. Without OS randomness for the salts, the user is not added.
    pub fn add_password(&mut self, user: &str, password: &str) -> Result<(), RandomError> {
        let creds = [ScramHash::Sha1, ScramHash::Sha256]
            .into_iter()
            .map(|h| {
                let mut salt = [0u8; 16];
                rayo_proto::random::fill(&mut salt)?;
                Ok(ScramCredentials::derive(
                    h,
                    password,
                    &salt,
                    DEFAULT_ITERATIONS,
                ))
            })
            .collect::<Result<_, RandomError>>()?;
        self.users.insert(user.to_owned(), creds);
        Ok(())
    }

    /// Adds stored credentials for `user` (for example read with
    /// [`ScramCredentials::from_config`]).
    pub fn add_credentials(&mut self, user: &str, creds: ScramCredentials) {
        let entry = self.users.entry(user.to_owned()).or_default();
        entry.retain(|c| c.hash != creds.hash);
        entry.push(creds);
    }

    /// The credentials of `user` for `hash`.
    pub fn credentials(&self, user: &str, hash: ScramHash) -> Option<&ScramCredentials> {
        self.users.get(user)?.iter().find(|c| c.hash == hash)
    }

    /// Whether `user` exists.
    pub fn contains(&self, user: &str) -> bool {
        self.users.contains_key(user)
    }

    /// The SASL mechanisms some user can log in with, best first.
    pub fn mechanisms(&self) -> Vec<ScramHash> {
        [ScramHash::Sha256, ScramHash::Sha1]
            .into_iter()
            .filter(|h| self.users.values().any(|c| c.iter().any(|c| c.hash == *h)))
            .collect()
    }

    /// Checks a PLAIN (RFC 4616) message; returns the user on success.
    pub fn verify_plain(&self, message: &[u8]) -> Result<String, AuthError> {
        let text = std::str::from_utf8(message).map_err(|_| AuthError::MalformedRequest)?;
        let mut parts = text.split('\0');
        let (authzid, user, password) = match (parts.next(), parts.next(), parts.next()) {
            (Some(a), Some(u), Some(p)) if parts.next().is_none() => (a, u, p),
            _ => return Err(AuthError::MalformedRequest),
        };
        let creds = self
            .users
            .get(user)
            .and_then(|c| c.iter().max_by_key(|c| c.hash == ScramHash::Sha256))
            .ok_or(AuthError::NotAuthorized)?;
        if !authzid.is_empty() && authzid.split('@').next() != Some(user) {
            return Err(AuthError::InvalidAuthzid);
        }
        if creds.verify_password(password) {
            Ok(user.to_owned())
        } else {
            Err(AuthError::NotAuthorized)
        }
    }
}

/// Why a SASL exchange failed; each maps to a SASL failure condition (RFC 6120 §6.5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum AuthError {
    /// Wrong user or password: `<not-authorized/>`.
    #[error("not authorized")]
    NotAuthorized,
    /// The client's message does not follow the mechanism: `<malformed-request/>`.
    #[error("malformed request")]
    MalformedRequest,
    /// The client asked for channel binding, which is not offered: `<encryption-required/>`
    /// is not right either, so `<not-authorized/>` per RFC 5802 §5.
    #[error("channel binding not supported")]
    ChannelBindingUnsupported,
    /// The client asked to act as someone else: `<invalid-authzid/>`.
    #[error("invalid authzid")]
    InvalidAuthzid,
    /// The server could not draw a nonce or salt (no OS randomness):
    /// `<temporary-auth-failure/>` (RFC 6120 §6.5.12).
    #[error("no randomness for the exchange")]
    TemporaryAuthFailure,
}

impl AuthError {
    /// The SASL failure condition element name.
    pub fn condition(self) -> &'static str {
        match self {
            AuthError::NotAuthorized | AuthError::ChannelBindingUnsupported => "not-authorized",
            AuthError::MalformedRequest => "malformed-request",
            AuthError::InvalidAuthzid => "invalid-authzid",
            AuthError::TemporaryAuthFailure => "temporary-auth-failure",
        }
    }
}

/// A SCRAM exchange in progress, after the server-first message.
#[derive(Debug)]
pub struct ScramServer {
    creds: ScramCredentials,
    user: Option<String>,
    gs2_header: String,
    client_first_bare: String,
    server_first: String,
    nonce: String,
}

fn sasl_name(s: &str) -> Option<String> {
    // RFC 5802 §5.1: ',' and '=' are escaped as =2C and =3D; any other '=' is an error.
    let mut out = String::with_capacity(s.len());
    let mut rest = s;
    while let Some(i) = rest.find('=') {
        out.push_str(&rest[..i]);
        match rest.get(i..i + 3) {
            Some("=2C") => out.push(','),
            Some("=3D") => out.push('='),
            _ => return None,
        }
        rest = &rest[i + 3..];
    }
    out.push_str(rest);
    Some(out)
}

impl ScramServer {
    /// Reads the client-first message and answers with the server-first message.
    /// `server_nonce` is random in production and fixed in tests. An unknown user still gets
    /// a challenge (with made-up salt) so that users cannot be enumerated.
    pub fn start(
        users: &Users,
        hash: ScramHash,
        client_first: &[u8],
        server_nonce: &str,
    ) -> Result<(ScramServer, String), AuthError> {
        let text = std::str::from_utf8(client_first).map_err(|_| AuthError::MalformedRequest)?;
        let mut it = text.splitn(3, ',');
        let cb = it.next().ok_or(AuthError::MalformedRequest)?;
        let authzid = it.next().ok_or(AuthError::MalformedRequest)?;
        let bare = it.next().ok_or(AuthError::MalformedRequest)?;
        match cb {
            "n" | "y" => {}
            c if c.starts_with("p=") => return Err(AuthError::ChannelBindingUnsupported),
            _ => return Err(AuthError::MalformedRequest),
        }
        if !authzid.is_empty() && !authzid.starts_with("a=") {
            return Err(AuthError::MalformedRequest);
        }
        let mut user = None;
        let mut cnonce = None;
        for attr in bare.split(',') {
            if let Some(u) = attr.strip_prefix("n=") {
                user = Some(sasl_name(u).ok_or(AuthError::MalformedRequest)?);
            } else if let Some(r) = attr.strip_prefix("r=") {
                cnonce = Some(r);
            } else if attr.starts_with("m=") {
                return Err(AuthError::MalformedRequest);
            }
        }
        let (user, cnonce) = match (user, cnonce) {
            (Some(u), Some(r)) if !r.is_empty() => (u, r),
            _ => return Err(AuthError::MalformedRequest),
        };
        if let Some(a) = authzid.strip_prefix("a=") {
            if sasl_name(a).as_deref().and_then(|a| a.split('@').next()) != Some(user.as_str()) {
                return Err(AuthError::InvalidAuthzid);
            }
        }
        let (creds, known) = match users.credentials(&user, hash) {
            Some(c) => (c.clone(), true),
            None => {
                // A stable salt, keys that match no proof, and no key derivation: the same
                // answer, in the same time, as for a real user.
                let salt = users
                    .fake_salts
                    .salt(hash, &user)
                    .ok_or(AuthError::TemporaryAuthFailure)?;
                let len = hash.hash(b"").len();
                let mut stored_key = vec![0u8; len];
                rayo_proto::random::fill(&mut stored_key)
                    .map_err(|_| AuthError::TemporaryAuthFailure)?;
                let fake = ScramCredentials {
                    hash,
                    salt,
                    iterations: DEFAULT_ITERATIONS,
                    stored_key,
                    server_key: vec![0u8; len],
                };
                (fake, false)
            }
        };
        let nonce = format!("{cnonce}{server_nonce}");
        let server_first = format!(
            "r={nonce},s={},i={}",
            B64.encode(&creds.salt),
            creds.iterations
        );
        let gs2_header = format!("{cb},{authzid},");
        Ok((
            ScramServer {
                creds,
                user: known.then_some(user),
                gs2_header,
                client_first_bare: bare.to_owned(),
                server_first: server_first.clone(),
                nonce,
            },
            server_first,
        ))
    }

    /// Checks the client-final message; on success returns the user and the server-final
    /// message (`v=…`) to send with `<success/>`.
    pub fn finish(self, client_final: &[u8]) -> Result<(String, String), AuthError> {
        let text = std::str::from_utf8(client_final).map_err(|_| AuthError::MalformedRequest)?;
        let (without_proof, proof) = text.rsplit_once(",p=").ok_or(AuthError::MalformedRequest)?;
        let mut cbind = None;
        let mut nonce = None;
        for attr in without_proof.split(',') {
            if let Some(c) = attr.strip_prefix("c=") {
                cbind = Some(c);
            } else if let Some(r) = attr.strip_prefix("r=") {
                nonce = Some(r);
            }
        }
        let cbind = B64
            .decode(cbind.ok_or(AuthError::MalformedRequest)?)
            .map_err(|_| AuthError::MalformedRequest)?;
        if cbind != self.gs2_header.as_bytes() || nonce != Some(self.nonce.as_str()) {
            return Err(AuthError::NotAuthorized);
        }
        let proof = B64.decode(proof).map_err(|_| AuthError::MalformedRequest)?;
        let auth_message = format!(
            "{},{},{}",
            self.client_first_bare, self.server_first, without_proof
        );
        let hash = self.creds.hash;
        let client_signature = hash.hmac(&self.creds.stored_key, auth_message.as_bytes());
        if proof.len() != client_signature.len() {
            return Err(AuthError::NotAuthorized);
        }
        let client_key: Vec<u8> = proof
            .iter()
            .zip(&client_signature)
            .map(|(a, b)| a ^ b)
            .collect();
        let user = self.user.ok_or(AuthError::NotAuthorized)?;
        if !ct_eq(&hash.hash(&client_key), &self.creds.stored_key) {
            return Err(AuthError::NotAuthorized);
        }
        let server_signature = hash.hmac(&self.creds.server_key, auth_message.as_bytes());
        Ok((user, format!("v={}", B64.encode(server_signature))))
    }
}

/// The client side of SCRAM's last step, for tests: the client-final message for
/// `password`, given the client-first-bare and server-first messages (no channel binding).
#[cfg(test)]
pub(crate) fn client_final(
    hash: ScramHash,
    password: &str,
    first_bare: &str,
    server_first: &str,
) -> String {
    let mut nonce = "";
    let mut salt = Vec::new();
    let mut iterations = 0;
    for attr in server_first.split(',') {
        if let Some(r) = attr.strip_prefix("r=") {
            nonce = r;
        } else if let Some(s) = attr.strip_prefix("s=") {
            salt = B64.decode(s).unwrap_or_default();
        } else if let Some(i) = attr.strip_prefix("i=") {
            iterations = i.parse().unwrap_or(0);
        }
    }
    let without_proof = format!("c=biws,r={nonce}");
    let salted = hash.salted_password(password.as_bytes(), &salt, iterations);
    let client_key = hash.hmac(&salted, b"Client Key");
    let stored = hash.hash(&client_key);
    let auth = format!("{first_bare},{server_first},{without_proof}");
    let sig = hash.hmac(&stored, auth.as_bytes());
    let proof: Vec<u8> = client_key.iter().zip(&sig).map(|(a, b)| a ^ b).collect();
    format!("{without_proof},p={}", B64.encode(proof))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;

    fn users_with(hash: ScramHash, salt_b64: &str) -> Users {
        let mut users = Users::new();
        let salt = B64.decode(salt_b64).expect("salt");
        users.add_credentials(
            "user",
            ScramCredentials::derive(hash, "pencil", &salt, 4096),
        );
        users
    }

    #[test]
    fn rfc5802_sha1_example() {
        let users = users_with(ScramHash::Sha1, "QSXCR+Q6sek8bf92");
        let (server, first) = ScramServer::start(
            &users,
            ScramHash::Sha1,
            b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
            "3rfcNHYJY1ZVvWVs7j",
        )
        .expect("start");
        assert_eq!(
            first,
            "r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096"
        );
        let (user, last) = server
            .finish(b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts=")
            .expect("proof accepted");
        assert_eq!(user, "user");
        assert_eq!(last, "v=rmF9pqV8S7suAoZWja4dJRkFsKQ=");
    }

    #[test]
    fn rfc7677_sha256_example() {
        let users = users_with(ScramHash::Sha256, "W22ZaJ0SNY7soEsUEjb6gQ==");
        let (server, first) = ScramServer::start(
            &users,
            ScramHash::Sha256,
            b"n,,n=user,r=rOprNGfwEbeRWgbNEkqO",
            "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0",
        )
        .expect("start");
        assert_eq!(
            first,
            "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096"
        );
        let (_, last) = server
            .finish(b"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=")
            .expect("proof accepted");
        assert_eq!(last, "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    }

    #[test]
    fn wrong_proof_and_unknown_user_are_refused() {
        let users = users_with(ScramHash::Sha1, "QSXCR+Q6sek8bf92");
        let (server, _) = ScramServer::start(
            &users,
            ScramHash::Sha1,
            b"n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL",
            "3rfcNHYJY1ZVvWVs7j",
        )
        .expect("start");
        assert_eq!(
            server
                .finish(b"c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=AAAAAAAAAAAAAAAAAAAAAAAAAAA=")
                .err(),
            Some(AuthError::NotAuthorized)
        );
        let (server, first) =
            ScramServer::start(&users, ScramHash::Sha1, b"n,,n=nobody,r=abc", "def")
                .expect("a challenge even for unknown users");
        assert!(first.starts_with("r=abcdef,s="));
        assert_eq!(
            server.finish(b"c=biws,r=abcdef,p=AAAA").err(),
            Some(AuthError::NotAuthorized)
        );
        assert_eq!(
            ScramServer::start(&users, ScramHash::Sha1, b"p=tls-unique,,n=user,r=a", "b").err(),
            Some(AuthError::ChannelBindingUnsupported)
        );
    }

    /// Issue 12 §12: an unknown name gets the same salt every time, as a real user does, of
    /// the same length and iteration count; names and hashes differ in theirs, and another
    /// server (another secret) gives another.
    #[test]
    fn an_unknown_name_looks_like_a_user_that_exists() {
        let mut users = Users::new();
        users.add_password("real", "pw").expect("OS randomness");
        let salt_of = |users: &Users, hash, name: &str| {
            let first = format!("n,,n={name},r=abc");
            let (_, server_first) =
                ScramServer::start(users, hash, first.as_bytes(), "def").expect("a challenge");
            server_first
                .split(',')
                .find_map(|a| a.strip_prefix("s=").map(str::to_owned))
                .expect("a salt")
        };
        for hash in [ScramHash::Sha1, ScramHash::Sha256] {
            let real = salt_of(&users, hash, "real");
            assert_eq!(real, salt_of(&users, hash, "real"));
            let ghost = salt_of(&users, hash, "ghost");
            assert_eq!(ghost, salt_of(&users, hash, "ghost"), "stable for one name");
            assert_eq!(ghost.len(), real.len(), "as long as a real salt");
            assert_ne!(ghost, salt_of(&users, hash, "other"));
            assert_ne!(
                ghost,
                salt_of(&Users::new(), hash, "ghost"),
                "keyed per server"
            );
        }
        assert_ne!(
            salt_of(&users, ScramHash::Sha1, "ghost"),
            salt_of(&users, ScramHash::Sha256, "ghost")
        );
    }

    #[test]
    fn every_salt_is_fresh_from_the_os() {
        let mut users = Users::new();
        for i in 0..50 {
            users
                .add_password(&format!("u{i}"), "same")
                .expect("OS randomness");
        }
        let salts: std::collections::HashSet<Vec<u8>> = (0..50)
            .flat_map(|i| [ScramHash::Sha1, ScramHash::Sha256].map(|h| (i, h)))
            .map(|(i, h)| {
                let c = users.credentials(&format!("u{i}"), h).expect("derived");
                assert_eq!(c.salt.len(), 16);
                c.salt.clone()
            })
            .collect();
        assert_eq!(salts.len(), 100);
    }

    #[test]
    fn no_randomness_is_a_temporary_auth_failure() {
        assert_eq!(
            AuthError::TemporaryAuthFailure.condition(),
            "temporary-auth-failure"
        );
    }

    #[test]
    fn plain_and_config_form() {
        let mut users = Users::new();
        users
            .add_password("juliet", "r0m30")
            .expect("OS randomness");
        assert_eq!(users.verify_plain(b"\0juliet\0r0m30"), Ok("juliet".into()));
        assert_eq!(
            users.verify_plain(b"\0juliet\0wrong"),
            Err(AuthError::NotAuthorized)
        );
        assert_eq!(
            users.verify_plain(b"juliet"),
            Err(AuthError::MalformedRequest)
        );
        let c = users
            .credentials("juliet", ScramHash::Sha256)
            .expect("derived")
            .clone();
        let line = c.to_config();
        assert!(!line.contains("r0m30"));
        assert_eq!(ScramCredentials::from_config(&line), Some(c));
    }
}
