//! Service discovery (XEP-0030) and entity capabilities (XEP-0115) of the Rayo entities:
//! shared with the call engine, defined in `rayo_proto::disco`.

pub use rayo_proto::disco::{call_info, caps, mixer_info, service_info};
