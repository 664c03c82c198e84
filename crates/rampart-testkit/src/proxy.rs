//! A fault-injecting HTTP/1.1 proxy on 127.0.0.1 for pull tests. It sits in
//! front of a plain-HTTP server (a test registry) and forwards each request
//! on a new upstream connection. It can break the response to the next
//! request whose path contains a pattern, such as a blob digest: cut the
//! body after some bytes, flip one byte, or send another body. It logs every
//! request with its `Range` header, so a test can show that a client resumed.
//!
//! It understands just enough HTTP/1.1 for a registry client: keep-alive,
//! `Content-Length` and chunked bodies, `HEAD`, 1xx, 204 and 304 responses.
//! It does not speak TLS and does not support upgrades or pipelining.

use std::io::{self, BufRead, BufReader, Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::thread;

/// Maximum size of a request or response head.
const MAX_HEAD_BYTES: usize = 64 * 1024;

/// Maximum body that a fault buffers to rewrite it; far above the largest
/// test image layer.
const MAX_FAULT_BODY_BYTES: usize = 512 * 1024 * 1024;

/// A fault applied once, to the response of the next `GET` request whose
/// path contains the pattern it was injected with and whose status is 200
/// or 206.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ProxyFault {
    /// Send the response head and the first `after` bytes of the body, then
    /// close the connection. The head keeps the full `Content-Length`, so
    /// the client sees a connection dropped mid-body.
    CutBody { after: usize },
    /// Invert the body byte at `offset` (the last byte when the body is
    /// shorter), so the body no longer matches its digest.
    CorruptByte { offset: usize },
    /// Send `body` instead of the upstream body, with its own
    /// `Content-Length`. All other headers stay, `Docker-Content-Digest`
    /// among them, as a misbehaving registry would send them.
    ReplaceBody(Vec<u8>),
    /// Respond to the next matching `GET` with this status and an empty body,
    /// without asking the upstream, and with `Retry-After` when given: a
    /// rate limit (`429`) or an overloaded registry (`503`).
    Status {
        status: u16,
        retry_after: Option<u64>,
    },
}

/// One request that went through the proxy.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ProxiedRequest {
    pub method: String,
    /// The request target, such as `/v2/library/app/blobs/sha256:…`.
    pub path: String,
    /// The `Range` header the client sent, such as `bytes=1000-`.
    pub range: Option<String>,
    /// The upstream status, or `None` when the upstream failed before it
    /// sent a status line.
    pub status: Option<u16>,
    /// The fault applied to the response.
    pub fault: Option<ProxyFault>,
}

#[derive(Default)]
struct State {
    /// Pending faults with their path patterns, in injection order.
    faults: Vec<(String, ProxyFault)>,
    log: Vec<ProxiedRequest>,
}

/// The running proxy. It stops accepting connections when dropped.
pub struct FaultProxy {
    port: u16,
    state: Arc<Mutex<State>>,
    stop: Arc<AtomicBool>,
}

impl FaultProxy {
    /// Starts a proxy on an ephemeral port of 127.0.0.1 that forwards to
    /// `upstream` (`HOST:PORT`, such as [`crate::registry::Registry::host`]).
    pub fn start(upstream: &str) -> FaultProxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let stop = Arc::new(AtomicBool::new(false));
        let shared_state = Arc::clone(&state);
        let shared_stop = Arc::clone(&stop);
        let upstream = upstream.to_owned();
        thread::spawn(move || {
            for client in listener.incoming() {
                if shared_stop.load(Ordering::SeqCst) {
                    break;
                }
                let Ok(client) = client else { continue };
                let state = Arc::clone(&shared_state);
                let upstream = upstream.clone();
                thread::spawn(move || {
                    // A client or upstream that hangs up ends the connection;
                    // the request log shows how far it got.
                    let _ = serve_client(client, &upstream, &state);
                });
            }
        });
        FaultProxy { port, state, stop }
    }

    /// Returns `127.0.0.1:PORT`, the registry part of image references.
    pub fn host(&self) -> String {
        format!("127.0.0.1:{}", self.port)
    }

    /// Returns the URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Queues `fault` for the next `GET` whose path contains `path_pattern`.
    pub fn inject(&self, path_pattern: &str, fault: ProxyFault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .push((path_pattern.to_owned(), fault));
    }

    /// Returns how many injected faults have not been applied yet.
    pub fn pending_faults(&self) -> usize {
        self.state.lock().unwrap().faults.len()
    }

    /// Returns every request so far, oldest first.
    pub fn requests(&self) -> Vec<ProxiedRequest> {
        self.state.lock().unwrap().log.clone()
    }

    /// Returns how many requests had a path containing `path_pattern`.
    pub fn count(&self, path_pattern: &str) -> usize {
        self.state
            .lock()
            .unwrap()
            .log
            .iter()
            .filter(|request| request.path.contains(path_pattern))
            .count()
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
        // Wake the accept loop so that it reads the flag.
        let _ = TcpStream::connect(("127.0.0.1", self.port));
    }
}

