//! The listener's TLS identity: a certificate and key from files, or a self-signed
//! certificate generated at first start (kept in a directory so it survives restarts), its
//! SHA-256 fingerprint logged so clients can pin it.

use std::io::Write;
use std::path::{Path, PathBuf};

use rayo_proto::private_fs::{check_key_file, create_private_file, ensure_private_dir};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use sha2::{Digest, Sha256};
use tokio_rustls::TlsAcceptor;

use crate::Error;

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TlsSource {
    /// PEM files: the certificate chain and its private key.
    Files {
        /// Certificate chain (PEM).
        cert: PathBuf,
        /// Private key (PEM, PKCS#8, PKCS#1 or SEC1).
        key: PathBuf,
    },
    /// A self-signed certificate for the domain, generated at first start into this
    /// directory (`cert.pem`, `key.pem`) and reused afterwards. The directory is created
    /// `0700` and the key written `0600`; a directory or key that group or others may write,
    /// or that another user owns, is refused (Unix).
    SelfSigned {
        /// Where the certificate and key are kept.
        dir: PathBuf,
    },
}

impl TlsSource {
    /// The files when both are given, else a self-signed certificate kept in `dir` (the
    /// configuration of a listener: `cert` and `key` go together).
    pub fn files_or_self_signed(
        cert: Option<&PathBuf>,
        key: Option<&PathBuf>,
        dir: &std::path::Path,
    ) -> TlsSource {
        match (cert, key) {
            (Some(cert), Some(key)) => TlsSource::Files {
                cert: cert.clone(),
                key: key.clone(),
            },
            _ => TlsSource::SelfSigned {
                dir: dir.to_owned(),
            },
        }
    }
}

/// A loaded certificate and key, ready to accept TLS.
#[derive(Clone)]
pub struct TlsIdentity {
    /// The acceptor.
    pub acceptor: TlsAcceptor,
    /// The leaf certificate.
    pub certificate: CertificateDer<'static>,
    /// SHA-256 of the leaf certificate, as colon-separated uppercase hex.
    pub fingerprint: String,
}

impl std::fmt::Debug for TlsIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TlsIdentity")
            .field("fingerprint", &self.fingerprint)
            .finish_non_exhaustive()
    }
}

/// SHA-256 fingerprint of a certificate, `AB:CD:…`.
pub fn fingerprint(cert: &CertificateDer<'_>) -> String {
    Sha256::digest(cert.as_ref())
        .iter()
        .map(|b| format!("{b:02X}"))
        .collect::<Vec<_>>()
        .join(":")
}

fn tls_err(what: &str, path: &Path, e: impl std::fmt::Display) -> Error {
    Error::Tls(format!("{what} {}: {e}", path.display()))
}

impl TlsIdentity {
    /// Loads (or generates) the identity for `domain`. Fails, naming the file, when the key
    /// (or its directory) could have been planted or changed by another local user: group-
    /// or other-writable, or owned by someone else (see [`rayo_proto::private_fs`]).
    pub fn load(source: &TlsSource, domain: &str) -> Result<Self, Error> {
        let (cert, key) = match source {
            TlsSource::Files { cert, key } => (cert.clone(), key.clone()),
            TlsSource::SelfSigned { dir } => {
                let cert = dir.join("cert.pem");
                let key = dir.join("key.pem");
                ensure_private_dir(dir).map_err(|e| tls_err("refusing", dir, e))?;
                if !cert.exists() || !key.exists() {
                    generate(dir, &cert, &key, domain)?;
                }
                (cert, key)
            }
        };
        check_key_file(&key).map_err(|e| Error::Tls(format!("private key: {e}")))?;
        let chain: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(&cert)
            .map_err(|e| tls_err("reading", &cert, e))?
            .collect::<Result<_, _>>()
            .map_err(|e| tls_err("parsing", &cert, e))?;
        let leaf = chain
            .first()
            .cloned()
            .ok_or_else(|| tls_err("no certificate in", &cert, "empty"))?;
        let key_der =
            PrivateKeyDer::from_pem_file(&key).map_err(|e| tls_err("reading", &key, e))?;
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .map_err(|e| Error::Tls(e.to_string()))?
            .with_no_client_auth()
            .with_single_cert(chain, key_der)
            .map_err(|e| Error::Tls(e.to_string()))?;
        let fingerprint = fingerprint(&leaf);
        tracing::info!(%fingerprint, cert = %cert.display(), "TLS certificate (SHA-256)");
        Ok(TlsIdentity {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            certificate: leaf,
            fingerprint,
        })
    }
}

fn generate(dir: &Path, cert: &Path, key: &Path, domain: &str) -> Result<(), Error> {
    let generated = rcgen::generate_simple_self_signed(vec![domain.to_owned()])
        .map_err(|e| Error::Tls(format!("generating a certificate: {e}")))?;
    let _ = std::fs::remove_file(key);
    create_private_file(key)
        .and_then(|mut f| f.write_all(generated.signing_key.serialize_pem().as_bytes()))
        .map_err(|e| tls_err("writing", key, e))?;
    std::fs::write(cert, generated.cert.pem()).map_err(|e| tls_err("writing", cert, e))?;
    tracing::info!(domain, dir = %dir.display(), "generated a self-signed certificate");
    Ok(())
}
