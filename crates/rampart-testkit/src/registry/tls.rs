//! Throwaway credentials for a test registry or API server: a CA and a
//! server certificate for 127.0.0.1 and localhost, and an htpasswd file.

use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DnType, ExtendedKeyUsagePurpose, IsCa,
    KeyPair, KeyUsagePurpose,
};

/// The files of a test CA and of the server certificate it signed.
pub(crate) struct TlsFiles {
    /// The CA certificate (PEM).
    pub ca_pem: PathBuf,
    /// The CA certificate (DER), for clients that take it in memory.
    pub ca_der: Vec<u8>,
    /// A directory with the CA as `ca.crt`, the layout that skopeo's
    /// `--dest-cert-dir` and containers-certs.d(5) read.
    pub cert_dir: PathBuf,
    pub server_cert: PathBuf,
    pub server_key: PathBuf,
}

/// Generates an ECDSA P-256 CA and a server certificate for `127.0.0.1`
/// and `localhost` (as IP and DNS subject alternative names), and writes
/// them under `dir`.
pub(crate) fn write_tls_files(dir: &Path) -> TlsFiles {
    let ca_key = KeyPair::generate().expect("generate the test CA key");
    let mut ca_params = CertificateParams::new(Vec::<String>::new()).expect("CA parameters");
    ca_params
        .distinguished_name
        .push(DnType::CommonName, "rampart test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).expect("self-sign the test CA");

    let server_key = KeyPair::generate().expect("generate the server key");
    let mut server_params =
        CertificateParams::new(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
            .expect("server certificate parameters");
    server_params
        .distinguished_name
        .push(DnType::CommonName, "127.0.0.1");
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    let server = server_params
        .signed_by(&server_key, &ca)
        .expect("sign the server certificate");

    let cert_dir = dir.join("certs.d");
    std::fs::create_dir_all(&cert_dir).unwrap();
    let files = TlsFiles {
        ca_pem: dir.join("ca.pem"),
        ca_der: ca.der().to_vec(),
        cert_dir,
        server_cert: dir.join("server.crt"),
        server_key: dir.join("server.key"),
    };
    std::fs::write(&files.ca_pem, ca.pem()).unwrap();
    std::fs::write(files.cert_dir.join("ca.crt"), ca.pem()).unwrap();
    std::fs::write(&files.server_cert, server.pem()).unwrap();
    std::fs::write(&files.server_key, server_key.serialize_pem()).unwrap();
    files
}

/// Writes an htpasswd file with one bcrypt entry. distribution's htpasswd
/// backend ignores entries with other hash types (configuration.md of
/// docker-registry 2.8.2).
pub(super) fn write_htpasswd(path: &Path, username: &str, password: &str) {
    // The registry checks the hash on every request, so the minimum cost
    // (4) keeps a pull of many blobs fast. The password is throwaway.
    let hash = bcrypt::hash(password, 4).expect("bcrypt hash of the test password");
    std::fs::write(path, format!("{username}:{hash}\n")).unwrap();
}
