//! A fake Kubernetes API server on 127.0.0.1 that serves recorded list
//! responses, for tests of `rampart audit --cluster`.
//!
//! The recordings sit in a directory laid out as REST list paths: the
//! response to `GET /apis/apps/v1/deployments` comes from
//! `DIR/apis/apps/v1/deployments.json`, which contains the `*List` object a
//! real API server returned. The server
//! honours `limit` and `continue` by slicing `items` and setting
//! `metadata.continue` and `metadata.remainingItemCount`, answers 404 for a
//! path without a recording, 403 for the paths it is told to forbid, 401
//! without the configured bearer token and 405 for every method but `GET`.
//! The error bodies are `Status` objects worded as kube-apiserver words
//! them. Every request is logged, so a test can show what a client asked for.
//!
//! It speaks plain HTTP/1.1, or HTTPS with a server certificate signed by a
//! test CA that the harness generates, which a kubeconfig names through
//! `certificate-authority-data`.

use std::collections::HashMap;
use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Component, Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

use base64::Engine as _;
use serde_json::{Value, json};

use crate::registry::tls::{TlsFiles, write_tls_files};

/// Maximum size of a request head.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Maximum request body that is read and discarded (requests other than
/// `GET` are rejected, but their bodies must be consumed to keep the
/// connection usable).
const MAX_BODY_BYTES: u64 = 16 * 1024 * 1024;

/// The transport, credentials and refusals of a fake API server.
#[derive(Clone, Debug, Default)]
pub struct ApiServerOptions {
    /// Serve HTTPS with a certificate for 127.0.0.1 and localhost signed by
    /// a test CA.
    pub tls: bool,
    /// Require `Authorization: Bearer TOKEN`. Requests without it get 401.
    pub token: Option<String>,
    /// List paths (such as `/apis/rbac.authorization.k8s.io/v1/clusterroles`)
    /// that get 403, as for credentials without `list` on them.
    pub forbidden: Vec<String>,
}

/// One request the server received.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiRequest {
    pub method: String,
    /// The path without the query string.
    pub path: String,
    /// The query parameters, percent-decoded, in request order.
    pub query: Vec<(String, String)>,
    pub status: u16,
}

impl ApiRequest {
    /// Returns the value of query parameter `name`.
    pub fn param(&self, name: &str) -> Option<&str> {
        self.query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    }
}

struct State {
    root: PathBuf,
    token: Option<String>,
    forbidden: Vec<String>,
    /// Recordings parsed once, by request path.
    lists: HashMap<String, Arc<Value>>,
    /// Paths whose next request with a `continue` token gets 410 Gone.
    expire_continue: Vec<String>,
    log: Vec<ApiRequest>,
}

/// The running server. It stops accepting connections when dropped.
pub struct ApiServer {
    port: u16,
    tls: Option<Tls>,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

struct Tls {
    /// Keeps the certificate files alive.
    _dir: tempfile::TempDir,
    files: TlsFiles,
}

impl ApiServer {
    /// Starts a server on an ephemeral port of 127.0.0.1 that serves the
    /// recordings under `root`.
    pub fn start(root: &Path, options: ApiServerOptions) -> ApiServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State {
            root: root.to_owned(),
            token: options.token,
            forbidden: options.forbidden,
            lists: HashMap::new(),
            expire_continue: Vec::new(),
            log: Vec::new(),
        }));
        let stop = Arc::new(AtomicBool::new(false));

        let tls = options.tls.then(|| {
            let dir = tempfile::Builder::new()
                .prefix("rampart-apiserver-")
                .tempdir()
                .expect("create the API server's certificate directory");
            let files = write_tls_files(dir.path());
            Tls { _dir: dir, files }
        });
        let server_config = tls.as_ref().map(|tls| server_config(&tls.files));

        let shared_state = Arc::clone(&state);
        let shared_stop = Arc::clone(&stop);
        thread::spawn(move || {
            for client in listener.incoming() {
                if shared_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let state = Arc::clone(&shared_state);
                let config = server_config.clone();
                thread::spawn(move || {
                    // A client that hangs up or fails the handshake ends
                    // its connection. The request log shows how far it got.
                    let _ = match config {
                        Some(config) => match rustls::ServerConnection::new(config) {
                            Ok(connection) => {
                                serve(rustls::StreamOwned::new(connection, client), &state)
                            }
                            Err(error) => Err(io::Error::other(error)),
                        },
                        None => serve(client, &state),
                    };
                });
            }
        });
        ApiServer {
            port,
            tls,
            state,
            stop,
        }
    }

    /// Returns the server URL, such as `https://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        let scheme = if self.tls.is_some() { "https" } else { "http" };
        format!("{scheme}://127.0.0.1:{}", self.port)
    }

    /// Returns the test CA certificate (PEM) when the server speaks HTTPS.
    pub fn ca_pem(&self) -> Option<String> {
        self.tls
            .as_ref()
            .map(|tls| std::fs::read_to_string(&tls.files.ca_pem).expect("read the test CA"))
    }

    /// Makes the next request for `path` that carries a `continue` token
    /// fail with 410 Gone, as when the token outlived the server's
    /// compaction window.
    pub fn expire_next_continue(&self, path: &str) {
        self.state
            .lock()
            .unwrap()
            .expire_continue
            .push(path.to_owned());
    }

    /// Returns every request so far, oldest first.
    pub fn requests(&self) -> Vec<ApiRequest> {
        self.state.lock().unwrap().log.clone()
    }
}

