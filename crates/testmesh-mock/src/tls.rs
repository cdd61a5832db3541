//! HTTPS for dedicated listeners: PEM files or a self-signed certificate.

use std::path::Path;
use std::sync::Arc;

use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};

/// A TLS acceptor and, for self-signed certificates, the certificate in PEM (so clients can trust it).
pub(crate) struct TlsSetup {
    pub acceptor: tokio_rustls::TlsAcceptor,
    pub certificate_pem: String,
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

fn acceptor(
    chain: Vec<CertificateDer<'static>>,
    key: PrivateKeyDer<'static>,
) -> Result<tokio_rustls::TlsAcceptor, String> {
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(chain, key)
        .map_err(|e| format!("the certificate and key do not fit together: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// A self-signed certificate for `localhost`, `127.0.0.1`, `::1` and `host`.
pub(crate) fn self_signed(host: &str) -> Result<TlsSetup, String> {
    let mut names = vec![
        "localhost".to_string(),
        "127.0.0.1".to_string(),
        "::1".to_string(),
    ];
    if !names.iter().any(|n| n == host) && !host.is_empty() && host != "0.0.0.0" && host != "::" {
        names.push(host.to_string());
    }
    let certified = rcgen::generate_simple_self_signed(names)
        .map_err(|e| format!("cannot make a self-signed certificate: {e}"))?;
    let certificate_pem = certified.cert.pem();
    let key = PrivateKeyDer::try_from(certified.signing_key.serialize_der())
        .map_err(|e| format!("cannot use the generated key: {e}"))?;
    Ok(TlsSetup {
        acceptor: acceptor(vec![certified.cert.der().clone()], key)?,
        certificate_pem,
    })
}

/// A certificate chain and key from PEM files.
pub(crate) fn from_files(cert: &Path, key: &Path) -> Result<TlsSetup, String> {
    let certificate_pem = std::fs::read_to_string(cert)
        .map_err(|e| format!("cannot read the certificate `{}`: {e}", cert.display()))?;
    let chain = CertificateDer::pem_slice_iter(certificate_pem.as_bytes())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| format!("`{}` is not a PEM certificate: {e}", cert.display()))?;
    if chain.is_empty() {
        return Err(format!("`{}` holds no certificate", cert.display()));
    }
    let key = PrivateKeyDer::from_pem_file(key).map_err(|e| {
        format!(
            "cannot read a PEM private key from `{}`: {e}",
            key.display()
        )
    })?;
    Ok(TlsSetup {
        acceptor: acceptor(chain, key)?,
        certificate_pem,
    })
}
