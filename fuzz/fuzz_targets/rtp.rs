//! Arbitrary bytes as an RTP packet: parsed, serialised, parsed back to the same packet.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_media::rtp::fuzz_bytes(data));
