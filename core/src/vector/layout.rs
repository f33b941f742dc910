//! How a table's vector index is stored (format version 1).
//!
//! Its records are the `V` space of `storage::keys::SPACES`: a header, an entity-to-node
//! record per row, and per node a vector record and a links record.
//! A node's vector and its links are separate records so that relinking a
//! neighbour rewrites a few hundred bytes, not the vector.

use serde::{Deserialize, Serialize};

use super::hnsw::{Loader, Node};
use crate::error::{Error, Result};
use crate::model::schema::HnswParams;
use crate::storage::keys;
use crate::storage::store::Storage;
use crate::storage::tx::Tx;

/// `T <tenant> V <table>`: every record of one table's index.
pub fn prefix(tenant: &str, table: &str) -> Vec<u8> {
    let mut k = keys::tenant_space(tenant, keys::VECTOR);
    keys::push_str(&mut k, table);
    k
}

fn with(tenant: &str, table: &str, tag: u8, tail: &[u8]) -> Vec<u8> {
    let mut k = prefix(tenant, table);
    k.push(tag);
    k.extend_from_slice(tail);
    k
}

/// Key of the index's [`Meta`] record.
pub fn meta_key(tenant: &str, table: &str) -> Vec<u8> {
    with(tenant, table, keys::vector::META, &[])
}

/// Prefix of every entity-to-node record of `table`.
pub fn id_prefix(tenant: &str, table: &str) -> Vec<u8> {
    with(tenant, table, keys::vector::NODE_OF, &[])
}

/// Key of the entity-to-node record of `id`.
pub fn id_key(tenant: &str, table: &str, id: &[u8; 16]) -> Vec<u8> {
    with(tenant, table, keys::vector::NODE_OF, id)
}

/// Key of node `ord`'s vector record.
pub fn vector_key(tenant: &str, table: &str, ord: u32) -> Vec<u8> {
    with(tenant, table, keys::vector::VECTOR, &ord.to_be_bytes())
}

/// Key of node `ord`'s links record.
pub fn links_key(tenant: &str, table: &str, ord: u32) -> Vec<u8> {
    with(tenant, table, keys::vector::LINKS, &ord.to_be_bytes())
}

/// The stored (unit-length) vectors of `ids` in `table`'s index, in order: `None` for a row
/// without a vector or a soft-deleted one. Errors: `Storage` (a corrupt or missing record).
pub fn read_vectors<S: Storage + ?Sized>(
    tx: &Tx<'_, S>,
    tenant: &str,
    table: &str,
    ids: &[[u8; 16]],
) -> Result<Vec<Option<Box<[f32]>>>> {
    let id_keys: Vec<Vec<u8>> = ids.iter().map(|id| id_key(tenant, table, id)).collect();
    let records: Vec<Option<IdRecord>> = tx
        .get_many(&id_keys)?
        .into_iter()
        .map(|b| b.map(|b| IdRecord::decode(&b)).transpose())
        .collect::<Result<_>>()?;
    let live: Vec<(usize, u32)> =
        records.iter().enumerate().filter_map(|(i, r)| r.filter(|r| r.live).map(|r| (i, r.ord))).collect();
    let keys: Vec<Vec<u8>> = live.iter().map(|(_, ord)| vector_key(tenant, table, *ord)).collect();
    let mut out: Vec<Option<Box<[f32]>>> = vec![None; ids.len()];
    for ((i, _), bytes) in live.iter().zip(tx.get_many(&keys)?) {
        let bytes = bytes.ok_or_else(|| Error::Storage(format!("vector index of '{table}' lost a vector")))?;
        out[*i] = Some(decode_vector(&bytes)?.1);
    }
    Ok(out)
}

/// The index's header record.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Meta {
    /// Embedding model (`local:all-MiniLM-L6-v2`, `hash:384`, ...).
    pub model: String,
    /// Vector dimension.
    pub dims: usize,
    /// `M`.
    pub m: usize,
    /// `ef_construction`.
    pub ef_construction: usize,
    /// `ef_search`.
    pub ef_search: usize,
    /// Entry point ordinal.
    pub entry: Option<u32>,
    /// Top layer.
    pub max_level: usize,
    /// Nodes ever added (next ordinal).
    pub count: u32,
    /// Nodes not tombstoned.
    pub live: u64,
    /// Tombstoned nodes.
    pub tombstones: u64,
    /// Bumped on every write, so a cached graph can tell it is stale (a rolled-back call).
    pub generation: u64,
    /// Set when the index is built anew (after its records were dropped), so that a graph
    /// another engine instance cached from an earlier build is never taken for this one even
    /// when the generations match (each build counts its generations from 0). 0 in headers
    /// written before it existed.
    #[serde(default)]
    pub build: u64,
}

impl Meta {
    /// The parameters recorded here.
    pub fn params(&self) -> HnswParams {
        HnswParams { m: self.m, ef_construction: self.ef_construction, ef_search: self.ef_search }
    }
    /// Encode as JSON bytes.
    pub fn encode(&self) -> Vec<u8> {
        serde_json::to_vec(self).expect("meta serialises")
    }
    /// Decode. Errors: `Storage`.
    pub fn decode(bytes: &[u8]) -> Result<Meta> {
        serde_json::from_slice(bytes).map_err(|e| Error::Storage(format!("corrupt vector index header: {e}")))
    }
}

