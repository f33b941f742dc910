//! Helpers shared by the native test binaries (each includes this with `mod common;`).

use rem_core::Embedder;

/// A lexical test embedder: one dimension per letter a..z holding its count. Enough to make a
/// table searchable without a model.
pub struct Letters;

impl Embedder for Letters {
    fn embed(&self, _model: &str, texts: &[String]) -> rem_core::Result<Vec<Vec<f32>>> {
        Ok(texts
            .iter()
            .map(|t| {
                let mut v = vec![0.0f32; 26];
                for c in t.bytes().filter(u8::is_ascii_lowercase) {
                    v[(c - b'a') as usize] += 1.0;
                }
                v
            })
            .collect())
    }
    fn default_model(&self) -> String {
        "test:letters".into()
    }
}
