//! The STARTTLS certificate: the one given (`--cert`, `--key`, PEM), else a
//! self-signed one for the trap's host name, made on first start and kept
//! in the data directory (`trap/tls-cert.pem`, `trap/tls-key.pem`, the key
//! mode 0600) so that restarts present the same certificate. rustls with
//! the `ring` provider (no C toolchain beyond cc, no cmake).

use std::path::{Path, PathBuf};
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

use crate::TrapError;

/// The certificate and key files used: given, or made under `data`.
pub(crate) fn cert_files(
    data: &Path,
    cert: Option<&Path>,
    key: Option<&Path>,
    hostname: &str,
) -> Result<(PathBuf, PathBuf), TrapError> {
    match (cert, key) {
        (Some(c), Some(k)) => Ok((c.to_path_buf(), k.to_path_buf())),
        (None, None) => {
            let dir = data.join("trap");
            let (c, k) = (dir.join("tls-cert.pem"), dir.join("tls-key.pem"));
            if !(c.is_file() && k.is_file()) {
                make_self_signed(&dir, &c, &k, hostname)?;
            }
            Ok((c, k))
        }
        _ => Err(TrapError::CertWithoutKey),
    }
}

fn make_self_signed(dir: &Path, c: &Path, k: &Path, hostname: &str) -> Result<(), TrapError> {
    let io = |path: &Path, what| {
        let path = path.to_path_buf();
        move |source| TrapError::File { path, what, source }
    };
    std::fs::create_dir_all(dir).map_err(io(dir, "creating the directory"))?;
    let made = rcgen::generate_simple_self_signed(vec![hostname.to_string()]).map_err(|e| {
        TrapError::Tls {
            path: c.to_path_buf(),
            reason: format!("making a self-signed certificate: {e}"),
        }
    })?;
    write_private(k, made.signing_key.serialize_pem().as_bytes())
        .map_err(io(k, "writing the key"))?;
    std::fs::write(c, made.cert.pem()).map_err(io(c, "writing the certificate"))?;
    tracing::info!(
        "made a self-signed certificate for {hostname} in {}",
        c.display()
    );
    Ok(())
}

/// Writes a file readable by its owner only.
fn write_private(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut o = std::fs::OpenOptions::new();
    o.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut o, 0o600);
    let mut f = o.open(path)?;
    f.write_all(bytes)?;
    f.sync_all()
}

/// A rustls server configuration from PEM files.
pub(crate) fn server_config(
    cert: &Path,
    key: &Path,
) -> Result<Arc<rustls::ServerConfig>, TrapError> {
    let bad = |path: &Path, reason: String| TrapError::Tls {
        path: path.to_path_buf(),
        reason,
    };
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(cert)
        .map_err(|e| bad(cert, e.to_string()))?
        .collect::<Result<_, _>>()
        .map_err(|e| bad(cert, e.to_string()))?;
    if certs.is_empty() {
        return Err(bad(cert, "no certificate in the file".into()));
    }
    let key_der = PrivateKeyDer::from_pem_file(key).map_err(|e| bad(key, e.to_string()))?;
    let config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| bad(cert, e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key_der)
        .map_err(|e| bad(cert, e.to_string()))?;
    Ok(Arc::new(config))
}

/// rustls's `ring` provider. Deprecated in rustls 0.23.48 because ring has
/// no post-quantum key exchange; the provider that has one (aws-lc-rs)
/// needs cmake and a C build, and a spamtrap's STARTTLS protects nothing
/// the trap keeps secret (bots are its only clients).
#[allow(deprecated)]
pub fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}
