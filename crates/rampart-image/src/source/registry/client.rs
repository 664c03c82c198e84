//! The HTTP side of the OCI distribution API: manifests and blobs of one
//! repository, with the token flow, retries and resumption.
//!
//! Requests go out without credentials first. A `401` with a `Bearer`
//! challenge makes the client fetch a pull token from the challenge's realm
//! (with the credentials, if any) and repeat the request; a `Basic` challenge
//! makes it send the credentials. `429` and `5xx` responses and dropped
//! connections are retried with exponential backoff, honouring
//! `Retry-After`.

use std::io::{self, Read};
use std::path::PathBuf;
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use serde::Deserialize;

use super::RegistryOptions;
use super::auth::{Challenge, CredentialSource, Credentials, parse_challenge};
use super::reference::RegistryReference;
use crate::digest::Digest;

/// The media types a manifest request accepts, schema 1 included so that
/// it can be recognised and rejected with a clear message.
pub(crate) const MANIFEST_ACCEPT: &str = "application/vnd.oci.image.index.v1+json, \
     application/vnd.oci.image.manifest.v1+json, \
     application/vnd.docker.distribution.manifest.list.v2+json, \
     application/vnd.docker.distribution.manifest.v2+json, \
     application/vnd.docker.distribution.manifest.v1+prettyjws;q=0.1, \
     application/vnd.docker.distribution.manifest.v1+json;q=0.1";

/// Longest `Retry-After` waited for; a longer one fails the request.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(60);

/// Largest token response read.
const MAX_TOKEN_BYTES: u64 = 1 << 20;

/// Largest error body read for its message.
const MAX_ERROR_BYTES: u64 = 64 << 10;

/// A failed registry request, in words for the user.
#[derive(Debug)]
pub(crate) struct RequestError(pub String);

/// A manifest as the registry sent it.
pub(crate) struct FetchedManifest {
    pub body: Vec<u8>,
    /// The media type from `Content-Type`.
    pub media_type: Option<String>,
    /// The registry's `Docker-Content-Digest` header.
    pub content_digest: Option<String>,
}

/// A registry client for one repository.
pub(crate) struct Client {
    agent: ureq::Agent,
    /// `https://HOST[:PORT]`, or `http://` for an insecure registry.
    base: String,
    pub(crate) reference: RegistryReference,
    command_line: Option<Credentials>,
    docker_config_dir: Option<PathBuf>,
    /// Looked up at the first challenge, so that an anonymous pull never
    /// reads Docker's configuration or runs a credential helper.
    credentials: OnceLock<(Option<Credentials>, CredentialSource)>,
    /// The `Authorization` value that the last challenge called for.
    authorization: Mutex<Option<String>>,
    attempts: u32,
    backoff: Duration,
}

#[derive(Deserialize)]
struct TokenResponse {
    #[serde(default)]
    token: Option<String>,
    #[serde(default)]
    access_token: Option<String>,
}

#[derive(Deserialize)]
struct ErrorBody {
    #[serde(default)]
    errors: Vec<ErrorEntry>,
}

#[derive(Deserialize)]
struct ErrorEntry {
    #[serde(default)]
    code: String,
    #[serde(default)]
    message: String,
}

