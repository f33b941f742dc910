//! `hash:<dims>`: a deterministic, offline embedding with no model.
//!
//! Lexical, not semantic: each lower-cased alphanumeric word is hashed
//! (BLAKE3) to one of `dims` buckets with a sign (the "hashing trick",
//! Weinberger et al., ICML 2009), and the bucket counts are L2-normalised.
//! Texts sharing words score high; synonyms do not. For tests and for
//! users who want no model.

use super::Provider;

/// The hashing-trick embedder with `dims` buckets.
#[derive(Debug, Clone, Copy)]
pub struct HashEmbedder {
    dims: usize,
}

impl HashEmbedder {
    /// An embedder with `dims` (at least 1) dimensions.
    pub fn new(dims: usize) -> HashEmbedder {
        HashEmbedder { dims: dims.max(1) }
    }

    /// The vector of one text (all zeros when it has no word).
    pub fn vector(&self, text: &str) -> Vec<f32> {
        let mut v = vec![0f32; self.dims];
        for word in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
            let h = blake3::hash(word.to_lowercase().as_bytes());
            let b = h.as_bytes();
            let bucket = u64::from_le_bytes(b[..8].try_into().expect("8 bytes")) % self.dims as u64;
            v[bucket as usize] += if b[8] & 1 == 0 { 1.0 } else { -1.0 };
        }
        let norm = v.iter().map(|x| x * x).sum::<f32>().sqrt();
        if norm > 0.0 {
            v.iter_mut().for_each(|x| *x /= norm);
        }
        v
    }
}

impl Provider for HashEmbedder {
    fn embed(&self, texts: &[String]) -> Result<Vec<Vec<f32>>, String> {
        Ok(texts.iter().map(|t| self.vector(t)).collect())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_words_same_vector_and_unit_length() {
        let e = HashEmbedder::new(64);
        assert_eq!(e.vector("Web server"), e.vector("web, SERVER!"));
        let n: f32 = e.vector("a b c").iter().map(|x| x * x).sum();
        assert!((n - 1.0).abs() < 1e-5);
        assert!(e.vector("  ").iter().all(|x| *x == 0.0));
    }
}
