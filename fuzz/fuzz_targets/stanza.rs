//! Arbitrary bytes through the split, read, validate, serialise, read-back round trip.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_proto::document::fuzz_bytes(data));