/// A parsed request or response head, with its bytes as received.
struct Head {
    raw: Vec<u8>,
    /// The start line split at spaces: method, target, version for a
    /// request; version, status, reason for a response.
    start: Vec<String>,
    headers: Vec<(String, String)>,
}

impl Head {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(key, _)| key.eq_ignore_ascii_case(name))
            .map(|(_, value)| value.as_str())
    }

    fn is_chunked(&self) -> bool {
        self.header("transfer-encoding")
            .is_some_and(|value| value.to_ascii_lowercase().contains("chunked"))
    }

    fn content_length(&self) -> io::Result<Option<u64>> {
        self.header("content-length")
            .map(|value| {
                value
                    .trim()
                    .parse()
                    .map_err(|_| invalid(format!("invalid Content-Length {value:?}")))
            })
            .transpose()
    }

    fn wants_close(&self) -> bool {
        self.header("connection")
            .is_some_and(|value| value.eq_ignore_ascii_case("close"))
            || self.start.iter().any(|part| part == "HTTP/1.0")
    }

    /// Returns the head with `Content-Length: length` in place of its
    /// `Content-Length` and `Transfer-Encoding` headers.
    fn with_content_length(&self, length: usize) -> Vec<u8> {
        let mut out = self.start.join(" ");
        out.push_str("\r\n");
        for (name, value) in &self.headers {
            if name.eq_ignore_ascii_case("content-length")
                || name.eq_ignore_ascii_case("transfer-encoding")
            {
                continue;
            }
            out.push_str(&format!("{name}: {value}\r\n"));
        }
        out.push_str(&format!("Content-Length: {length}\r\n\r\n"));
        out.into_bytes()
    }
}

/// The framing of a message body, which decides where it ends.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    /// A response without length: the body ends when the upstream closes.
    UntilClose,
}

