//! Stanzas nested and spread far beyond every bound, through the XMPP stream reader.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rayo_xmpp::xml::fuzz_shape(data));
