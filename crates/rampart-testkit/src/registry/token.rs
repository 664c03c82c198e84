//! A token server for a test registry configured with distribution's
//! `auth.token` scheme: the bearer-token flow that public registries use.
//!
//! The registry responds to unauthenticated requests with `401` and
//! `WWW-Authenticate: Bearer realm=…,service=…,scope=…`. The client asks
//! this server for a token at the realm, with HTTP basic credentials; the
//! server checks them and returns a JWT (ES256, the signing certificate in
//! the `x5c` header) that grants the requested repository actions. The
//! registry checks the JWT against the certificate in its
//! `rootcertbundle`, the issuer and the audience (the service name).

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::thread;

use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use rcgen::{CertificateParams, DnType, KeyPair, SigningKey};

/// The `service` of the registry, the audience of its tokens.
pub(super) const SERVICE: &str = "rampart-test-registry";

/// The issuer named in the tokens and in the registry configuration.
pub(super) const ISSUER: &str = "rampart-test-token-server";

/// One request to the token server.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TokenRequest {
    /// The `scope` parameters, such as `repository:team/app:pull`.
    pub scopes: Vec<String>,
    /// Whether basic credentials came with it.
    pub with_credentials: bool,
    /// The status the server returned.
    pub status: u16,
}

/// A running token server; it stops with the test process.
pub(super) struct TokenServer {
    pub realm: String,
    /// The signing certificate (PEM), the registry's `rootcertbundle`.
    pub certificate: PathBuf,
    pub requests: Arc<Mutex<Vec<TokenRequest>>>,
}

struct Signer {
    key: KeyPair,
    certificate_der: Vec<u8>,
    /// The `Authorization` header value that the server accepts.
    expected: String,
}

/// Starts a token server on a free port of 127.0.0.1 that accepts
/// `username` and `password`, and writes its certificate under `dir`.
pub(super) fn start(dir: &Path, username: &str, password: &str) -> TokenServer {
    let key = KeyPair::generate().expect("generate the token signing key");
    let mut params =
        CertificateParams::new(Vec::<String>::new()).expect("token certificate parameters");
    params
        .distinguished_name
        .push(DnType::CommonName, "rampart test token issuer");
    let certificate = params
        .self_signed(&key)
        .expect("self-sign the token certificate");
    let path = dir.join("token-issuer.pem");
    std::fs::write(&path, certificate.pem()).expect("write the token certificate");

    let signer = Arc::new(Signer {
        key,
        certificate_der: certificate.der().to_vec(),
        expected: super::basic_auth(username, password),
    });
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind the token server");
    let realm = format!(
        "http://127.0.0.1:{}/token",
        listener.local_addr().expect("token server address").port()
    );
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&requests);
    thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let signer = Arc::clone(&signer);
            let log = Arc::clone(&log);
            thread::spawn(move || {
                let _ = serve(stream, &signer, &log);
            });
        }
    });
    TokenServer {
        realm,
        certificate: path,
        requests,
    }
}

fn serve(
    stream: TcpStream,
    signer: &Signer,
    log: &Mutex<Vec<TokenRequest>>,
) -> std::io::Result<()> {
    let mut reader = BufReader::new(stream.try_clone()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line)?;
    let mut authorization = None;
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line)? == 0 || line.trim().is_empty() {
            break;
        }
        if let Some((name, value)) = line.split_once(':')
            && name.trim().eq_ignore_ascii_case("authorization")
        {
            authorization = Some(value.trim().to_owned());
        }
    }
    let target = request_line.split_whitespace().nth(1).unwrap_or_default();
    let query = target.split_once('?').map_or("", |(_, query)| query);
    let scopes: Vec<String> = query
        .split('&')
        .filter_map(|pair| pair.split_once('='))
        .filter(|(name, _)| *name == "scope")
        .map(|(_, value)| percent_decode(value))
        .collect();

    let accepted = authorization.as_deref() == Some(signer.expected.as_str());
    let (status, body) = if accepted {
        let token = signer.token(&scopes);
        (
            200,
            format!(r#"{{"token":"{token}","access_token":"{token}","expires_in":600}}"#),
        )
    } else {
        (401, r#"{"details":"invalid credentials"}"#.to_owned())
    };
    log.lock().unwrap().push(TokenRequest {
        scopes,
        with_credentials: authorization.is_some(),
        status,
    });
    let mut stream = stream;
    write!(
        stream,
        "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        if status == 200 { "OK" } else { "Unauthorized" },
        body.len()
    )?;
    stream.flush()
}

impl Signer {
    /// Makes a JWT that grants the actions of `scopes`
    /// (`repository:NAME:ACTION[,ACTION]`).
    fn token(&self, scopes: &[String]) -> String {
        let access: Vec<serde_json::Value> = scopes
            .iter()
            .filter_map(|scope| {
                let mut parts = scope.splitn(3, ':');
                let (kind, name, actions) = (parts.next()?, parts.next()?, parts.next()?);
                Some(serde_json::json!({
                    "type": kind,
                    "name": name,
                    "actions": actions.split(',').collect::<Vec<_>>(),
                }))
            })
            .collect();
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap_or_default()
            .as_secs();
        let header = serde_json::json!({
            "typ": "JWT",
            "alg": "ES256",
            "x5c": [STANDARD.encode(&self.certificate_der)],
        });
        let claims = serde_json::json!({
            "iss": ISSUER,
            "sub": "rampart",
            "aud": SERVICE,
            "exp": now + 600,
            "nbf": now - 10,
            "iat": now,
            "jti": format!("{now}-{}", scopes.len()),
            "access": access,
        });
        let signing_input = format!(
            "{}.{}",
            URL_SAFE_NO_PAD.encode(header.to_string()),
            URL_SAFE_NO_PAD.encode(claims.to_string())
        );
        let der = self
            .key
            .sign(signing_input.as_bytes())
            .expect("sign the token");
        let signature = der_to_fixed(&der);
        format!("{signing_input}.{}", URL_SAFE_NO_PAD.encode(signature))
    }
}

/// Converts an ASN.1 DER ECDSA signature (`SEQUENCE { INTEGER r, INTEGER s }`)
/// to the fixed 64-byte `r || s` form that JWS ES256 uses.
fn der_to_fixed(der: &[u8]) -> Vec<u8> {
    let mut position = 2;
    if der[1] & 0x80 != 0 {
        position += usize::from(der[1] & 0x7f);
    }
    let mut fixed = Vec::with_capacity(64);
    for _ in 0..2 {
        assert_eq!(der[position], 0x02, "an INTEGER in the ECDSA signature");
        let length = usize::from(der[position + 1]);
        let value = &der[position + 2..position + 2 + length];
        let value = &value[value.len().saturating_sub(32)..];
        fixed.extend(std::iter::repeat_n(0u8, 32 - value.len()));
        fixed.extend_from_slice(value);
        position += 2 + length;
    }
    fixed
}

fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut decoded = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        match bytes[index] {
            b'%' if index + 2 < bytes.len() => {
                let hex = std::str::from_utf8(&bytes[index + 1..index + 3]).unwrap_or("");
                match u8::from_str_radix(hex, 16) {
                    Ok(byte) => decoded.push(byte),
                    Err(_) => decoded.extend_from_slice(&bytes[index..index + 3]),
                }
                index += 3;
            }
            b'+' => {
                decoded.push(b' ');
                index += 1;
            }
            byte => {
                decoded.push(byte);
                index += 1;
            }
        }
    }
    String::from_utf8_lossy(&decoded).into_owned()
}
