//! Logging to standard error.

/// Logs to standard error with the filter in `RUST_LOG` when set and valid, else `filter`
/// (`info`, `debug`, `rayo_sip=trace,info`…), else `info`.
pub fn init(filter: &str) {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .or_else(|_| tracing_subscriber::EnvFilter::try_new(filter))
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
