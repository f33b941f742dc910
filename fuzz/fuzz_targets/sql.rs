//! One input, as a REM SQL statement, parsed, compiled and run against a small in-memory
//! database: `rem_core::fuzzing::sql`, which the stable test `core/tests/fuzz.rs` also runs.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| rem_core::fuzzing::sql(data));