impl Drop for ApiServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it reads the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// One context of a kubeconfig written by [`kubeconfig`].
pub struct KubeconfigContext<'a> {
    pub name: &'a str,
    pub server: &'a ApiServer,
    /// The user's bearer token, if any.
    pub token: Option<&'a str>,
}

/// Returns a kubeconfig (YAML) with one cluster, user and context per entry
/// of `contexts`, and `current` as the current context. A server that
/// speaks HTTPS gets its CA as `certificate-authority-data`.
pub fn kubeconfig(contexts: &[KubeconfigContext<'_>], current: &str) -> String {
    let mut clusters = String::new();
    let mut users = String::new();
    let mut entries = String::new();
    for context in contexts {
        let name = context.name;
        clusters.push_str(&format!(
            "- name: {name}\n  cluster:\n    server: {}\n",
            context.server.url()
        ));
        if let Some(ca) = context.server.ca_pem() {
            let data = base64::engine::general_purpose::STANDARD.encode(ca);
            clusters.push_str(&format!("    certificate-authority-data: {data}\n"));
        }
        users.push_str(&format!("- name: {name}\n  user:"));
        match context.token {
            Some(token) => users.push_str(&format!("\n    token: {token}\n")),
            None => users.push_str(" {}\n"),
        }
        entries.push_str(&format!(
            "- name: {name}\n  context:\n    cluster: {name}\n    user: {name}\n    namespace: default\n"
        ));
    }
    format!(
        "apiVersion: v1\nkind: Config\npreferences: {{}}\nclusters:\n{clusters}users:\n{users}contexts:\n{entries}current-context: {current}\n"
    )
}

fn server_config(files: &TlsFiles) -> Arc<rustls::ServerConfig> {
    use rustls::pki_types::pem::PemObject as _;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer};

    let certificates = CertificateDer::pem_file_iter(&files.server_cert)
        .expect("open the server certificate")
        .collect::<Result<Vec<_>, _>>()
        .expect("parse the server certificate");
    let key = PrivateKeyDer::from_pem_file(&files.server_key).expect("parse the server key");
    // rustls takes the process's crypto provider from its crate features:
    // ring, the only one in the workspace.
    let mut config = rustls::ServerConfig::builder()
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .expect("server certificate and key");
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Arc::new(config)
}

/// A parsed request head.
struct Head {
    method: String,
    target: String,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }
}

/// Serves the requests of one connection until the client closes it.
fn serve<S: Read + Write>(stream: S, state: &Mutex<State>) -> io::Result<()> {
    let mut reader = BufReader::new(stream);
    loop {
        let Some(head) = read_head(&mut reader)? else {
            return Ok(());
        };
        let length: u64 = head
            .header("content-length")
            .and_then(|value| value.trim().parse().ok())
            .unwrap_or(0);
        if length > MAX_BODY_BYTES {
            return Err(io::Error::other("request body over the limit"));
        }
        io::copy(&mut (&mut reader).take(length), &mut io::sink())?;

        let (path, query) = split_target(&head.target);
        let (status, body) = respond(state, &head, &path, &query);
        state.lock().unwrap().log.push(ApiRequest {
            method: head.method.clone(),
            path,
            query,
            status,
        });

        let body = serde_json::to_vec(&body).expect("serialize a response");
        let stream = reader.get_mut();
        stream.write_all(
            format!(
                "HTTP/1.1 {status} {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n",
                reason(status),
                body.len()
            )
            .as_bytes(),
        )?;
        stream.write_all(&body)?;
        stream.flush()?;
    }
}

