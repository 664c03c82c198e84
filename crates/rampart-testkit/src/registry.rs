//! A real OCI registry on 127.0.0.1 for pull tests: Debian's
//! `docker-registry` package (the CNCF distribution server, 2.8.2 in
//! bookworm) started with a throwaway configuration and its storage in a
//! temporary directory. Images get into it with `skopeo copy` from OCI
//! layouts, as a user would push them.
//!
//! Neither the registry nor skopeo contacts another host: the registry
//! configuration has no proxy (pull-through) section and no notification
//! endpoints, and skopeo gets an empty registries.conf and only
//! `127.0.0.1:PORT` references.

pub(crate) mod tls;
mod token;

pub use token::TokenRequest;

use std::io::{BufRead, BufReader, Read};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::{Duration, Instant};

use base64::Engine as _;

use tls::TlsFiles;

/// The server binary of Debian's `docker-registry` package.
const REGISTRY_BINARY: &str = "docker-registry";
const SKOPEO_BINARY: &str = "skopeo";

/// Maximum time from starting a registry to its first response to
/// `GET /v2/`. Starts took 25-50 ms on a 2-core machine, so the margin is
/// for loaded CI machines.
const START_TIMEOUT: Duration = Duration::from_secs(30);

/// How many free ports are tried when another process takes the chosen
/// port between the probe and the registry's bind.
const PORT_ATTEMPTS: usize = 5;

/// The query parameter of the requests that mark a point in the access log.
const LOG_MARKER: &str = "rampart-testkit-log-marker";

/// The transport and authentication of a test registry.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct RegistryOptions {
    /// Serve HTTPS with a server certificate for 127.0.0.1 and localhost,
    /// signed by a CA that the harness generates.
    pub tls: bool,
    /// Require HTTP basic authentication (an htpasswd file with one bcrypt
    /// entry).
    pub auth: bool,
    /// Require bearer tokens from a token server that the harness runs
    /// (distribution's `auth.token`); the token server takes the
    /// credentials. Overrides `auth`.
    pub token: bool,
}

impl RegistryOptions {
    /// Plain HTTP, anonymous access.
    pub fn http() -> Self {
        RegistryOptions {
            tls: false,
            auth: false,
            token: false,
        }
    }

    /// Plain HTTP with the bearer-token flow: the registry sends clients to
    /// a token server on 127.0.0.1, which checks their credentials.
    pub fn http_with_token() -> Self {
        RegistryOptions {
            tls: false,
            auth: false,
            token: true,
        }
    }

    /// HTTPS with a test CA, and basic authentication.
    pub fn tls_with_auth() -> Self {
        RegistryOptions {
            tls: true,
            auth: true,
            token: false,
        }
    }
}

/// A running `docker-registry` process, killed when the value is dropped.
pub struct Registry {
    child: Child,
    /// The configuration, storage, certificates and skopeo scratch files.
    dir: tempfile::TempDir,
    host: String,
    tls: Option<TlsFiles>,
    credentials: Option<(String, String)>,
    token: Option<token::TokenServer>,
    access_log: Arc<Mutex<Vec<String>>>,
    server_log: Arc<Mutex<Vec<String>>>,
    /// Numbers the skopeo digest files and the access-log markers.
    counter: AtomicUsize,
}

impl Registry {
    /// Starts a registry on a free port of 127.0.0.1 and waits until it
    /// responds to `GET /v2/`.
    ///
    /// Returns `None` (and prints why) when `docker-registry` or `skopeo` is
    /// not installed. With `RAMPART_REQUIRE_REGISTRY` set, a missing tool
    /// fails the calling test instead, so that CI cannot skip the tier.
    pub fn start(options: RegistryOptions) -> Option<Registry> {
        let missing: Vec<&str> = [REGISTRY_BINARY, SKOPEO_BINARY]
            .into_iter()
            .filter(|binary| find_on_path(binary).is_none())
            .collect();
        if !missing.is_empty() {
            // The Debian package names equal the binary names.
            let install = format!("apt-get install {}", missing.join(" "));
            let verb = if missing.len() == 1 { "is" } else { "are" };
            let missing = missing.join(" and ");
            assert!(
                std::env::var_os("RAMPART_REQUIRE_REGISTRY").is_none(),
                "RAMPART_REQUIRE_REGISTRY is set but {missing} {verb} not installed; install with `{install}`"
            );
            eprintln!(
                "skipped: {missing} {verb} not installed, so the registry tier does not run (install with `{install}`)"
            );
            return None;
        }

        let mut last_log = Vec::new();
        for _ in 0..PORT_ATTEMPTS {
            match Registry::spawn(options) {
                Ok(registry) => return Some(registry),
                Err(server_log) => last_log = server_log,
            }
        }
        panic!(
            "docker-registry could not bind a free port of 127.0.0.1 in {PORT_ATTEMPTS} attempts; its last log:\n{}",
            last_log.join("\n")
        );
    }

