// Storage for the engine's `rem:engine/storage` import: an ordered in-memory map with
// per-call transactions, optionally snapshotted to a file.
//
// Keys are byte strings compared bytewise (as redb does): each key is held as a
// "binary string" (one char per byte, 0-255), whose JavaScript ordering is byte order.
// A call runs in a transaction: writes apply at once and are logged, so a failed call
// is undone; a write during a read-only call is refused with the `storage` error.

import { readFileSync, renameSync, writeFileSync } from "node:fs";

/** Largest page a scan returns (the WIT contract clamps `limit` to this). */
export const MAX_SCAN = 4096;

const toKey = (bytes) => {
  let s = "";
  for (let i = 0; i < bytes.length; i += 8192) {
    s += String.fromCharCode.apply(null, bytes.subarray(i, i + 8192));
  }
  return s;
};

const toBytes = (key) => {
  const out = new Uint8Array(key.length);
  for (let i = 0; i < key.length; i++) out[i] = key.charCodeAt(i);
  return out;
};

/** An error the engine receives as the WIT `storage` case. */
export class StorageError extends Error {
  constructor(message) {
    super(message);
    this.payload = { tag: "storage", val: message };
  }
}

/** An ordered map of byte keys to byte values with undo-logged transactions. */
export class MemoryStorage {
  constructor() {
    /** @type {string[]} sorted keys */
    this.keys = [];
    /** @type {Map<string, Uint8Array>} */
    this.values = new Map();
    this.mode = null; // null (no call), "read" or "write"
    this.undo = [];
  }

  /** Number of keys stored. */
  get size() {
    return this.keys.length;
  }

  /** Index of the first key >= `key`. */
  lowerBound(key) {
    let lo = 0;
    let hi = this.keys.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.keys[mid] < key) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Start a call's transaction (`"read"` or `"write"`). */
  begin(mode) {
    this.mode = mode;
    this.undo = [];
  }

  /** End the call: keep its writes (`ok`) or undo them. */
  end(ok) {
    if (!ok) {
      for (let i = this.undo.length - 1; i >= 0; i--) {
        const [key, old] = this.undo[i];
        this.setRaw(key, old);
      }
    }
    this.mode = null;
    this.undo = [];
  }

  setRaw(key, value) {
    const has = this.values.has(key);
    if (value === undefined) {
      if (has) {
        this.values.delete(key);
        this.keys.splice(this.lowerBound(key), 1);
      }
    } else {
      if (!has) this.keys.splice(this.lowerBound(key), 0, key);
      this.values.set(key, value);
    }
  }

  // --- the WIT interface (names as jco binds them) ---------------------------------

  get(key) {
    return this.values.get(toKey(key));
  }

  /** The values at the packed `keys` (the WIT `keys` record: `data` with an end offset per
   *  key), packed as the WIT `values` record: the values found back to back in `data`, and per
   *  key where its value ends, or `undefined` (WIT `none`) when absent. */
  getMany({ data: keyData, ends: keyEnds }) {
    const found = [];
    let start = 0;
    let size = 0;
    for (const end of keyEnds) {
      if (end < start || end > keyData.length) {
        throw new StorageError(`packed keys: offset ${end} is out of order or past the data`);
      }
      const value = this.values.get(toKey(keyData.subarray(start, end)));
      start = end;
      found.push(value);
      if (value !== undefined) size += value.length;
    }
    const out = new Uint8Array(size);
    const ends = [];
    let at = 0;
    for (const value of found) {
      if (value === undefined) {
        ends.push(undefined);
      } else {
        out.set(value, at);
        at += value.length;
        ends.push(at);
      }
    }
    return { data: out, ends };
  }

