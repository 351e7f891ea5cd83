//! The Rayo gateway (XEP-0349, XEP-0354) as a library: its configuration file
//! ([`config`]) and the async driver ([`driver`]) around the sans-IO routing core of
//! `rayo-cluster`. The `rayo-gateway` binary is a thin `main` over these; tests start a
//! gateway in-process the same way.

pub mod config;
pub mod driver;

pub use config::Config;
pub use driver::{Error, Running};
