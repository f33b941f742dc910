// The conformance suite (tests/conformance/suite.json) through the Node host. The Rust host
// and the Python wheel run the same file; its `about` gives the rules.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Database, RemError } from "../src/index.js";

const suite = JSON.parse(readFileSync(new URL("../../../tests/conformance/suite.json", import.meta.url), "utf8"));

function matches(expected, actual) {
  if (expected === null || typeof expected !== "object") {
    if (typeof expected === "number" && typeof actual === "number") return Math.abs(expected - actual) <= 1e-6;
    return expected === actual;
  }
  if (Array.isArray(expected)) {
    return Array.isArray(actual) && expected.length === actual.length && expected.every((e, i) => matches(e, actual[i]));
  }
  return actual !== null && typeof actual === "object" && !Array.isArray(actual) &&
    Object.entries(expected).every(([k, v]) => k in actual && matches(v, actual[k]));
}

function substitute(v, saved) {
  if (typeof v === "string" && v.startsWith("$")) return saved[v.slice(1)] ?? v;
  if (Array.isArray(v)) return v.map((x) => substitute(x, saved));
  if (v && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, substitute(x, saved)]));
  return v;
}

function call(db, op, a) {
  switch (op) {
    case "register_schema": return db.registerSchema(a.name, a.schema);
    case "list_schemas": return db.listSchemas();
    case "get_schema": return db.getSchema(a.name);
    case "insert": return db.insert(a.table, a.data);
    case "insert_batch": return db.insertBatch(a.table, a.rows);
    case "get": return db.get(a.id);
    case "update": return db.update(a.id, a.patch);
    case "delete": return db.delete(a.id, { hard: a.hard });
    case "lookup": return db.lookup(a.key);
    case "count": return db.count(a.table);
    case "query": return db.query(a.sql, a.params);
    case "search": return db.search(a.table, a.text ?? a.vector, { topK: a.top_k, filter: a.filter });
    case "add_edge": return db.addEdge(a.src, a.dst, a.rel_type, a.properties);
    case "traverse": return db.traverse(a.start, { direction: a.direction, depth: a.depth, relTypes: a.rel_types });
    case "shortest_path":
      return db.shortestPath(a.source, a.target,
        { direction: a.direction, maxDepth: a.max_depth, relTypes: a.rel_types ?? [], weighted: a.weighted });
    default: throw new Error(`the suite uses op ${op}, which this runner does not know`);
  }
}

test("the Node host passes the conformance suite", async () => {
  const db = await Database.open({ defaultModel: suite.model });
  const saved = {};
  suite.steps.forEach((step, n) => {
    const args = substitute(step.args, saved);
    const where = `step ${n} (${step.op})`;
    if (step.error) {
      let err;
      try {
        call(db, step.op, args);
      } catch (e) {
        err = e;
      }
      assert.ok(err instanceof RemError, `${where}: expected a ${step.error} error, got ${err ?? "a result"}`);
      assert.equal(err.kind, step.error, `${where}: ${err.message}`);
      if (step.issues) {
        const got = err.detail.map((i) => ({ loc: i.loc, type: i.type }));
        assert.ok(matches(step.issues, got), `${where}: issues ${JSON.stringify(got)}`);
      }
      return;
    }
    const got = call(db, step.op, args);
    if ("expect" in step) {
      const want = substitute(step.expect, saved);
      assert.ok(matches(want, got), `${where}: got ${JSON.stringify(got)}, want ${JSON.stringify(want)}`);
    }
    if (typeof step.save === "string") saved[step.save] = got.id;
    else if (Array.isArray(step.save)) step.save.forEach((name, i) => { saved[name] = got[i]; });
  });
});
