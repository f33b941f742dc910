//! One input through the engine's JSON reader (checked against serde_json), then as a row
//! inserted into a small in-memory database: `rem_core::fuzzing::json_row`, which the stable
//! test `core/tests/fuzz.rs` also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rem_core::fuzzing::json_row(data));
