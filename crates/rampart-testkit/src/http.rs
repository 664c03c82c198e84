//! A small HTTP/1.1 file server on 127.0.0.1 for download tests. It serves
//! fixed bodies with `ETag` and `Last-Modified`, answers conditional
//! requests with 304, and can inject the faults real servers produce: a
//! number of 503 or 429 answers with `Retry-After`, and a body cut short of
//! its `Content-Length`. Every request is logged for the test to inspect.

use std::collections::HashMap;
use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// A fault injected into the next responses for a path.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Fault {
    /// Respond with this status (and `Retry-After: 0`) to the next `times` requests.
    Status { status: u16, times: usize },
    /// Send the headers and half the body, then close the connection, for
    /// the next `times` requests.
    Truncate { times: usize },
}

/// One logged request.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LoggedRequest {
    pub path: String,
    pub status: u16,
    pub if_none_match: Option<String>,
}

#[derive(Default)]
struct State {
    files: HashMap<String, Vec<u8>>,
    faults: HashMap<String, Fault>,
    log: Vec<LoggedRequest>,
}

/// The running server; it stops when the test process ends.
#[derive(Clone)]
pub struct HttpServer {
    port: u16,
    state: Arc<Mutex<State>>,
}

impl HttpServer {
    /// Starts a server on an ephemeral port of 127.0.0.1.
    pub fn start() -> HttpServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
        let port = listener.local_addr().expect("local address").port();
        let state = Arc::new(Mutex::new(State::default()));
        let shared = Arc::clone(&state);
        thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let state = Arc::clone(&shared);
                thread::spawn(move || serve(stream, &state));
            }
        });
        HttpServer { port, state }
    }

    /// Returns the URL of `path` (which starts with `/`).
    pub fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    /// Serves `body` at `path`, replacing what was there (a new ETag follows
    /// from the new content).
    pub fn put(&self, path: &str, body: Vec<u8>) {
        self.state
            .lock()
            .unwrap()
            .files
            .insert(path.to_owned(), body);
    }

    pub fn inject(&self, path: &str, fault: Fault) {
        self.state
            .lock()
            .unwrap()
            .faults
            .insert(path.to_owned(), fault);
    }

    /// Returns and clears the request log.
    pub fn take_log(&self) -> Vec<LoggedRequest> {
        std::mem::take(&mut self.state.lock().unwrap().log)
    }
}

fn etag_of(body: &[u8]) -> String {
    format!("\"{}\"", &crate::sha256(body)[..16])
}

fn serve(stream: TcpStream, state: &Mutex<State>) {
    let Ok(read_half) = stream.try_clone() else {
        return;
    };
    let mut reader = BufReader::new(read_half);
    let mut stream = stream;
    loop {
        let mut request_line = String::new();
        if reader.read_line(&mut request_line).unwrap_or(0) == 0 {
            return;
        }
        let path = request_line
            .split_whitespace()
            .nth(1)
            .unwrap_or("/")
            .to_owned();
        let mut if_none_match = None;
        loop {
            let mut line = String::new();
            if reader.read_line(&mut line).unwrap_or(0) == 0 {
                return;
            }
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            if let Some((name, value)) = line.split_once(':')
                && name.eq_ignore_ascii_case("if-none-match")
            {
                if_none_match = Some(value.trim().to_owned());
            }
        }

        let (status, body, truncate) = answer(state, &path, if_none_match.as_deref());
        state.lock().unwrap().log.push(LoggedRequest {
            path: path.clone(),
            status,
            if_none_match,
        });

        let mut head = format!("HTTP/1.1 {status} {}\r\n", reason(status));
        match (&body, status) {
            (Some(body), 200) => {
                head.push_str(&format!(
                    "Content-Length: {}\r\nETag: {}\r\nLast-Modified: Fri, 04 Dec 2026 00:00:00 GMT\r\n",
                    body.len(),
                    etag_of(body)
                ));
            }
            (_, 304) => head.push_str("Content-Length: 0\r\n"),
            _ => head.push_str("Content-Length: 0\r\nRetry-After: 0\r\n"),
        }
        head.push_str("\r\n");
        if stream.write_all(head.as_bytes()).is_err() {
            return;
        }
        if let (Some(body), 200) = (body, status) {
            let end = if truncate { body.len() / 2 } else { body.len() };
            if stream.write_all(&body[..end]).is_err() || truncate {
                return;
            }
        }
        let _ = stream.flush();
    }
}

/// Decides the status and body of one request, consuming a fault.
fn answer(
    state: &Mutex<State>,
    path: &str,
    if_none_match: Option<&str>,
) -> (u16, Option<Vec<u8>>, bool) {
    let mut state = state.lock().unwrap();
    let mut truncate = false;
    if let Some(fault) = state.faults.get_mut(path) {
        match fault {
            Fault::Status { status, times } if *times > 0 => {
                *times -= 1;
                return (*status, None, false);
            }
            Fault::Truncate { times } if *times > 0 => {
                *times -= 1;
                truncate = true;
            }
            _ => {}
        }
    }
    match state.files.get(path) {
        None => (404, None, false),
        Some(body) if if_none_match == Some(etag_of(body).as_str()) => (304, None, false),
        Some(body) => (200, Some(body.clone()), truncate),
    }
}

fn reason(status: u16) -> &'static str {
    match status {
        200 => "OK",
        304 => "Not Modified",
        404 => "Not Found",
        429 => "Too Many Requests",
        503 => "Service Unavailable",
        _ => "Status",
    }
}
