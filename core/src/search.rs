//! Search as a ranking: what is searched for and with which options, and reciprocal rank
//! fusion of several rankings (hybrid search fuses the vector and the BM25 ranking).
//! The vector index is in `vector/`, the keyword index in `keyword.rs`, and running a search
//! against a table in `database/search.rs`.

use std::collections::HashMap;

/// What to search for.
#[derive(Debug, Clone, PartialEq)]
pub enum SearchQuery {
    /// Text, embedded with the table's model.
    Text(String),
    /// A vector of the table's dimension (normalised by the engine).
    Vector(Vec<f32>),
}

/// Options of `Database::search`.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchOptions {
    /// Top-k: results wanted (1 to 10,000).
    pub top_k: u32,
    /// Smallest score returned (score = 1 - cosine distance, so -1 to 1).
    pub min_score: f32,
    /// A REM SQL predicate the rows must satisfy (`WHERE` without the keyword).
    pub filter: Option<String>,
    /// Fuse a BM25 keyword ranking with the vector ranking (reciprocal rank fusion); `_score`
    /// is then the fused score, with `_vector_score` and `_bm25_score` alongside.
    pub hybrid: bool,
    /// Override the table's `ef_search` for this query.
    pub ef_search: Option<u32>,
    /// The vectors searched: `embedding` (`None`: the table's model) or `embedding_alt` (the
    /// second model's, for a table with `embedding_provider_alt`).
    pub vector_field: Option<String>,
}

impl Default for SearchOptions {
    fn default() -> Self {
        SearchOptions { top_k: 10, min_score: -1.0, filter: None, hybrid: false, ef_search: None, vector_field: None }
    }
}

/// Matching rows at or below which a filtered search is answered exactly.
pub const EXACT_FILTER_MAX: usize = 2048;

/// Depth of each ranking fused by hybrid search (at least k).
pub const HYBRID_DEPTH: usize = 50;

/// RRF constant `k` (Cormack, Clarke & Buettcher, "Reciprocal Rank Fusion outperforms
/// Condorcet and individual Rank Learning Methods", SIGIR 2009, use 60).
pub const RRF_K: f64 = 60.0;

/// Reciprocal rank fusion of several rankings (best first): ids with their fused score, best first.
pub fn fuse(rankings: &[Vec<[u8; 16]>]) -> Vec<([u8; 16], f64)> {
    let mut scores: HashMap<[u8; 16], f64> = HashMap::new();
    for ranking in rankings {
        for (rank, id) in ranking.iter().enumerate() {
            *scores.entry(*id).or_insert(0.0) += 1.0 / (RRF_K + rank as f64 + 1.0);
        }
    }
    let mut out: Vec<([u8; 16], f64)> = scores.into_iter().collect();
    out.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fusion_ranks_first_what_both_rankings_hold_high() {
        let fused = fuse(&[vec![[1; 16], [2; 16]], vec![[2; 16], [3; 16]]]);
        assert_eq!(fused[0].0, [2; 16]);
        assert_eq!(fused.len(), 3);
        assert!((fused[0].1 - (1.0 / 62.0 + 1.0 / 61.0)).abs() < 1e-12);
    }
}