    /// Starts one process. Returns its log as the error when the chosen
    /// port was taken before the registry bound it.
    fn spawn(options: RegistryOptions) -> Result<Registry, Vec<String>> {
        let dir = tempfile::Builder::new()
            .prefix("rampart-registry-")
            .tempdir()
            .expect("create the registry's temporary directory");
        let port = free_port();
        let host = format!("127.0.0.1:{port}");
        let tls = options.tls.then(|| tls::write_tls_files(dir.path()));
        let credentials = (options.auth || options.token).then(|| {
            let credentials = ("rampart".to_owned(), random_token());
            tls::write_htpasswd(&dir.path().join("htpasswd"), &credentials.0, &credentials.1);
            credentials
        });
        let token = options.token.then(|| {
            let (username, password) = credentials.as_ref().expect("token credentials");
            token::start(dir.path(), username, password)
        });
        let storage = dir.path().join("storage");
        std::fs::create_dir_all(&storage).unwrap();
        let config = dir.path().join("config.yml");
        std::fs::write(
            &config,
            config_yaml(
                &host,
                &storage,
                tls.as_ref(),
                options.auth && !options.token,
                token.as_ref(),
                dir.path(),
            ),
        )
        .unwrap();

        let mut command = Command::new(REGISTRY_BINARY);
        command
            .arg("serve")
            .arg(&config)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        // distribution reads REGISTRY_* variables as configuration overrides.
        for (name, _) in std::env::vars_os() {
            if name.to_string_lossy().starts_with("REGISTRY_") {
                command.env_remove(name);
            }
        }
        let mut child = command.spawn().expect("start docker-registry");
        // The access log (gorilla's combined format) goes to stdout and the
        // application log (logrus) to stderr.
        let access_log = collect_lines(child.stdout.take().unwrap());
        let server_log = collect_lines(child.stderr.take().unwrap());

        let mut registry = Registry {
            child,
            dir,
            host,
            tls,
            credentials,
            token,
            access_log,
            server_log,
            counter: AtomicUsize::new(0),
        };
        registry.wait_until_ready()?;
        Ok(registry)
    }

    fn wait_until_ready(&mut self) -> Result<(), Vec<String>> {
        let agent = self.agent();
        let deadline = Instant::now() + START_TIMEOUT;
        loop {
            if let Ok(response) = agent.get(self.url("/v2/")).call()
                && matches!(response.status().as_u16(), 200 | 401)
            {
                return Ok(());
            }
            if let Ok(Some(status)) = self.child.try_wait() {
                // Give the pipe readers a moment to collect the last lines.
                thread::sleep(Duration::from_millis(200));
                let log = self.server_log();
                if log
                    .iter()
                    .any(|line| line.contains("address already in use"))
                {
                    return Err(log);
                }
                panic!(
                    "docker-registry exited ({status}) before responding to GET /v2/ on {}; its log:\n{}",
                    self.host,
                    log.join("\n")
                );
            }
            assert!(
                Instant::now() < deadline,
                "docker-registry did not respond to GET /v2/ on {} within {START_TIMEOUT:?}; its log:\n{}",
                self.host,
                self.server_log().join("\n")
            );
            thread::sleep(Duration::from_millis(20));
        }
    }