/// The entity-to-node record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IdRecord {
    /// Node ordinal.
    pub ord: u32,
    /// First 16 bytes of BLAKE3 of the embedded text (an unchanged text is not re-embedded).
    pub text_hash: [u8; 16],
    /// False while the entity is soft-deleted (its node is tombstoned).
    pub live: bool,
}

impl IdRecord {
    /// Encode (21 bytes).
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(21);
        out.extend_from_slice(&self.ord.to_le_bytes());
        out.extend_from_slice(&self.text_hash);
        out.push(self.live as u8);
        out
    }
    /// Decode. Errors: `Storage`.
    pub fn decode(b: &[u8]) -> Result<IdRecord> {
        if b.len() != 21 {
            return Err(Error::Storage("corrupt vector id record".into()));
        }
        Ok(IdRecord {
            ord: u32::from_le_bytes(b[..4].try_into().expect("4")),
            text_hash: b[4..20].try_into().expect("16"),
            live: b[20] != 0,
        })
    }
}

/// Encode a vector record.
pub fn encode_vector(id: &[u8; 16], v: &[f32]) -> Vec<u8> {
    let mut out = Vec::with_capacity(16 + 4 * v.len());
    out.extend_from_slice(id);
    for x in v {
        out.extend_from_slice(&x.to_le_bytes());
    }
    out
}

/// Decode a vector record into the id and the vector. Errors: `Storage`.
pub fn decode_vector(b: &[u8]) -> Result<([u8; 16], Box<[f32]>)> {
    if b.len() < 16 || !(b.len() - 16).is_multiple_of(4) {
        return Err(Error::Storage("corrupt vector record".into()));
    }
    let id: [u8; 16] = b[..16].try_into().expect("16");
    let v = b[16..].chunks_exact(4).map(|c| f32::from_le_bytes(c.try_into().expect("4"))).collect();
    Ok((id, v))
}

/// Encode a links record.
pub fn encode_links(deleted: bool, links: &[Vec<u32>]) -> Vec<u8> {
    let mut out = Vec::with_capacity(2 + links.iter().map(|l| 2 + 4 * l.len()).sum::<usize>());
    out.push(deleted as u8);
    out.push(links.len() as u8);
    for l in links {
        out.extend_from_slice(&(l.len() as u16).to_le_bytes());
        for o in l {
            out.extend_from_slice(&o.to_le_bytes());
        }
    }
    out
}

/// Decode a links record. Errors: `Storage`.
pub fn decode_links(b: &[u8]) -> Result<(bool, Vec<Vec<u32>>)> {
    let bad = || Error::Storage("corrupt vector links record".into());
    let (&deleted, rest) = b.split_first().ok_or_else(bad)?;
    let (&layers, mut rest) = rest.split_first().ok_or_else(bad)?;
    let mut links = Vec::with_capacity(layers as usize);
    for _ in 0..layers {
        if rest.len() < 2 {
            return Err(bad());
        }
        let n = u16::from_le_bytes([rest[0], rest[1]]) as usize;
        rest = &rest[2..];
        if rest.len() < 4 * n {
            return Err(bad());
        }
        links.push(rest[..4 * n].chunks_exact(4).map(|c| u32::from_le_bytes(c.try_into().expect("4"))).collect());
        rest = &rest[4 * n..];
    }
    if !rest.is_empty() || links.is_empty() {
        return Err(bad());
    }
    Ok((deleted != 0, links))
}

/// Reads nodes of one table's index through a transaction.
pub struct TxLoader<'a, 't, S: Storage> {
    /// The transaction.
    pub tx: &'a Tx<'t, S>,
    /// Tenant.
    pub tenant: &'a str,
    /// Table.
    pub table: &'a str,
}

impl<S: Storage> Loader for TxLoader<'_, '_, S> {
    fn load(&mut self, ords: &[u32]) -> Result<Vec<Node>> {
        let mut wanted = Vec::with_capacity(2 * ords.len());
        for &o in ords {
            wanted.push(vector_key(self.tenant, self.table, o));
            wanted.push(links_key(self.tenant, self.table, o));
        }
        let got = self.tx.get_many(&wanted)?;
        let mut out = Vec::with_capacity(ords.len());
        for (pair, &o) in got.chunks_exact(2).zip(ords) {
            let (Some(v), Some(l)) = (&pair[0], &pair[1]) else {
                return Err(Error::Storage(format!(
                    "vector index of '{}' lost node {o}; rebuild the index (rebuild_index)",
                    self.table
                )));
            };
            let (id, vector) = decode_vector(v)?;
            let (deleted, links) = decode_links(l)?;
            out.push(Node { id, vector, links, deleted });
        }
        Ok(out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_round_trip() {
        let r = IdRecord { ord: 7, text_hash: [9; 16], live: true };
        assert_eq!(IdRecord::decode(&r.encode()).unwrap(), r);
        let (id, v) = decode_vector(&encode_vector(&[1; 16], &[0.5, -2.0])).unwrap();
        assert_eq!((id, &*v), ([1; 16], &[0.5f32, -2.0][..]));
        let links = vec![vec![1, 2, 3], vec![], vec![70_000]];
        assert_eq!(decode_links(&encode_links(true, &links)).unwrap(), (true, links));
        assert!(decode_links(&[0, 1, 5, 0]).is_err());
        assert!(vector_key("t", "a", 1) < vector_key("t", "a", 256));
    }
}
