//! Keyword ranking for hybrid search: a BM25 inverted index kept in storage (its records
//! are the `W` space of `storage::keys::SPACES`: corpus statistics, each row's terms, and
//! one posting per term and row). Fusion with the vector ranking is in `search.rs`.
//!
//! BM25 as in Robertson & Zaragoza, "The Probabilistic Relevance Framework: BM25
//! and Beyond" (2009), with the non-negative IDF `ln(1 + (N - df + 0.5) / (df + 0.5))`
//! that Lucene uses, `k1 = 1.2`, `b = 0.75`. Terms are lower-cased alphanumeric
//! words (no stemming, no stop words).

use std::collections::{BTreeMap, HashMap};

use crate::error::{Error, Result};
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;

/// BM25 `k1`.
pub const K1: f64 = 1.2;
/// BM25 `b`.
pub const B: f64 = 0.75;

fn prefix(tenant: &str, table: &str) -> Vec<u8> {
    let mut k = keys::tenant_space(tenant, keys::KEYWORD);
    keys::push_str(&mut k, table);
    k
}

/// Prefix of every record of `table`'s keyword index.
pub fn table_prefix(tenant: &str, table: &str) -> Vec<u8> {
    prefix(tenant, table)
}

fn stats_key(tenant: &str, table: &str) -> Vec<u8> {
    let mut k = prefix(tenant, table);
    k.push(keys::keyword::STATS);
    k
}

fn doc_key(tenant: &str, table: &str, id: &[u8; 16]) -> Vec<u8> {
    let mut k = prefix(tenant, table);
    k.push(keys::keyword::DOCUMENT);
    k.extend_from_slice(id);
    k
}

fn term_prefix(tenant: &str, table: &str, term: &str) -> Vec<u8> {
    let mut k = prefix(tenant, table);
    k.push(keys::keyword::POSTING);
    keys::push_str(&mut k, term);
    k
}

/// The terms of `text` with their counts.
pub fn terms(text: &str) -> BTreeMap<String, u32> {
    let mut out = BTreeMap::new();
    for w in text.split(|c: char| !c.is_alphanumeric()).filter(|w| !w.is_empty()) {
        *out.entry(w.to_lowercase()).or_insert(0) += 1;
    }
    out
}

fn read_stats<S: Storage>(tx: &Tx<'_, S>, tenant: &str, table: &str) -> Result<(u64, u64)> {
    Ok(match tx.get(&stats_key(tenant, table))? {
        Some(b) if b.len() == 16 => {
            (u64::from_le_bytes(b[..8].try_into().expect("8")), u64::from_le_bytes(b[8..].try_into().expect("8")))
        }
        Some(_) => return Err(Error::Storage("corrupt keyword index header".into())),
        None => (0, 0),
    })
}

/// Replace the indexed text of row `id` (`None`: remove it). `previous` is its stored
/// term list if the caller already read it.
pub fn set_document<S: Storage>(
    tx: &mut Tx<'_, S>,
    tenant: &str,
    table: &str,
    id: &[u8; 16],
    text: Option<&str>,
) -> Result<()> {
    let (mut docs, mut total) = read_stats(tx, tenant, table)?;
    let dkey = doc_key(tenant, table, id);
    if let Some(old) = tx.get(&dkey)? {
        let old: Vec<(String, u32)> =
            serde_json::from_slice(&old).map_err(|e| Error::Storage(format!("corrupt keyword record: {e}")))?;
        for (t, _) in &old {
            let mut k = term_prefix(tenant, table, t);
            k.extend_from_slice(id);
            tx.delete(k)?;
        }
        docs = docs.saturating_sub(1);
        total = total.saturating_sub(old.iter().map(|(_, n)| *n as u64).sum());
        tx.delete(dkey.clone())?;
    }
    if let Some(text) = text {
        let terms = terms(text);
        if !terms.is_empty() {
            let len: u32 = terms.values().sum();
            let dl = len.min(u16::MAX as u32) as u16;
            for (t, n) in &terms {
                let mut k = term_prefix(tenant, table, t);
                k.extend_from_slice(id);
                let mut v = (*n).min(u16::MAX as u32).to_le_bytes()[..2].to_vec();
                v.extend_from_slice(&dl.to_le_bytes());
                tx.put(k, v)?;
            }
            let list: Vec<(&String, &u32)> = terms.iter().collect();
            tx.put(dkey, serde_json::to_vec(&list).map_err(|e| Error::Internal(e.to_string()))?)?;
            docs += 1;
            total += len as u64;
        }
    }
    let mut v = docs.to_le_bytes().to_vec();
    v.extend_from_slice(&total.to_le_bytes());
    tx.put(stats_key(tenant, table), v)
}

