//! Logging on stderr with `tracing`. `RUST_LOG` overrides the level that
//! `-v`/`-q` select.

use std::io::IsTerminal;

use tracing_subscriber::EnvFilter;

pub fn init(verbose: u8, quiet: bool) {
    let level = match (quiet, verbose) {
        (true, _) => "error",
        (false, 0) => "warn",
        (false, 1) => "info",
        (false, 2) => "debug",
        (false, _) => "trace",
    };
    // kube-client logs every failed request at error level, and `audit
    // --cluster` reports the same failure with the server and context, so
    // its lines show only from -vv on.
    let directives = if verbose >= 2 {
        level.to_owned()
    } else {
        format!("{level},kube_client=off")
    };
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(directives));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(std::io::stderr().is_terminal())
        .with_target(false)
        .without_time()
        .init();
}