fn serve_client(client: TcpStream, upstream: &str, state: &Mutex<State>) -> io::Result<()> {
    let mut client_reader = BufReader::new(client.try_clone()?);
    let mut client_writer = client;
    loop {
        let Some(request) = read_head(&mut client_reader)? else {
            return Ok(());
        };
        let [method, path, ..] = request.start.as_slice() else {
            return Err(invalid("request line without a target".to_owned()));
        };
        let (method, path) = (method.clone(), path.clone());
        let index = {
            let mut state = state.lock().unwrap();
            state.log.push(ProxiedRequest {
                method: method.clone(),
                path: path.clone(),
                range: request.header("range").map(str::to_owned),
                status: None,
                fault: None,
            });
            state.log.len() - 1
        };

        if method == "GET"
            && let Some(fault) = take_status_fault(state, &path)
            && let ProxyFault::Status {
                status,
                retry_after,
            } = fault
        {
            let mut log = state.lock().unwrap();
            log.log[index].status = Some(status);
            log.log[index].fault = Some(fault.clone());
            drop(log);
            let retry = retry_after
                .map(|seconds| format!("Retry-After: {seconds}\r\n"))
                .unwrap_or_default();
            client_writer.write_all(
                format!("HTTP/1.1 {status} Injected\r\nContent-Length: 0\r\n{retry}\r\n")
                    .as_bytes(),
            )?;
            client_writer.flush()?;
            continue;
        }

        let upstream_stream = TcpStream::connect(upstream)?;
        let mut upstream_writer = upstream_stream.try_clone()?;
        upstream_writer.write_all(&request.raw)?;
        let request_framing = if request.is_chunked() {
            Framing::Chunked
        } else {
            match request.content_length()? {
                Some(length) => Framing::Length(length),
                None => Framing::Empty,
            }
        };
        copy_body(&mut client_reader, &mut upstream_writer, request_framing)?;
        upstream_writer.flush()?;

        let mut upstream_reader = BufReader::new(upstream_stream);
        let response = loop {
            let head = read_head(&mut upstream_reader)?
                .ok_or_else(|| invalid("upstream closed before responding".to_owned()))?;
            // Interim responses (100 Continue) go to the client as they are.
            if head
                .start
                .get(1)
                .is_some_and(|status| status.starts_with('1'))
            {
                client_writer.write_all(&head.raw)?;
                continue;
            }
            break head;
        };
        let status: u16 = response
            .start
            .get(1)
            .and_then(|status| status.parse().ok())
            .ok_or_else(|| invalid("response without a status code".to_owned()))?;
        state.lock().unwrap().log[index].status = Some(status);

        let response_framing = if method == "HEAD" || status == 204 || status == 304 {
            Framing::Empty
        } else if response.is_chunked() {
            Framing::Chunked
        } else {
            match response.content_length()? {
                Some(length) => Framing::Length(length),
                None => Framing::UntilClose,
            }
        };
        let fault = if method == "GET" && matches!(status, 200 | 206) {
            take_fault(state, &path)
        } else {
            None
        };

        let Some(fault) = fault else {
            client_writer.write_all(&response.raw)?;
            copy_body(&mut upstream_reader, &mut client_writer, response_framing)?;
            client_writer.flush()?;
            if response_framing == Framing::UntilClose
                || request.wants_close()
                || response.wants_close()
            {
                return Ok(());
            }
            continue;
        };

        state.lock().unwrap().log[index].fault = Some(fault.clone());
        let mut body = read_body(&mut upstream_reader, response_framing)?;
        match fault {
            ProxyFault::CutBody { after } => {
                client_writer.write_all(&response.with_content_length(body.len()))?;
                client_writer.write_all(&body[..after.min(body.len())])?;
                client_writer.flush()?;
                let _ = client_writer.shutdown(Shutdown::Both);
                return Ok(());
            }
            ProxyFault::CorruptByte { offset } => {
                if let Some(last) = body.len().checked_sub(1) {
                    body[offset.min(last)] ^= 0xff;
                }
            }
            ProxyFault::ReplaceBody(replacement) => body = replacement,
            ProxyFault::Status { .. } => unreachable!("status faults are handled before upstream"),
        }
        client_writer.write_all(&response.with_content_length(body.len()))?;
        client_writer.write_all(&body)?;
        client_writer.flush()?;
        if request.wants_close() || response.wants_close() {
            return Ok(());
        }
    }
}

/// Removes and returns the first pending fault whose pattern `path`
/// contains.
fn take_fault(state: &Mutex<State>, path: &str) -> Option<ProxyFault> {
    let mut state = state.lock().unwrap();
    let position = state.faults.iter().position(|(pattern, fault)| {
        path.contains(pattern.as_str()) && !matches!(fault, ProxyFault::Status { .. })
    })?;
    Some(state.faults.remove(position).1)
}

/// Removes and returns the first pending status fault whose pattern `path`
/// contains.
fn take_status_fault(state: &Mutex<State>, path: &str) -> Option<ProxyFault> {
    let mut state = state.lock().unwrap();
    let position = state.faults.iter().position(|(pattern, fault)| {
        path.contains(pattern.as_str()) && matches!(fault, ProxyFault::Status { .. })
    })?;
    Some(state.faults.remove(position).1)
}