    /// Returns `127.0.0.1:PORT`, the registry part of image references.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// Returns the URL of `path` (which starts with `/`), with `https` when
    /// the registry serves TLS.
    pub fn url(&self, path: &str) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://{}{path}", self.host)
    }

    /// Returns the test CA certificate (PEM) when the registry serves TLS.
    pub fn ca_pem_path(&self) -> Option<&Path> {
        self.tls.as_ref().map(|tls| tls.ca_pem.as_path())
    }

    /// Returns a directory with the test CA as `ca.crt` (the layout of
    /// skopeo's `--cert-dir` options) when the registry serves TLS.
    pub fn cert_dir(&self) -> Option<&Path> {
        self.tls.as_ref().map(|tls| tls.cert_dir.as_path())
    }

    /// Returns the username and password when the registry requires
    /// authentication.
    pub fn credentials(&self) -> Option<(&str, &str)> {
        self.credentials
            .as_ref()
            .map(|(username, password)| (username.as_str(), password.as_str()))
    }

    /// Returns the `Authorization` header value (`Basic …`) of the
    /// registry's credentials.
    pub fn basic_auth(&self) -> Option<String> {
        self.credentials()
            .map(|(username, password)| basic_auth(username, password))
    }

    /// Returns the registry's storage root (distribution's filesystem
    /// driver layout, `docker/registry/v2/blobs/sha256/…/data`), so a test
    /// can damage a stored blob.
    pub fn storage_dir(&self) -> PathBuf {
        self.dir.path().join("storage")
    }

    /// Returns an HTTP client for this registry: it trusts only the test CA,
    /// ignores proxy environment variables, returns 4xx and 5xx responses
    /// as responses, and times out after 30 seconds.
    pub fn agent(&self) -> ureq::Agent {
        let certificates: Vec<ureq::tls::Certificate<'static>> = self
            .tls
            .iter()
            .map(|tls| ureq::tls::Certificate::from_der(&tls.ca_der).to_owned())
            .collect();
        let tls_config = ureq::tls::TlsConfig::builder()
            .root_certs(ureq::tls::RootCerts::new_with_certs(&certificates))
            .build();
        ureq::Agent::config_builder()
            .http_status_as_error(false)
            .proxy(None)
            .tls_config(tls_config)
            .timeout_global(Some(Duration::from_secs(30)))
            .build()
            .new_agent()
    }

    /// Pushes the image (or the whole index) tagged `tag_in_layout` in an
    /// OCI layout to `REPO:TAG` with `skopeo copy --all
    /// --preserve-digests`, and returns the pushed manifest or index
    /// digest, which equals the one in the layout.
    ///
    /// Panics with skopeo's output when the copy fails.
    pub fn push_layout(&self, layout: &Path, tag_in_layout: &str, repo: &str, tag: &str) -> String {
        let layout_path = layout
            .to_str()
            .unwrap_or_else(|| panic!("layout path {} is not UTF-8", layout.display()));
        // skopeo splits `oci:PATH:TAG` at the first colon after the path.
        assert!(
            !layout_path.contains(':'),
            "layout path {layout_path} contains a colon, which skopeo's oci: reference cannot express"
        );
        let scratch = self.dir.path().join("skopeo");
        let registries_d = scratch.join("registries.d");
        let tmp = scratch.join("tmp");
        std::fs::create_dir_all(&registries_d).unwrap();
        std::fs::create_dir_all(&tmp).unwrap();
        let registries_conf = scratch.join("registries.conf");
        std::fs::write(&registries_conf, "").unwrap();
        let digest_file = scratch.join(format!(
            "digest-{}",
            self.counter.fetch_add(1, Ordering::Relaxed)
        ));

        let mut command = Command::new(SKOPEO_BINARY);
        command
            .env("CONTAINERS_REGISTRIES_CONF", &registries_conf)
            .arg("--insecure-policy")
            .arg("--registries.d")
            .arg(&registries_d)
            .arg("--tmpdir")
            .arg(&tmp)
            .args(["copy", "--all", "--preserve-digests", "--quiet"])
            .arg("--digestfile")
            .arg(&digest_file);
        match &self.tls {
            Some(tls) => {
                command.arg("--dest-cert-dir").arg(&tls.cert_dir);
            }
            None => {
                command.arg("--dest-tls-verify=false");
            }
        }
        match self.credentials() {
            Some((username, password)) => {
                command.arg(format!("--dest-creds={username}:{password}"));
            }
            None => {
                command.arg("--dest-no-creds");
            }
        }
        command
            .arg(format!("oci:{layout_path}:{tag_in_layout}"))
            .arg(format!("docker://{}/{repo}:{tag}", self.host));

        let output = command.output().expect("run skopeo");
        assert!(
            output.status.success(),
            "skopeo copy of {layout_path}:{tag_in_layout} to {}/{repo}:{tag} failed ({}):\n{}",
            self.host,
            output.status,
            String::from_utf8_lossy(&output.stderr)
        );
        let digest = std::fs::read_to_string(&digest_file)
            .unwrap_or_else(|error| panic!("read skopeo's digest file: {error}"));
        digest.trim().to_owned()
    }

    /// Returns the access-log lines (combined log format) of every request
    /// the registry has completed, oldest first.
    ///
    /// The registry writes a line after it has handled a request, and a
    /// thread reads it from the pipe later. So this first sends a marker
    /// request and waits for its line, after which the requests whose
    /// responses the caller has read are in the log.
    pub fn access_log(&self) -> Vec<String> {
        let marker = format!(
            "{LOG_MARKER}={}",
            self.counter.fetch_add(1, Ordering::Relaxed)
        );
        let response = self.agent().get(self.url(&format!("/v2/?{marker}"))).call();
        assert!(
            response.is_ok(),
            "log marker request to {} failed: {response:?}",
            self.host
        );
        let deadline = Instant::now() + Duration::from_secs(10);
        loop {
            let lines = self.access_log.lock().unwrap().clone();
            if lines.iter().any(|line| line.contains(&marker)) {
                return lines
                    .into_iter()
                    .filter(|line| !line.contains(LOG_MARKER))
                    .collect();
            }
            assert!(
                Instant::now() < deadline,
                "the access log of {} did not show the marker request within 10 s",
                self.host
            );
            thread::sleep(Duration::from_millis(10));
        }
    }

    /// Returns the access-log lines of `GET` requests for blobs
    /// (`/v2/NAME/blobs/sha256:…`), oldest first. `HEAD` requests and
    /// uploads are left out.
    pub fn blob_requests(&self) -> Vec<String> {
        self.access_log()
            .into_iter()
            .filter(|line| {
                request_line(line).is_some_and(|(method, path)| {
                    method == "GET" && path.contains("/blobs/sha256:")
                })
            })
            .collect()
    }

    /// Returns the requests the token server has handled, oldest first;
    /// empty for a registry without the token flow.
    pub fn token_requests(&self) -> Vec<TokenRequest> {
        self.token
            .as_ref()
            .map(|token| token.requests.lock().unwrap().clone())
            .unwrap_or_default()
    }

    /// Returns the registry's application log (logrus text lines), for
    /// failure messages.
    pub fn server_log(&self) -> Vec<String> {
        self.server_log.lock().unwrap().clone()
    }
}

