//! A node in a process of its own, for the tests that kill one (`kill -9`) or stop it
//! (`SIGSTOP`): `node_process CONFIG.toml` starts a node from that file, prints `ready`
//! once its component link is up (or at once without one), and runs until killed.

use std::time::Duration;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let Some(path) = std::env::args().nth(1) else {
        eprintln!("usage: node_process CONFIG.toml");
        return std::process::ExitCode::from(2);
    };
    let cfg = match rayo_server::Config::from_file(std::path::Path::new(&path)) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("node_process: {path}: {e}");
            return std::process::ExitCode::from(2);
        }
    };
    let component = cfg.component.is_some();
    let node = match rayo_server::Node::start(cfg).await {
        Ok(n) => n,
        Err(e) => {
            eprintln!("node_process: {e}");
            return std::process::ExitCode::from(1);
        }
    };
    if component && !node.component_connected(Duration::from_secs(20)).await {
        eprintln!("node_process: the component link did not come up");
        return std::process::ExitCode::from(1);
    }
    println!("ready");
    std::future::pending::<()>().await;
    std::process::ExitCode::SUCCESS
}