/// Decides the status and body of one request.
fn respond(
    state: &Mutex<State>,
    head: &Head,
    path: &str,
    query: &[(String, String)],
) -> (u16, Value) {
    let mut state = state.lock().unwrap();
    if let Some(token) = &state.token {
        let expected = format!("Bearer {token}");
        if head.header("authorization") != Some(expected.as_str()) {
            return (
                401,
                status_object(401, "Unauthorized", "Unauthorized", json!({})),
            );
        }
    }
    if head.method != "GET" {
        return (
            405,
            status_object(
                405,
                "MethodNotAllowed",
                "the server does not allow this method on the requested resource",
                json!({}),
            ),
        );
    }
    let Some((group, resource)) = list_path_parts(path) else {
        return not_found();
    };
    if state.forbidden.iter().any(|forbidden| forbidden == path) {
        let qualified = if group.is_empty() {
            resource.clone()
        } else {
            format!("{resource}.{group}")
        };
        let message = format!(
            "{qualified} is forbidden: User \"system:serviceaccount:audit:rampart\" cannot list resource \"{resource}\" in API group \"{group}\" at the cluster scope"
        );
        let details = json!({"group": group, "kind": resource});
        return (403, status_object(403, "Forbidden", &message, details));
    }
    let Some(list) = load_list(&mut state, path) else {
        return not_found();
    };

    let param = |name: &str| {
        query
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.as_str())
    };
    let continue_token = param("continue").filter(|token| !token.is_empty());
    if continue_token.is_some()
        && let Some(position) = state.expire_continue.iter().position(|p| p == path)
    {
        state.expire_continue.remove(position);
        let message = "The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.";
        return (410, status_object(410, "Expired", message, json!({})));
    }
    let start = match continue_token.map(decode_continue) {
        None => 0,
        Some(Some(offset)) => offset,
        Some(None) => {
            let message = "continue key is not valid: incorrect encoded start resourceVersion (version meta.k8s.io/v1)";
            return (400, status_object(400, "BadRequest", message, json!({})));
        }
    };
    let limit = param("limit")
        .and_then(|limit| limit.parse::<usize>().ok())
        .filter(|&limit| limit > 0);
    (200, page(&list, start, limit))
}

/// Returns the items `start..start + limit` of a recorded list, with the
/// continue token and remaining count that kube-apiserver sets.
fn page(list: &Value, start: usize, limit: Option<usize>) -> Value {
    let items = list["items"].as_array().map(Vec::as_slice).unwrap_or(&[]);
    let start = start.min(items.len());
    let end = limit.map_or(items.len(), |limit| (start + limit).min(items.len()));
    let mut metadata = serde_json::Map::new();
    metadata.insert(
        "resourceVersion".to_owned(),
        list["metadata"]["resourceVersion"].clone(),
    );
    if end < items.len() {
        metadata.insert("continue".to_owned(), json!(encode_continue(end)));
        metadata.insert("remainingItemCount".to_owned(), json!(items.len() - end));
    }
    json!({
        "kind": list["kind"],
        "apiVersion": list["apiVersion"],
        "metadata": metadata,
        "items": &items[start..end],
    })
}

/// Encodes an offset as an opaque token, as kube-apiserver encodes its
/// position (base64 of a small JSON object).
fn encode_continue(offset: usize) -> String {
    let token = json!({"v": "meta.k8s.io/v1", "start": offset.to_string()});
    base64::engine::general_purpose::STANDARD.encode(token.to_string())
}

fn decode_continue(token: &str) -> Option<usize> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(token)
        .ok()?;
    let value: Value = serde_json::from_slice(&bytes).ok()?;
    value["start"].as_str()?.parse().ok()
}

/// Returns the API group (empty for the core group) and the resource of a
/// cluster-wide list path: `/api/v1/RESOURCE` or
/// `/apis/GROUP/VERSION/RESOURCE`.
fn list_path_parts(path: &str) -> Option<(String, String)> {
    let parts: Vec<&str> = path.trim_start_matches('/').split('/').collect();
    match parts.as_slice() {
        ["api", _version, resource] => Some((String::new(), (*resource).to_owned())),
        ["apis", group, _version, resource] => Some(((*group).to_owned(), (*resource).to_owned())),
        _ => None,
    }
}

