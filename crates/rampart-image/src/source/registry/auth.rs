//! Registry credentials and the authentication challenge.
//!
//! Credentials come from the command line (`--username` with
//! `--password-stdin`) or from Docker's client configuration
//! (`$DOCKER_CONFIG/config.json`, else `~/.docker/config.json`): the
//! registry's `credHelpers` entry, then `auths`, then `credsStore`. A
//! helper is the program `docker-credential-NAME`, which gets the registry
//! on stdin and prints `{"Username": …, "Secret": …}`; it is the user's own
//! program, run only when their configuration names it.
//!
//! Secrets never appear in `Debug` output, logs or errors.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use serde::Deserialize;

use super::reference::DEFAULT_REGISTRY;

/// The key under which Docker stores Docker Hub credentials.
const DOCKER_HUB_KEY: &str = "https://index.docker.io/v1/";

/// Largest Docker configuration file read.
const MAX_CONFIG_BYTES: u64 = 4 << 20;

/// A password or token, kept out of `Debug` output.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(text: impl Into<String>) -> Secret {
        Secret(text.into())
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("<redacted>")
    }
}

/// Credentials for one registry.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credentials {
    /// A user name and password (or personal access token).
    Basic { username: String, password: Secret },
    /// An identity token from `docker login` to a token server: sent as the
    /// refresh token of the OAuth2 flow (here, as the basic password).
    IdentityToken(Secret),
}

impl Credentials {
    /// Returns the `Authorization` header value for basic authentication.
    pub(crate) fn basic_header(&self) -> String {
        let pair = match self {
            Credentials::Basic { username, password } => {
                format!("{username}:{}", password.expose())
            }
            Credentials::IdentityToken(token) => format!("<token>:{}", token.expose()),
        };
        format!("Basic {}", BASE64.encode(pair))
    }
}

/// The origin of credentials, for messages.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    CommandLine,
    DockerConfig(PathBuf),
    Helper(String),
    None,
}

impl fmt::Display for CredentialSource {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CredentialSource::CommandLine => f.write_str("--username"),
            CredentialSource::DockerConfig(path) => write!(f, "{}", path.display()),
            CredentialSource::Helper(name) => write!(f, "docker-credential-{name}"),
            CredentialSource::None => f.write_str("no credentials"),
        }
    }
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct DockerConfig {
    #[serde(default)]
    auths: BTreeMap<String, AuthEntry>,
    #[serde(default)]
    cred_helpers: BTreeMap<String, String>,
    #[serde(default)]
    creds_store: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(rename_all = "camelCase")]
struct AuthEntry {
    #[serde(default)]
    auth: Option<String>,
    #[serde(default)]
    username: Option<String>,
    #[serde(default)]
    password: Option<String>,
    #[serde(default)]
    identitytoken: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct HelperOutput {
    username: String,
    secret: String,
}

/// Returns the Docker configuration directory: `$DOCKER_CONFIG`, else `~/.docker`.
pub fn docker_config_dir() -> Option<PathBuf> {
    if let Some(dir) = std::env::var_os("DOCKER_CONFIG").filter(|dir| !dir.is_empty()) {
        return Some(PathBuf::from(dir));
    }
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join(".docker"))
}

/// Looks up the credentials for `registry` in the Docker configuration in
/// `config_dir`. A missing file means no credentials; a damaged one is an
/// error that names it.
pub fn lookup(
    config_dir: &Path,
    registry: &str,
) -> Result<(Option<Credentials>, CredentialSource), String> {
    let path = config_dir.join("config.json");
    let text = match std::fs::metadata(&path) {
        Ok(metadata) if metadata.len() > MAX_CONFIG_BYTES => {
            return Err(format!(
                "{} is larger than {MAX_CONFIG_BYTES} bytes",
                path.display()
            ));
        }
        Ok(_) => std::fs::read_to_string(&path)
            .map_err(|e| format!("cannot read {}: {e}", path.display()))?,
        Err(_) => return Ok((None, CredentialSource::None)),
    };
    let config: DockerConfig = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{} is not a valid Docker configuration ({e}); fix it or point DOCKER_CONFIG elsewhere",
            path.display()
        )
    })?;
    let keys = config_keys(registry);

    if let Some(helper) = keys.iter().find_map(|key| config.cred_helpers.get(key)) {
        let credentials = run_helper(helper, &keys[0])?;
        return Ok((credentials, CredentialSource::Helper(helper.clone())));
    }
    if let Some(entry) = keys.iter().find_map(|key| config.auths.get(key)) {
        let credentials = entry_credentials(entry, &path, registry)?;
        if credentials.is_some() {
            return Ok((credentials, CredentialSource::DockerConfig(path)));
        }
    }
    if let Some(store) = &config.creds_store {
        let credentials = run_helper(store, &keys[0])?;
        return Ok((credentials, CredentialSource::Helper(store.clone())));
    }
    Ok((None, CredentialSource::None))
}

