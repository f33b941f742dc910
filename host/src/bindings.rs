//! Generated bindings for `wit/engine.wit` (kept private to the crate).

wasmtime::component::bindgen!({
    path: "../wit",
    world: "engine",
});