/// Reads and caches the recording for `path`, or returns `None` when there
/// is none.
fn load_list(state: &mut State, path: &str) -> Option<Arc<Value>> {
    if let Some(list) = state.lists.get(path) {
        return Some(Arc::clone(list));
    }
    let relative = Path::new(path.trim_start_matches('/'));
    // The path comes from the client, so it must stay inside the root.
    if !relative
        .components()
        .all(|component| matches!(component, Component::Normal(_)))
    {
        return None;
    }
    let file = state.root.join(relative).with_extension("json");
    let bytes = std::fs::read(&file).ok()?;
    let list: Value = serde_json::from_slice(&bytes)
        .unwrap_or_else(|error| panic!("recording {} is not JSON: {error}", file.display()));
    let list = Arc::new(list);
    state.lists.insert(path.to_owned(), Arc::clone(&list));
    Some(list)
}

fn not_found() -> (u16, Value) {
    (
        404,
        status_object(
            404,
            "NotFound",
            "the server could not find the requested resource",
            json!({}),
        ),
    )
}

/// Returns a `Status` object as kube-apiserver sends with an error.
fn status_object(code: u16, reason: &str, message: &str, details: Value) -> Value {
    json!({
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "details": details,
        "code": code,
    })
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        400 => "Bad Request",
        401 => "Unauthorized",
        403 => "Forbidden",
        404 => "Not Found",
        405 => "Method Not Allowed",
        410 => "Gone",
        _ => "Status",
    }
}

/// Reads a request head up to its blank line. Returns `None` when the
/// client closed the connection before sending a byte.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut lines = Vec::new();
    let mut total = 0;
    loop {
        let mut line = String::new();
        let read = reader
            .take((MAX_HEAD_BYTES - total) as u64)
            .read_line(&mut line)?;
        if read == 0 {
            if total == 0 {
                return Ok(None);
            }
            return Err(io::Error::other("connection closed inside a request head"));
        }
        total += read;
        if !line.ends_with('\n') {
            return Err(io::Error::other("request head over the limit"));
        }
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        lines.push(line.to_owned());
    }
    let mut start = lines.first().map(String::as_str).unwrap_or("").split(' ');
    let method = start.next().unwrap_or_default().to_owned();
    let target = start.next().unwrap_or("/").to_owned();
    let headers = lines
        .iter()
        .skip(1)
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Ok(Some(Head {
        method,
        target,
        headers,
    }))
}

/// Splits a request target into its path and decoded query parameters.
fn split_target(target: &str) -> (String, Vec<(String, String)>) {
    let (path, query) = target.split_once('?').unwrap_or((target, ""));
    let query = query
        .split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (percent_decode(key), percent_decode(value))
        })
        .collect();
    (percent_decode(path), query)
}

/// Decodes `%XX` escapes and `+` (a space in form encoding).
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut index = 0;
    while index < bytes.len() {
        let escaped = (bytes[index] == b'%')
            .then(|| bytes.get(index + 1..index + 3))
            .flatten()
            .and_then(|hex| std::str::from_utf8(hex).ok())
            .and_then(|hex| u8::from_str_radix(hex, 16).ok());
        match (escaped, bytes[index]) {
            (Some(byte), _) => {
                out.push(byte);
                index += 3;
                continue;
            }
            (None, b'+') => out.push(b' '),
            (None, byte) => out.push(byte),
        }
        index += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn continue_token_round_trip() {
        assert_eq!(decode_continue(&encode_continue(500)), Some(500));
        assert_eq!(decode_continue("not base64!"), None);
    }

    #[test]
    fn query_is_percent_decoded() {
        let (path, query) = split_target("/api/v1/pods?limit=500&continue=eyJ2IjoxfQ%3D%3D");
        assert_eq!(path, "/api/v1/pods");
        assert_eq!(
            query,
            vec![
                ("limit".to_owned(), "500".to_owned()),
                ("continue".to_owned(), "eyJ2IjoxfQ==".to_owned()),
            ]
        );
    }

    #[test]
    fn list_paths_name_group_and_resource() {
        assert_eq!(
            list_path_parts("/api/v1/pods"),
            Some((String::new(), "pods".to_owned()))
        );
        assert_eq!(
            list_path_parts("/apis/apps/v1/deployments"),
            Some(("apps".to_owned(), "deployments".to_owned()))
        );
        assert_eq!(list_path_parts("/api/v1/namespaces/shop/pods"), None);
        assert_eq!(list_path_parts("/version"), None);
    }
}
