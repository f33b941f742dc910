//! The wasm-only guest: the allocator shim and the component bindings. Nothing else in the
//! crate knows this module exists.

// The guest's allocator shim (a `GlobalAlloc`, `unsafe` by nature).
#[allow(unsafe_code)]
#[cfg(any(target_arch = "wasm32", test))]
mod alloc_cache;

// The generated WIT bindings use `unsafe` for the canonical ABI; the rest of the crate stays safe.
#[cfg(target_arch = "wasm32")]
#[allow(unsafe_code, missing_docs)]
mod component;
