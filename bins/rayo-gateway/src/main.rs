//! `rayo-gateway`: one Rayo service in front of many nodes. With no arguments it runs on
//! embedded defaults: clients log in to `localhost` on 127.0.0.1:5223 (a development user
//! `rayo` whose password it prints), nodes `node1.localhost`…`node3.localhost` connect as
//! components to `gateway.localhost` on 127.0.0.1:5347 (with the printed node secret), and
//! every call is offered to `rayo@localhost`, who may dial.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rayo_gateway::config::{Config, DEV_NODES, DEV_USER};
use rayo_gateway::Running;

/// A Rayo gateway: clients see one Rayo service, calls are spread over the nodes behind it
/// (XEP-0349, XEP-0354).
#[derive(Debug, Parser)]
#[command(name = "rayo-gateway", version)]
struct Args {
    /// The configuration file (TOML; see bins/rayo-gateway/gateway.example.toml). Without
    /// one, the embedded defaults.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Check the configuration and exit (0: valid).
    #[arg(long)]
    check_config: bool,
    /// The development user's password with the embedded defaults (random if absent).
    #[arg(long, env = "RAYO_GATEWAY_PASSWORD")]
    dev_password: Option<String>,
    /// The development nodes' component secret with the embedded defaults (random if
    /// absent).
    #[arg(long, env = "RAYO_GATEWAY_NODE_SECRET")]
    dev_node_secret: Option<String>,
    /// Log filter (`info`, `debug`, `rayo_cluster=trace,info`…); RUST_LOG works too.
    #[arg(long, default_value = "info")]
    log: String,
}

fn secret(given: Option<String>, what: &str) -> Result<String, String> {
    match given {
        Some(s) => Ok(s),
        None => rayo_proto::random::token(20).map_err(|e| format!("{what}: {e}")),
    }
}

fn main() -> ExitCode {
    let args = Args::parse();
    rayo_daemon::logging::init(&args.log);

    let cfg = match &args.config {
        Some(path) => match Config::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("rayo-gateway: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => {
            let pw = secret(args.dev_password.clone(), "development password");
            let ns = secret(args.dev_node_secret.clone(), "node secret");
            let (password, node_secret) = match (pw, ns) {
                (Ok(p), Ok(n)) => (p, n),
                (Err(e), _) | (_, Err(e)) => {
                    eprintln!("rayo-gateway: {e}");
                    return ExitCode::from(1);
                }
            };
            if !args.check_config {
                println!("development user: {DEV_USER}@localhost  password: {password}");
                println!("node secret (for {}): {node_secret}", DEV_NODES.join(", "));
            }
            Config::embedded(&password, &node_secret)
        }
    };
    if let Err(e) = cfg.check() {
        eprintln!("rayo-gateway: {e}");
        return ExitCode::from(2);
    }
    if args.check_config {
        println!("configuration ok");
        return ExitCode::SUCCESS;
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .worker_threads(cfg.gateway.threads)
        .enable_all()
        .build()
    {
        Ok(r) => r,
        Err(e) => {
            eprintln!("rayo-gateway: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    runtime.block_on(serve(cfg))
}

/// Runs the gateway until SIGTERM or SIGINT, then drains it.
async fn serve(cfg: Config) -> ExitCode {
    let stop = rayo_daemon::signals::Stop::listen();
    let gw = match Running::start(cfg).await {
        Ok(g) => g,
        Err(e) => {
            eprintln!("rayo-gateway: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(a) = gw.c2s_addr() {
        println!("XMPP c2s (clients) on {a}");
    }
    if let Some(f) = gw.fingerprint() {
        println!("TLS certificate SHA-256 {f}");
    }
    if let Some(a) = gw.node_addr() {
        println!("node listener (XEP-0114) on {a}");
    }
    stop.requested().await;
    tracing::info!("draining: no new calls or dials; live calls get the drain time");
    gw.shutdown().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