/// Lists the keys a registry may have in a Docker configuration, preferred first.
fn config_keys(registry: &str) -> Vec<String> {
    if registry == DEFAULT_REGISTRY {
        return vec![
            DOCKER_HUB_KEY.to_owned(),
            "index.docker.io".to_owned(),
            "docker.io".to_owned(),
            "registry-1.docker.io".to_owned(),
        ];
    }
    vec![
        registry.to_owned(),
        format!("https://{registry}"),
        format!("http://{registry}"),
        format!("https://{registry}/v1/"),
        format!("https://{registry}/v2/"),
    ]
}

fn entry_credentials(
    entry: &AuthEntry,
    path: &Path,
    registry: &str,
) -> Result<Option<Credentials>, String> {
    if let Some(token) = entry.identitytoken.as_deref().filter(|t| !t.is_empty()) {
        return Ok(Some(Credentials::IdentityToken(Secret::new(token))));
    }
    if let Some(auth) = entry.auth.as_deref().filter(|a| !a.is_empty()) {
        let invalid = || {
            format!(
                "{}: the `auth` entry of {registry} is not base64 of USER:PASSWORD; run `docker login {registry}` again",
                path.display()
            )
        };
        let decoded = BASE64.decode(auth.trim()).map_err(|_| invalid())?;
        let decoded = String::from_utf8(decoded).map_err(|_| invalid())?;
        let (username, password) = decoded.split_once(':').ok_or_else(invalid)?;
        return Ok(Some(Credentials::Basic {
            username: username.to_owned(),
            password: Secret::new(password),
        }));
    }
    match (&entry.username, &entry.password) {
        (Some(username), Some(password)) if !username.is_empty() => Ok(Some(Credentials::Basic {
            username: username.clone(),
            password: Secret::new(password.clone()),
        })),
        _ => Ok(None),
    }
}

/// Runs `docker-credential-NAME get` for `server`. A helper that has no
/// credentials for the server exits non-zero with "credentials not found";
/// that means anonymous access.
fn run_helper(name: &str, server: &str) -> Result<Option<Credentials>, String> {
    if name.is_empty()
        || !name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_.".contains(c))
    {
        return Err(format!(
            "invalid credential helper name {name:?} in the Docker configuration"
        ));
    }
    let program = format!("docker-credential-{name}");
    let mut child = Command::new(&program)
        .arg("get")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .map_err(|e| {
            format!("cannot run the credential helper {program} named in the Docker configuration: {e}; install it or remove it from the configuration")
        })?;
    // A helper that exits without reading its input closes the pipe, so
    // only its exit status below decides the outcome.
    if let Some(mut stdin) = child.stdin.take() {
        let _ = stdin.write_all(server.as_bytes());
    }
    let output = child
        .wait_with_output()
        .map_err(|e| format!("{program} failed: {e}"))?;
    if !output.status.success() {
        let message = String::from_utf8_lossy(&output.stdout).to_string()
            + &String::from_utf8_lossy(&output.stderr);
        if message
            .to_ascii_lowercase()
            .contains("credentials not found")
        {
            return Ok(None);
        }
        // The helper's output may echo a secret, so it is not repeated.
        return Err(format!(
            "{program} get failed with {} for {server}",
            output.status
        ));
    }
    let parsed: HelperOutput = serde_json::from_slice(&output.stdout).map_err(|_| {
        format!("{program} get printed something other than its JSON credentials for {server}")
    })?;
    if parsed.username == "<token>" {
        return Ok(Some(Credentials::IdentityToken(Secret::new(parsed.secret))));
    }
    Ok(Some(Credentials::Basic {
        username: parsed.username,
        password: Secret::new(parsed.secret),
    }))
}

/// A parsed `WWW-Authenticate` challenge.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Challenge {
    Basic,
    Bearer {
        realm: String,
        service: Option<String>,
        scope: Option<String>,
    },
}

