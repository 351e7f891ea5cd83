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

/// SIGTERM, listened for from before the listeners are announced: a signal sent as soon
/// as they are printed drains the server instead of killing it (`None` where there is no
/// such signal).
#[cfg(unix)]
type Term = Option<tokio::signal::unix::Signal>;
#[cfg(not(unix))]
type Term = Option<()>;

fn listen_for_term() -> Term {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        signal(SignalKind::terminate()).ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}

async fn wait_for_signal(term: Term) {
    match term {
        #[cfg(unix)]
        Some(mut term) => {
            tokio::select! {
                _ = term.recv() => {}
                _ = tokio::signal::ctrl_c() => {}
            }
        }
        _ => {
            let _ = tokio::signal::ctrl_c().await;
        }
    }
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(&args.log))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();

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
    let term = listen_for_term();
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
    wait_for_signal(term).await;
    tracing::info!("stopping: no new calls; live calls get the grace period");
    node.shutdown().await;
    tracing::info!("stopped");
    ExitCode::SUCCESS
}
