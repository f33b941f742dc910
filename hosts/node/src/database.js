// A REM database in Node: the engine component (transpiled by jco) over MemoryStorage.
//
// Each Database owns one engine instance (its own linear memory) and one storage; every
// method is one engine call in one transaction, undone if the call fails. Results are
// parsed from the engine's JSON; errors are thrown as RemError with the WIT case as
// `kind` (snake_case, as the Rust and Python hosts name them).

import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import * as shim from "@bytecodealliance/preview2-shim";

import { LETTERS_MODEL, embeddingsImport, letters } from "./embeddings.js";
import { MemoryStorage } from "./storage.js";

const generated = resolve(dirname(fileURLToPath(import.meta.url)), "../generated");

/** Every error a REM call throws: `kind` is the WIT error case (`not_found`, `validation`, ...). */
export class RemError extends Error {
  constructor(kind, message, detail) {
    super(message);
    this.name = "RemError";
    this.kind = kind;
    /** Validation issues (`[{loc, kind, msg}]`) or the query error's `{line, column}`. */
    this.detail = detail;
  }
}

function toRemError(e) {
  const p = e?.payload;
  if (!p || typeof p.tag !== "string") {
    return new RemError("trap", `engine trap (the instance is replaced): ${e?.message ?? e}`);
  }
  const kind = p.tag.replaceAll("-", "_");
  if (kind === "validation") {
    const msg = p.val.map((i) => `${i.loc.map((s) => s.val).join(".")}: ${i.msg} [type=${i.kind}]`).join("; ");
    return new RemError(kind, `${p.val.length} validation error(s): ${msg}`, p.val.map((i) => ({
      loc: i.loc.map((s) => s.val), type: i.kind, msg: i.msg,
    })));
  }
  if (kind === "invalid_query") {
    return new RemError(kind, p.val.message, { line: p.val.line, column: p.val.column });
  }
  return new RemError(kind, String(p.val));
}

let compiled; // Promise<{instantiate, modules: Map}>

async function engine() {
  compiled ??= (async () => {
    const { instantiate } = await import(resolve(generated, "rem-engine.js"));
    const modules = new Map();
    const getCoreModule = async (name) => {
      if (!modules.has(name)) modules.set(name, await WebAssembly.compile(await readFile(resolve(generated, name))));
      return modules.get(name);
    };
    return { instantiate, getCoreModule };
  })();
  return compiled;
}

/** WASI imports from preview2-shim: `wasi:cli/terminal-input` -> shim.cli.terminalInput. */
function wasiImports() {
  const out = {};
  for (const [pkg, ifaces] of Object.entries(shim)) {
    for (const [name, impl] of Object.entries(ifaces)) {
      if (name.startsWith("_")) continue;
      const kebab = name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
      out[`wasi:${pkg}/${kebab}`] = impl;
    }
  }
  return out;
}

const DIRECTIONS = { out: "outgoing", outgoing: "outgoing", in: "incoming", incoming: "incoming", both: "both" };

function direction(d) {
  const out = DIRECTIONS[d];
  if (!out) throw new RemError("invalid_argument", `invalid direction ${JSON.stringify(d)}: use out, in or both`);
  return out;
}

const WRITES = new Set([
  "execute",
  "registerSchema", "insert", "insertBatch", "update", "delete", "addEdge", "addEdges", "deleteEdge", "rebuildIndex",
]);

/**
 * One tenant's handle. Open with `await Database.open({ tenant, storage, models, defaultModel })`:
 * `storage` a MemoryStorage (default: a new, empty one), `models` a map of model name to
 * `(texts) => number[][]` (default: `custom:letters`), `defaultModel` the model of schemas
 * that name none (default `custom:letters`).
 */
export class Database {
  static async open({ tenant = "default", storage = new MemoryStorage(), models = { [LETTERS_MODEL]: letters },
    defaultModel = LETTERS_MODEL } = {}) {
    const db = new Database(tenant, storage, embeddingsImport(models, defaultModel));
    await db.instantiate();
    return db;
  }

  constructor(tenant, storage, embeddings) {
    this.tenant = tenant;
    this.storage = storage;
    this.embeddings = embeddings;
    this.instance = null;
    this.handle = null;
  }