  /** Up to `limit` entries in `[start, end)`, packed as the WIT `page` record: keys and values
   *  back to back in `data`, `ends` holding where each key and then each value ends. */
  scan(start, end, limit, reverse) {
    const n = Math.min(limit, MAX_SCAN);
    const lo = this.lowerBound(toKey(start));
    const hi = end === undefined ? this.keys.length : this.lowerBound(toKey(end));
    const picked = [];
    if (reverse) {
      for (let i = hi - 1; i >= lo && picked.length < n; i--) picked.push(i);
    } else {
      for (let i = lo; i < hi && picked.length < n; i++) picked.push(i);
    }
    const parts = [];
    const ends = new Uint32Array(2 * picked.length);
    let size = 0;
    picked.forEach((i, j) => {
      const key = toBytes(this.keys[i]);
      const value = this.values.get(this.keys[i]);
      parts.push(key, value);
      size += key.length;
      ends[2 * j] = size;
      size += value.length;
      ends[2 * j + 1] = size;
    });
    const data = new Uint8Array(size);
    let at = 0;
    for (const p of parts) {
      data.set(p, at);
      at += p.length;
    }
    return { data, ends };
  }

  /** Apply a packed write batch (the WIT `write-batch` record) in order: operation i's key
   *  ends at `keyEnds[i]` in `data`, its value at `valueEnds[i]` (a put) or it has none
   *  (`undefined`, a delete); each key starts where the previous operation ended. */
  write({ data, keyEnds, valueEnds }) {
    if (this.mode !== "write") {
      throw new StorageError("write attempted outside a mutating call");
    }
    if (keyEnds.length !== valueEnds.length) {
      throw new StorageError(`malformed write batch: ${keyEnds.length} key ends but ${valueEnds.length} value ends`);
    }
    // Check the whole batch first, so a malformed one changes nothing.
    let at = 0;
    for (let i = 0; i < keyEnds.length; i++) {
      const end = valueEnds[i] ?? keyEnds[i];
      if (keyEnds[i] < at || end < keyEnds[i] || end > data.length) {
        throw new StorageError(`malformed write batch: operation ${i} ends at byte ${end}, after byte ${at}`);
      }
      at = end;
    }
    at = 0;
    for (let i = 0; i < keyEnds.length; i++) {
      const key = toKey(data.subarray(at, keyEnds[i]));
      this.undo.push([key, this.values.get(key)]);
      if (valueEnds[i] === undefined) {
        this.setRaw(key, undefined);
        at = keyEnds[i];
      } else {
        // Copy: `data` is a view of the engine's memory.
        this.setRaw(key, data.slice(keyEnds[i], valueEnds[i]));
        at = valueEnds[i];
      }
    }
  }

  // --- snapshots --------------------------------------------------------------------

  /** Write every key and value to `path` (length-prefixed records; atomic rename). */
  save(path) {
    const parts = [];
    let size = 0;
    for (const key of this.keys) {
      const value = this.values.get(key);
      const head = Buffer.alloc(8);
      head.writeUInt32LE(key.length, 0);
      head.writeUInt32LE(value.length, 4);
      parts.push(head, Buffer.from(toBytes(key)), Buffer.from(value));
      size += 8 + key.length + value.length;
    }
    const tmp = `${path}.tmp-${process.pid}`;
    writeFileSync(tmp, Buffer.concat(parts, size));
    renameSync(tmp, path);
  }

  /** A storage holding the snapshot at `path` (written by `save`). */
  static load(path) {
    const buf = readFileSync(path);
    const s = new MemoryStorage();
    let at = 0;
    while (at < buf.length) {
      if (at + 8 > buf.length) throw new StorageError(`${path}: truncated snapshot at byte ${at}`);
      const klen = buf.readUInt32LE(at);
      const vlen = buf.readUInt32LE(at + 4);
      at += 8;
      if (at + klen + vlen > buf.length) throw new StorageError(`${path}: truncated snapshot at byte ${at}`);
      const key = toKey(buf.subarray(at, at + klen));
      s.keys.push(key);
      s.values.set(key, new Uint8Array(buf.subarray(at + klen, at + klen + vlen)));
      at += klen + vlen;
    }
    return s;
  }
}
