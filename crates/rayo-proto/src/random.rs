//! Randomness from the operating system, for everything a peer must not guess: SIP tags,
//! branches and Call-IDs, call, mixer and component ids, SCRAM nonces and salts, passwords.
//!
//! There is no fallback: when the OS cannot give randomness the caller gets
//! [`RandomError`] and fails (the request is not sent, the login fails, the node does not
//! start), never a clock- or constant-derived value. Callers that must be testable without
//! the OS take a [`Fill`] ([`fill`] in production).
//!
//! ```
//! let a = rayo_proto::random::token(12)?;
//! assert_eq!(a.len(), 12);
//! assert!(a.bytes().all(|b| rayo_proto::random::ALPHABET.contains(&b)));
//! # Ok::<(), rayo_proto::random::RandomError>(())
//! ```

/// The operating system could not give randomness.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("no randomness from the operating system: {0}")]
pub struct RandomError(pub String);

/// A source of randomness: fills the buffer or fails.
pub type Fill = fn(&mut [u8]) -> Result<(), RandomError>;

/// The characters of a [`token`]: lowercase base32 (RFC 4648), valid in JID nodes and
/// resources, SIP tokens and file names.
pub const ALPHABET: &[u8; 32] = b"abcdefghijklmnopqrstuvwxyz234567";

/// Fills `buf` from the operating system's random source.
pub fn fill(buf: &mut [u8]) -> Result<(), RandomError> {
    getrandom::fill(buf).map_err(|e| RandomError(e.to_string()))
}

/// `len` random lowercase base32 characters ([`ALPHABET`], 5 bits each) from the OS.
pub fn token(len: usize) -> Result<String, RandomError> {
    token_from(fill, len)
}

/// `len` random lowercase base32 characters from `source`.
pub fn token_from(source: Fill, len: usize) -> Result<String, RandomError> {
    let mut buf = vec![0u8; len];
    source(&mut buf)?;
    // 256 is a multiple of 32: the low five bits of a uniform byte are uniform.
    Ok(buf
        .iter()
        .map(|b| char::from(ALPHABET[usize::from(b & 31)]))
        .collect())
}

/// A random `u64` from `source`.
pub fn u64_from(source: Fill) -> Result<u64, RandomError> {
    let mut b = [0u8; 8];
    source(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// A [`Fill`] that always fails: for tests of the callers' error paths.
pub fn failing(_: &mut [u8]) -> Result<(), RandomError> {
    Err(RandomError("a failing source".into()))
}

#[cfg(test)]
#[allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn tokens_have_the_length_and_alphabet_asked_and_do_not_repeat() {
        let draws: Vec<String> = (0..10_000)
            .map(|_| token(16).expect("OS randomness"))
            .collect();
        assert!(draws
            .iter()
            .all(|t| t.len() == 16 && t.bytes().all(|b| ALPHABET.contains(&b))));
        assert_eq!(draws.iter().collect::<HashSet<_>>().len(), draws.len());
        // Every character of the alphabet turns up.
        let seen: HashSet<u8> = draws.iter().flat_map(|t| t.bytes()).collect();
        assert_eq!(seen.len(), 32);
    }

    #[test]
    fn fill_gives_distinct_buffers() {
        let mut a = [0u8; 16];
        let mut b = [0u8; 16];
        fill(&mut a).expect("OS randomness");
        fill(&mut b).expect("OS randomness");
        assert_ne!(a, b);
        assert_ne!(a, [0u8; 16]);
    }

    #[test]
    fn a_failing_source_fails_every_draw() {
        assert!(token_from(failing, 8).is_err());
        assert!(u64_from(failing).is_err());
    }
}
