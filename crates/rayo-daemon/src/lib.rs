//! What `rayo-node` and `rayo-gateway` do alike as long-running servers: logging to
//! standard error under a filter, and the signals that stop them (SIGTERM or Ctrl-C, which
//! both binaries answer by draining).

pub mod logging;
pub mod signals;
