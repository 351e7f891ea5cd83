//! `rayo-node`: a Rayo node. With no arguments it runs on embedded defaults (domain
//! `localhost`, XMPP c2s on 127.0.0.1:5222, SIP on 127.0.0.1:5060, a development user `rayo`
//! whose password it prints, every call offered to `rayo@localhost`).

use std::path::PathBuf;
use std::process::ExitCode;

use clap::Parser;
use rayo_server::config::{random_password, Config, DEV_USER};
use rayo_server::Node;

/// A Rayo node: SIP calls offered to, and controlled by, XMPP clients (XEP-0327).
#[derive(Debug, Parser)]
#[command(name = "rayo-node", version)]
struct Args {
    /// The configuration file (TOML; see crates/rayo-server/node.example.toml). Without
    /// one, the embedded defaults.
    #[arg(long, short)]
    config: Option<PathBuf>,
    /// Check the configuration and exit (0: valid).
    #[arg(long)]
    check_config: bool,
    /// The development user's password with the embedded defaults (random if absent).
    #[arg(long, env = "RAYO_NODE_PASSWORD")]
    dev_password: Option<String>,
    /// Log filter (`info`, `debug`, `rayo_sip=trace,info`…); RUST_LOG works too.
    #[arg(long, default_value = "info")]
    log: String,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    rayo_daemon::logging::init(&args.log);

    let cfg = match &args.config {
        Some(path) => match Config::from_file(path) {
            Ok(c) => c,
            Err(e) => {
                eprintln!("rayo-node: {}: {e}", path.display());
                return ExitCode::from(2);
            }
        },
        None => {
            let password = match args
                .dev_password
                .clone()
                .map(Ok)
                .unwrap_or_else(random_password)
            {
                Ok(p) => p,
                Err(e) => {
                    eprintln!("rayo-node: development password: {e}");
                    return ExitCode::from(1);
                }
            };
            if !args.check_config {
                println!("development user: {DEV_USER}@localhost  password: {password}");
            }
            Config::embedded(&password)
        }
    };
    if args.check_config {
        println!("configuration ok");
        return ExitCode::SUCCESS;
    }
    let stop = rayo_daemon::signals::Stop::listen();
    let node = match Node::start(cfg).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("rayo-node: {e}");
            return ExitCode::from(1);
        }
    };
    if let Some(a) = node.c2s_addr() {
        println!("XMPP c2s on {a}");
    }
    if let Some(f) = node.fingerprint() {
        println!("TLS certificate SHA-256 {f}");
    }
    println!("SIP on {}", node.sip_addr());
    stop.requested().await;
    tracing::info!("stopping: no new calls; live calls get the grace period");
    node.shutdown().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
