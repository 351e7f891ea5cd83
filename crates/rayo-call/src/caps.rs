//! The disco#info and caps of calls and mixers live in `rayo_proto::disco`, shared with the
//! transport; re-exported here for the engine's users.

pub use rayo_proto::disco::{call_info, caps, mixer_info};