/// Reads a head up to its blank line. Returns `None` when the peer closed
/// the connection before sending a byte.
fn read_head(reader: &mut impl BufRead) -> io::Result<Option<Head>> {
    let mut raw = Vec::new();
    let mut lines = Vec::new();
    loop {
        let mut line = Vec::new();
        let read = reader
            .take((MAX_HEAD_BYTES - raw.len()) as u64)
            .read_until(b'\n', &mut line)?;
        if read == 0 {
            if raw.is_empty() {
                return Ok(None);
            }
            return Err(invalid(format!(
                "connection closed inside a head after {} bytes",
                raw.len()
            )));
        }
        raw.extend_from_slice(&line);
        if !line.ends_with(b"\n") {
            return Err(invalid(format!("head longer than {MAX_HEAD_BYTES} bytes")));
        }
        let text = String::from_utf8_lossy(&line).trim_end().to_owned();
        if text.is_empty() {
            break;
        }
        lines.push(text);
    }
    let Some(start) = lines.first() else {
        return Err(invalid("empty head".to_owned()));
    };
    let start = start.splitn(3, ' ').map(str::to_owned).collect();
    let headers = lines[1..]
        .iter()
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_owned(), value.trim().to_owned()))
        .collect();
    Ok(Some(Head {
        raw,
        start,
        headers,
    }))
}

/// Forwards a body as it is on the wire, chunk framing included.
fn copy_body(
    reader: &mut impl BufRead,
    writer: &mut impl Write,
    framing: Framing,
) -> io::Result<()> {
    match framing {
        Framing::Empty => Ok(()),
        Framing::Length(length) => {
            let copied = io::copy(&mut reader.take(length), writer)?;
            if copied < length {
                return Err(invalid(format!(
                    "body ended after {copied} of {length} bytes"
                )));
            }
            Ok(())
        }
        Framing::UntilClose => io::copy(reader, writer).map(drop),
        Framing::Chunked => {
            loop {
                let size_line = read_line(reader)?;
                writer.write_all(size_line.as_bytes())?;
                let size = chunk_size(&size_line)?;
                if size == 0 {
                    break;
                }
                // The chunk data and the CRLF after it.
                let copied = io::copy(&mut reader.take(size + 2), writer)?;
                if copied < size + 2 {
                    return Err(invalid("chunk cut short".to_owned()));
                }
            }
            // Trailer fields, up to the blank line.
            loop {
                let line = read_line(reader)?;
                writer.write_all(line.as_bytes())?;
                if line.trim_end().is_empty() {
                    return Ok(());
                }
            }
        }
    }
}

/// Reads a whole body, chunk framing removed.
fn read_body(reader: &mut impl BufRead, framing: Framing) -> io::Result<Vec<u8>> {
    let mut body = Vec::new();
    let limit = MAX_FAULT_BODY_BYTES as u64 + 1;
    match framing {
        Framing::Empty => {}
        Framing::Length(length) => {
            if length >= limit {
                return Err(invalid(format!(
                    "body of {length} bytes is over the fault limit"
                )));
            }
            reader.take(length).read_to_end(&mut body)?;
            if (body.len() as u64) < length {
                return Err(invalid(format!(
                    "body ended after {} of {length} bytes",
                    body.len()
                )));
            }
        }
        Framing::UntilClose => {
            reader.take(limit).read_to_end(&mut body)?;
        }
        Framing::Chunked => loop {
            let size = chunk_size(&read_line(reader)?)?;
            if size == 0 {
                loop {
                    if read_line(reader)?.trim_end().is_empty() {
                        break;
                    }
                }
                break;
            }
            if body.len() as u64 + size >= limit {
                return Err(invalid("chunked body is over the fault limit".to_owned()));
            }
            let read = reader.take(size).read_to_end(&mut body)?;
            if (read as u64) < size {
                return Err(invalid("chunk cut short".to_owned()));
            }
            read_line(reader)?;
        },
    }
    if body.len() > MAX_FAULT_BODY_BYTES {
        return Err(invalid("body is over the fault limit".to_owned()));
    }
    Ok(body)
}

fn read_line(reader: &mut impl BufRead) -> io::Result<String> {
    let mut line = String::new();
    reader.take(MAX_HEAD_BYTES as u64).read_line(&mut line)?;
    if !line.ends_with('\n') {
        return Err(invalid("line cut short or too long".to_owned()));
    }
    Ok(line)
}

/// Parses a chunk-size line (`1a2b;extension\r\n`).
fn chunk_size(line: &str) -> io::Result<u64> {
    let digits = line.trim_end().split(';').next().unwrap_or_default().trim();
    u64::from_str_radix(digits, 16).map_err(|_| invalid(format!("invalid chunk size {line:?}")))
}

fn invalid(message: String) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, message)
}