impl Client {
    pub(crate) fn new(
        reference: RegistryReference,
        options: &RegistryOptions,
    ) -> Result<Client, RequestError> {
        let host = reference.api_host().to_owned();
        let insecure = options
            .insecure_registries
            .iter()
            .any(|name| *name == reference.registry || *name == host);
        let base = if insecure {
            format!("http://{host}")
        } else {
            format!("https://{host}")
        };

        let roots = match &options.ca_file {
            Some(path) => {
                let pem = std::fs::read(path).map_err(|e| {
                    RequestError(format!("cannot read the CA file {}: {e}", path.display()))
                })?;
                let mut certificates = Vec::new();
                for item in ureq::tls::parse_pem(&pem) {
                    if let Ok(ureq::tls::PemItem::Certificate(certificate)) = item {
                        certificates.push(certificate);
                    }
                }
                if certificates.is_empty() {
                    return Err(RequestError(format!(
                        "the CA file {} contains no PEM certificate",
                        path.display()
                    )));
                }
                ureq::tls::RootCerts::new_with_certs(&certificates)
            }
            None => ureq::tls::RootCerts::PlatformVerifier,
        };
        let tls = ureq::tls::TlsConfig::builder().root_certs(roots).build();
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .tls_config(tls)
            .timeout_connect(Some(options.connect_timeout))
            .timeout_recv_response(Some(options.read_timeout))
            .timeout_per_read(Some(options.read_timeout))
            .user_agent(concat!("rampart/", env!("CARGO_PKG_VERSION")))
            .build()
            .new_agent();

        tracing::debug!(registry = reference.registry, base, "registry client");
        Ok(Client {
            agent,
            base,
            reference,
            command_line: options.credentials.clone(),
            docker_config_dir: options.docker_config_dir.clone(),
            credentials: OnceLock::new(),
            authorization: Mutex::new(None),
            attempts: options.attempts.max(1),
            backoff: options.backoff,
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}/v2/{}/{path}", self.base, self.reference.repository)
    }

    /// Fetches a manifest by tag or digest.
    pub(crate) fn manifest(
        &self,
        reference: &str,
        max_bytes: u64,
    ) -> Result<FetchedManifest, RequestError> {
        let url = self.url(&format!("manifests/{reference}"));
        let response = self.get(&url, &[("Accept", MANIFEST_ACCEPT)], reference, true)?;
        let header = |name: &str| {
            response
                .headers()
                .get(name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        };
        let media_type = header("Content-Type").map(|value| {
            value
                .split(';')
                .next()
                .unwrap_or_default()
                .trim()
                .to_owned()
        });
        let content_digest = header("Docker-Content-Digest");
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(max_bytes + 1)
            .read_to_end(&mut body)
            .map_err(|e| RequestError(format!("reading manifest {reference} failed: {e}")))?;
        if body.len() as u64 > max_bytes {
            return Err(RequestError(format!(
                "manifest {reference} is larger than {max_bytes} bytes"
            )));
        }
        Ok(FetchedManifest {
            body,
            media_type,
            content_digest,
        })
    }

    /// Starts a blob download at byte `offset`. Returns the body reader and
    /// whether the server honoured the range (`206`).
    pub(crate) fn blob(
        &self,
        digest: &Digest,
        offset: u64,
    ) -> Result<(Box<dyn Read + Send>, bool), RequestError> {
        let url = self.url(&format!("blobs/{digest}"));
        let range = format!("bytes={offset}-");
        let headers: Vec<(&str, &str)> = if offset > 0 {
            vec![("Range", range.as_str())]
        } else {
            Vec::new()
        };
        let response = self.get(&url, &headers, &digest.to_string(), false)?;
        let partial = response.status().as_u16() == 206;
        if partial {
            let start = response
                .headers()
                .get("Content-Range")
                .and_then(|value| value.to_str().ok())
                .and_then(|value| value.strip_prefix("bytes "))
                .and_then(|value| value.split('-').next())
                .and_then(|value| value.trim().parse::<u64>().ok());
            if start != Some(offset) {
                return Err(RequestError(format!(
                    "blob {digest}: the registry returned another range for a request from byte {offset}"
                )));
            }
        }
        let reader = response.into_body().into_reader();
        Ok((Box::new(reader), partial))
    }

    /// Sends a GET with retries and authentication. `what` names the
    /// manifest or blob in errors.
    fn get(
        &self,
        url: &str,
        headers: &[(&str, &str)],
        what: &str,
        is_manifest: bool,
    ) -> Result<ureq::http::Response<ureq::Body>, RequestError> {
        let mut delay = self.backoff;
        let mut authenticated = false;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let mut request = self.agent.get(url);
            for (name, value) in headers {
                request = request.header(*name, *value);
            }
            let authorization = self
                .authorization
                .lock()
                .map(|value| value.clone())
                .unwrap_or_default();
            if let Some(authorization) = &authorization {
                request = request.header("Authorization", authorization);
            }
            let response = match request.call() {
                Ok(response) => response,
                Err(error) => {
                    let retry = matches!(
                        error,
                        ureq::Error::Io(_)
                            | ureq::Error::Timeout(_)
                            | ureq::Error::ConnectionFailed
                    );
                    if retry && attempt < self.attempts {
                        tracing::warn!(url, attempt, "registry request failed, retrying: {error}");
                        std::thread::sleep(delay);
                        delay = delay.saturating_mul(2);
                        continue;
                    }
                    return Err(self.transport_error(&error));
                }
            };
            let status = response.status().as_u16();
            match status {
                200..=299 => return Ok(response),
                401 if !authenticated => {
                    let challenge = response
                        .headers()
                        .get("WWW-Authenticate")
                        .and_then(|value| value.to_str().ok())
                        .and_then(parse_challenge);
                    let Some(challenge) = challenge else {
                        return Err(self.status_error(status, what, is_manifest, response));
                    };
                    self.authenticate(&challenge)?;
                    authenticated = true;
                    attempt -= 1;
                }
                429 | 500..=599 if attempt < self.attempts => {
                    let retry_after = response
                        .headers()
                        .get("Retry-After")
                        .and_then(|value| value.to_str().ok())
                        .and_then(|value| value.trim().parse::<u64>().ok())
                        .map(Duration::from_secs);
                    let wait = match retry_after {
                        Some(wait) if wait > MAX_RETRY_AFTER => {
                            return Err(RequestError(format!(
                                "{} returned HTTP {status} for {what} and requested a wait of {} s; try again later",
                                self.base,
                                wait.as_secs()
                            )));
                        }
                        Some(wait) => wait,
                        None => delay,
                    };
                    tracing::warn!(
                        url,
                        attempt,
                        status,
                        wait_ms = wait.as_millis() as u64,
                        "registry busy, retrying"
                    );
                    std::thread::sleep(wait);
                    delay = delay.saturating_mul(2);
                }
                _ => return Err(self.status_error(status, what, is_manifest, response)),
            }
        }
    }

    /// Returns the credentials for the registry and where they came from:
    /// the command line, else Docker's configuration. A failed lookup (a
    /// damaged configuration, a failing helper) is an error.
    fn credentials(&self) -> Result<&(Option<Credentials>, CredentialSource), RequestError> {
        if let Some(found) = self.credentials.get() {
            return Ok(found);
        }
        let found = match &self.command_line {
            Some(credentials) => (Some(credentials.clone()), CredentialSource::CommandLine),
            None => match self
                .docker_config_dir
                .clone()
                .or_else(super::auth::docker_config_dir)
            {
                Some(dir) => {
                    super::auth::lookup(&dir, &self.reference.registry).map_err(RequestError)?
                }
                None => (None, CredentialSource::None),
            },
        };
        tracing::debug!(registry = self.reference.registry, credentials = %found.1, "registry credentials");
        Ok(self.credentials.get_or_init(|| found))
    }

    /// Handles a challenge: fetches a bearer token, or sets basic credentials.
    fn authenticate(&self, challenge: &Challenge) -> Result<(), RequestError> {
        let (credentials, _) = self.credentials()?;
        let value = match challenge {
            Challenge::Basic => match credentials {
                Some(credentials) => credentials.basic_header(),
                None => return Err(self.needs_login()),
            },
            Challenge::Bearer {
                realm,
                service,
                scope,
            } => format!(
                "Bearer {}",
                self.fetch_token(realm, service.as_deref(), scope.as_deref())?
            ),
        };
        if let Ok(mut authorization) = self.authorization.lock() {
            *authorization = Some(value);
        }
        Ok(())
    }

    fn fetch_token(
        &self,
        realm: &str,
        service: Option<&str>,
        scope: Option<&str>,
    ) -> Result<String, RequestError> {
        let plain_to_plain = realm.starts_with("http://") && self.base.starts_with("http://");
        if !(realm.starts_with("https://") || plain_to_plain) {
            return Err(RequestError(format!(
                "the registry's token service {realm:?} is not an HTTPS URL; rampart sends credentials only over HTTPS, or over plain HTTP to a registry named with --insecure-registry"
            )));
        }
        let default_scope = format!("repository:{}:pull", self.reference.repository);
        let scope = scope.unwrap_or(&default_scope);
        let mut url = format!(
            "{realm}{}scope={}",
            if realm.contains('?') { '&' } else { '?' },
            encode(scope)
        );
        if let Some(service) = service {
            url.push_str(&format!("&service={}", encode(service)));
        }
        let (credentials, _) = self.credentials()?;
        let response = match credentials {
            Some(Credentials::IdentityToken(token)) => {
                let form = format!(
                    "grant_type=refresh_token&client_id=rampart&refresh_token={}&scope={}{}",
                    encode(token.expose()),
                    encode(scope),
                    service
                        .map(|s| format!("&service={}", encode(s)))
                        .unwrap_or_default()
                );
                self.agent
                    .post(realm)
                    .header("Content-Type", "application/x-www-form-urlencoded")
                    .send(form.as_bytes())
            }
            Some(credentials) => self
                .agent
                .get(&url)
                .header("Authorization", &credentials.basic_header())
                .call(),
            None => self.agent.get(&url).call(),
        }
        .map_err(|error| {
            RequestError(format!("requesting a token from {realm} failed: {error}"))
        })?;
        let status = response.status().as_u16();
        if status == 401 || status == 403 {
            return Err(self.rejected_credentials(status));
        }
        if !(200..300).contains(&status) {
            return Err(RequestError(format!(
                "the token service {realm} returned HTTP {status}"
            )));
        }
        let mut body = Vec::new();
        response
            .into_body()
            .into_reader()
            .take(MAX_TOKEN_BYTES)
            .read_to_end(&mut body)
            .map_err(|e| RequestError(format!("reading the token from {realm} failed: {e}")))?;
        let token: TokenResponse = serde_json::from_slice(&body).map_err(|_| {
            RequestError(format!(
                "the token service {realm} returned something other than a token"
            ))
        })?;
        token
            .token
            .or(token.access_token)
            .filter(|token| !token.is_empty())
            .ok_or_else(|| RequestError(format!("the token service {realm} sent an empty token")))
    }

    fn needs_login(&self) -> RequestError {
        RequestError(format!(
            "the registry requires authentication (HTTP 401); log in with `docker login {}` or pass --username and --password-stdin",
            self.reference.registry
        ))
    }

    fn rejected_credentials(&self, status: u16) -> RequestError {
        let (credentials, source) = match self.credentials.get() {
            Some((credentials, source)) => (credentials.as_ref(), source.to_string()),
            None => (None, CredentialSource::None.to_string()),
        };
        match credentials {
            None => self.needs_login(),
            Some(_) => RequestError(format!(
                "the registry rejected the credentials from {} (HTTP {status}); check the user name and password, or log in again with `docker login {}`",
                source, self.reference.registry
            )),
        }
    }

    fn status_error(
        &self,
        status: u16,
        what: &str,
        is_manifest: bool,
        response: ureq::http::Response<ureq::Body>,
    ) -> RequestError {
        let mut body = Vec::new();
        let _ = response
            .into_body()
            .into_reader()
            .take(MAX_ERROR_BYTES)
            .read_to_end(&mut body);
        let errors: Vec<ErrorEntry> = serde_json::from_slice::<ErrorBody>(&body)
            .map(|body| body.errors)
            .unwrap_or_default();
        let code = errors.first().map(|e| e.code.as_str()).unwrap_or_default();
        let detail = errors
            .first()
            .map(|e| format!(" ({}: {})", e.code, e.message))
            .unwrap_or_default();
        match status {
            401 => self.rejected_credentials(status),
            403 => RequestError(format!(
                "access denied (HTTP 403){detail}: the credentials from {} may not pull this repository",
                self.credentials.get().map_or_else(
                    || CredentialSource::None.to_string(),
                    |(_, source)| source.to_string()
                )
            )),
            404 if code == "NAME_UNKNOWN" => RequestError(format!(
                "repository not found (HTTP 404){detail}; check the repository name"
            )),
            404 if is_manifest => RequestError(format!(
                "manifest {what} not found (HTTP 404){detail}; check the tag or digest"
            )),
            404 => RequestError(format!("blob {what} not found (HTTP 404){detail}")),
            // A TLS port responds to plain HTTP with 400.
            400 if self.base.starts_with("http://") => RequestError(format!(
                "{} returned HTTP 400 for {what}{detail}; if the registry serves HTTPS, leave out --insecure-registry {}",
                self.base, self.reference.registry
            )),
            _ => RequestError(format!(
                "{} returned HTTP {status} for {what}{detail}",
                self.base
            )),
        }
    }

    fn transport_error(&self, error: &ureq::Error) -> RequestError {
        let hint = match error {
            // A plain-HTTP server responds to a TLS handshake with bytes that
            // are no TLS record.
            error if is_tls_failure(error) && error.to_string().contains("InvalidContentType") => {
                format!(
                    "; the registry seems to serve plain HTTP: pass --insecure-registry {}",
                    self.reference.registry
                )
            }
            error if is_tls_failure(error) => {
                "; if the registry uses a private CA, pass --ca-file FILE with its certificate"
                    .to_owned()
            }
            ureq::Error::HostNotFound => {
                "; the host name does not resolve, so check the registry name".to_owned()
            }
            ureq::Error::ConnectionFailed | ureq::Error::Io(_)
                if self.base.starts_with("https://") =>
            {
                format!(
                    "; check the address, or pass --insecure-registry {} if the registry serves plain HTTP",
                    self.reference.registry
                )
            }
            _ => String::new(),
        };
        RequestError(format!("cannot reach {}: {error}{hint}", self.base))
    }
}

/// Returns whether a request failed in the TLS handshake. rustls reports an
/// untrusted certificate as an I/O error of kind `InvalidData`.
fn is_tls_failure(error: &ureq::Error) -> bool {
    match error {
        ureq::Error::Tls(_) | ureq::Error::Rustls(_) => true,
        ureq::Error::Io(io) => io.kind() == io::ErrorKind::InvalidData,
        _ => false,
    }
}

/// Percent-encodes a query value (RFC 3986 unreserved characters stay).
fn encode(text: &str) -> String {
    let mut encoded = String::with_capacity(text.len());
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || b"-._~".contains(&byte) {
            encoded.push(char::from(byte));
        } else {
            encoded.push_str(&format!("%{byte:02X}"));
        }
    }
    encoded
}

/// Reads an `io::Error` kind that a dropped connection gives, so the blob
/// stream knows to resume.
pub(crate) fn is_interruption(error: &io::Error) -> bool {
    !matches!(
        error.kind(),
        io::ErrorKind::InvalidData | io::ErrorKind::InvalidInput | io::ErrorKind::Unsupported
    )
}
