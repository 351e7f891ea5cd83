//! The Rayo stanza model.

pub mod codec;
pub mod generated;
pub mod types;