/// The rows containing any term of `query`, with their BM25 scores, best first,
/// restricted to `allowed` when given, at most `limit`.
pub fn rank<S: Storage>(
    tx: &mut Tx<'_, S>,
    tenant: &str,
    table: &str,
    query: &str,
    allowed: Option<&std::collections::HashSet<[u8; 16]>>,
    limit: usize,
) -> Result<Vec<([u8; 16], f64)>> {
    let (docs, total) = read_stats(tx, tenant, table)?;
    if docs == 0 {
        return Ok(Vec::new());
    }
    let n = docs as f64;
    let avgdl = total as f64 / n;
    let mut scores: HashMap<[u8; 16], f64> = HashMap::new();
    for term in terms(query).keys() {
        let p = term_prefix(tenant, table, term);
        let mut postings = Vec::new();
        let mut scan = tx.scan_prefix(&p)?;
        loop {
            let page = scan.next_page()?;
            if page.is_empty() {
                break;
            }
            for (k, v) in page {
                let id: [u8; 16] =
                    k[p.len()..].try_into().map_err(|_| Error::Storage("corrupt keyword posting".into()))?;
                if v.len() != 4 {
                    return Err(Error::Storage("corrupt keyword posting".into()));
                }
                postings.push((id, u16::from_le_bytes([v[0], v[1]]) as f64, u16::from_le_bytes([v[2], v[3]]) as f64));
            }
        }
        let df = postings.len() as f64;
        let idf = (1.0 + (n - df + 0.5) / (df + 0.5)).ln();
        for (id, tf, dl) in postings {
            if allowed.is_some_and(|a| !a.contains(&id)) {
                continue;
            }
            let s = idf * tf * (K1 + 1.0) / (tf + K1 * (1.0 - B + B * dl / avgdl));
            *scores.entry(id).or_insert(0.0) += s;
        }
    }
    let mut ranked: Vec<([u8; 16], f64)> = scores.into_iter().collect();
    ranked.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    ranked.truncate(limit);
    Ok(ranked)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::storage::store::MemoryStore;

    #[test]
    fn bm25_prefers_rare_terms_and_short_documents_and_forgets_removed_text() {
        let store = MemoryStore::new();
        let mut tx = Tx::new(&store);
        let docs = [
            ([1; 16], "nginx web server"),
            ([2; 16], "apache web server with many many modules and extra words"),
            ([3; 16], "postgres database server"),
        ];
        for (id, t) in &docs {
            set_document(&mut tx, "t", "d", id, Some(t)).unwrap();
        }
        let r = rank(&mut tx, "t", "d", "web server", None, 10).unwrap();
        assert_eq!(r.iter().map(|x| x.0[0]).collect::<Vec<_>>(), vec![1, 2, 3]);
        let r = rank(&mut tx, "t", "d", "NGINX", None, 10).unwrap();
        assert_eq!(r.len(), 1);
        set_document(&mut tx, "t", "d", &[1; 16], Some("caddy")).unwrap();
        assert!(rank(&mut tx, "t", "d", "nginx", None, 10).unwrap().is_empty());
        set_document(&mut tx, "t", "d", &[1; 16], None).unwrap();
        assert!(rank(&mut tx, "t", "d", "caddy", None, 10).unwrap().is_empty());
        assert_eq!(read_stats(&tx, "t", "d").unwrap().0, 2);
    }
}