  async instantiate() {
    const { instantiate, getCoreModule } = await engine();
    const storage = this.storage;
    const imports = {
      ...wasiImports(),
      "rem:engine/storage": {
        get: (k) => storage.get(k),
        getMany: (ks) => storage.getMany(ks),
        scan: (s, e, l, r) => storage.scan(s, e, l, r),
        write: (ops) => storage.write(ops),
      },
      "rem:engine/embeddings": this.embeddings,
    };
    this.instance = await instantiate(getCoreModule, imports);
    this.storage.begin("write");
    let ok = false;
    try {
      this.handle = new this.instance.database.Database(this.tenant);
      ok = true;
    } catch (e) {
      throw toRemError(e);
    } finally {
      this.storage.end(ok);
    }
  }

  /** The engine's version string (one export call touching no storage). */
  version() {
    return this.instance.database.version();
  }

  /** Run `method(...args)` in one transaction; return its raw result. */
  call(method, ...args) {
    if (!this.handle) throw new RemError("invalid_argument", "the database is closed or its engine trapped; open it again");
    this.storage.begin(WRITES.has(method) ? "write" : "read");
    let ok = false;
    try {
      const out = this.handle[method](...args);
      ok = true;
      return out;
    } catch (e) {
      const err = toRemError(e);
      if (err.kind === "trap") this.handle = null; // the instance's state is unknown: never reuse it
      throw err;
    } finally {
      this.storage.end(ok);
    }
  }

  registerSchema(name, schema) {
    return JSON.parse(this.call("registerSchema", name, typeof schema === "string" ? schema : JSON.stringify(schema)));
  }
  listSchemas() { return this.call("listSchemas"); }
  getSchema(name) { return JSON.parse(this.call("getSchema", name)); }
  insert(table, data) { return JSON.parse(this.call("insert", table, JSON.stringify(data))); }
  insertBatch(table, rows) { return this.call("insertBatch", table, rows.map((r) => JSON.stringify(r))); }
  get(id) {
    const out = this.call("get", id);
    return out === undefined ? null : JSON.parse(out);
  }
  update(id, patch) { return JSON.parse(this.call("update", id, JSON.stringify(patch))); }
  delete(id, { hard = false } = {}) { return JSON.parse(this.call("delete", id, hard)); }
  lookup(key) { return this.call("lookup", key).map((e) => JSON.parse(e)); }
  list(table, { limit, offset = 0 } = {}) { return this.call("list", table, limit, offset).map((e) => JSON.parse(e)); }
  count(table) { return Number(this.call("count", table)); }
  addEdge(src, dst, relType, properties) {
    return JSON.parse(this.call("addEdge", src, dst, relType, properties === undefined ? undefined : JSON.stringify(properties)));
  }
  getEdges(id, { direction: dir = "out", relTypes = [] } = {}) {
    return JSON.parse(this.call("getEdges", id, direction(dir), relTypes));
  }
  deleteEdge(src, dst, relType) { return JSON.parse(this.call("deleteEdge", src, dst, relType)); }
  traverse(start, { direction: dir = "out", depth = 2, relTypes = [], strategy = "bfs", limit } = {}) {
    return JSON.parse(this.call("traverse", start, direction(dir), depth, relTypes, strategy, limit));
  }
  shortestPath(source, target, { direction: dir = "out", maxDepth = 10, relTypes = [], weighted = false } = {}) {
    return JSON.parse(this.call("shortestPath", source, target, direction(dir), maxDepth, relTypes, weighted));
  }
  query(sql, params) {
    const out = params === undefined ? this.call("query", sql) : this.call("queryWithParams", sql, JSON.stringify(params));
    return JSON.parse(out);
  }
  /** Run DELETE or UPDATE (or a read) in one write transaction; `[{changed: n}]` for a write. */
  execute(sql, params) {
    return JSON.parse(this.call("execute", sql, params === undefined ? undefined : JSON.stringify(params)));
  }
  search(table, query, { topK = 10, minScore = -1, filter, hybrid = false, efSearch, vectorField } = {}) {
    const q = typeof query === "string" ? { tag: "text", val: query } : { tag: "vector", val: Float32Array.from(query) };
    return JSON.parse(this.call("search", table, q, { topK, minScore, filter, hybrid, efSearch, vectorField }));
  }
  indexStats(table) { return JSON.parse(this.call("indexStats", table)); }
  /** What the tenant holds per table and key space (WIT `stats`): rows, deleted, index entries, vectors, bytes. */
  stats() { return JSON.parse(this.call("stats")); }
  /**
   * Verify every derived record against the rows (WIT `check`):
   * `{ok, problems: [{space, table, id, problem}], problems_total, checked}`, at most `maxProblems` listed.
   */
  check(maxProblems = 100) { return JSON.parse(this.call("check", maxProblems)); }
}
