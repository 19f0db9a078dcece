#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| cymysql_wasi::protocol::fuzz_targets::text_value(data));
