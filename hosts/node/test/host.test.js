// The Node host's own guarantees: atomic calls over MemoryStorage, snapshots, errors.
import assert from "node:assert/strict";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { test } from "node:test";

import { Database, MemoryStorage, RemError } from "../src/index.js";

const PERSON = {
  type: "object", key_field: "name", indexed_fields: ["age"], embedding_fields: ["bio"],
  properties: { name: { type: "string" }, age: { type: "integer", minimum: 0 }, bio: { type: "string" } },
  required: ["name", "age"],
};

test("a failed call leaves storage exactly as it was", async () => {
  const storage = new MemoryStorage();
  const db = await Database.open({ storage });
  db.registerSchema("person", PERSON);
  db.insert("person", { name: "Alice", age: 30, bio: "alpha" });
  const before = new Map(storage.values);
  assert.throws(() => db.insertBatch("person", [{ name: "Bob", age: 1 }, { name: "Eve", age: -1 }]),
    (e) => e instanceof RemError && e.kind === "validation" && e.detail[0].loc.join(".") === "1.age");
  assert.deepEqual(new Map(storage.values), before);
  assert.equal(db.count("person"), 1);
  assert.equal(storage.mode, null, "no transaction is left open");
});

/** Operations `[{ key: number[], value?: number[] }]` (no value: a delete) as the WIT `write-batch`. */
const pack = (ops) => {
  const bytes = [];
  const keyEnds = [];
  const valueEnds = [];
  for (const { key, value } of ops) {
    bytes.push(...key);
    keyEnds.push(bytes.length);
    if (value === undefined) {
      valueEnds.push(undefined);
    } else {
      bytes.push(...value);
      valueEnds.push(bytes.length);
    }
  }
  return { data: new Uint8Array(bytes), keyEnds, valueEnds };
};

test("reads cannot write, and errors carry the WIT case", async () => {
  const storage = new MemoryStorage();
  storage.begin("read");
  assert.throws(() => storage.write(pack([{ key: [1] }])), /outside a mutating call/);
  storage.end(false);
  const db = await Database.open({ storage });
  assert.throws(() => db.getSchema("nope"), (e) => e.kind === "schema_not_found");
  assert.throws(() => db.query("SELECT FROM"), (e) => e.kind === "invalid_query" && e.detail.line === 1);
  assert.throws(() => db.traverse("x", { direction: "up" }), (e) => e.kind === "invalid_argument");
});

test("a snapshot reopens with everything in it", async () => {
  const path = join(mkdtempSync(join(tmpdir(), "rem-node-")), "db.snapshot");
  const db = await Database.open();
  db.registerSchema("person", PERSON);
  db.insertBatch("person", [{ name: "A", age: 1, bio: "aaa" }, { name: "B", age: 2, bio: "bbb" }]);
  db.addEdge("A", "B", "knows");
  db.storage.save(path);
  const again = await Database.open({ storage: MemoryStorage.load(path) });
  assert.equal(again.count("person"), 2);
  assert.equal(again.search("person", "bb", { topK: 1 })[0].properties.name, "B");
  assert.equal(again.traverse("A", { depth: 1 }).length, 2);
  assert.deepEqual(again.query("SELECT name FROM person WHERE age > ?", [1]), [{ name: "B" }]);
  assert.deepEqual(again.execute("UPDATE person SET age = age + ? WHERE name = 'A'", [10]), [{ changed: 1 }]);
  assert.deepEqual(again.query("SELECT name FROM person WHERE age > 5"), [{ name: "A" }]);
  const report = again.check();
  assert.equal(report.ok, true, JSON.stringify(report));
  assert.equal(report.checked.rows, 2);
  assert.equal(again.stats().tables.person.rows, 2);
});

test("scans page in byte order, both ways", () => {
  const s = new MemoryStorage();
  s.begin("write");
  const keys = [[2], [1, 255], [1], [1, 0], [3]];
  s.write(pack(keys.map((k) => ({ key: k, value: [k.length] }))));
  s.end(true);
  // A page packs keys and values back to back; `ends` marks where each key, then each value, ends.
  const unpack = ({ data, ends }) =>
    Array.from({ length: ends.length / 2 }, (_, i) => ({
      key: [...data.subarray(i === 0 ? 0 : ends[2 * i - 1], ends[2 * i])],
      value: [...data.subarray(ends[2 * i], ends[2 * i + 1])],
    }));
  const seen = unpack(s.scan(new Uint8Array([1]), new Uint8Array([3]), 10, false));
  assert.deepEqual(seen.map((kv) => kv.key), [[1], [1, 0], [1, 255], [2]]);
  assert.deepEqual(seen.map((kv) => kv.value), [[1], [2], [2], [1]]);
  const back = unpack(s.scan(new Uint8Array([1]), undefined, 2, true)).map((kv) => kv.key);
  assert.deepEqual(back, [[3], [2]]);
});

test("write batches and get-many cross packed; a malformed batch changes nothing", () => {
  const s = new MemoryStorage();
  s.begin("write");
  s.write(pack([{ key: [1], value: [10] }, { key: [2], value: [] }, { key: [3], value: [30, 31] }, { key: [2] }]));
  const keys = { data: new Uint8Array([3, 2, 1, 9]), ends: [1, 2, 3, 4] };
  const { data, ends } = s.getMany(keys);
  assert.deepEqual([...data], [30, 31, 10]);
  assert.deepEqual(ends, [2, undefined, 3, undefined]);
  const bad = { data: new Uint8Array([4, 40]), keyEnds: [1, 0], valueEnds: [2, undefined] };
  assert.throws(() => s.write(bad), /malformed write batch/);
  assert.equal(s.get(new Uint8Array([4])), undefined);
  s.end(true);
});