/// Parses a `WWW-Authenticate` header (RFC 7235 auth-params, quoted or not).
pub(crate) fn parse_challenge(header: &str) -> Option<Challenge> {
    let header = header.trim();
    let (scheme, rest) = header.split_once(' ').unwrap_or((header, ""));
    let mut params = BTreeMap::new();
    let mut rest = rest.trim();
    while !rest.is_empty() {
        let Some((key, after)) = rest.split_once('=') else {
            break;
        };
        let key = key
            .trim()
            .trim_start_matches(',')
            .trim()
            .to_ascii_lowercase();
        let after = after.trim_start();
        let (value, remainder) = if let Some(quoted) = after.strip_prefix('"') {
            let mut value = String::new();
            let mut chars = quoted.char_indices();
            let mut end = quoted.len();
            while let Some((index, c)) = chars.next() {
                match c {
                    '\\' => {
                        if let Some((_, escaped)) = chars.next() {
                            value.push(escaped);
                        }
                    }
                    '"' => {
                        end = index + 1;
                        break;
                    }
                    c => value.push(c),
                }
            }
            (value, &quoted[end.min(quoted.len())..])
        } else {
            let end = after.find(',').unwrap_or(after.len());
            (after[..end].trim().to_owned(), &after[end..])
        };
        params.insert(key, value);
        rest = remainder.trim_start().trim_start_matches(',').trim_start();
    }
    match scheme.to_ascii_lowercase().as_str() {
        "basic" => Some(Challenge::Basic),
        "bearer" => Some(Challenge::Bearer {
            realm: params.remove("realm")?,
            service: params.remove("service"),
            scope: params.remove("scope"),
        }),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_challenge() {
        let challenge = parse_challenge(
            r#"Bearer realm="https://auth.example.com/token",service="registry.example.com",scope="repository:org/app:pull""#,
        );
        assert_eq!(
            challenge,
            Some(Challenge::Bearer {
                realm: "https://auth.example.com/token".to_owned(),
                service: Some("registry.example.com".to_owned()),
                scope: Some("repository:org/app:pull".to_owned()),
            })
        );
        assert_eq!(
            parse_challenge(r#"Basic realm="Registry Realm""#),
            Some(Challenge::Basic)
        );
        assert_eq!(
            parse_challenge("Bearer realm=http://127.0.0.1:1/token, service=local"),
            Some(Challenge::Bearer {
                realm: "http://127.0.0.1:1/token".to_owned(),
                service: Some("local".to_owned()),
                scope: None,
            })
        );
        assert_eq!(parse_challenge("Bearer service=x"), None);
        assert_eq!(parse_challenge("Negotiate abc"), None);
    }

    #[test]
    fn docker_config_entries() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"auths": {
                "127.0.0.1:5000": {"auth": "YWxpY2U6czNjcmV0"},
                "https://index.docker.io/v1/": {"username": "bob", "password": "pw"},
                "ghcr.io": {"identitytoken": "tok"},
                "empty.example": {}
            }}"#,
        )
        .unwrap();
        let (credentials, source) = lookup(dir.path(), "127.0.0.1:5000").unwrap();
        assert_eq!(
            credentials,
            Some(Credentials::Basic {
                username: "alice".to_owned(),
                password: Secret::new("s3cret"),
            })
        );
        assert!(matches!(source, CredentialSource::DockerConfig(_)));
        let (hub, _) = lookup(dir.path(), "docker.io").unwrap();
        assert!(matches!(hub, Some(Credentials::Basic { ref username, .. }) if username == "bob"));
        let (token, _) = lookup(dir.path(), "ghcr.io").unwrap();
        assert_eq!(token, Some(Credentials::IdentityToken(Secret::new("tok"))));
        let (none, source) = lookup(dir.path(), "empty.example").unwrap();
        assert_eq!((none, source), (None, CredentialSource::None));
        assert_eq!(lookup(dir.path(), "other.example").unwrap().0, None);
        assert_eq!(
            format!("{:?}", Secret::new("s3cret")),
            "<redacted>",
            "a secret leaks into Debug output"
        );
    }

    #[test]
    fn damaged_config_named() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("config.json"), "{not json").unwrap();
        let error = lookup(dir.path(), "127.0.0.1:5000").unwrap_err();
        assert!(error.contains("config.json"), "{error}");
        let missing = tempfile::tempdir().unwrap();
        assert_eq!(lookup(missing.path(), "x.example").unwrap().0, None);
    }

    #[test]
    fn missing_helper_reported() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(
            dir.path().join("config.json"),
            r#"{"credHelpers": {"127.0.0.1:5000": "rampart-test-absent"}}"#,
        )
        .unwrap();
        let error = lookup(dir.path(), "127.0.0.1:5000").unwrap_err();
        assert!(
            error.contains("docker-credential-rampart-test-absent"),
            "{error}"
        );
    }
}
