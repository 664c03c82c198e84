//! Runs the fake Kubernetes API server on 127.0.0.1 for benchmarks, until
//! it is killed.
//!
//! Usage: apiserver DIR KUBECONFIG [--tls]
//!
//! DIR contains recorded list responses laid out as REST list paths (such as
//! DIR/api/v1/pods.json). The server's kubeconfig, with one context named
//! `bench` and a bearer token, is written to KUBECONFIG once the server
//! listens, so a script can wait for that file.

use std::path::PathBuf;

use rampart_testkit::apiserver::{ApiServer, ApiServerOptions, KubeconfigContext, kubeconfig};

const TOKEN: &str = "bench-token";

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (dir, out, tls) = match args.as_slice() {
        [dir, out] => (dir, out, false),
        [dir, out, flag] if flag == "--tls" => (dir, out, true),
        _ => {
            eprintln!("usage: apiserver DIR KUBECONFIG [--tls]");
            std::process::exit(2);
        }
    };
    let server = ApiServer::start(
        &PathBuf::from(dir),
        ApiServerOptions {
            tls,
            token: Some(TOKEN.to_owned()),
            forbidden: Vec::new(),
        },
    );
    let context = KubeconfigContext {
        name: "bench",
        server: &server,
        token: Some(TOKEN),
    };
    // Written under another name and renamed, so a reader never sees half a file.
    let partial = format!("{out}.partial");
    std::fs::write(&partial, kubeconfig(&[context], "bench")).expect("write the kubeconfig");
    std::fs::rename(&partial, out).expect("rename the kubeconfig");
    eprintln!("apiserver: serving {dir} at {}", server.url());
    loop {
        std::thread::park();
    }
}
