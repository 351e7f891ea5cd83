//! A Rayo node as a library: the XMPP transport ([`rayo_xmpp`]), the call engine
//! ([`rayo_call`]), SIP signalling ([`rayo_sip`]) and the media of each call ([`rayo_media`])
//! wired together.
//!
//! [`core::NodeCore`] is the sans-IO heart: it feeds the engine stanzas and SIP events,
//! decides what the engine leaves to the deployment ([`policy::NodePolicy`]: dial rights and
//! rates, the call limit, and whether a component can run at all, found out by building it
//! before the client gets its `<ref/>`), and turns the engine's actions into SIP and media
//! commands. [`node::Node`] is the thin async driver around it.
//!
//! ```
//! # async fn demo() -> Result<(), rayo_server::Error> {
//! use rayo_server::config::Config;
//! use rayo_server::node::Node;
//!
//! // The embedded defaults, on ports the OS picks.
//! let mut cfg = Config::embedded("secret");
//! cfg.sip.listen = "127.0.0.1:0".parse().expect("address");
//! if let Some(c2s) = &mut cfg.c2s {
//!     c2s.listen = "127.0.0.1:0".parse().expect("address");
//!     c2s.self_signed_dir = std::env::temp_dir().join("rayo-doc-example");
//! }
//! let node = Node::start(cfg).await?;
//! assert!(node.c2s_addr().is_some());
//! assert_ne!(node.sip_addr().port(), 0);
//! node.shutdown_within(std::time::Duration::ZERO).await;
//! # Ok(())
//! # }
//! # tokio::runtime::Builder::new_current_thread().enable_all().build()
//! #     .expect("runtime").block_on(demo()).expect("node runs");
//! ```

pub mod config;
pub mod core;
pub mod node;
pub mod policy;
pub mod prepare;

pub use config::Config;
pub use node::Node;

/// Why a node cannot start.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The configuration is unusable.
    #[error("configuration: {0}")]
    Config(String),
    /// SIP could not start (the port is taken, say).
    #[error("SIP: {0}")]
    Sip(#[from] rayo_sip::Error),
    /// The XMPP listener could not start (the port is taken, the certificate unreadable).
    #[error("XMPP: {0}")]
    Xmpp(#[from] rayo_xmpp::Error),
    /// The OS gave no randomness (for the users' salts): the node does not start.
    #[error("{0}")]
    Random(#[from] rayo_proto::random::RandomError),
}
