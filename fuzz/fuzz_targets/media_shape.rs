//! SSML, SRGS and NLSML documents nested and spread far beyond every bound.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_media::fuzz_shape(data));
