//! Arbitrary stanzas from clients and nodes through a gateway: no panic, no node JID to a client.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_cluster::fuzz::fuzz_bytes(data));
