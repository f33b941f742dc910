// Per-call costs of the engine component in Node (jco), reported in docs/benchmarks.md next to
// the same figures under wasmtime (`cargo bench -p rem-host --bench calls`).
//
//   empty export call:   Database.version()            (no storage access)
//   storage import call: get(id) of a missing entity   (one export call making two storage.get;
//                        the import cost is half the difference with the empty call)
//   instantiation:       Database.open() with the core module already compiled
//
// Run: `npm run bench` (after `npm run build`). Prints JSON.
import { performance } from "node:perf_hooks";

import { Database } from "../src/index.js";

const N = 20000;
const best = (f, rounds = 5) => {
  let min = Infinity;
  for (let r = 0; r < rounds; r++) {
    const t = performance.now();
    f();
    min = Math.min(min, performance.now() - t);
  }
  return min;
};

const t0 = performance.now();
const db = await Database.open();
const firstOpenMs = performance.now() - t0;
const missing = "00000000-0000-4000-8000-000000000000";
const versionUs = (best(() => { for (let i = 0; i < N; i++) db.version(); }) * 1000) / N;
const getUs = (best(() => { for (let i = 0; i < N; i++) db.get(missing); }) * 1000) / N;
let openMs = Infinity;
for (let i = 0; i < 10; i++) {
  const t = performance.now();
  await Database.open();
  openMs = Math.min(openMs, performance.now() - t);
}
console.log(JSON.stringify({
  host: `node ${process.version} (jco)`,
  empty_export_call_us: +versionUs.toFixed(3),
  get_missing_us: +getUs.toFixed(3),
  storage_import_call_us: +((getUs - versionUs) / 2).toFixed(3),
  first_open_ms_including_compile: +firstOpenMs.toFixed(1),
  open_ms_compiled: +openMs.toFixed(2),
}, null, 2));