impl Drop for Registry {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Returns the `Authorization` header value for basic authentication.
pub fn basic_auth(username: &str, password: &str) -> String {
    let token = base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
    format!("Basic {token}")
}

/// Returns the method and path of a combined-log-format line
/// (`HOST - USER [TIME] "GET /v2/ HTTP/1.1" 200 2 "" "agent"`).
fn request_line(line: &str) -> Option<(&str, &str)> {
    let (_, rest) = line.split_once('"')?;
    let (request, _) = rest.split_once('"')?;
    let mut parts = request.split(' ');
    Some((parts.next()?, parts.next()?))
}

/// Writes distribution's configuration. Paths are written as JSON strings,
/// which YAML reads as double-quoted scalars, so any path is safe.
fn config_yaml(
    host: &str,
    storage: &Path,
    tls: Option<&TlsFiles>,
    auth: bool,
    token: Option<&token::TokenServer>,
    dir: &Path,
) -> String {
    let quote = |path: &Path| serde_json::to_string(&path.to_string_lossy()).unwrap();
    let mut yaml = format!(
        "\
version: 0.1
log:
  level: info
  formatter: text
  accesslog:
    disabled: false
storage:
  filesystem:
    rootdirectory: {storage}
  delete:
    enabled: true
  maintenance:
    uploadpurging:
      enabled: false
http:
  addr: {host}
  secret: {secret}
",
        storage = quote(storage),
        secret = random_token(),
    );
    if let Some(tls) = tls {
        yaml.push_str(&format!(
            "  tls:\n    certificate: {}\n    key: {}\n",
            quote(&tls.server_cert),
            quote(&tls.server_key)
        ));
    }
    if auth {
        yaml.push_str(&format!(
            "auth:\n  htpasswd:\n    realm: rampart-test\n    path: {}\n",
            quote(&dir.join("htpasswd"))
        ));
    }
    if let Some(token) = token {
        yaml.push_str(&format!(
            "auth:\n  token:\n    realm: {}\n    service: {}\n    issuer: {}\n    rootcertbundle: {}\n",
            token.realm,
            token::SERVICE,
            token::ISSUER,
            quote(&token.certificate)
        ));
    }
    yaml.push_str("health:\n  storagedriver:\n    enabled: false\n");
    yaml
}

/// Collects the lines a child process writes to a pipe.
fn collect_lines(pipe: impl Read + Send + 'static) -> Arc<Mutex<Vec<String>>> {
    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    thread::spawn(move || {
        for line in BufReader::new(pipe).lines() {
            let Ok(line) = line else { break };
            sink.lock().unwrap().push(line);
        }
    });
    lines
}

/// Returns a port of 127.0.0.1 that was free a moment ago.
fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    listener.local_addr().expect("local address").port()
}

fn find_on_path(binary: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(binary))
        .find(|candidate| candidate.is_file())
}

/// Returns 32 hex digits from the standard library's randomly seeded
/// hasher; enough for a throwaway password and the registry's HTTP secret.
fn random_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut token = String::new();
    for _ in 0..2 {
        let mut hasher = std::collections::hash_map::RandomState::new().build_hasher();
        hasher.write_u128(
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default()
                .as_nanos(),
        );
        token.push_str(&format!("{:016x}", hasher.finish()));
    }
    token
}
