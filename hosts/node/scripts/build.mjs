// Transpile the engine component to an ES module with jco. Its REM imports (storage,
// embeddings) are supplied per instance by src/database.js; WASI comes from
// @bytecodealliance/preview2-shim.
//
// Input: $REM_ENGINE_WASM, else ../../target/component/rem-engine.wasm (`make component`).
// Output: generated/ (rem-engine.js, rem-engine.core*.wasm, .d.ts), ignored by git.
import { execFileSync } from "node:child_process";
import { existsSync, rmSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const wasm = process.env.REM_ENGINE_WASM ?? resolve(root, "../../target/component/rem-engine.wasm");
if (!existsSync(wasm)) {
  console.error(`error: ${wasm} not found\nhint: run \`make component\` (or \`rem component export target/component\`) first`);
  process.exit(1);
}
const out = resolve(root, "generated");
rmSync(out, { recursive: true, force: true });
const jco = resolve(root, "node_modules/@bytecodealliance/jco/dist/jco.js");
execFileSync(
  process.execPath,
  [
    jco, "transpile", wasm, "-o", out, "--name", "rem-engine", "--quiet",
    // `instantiate(getCoreModule, imports)` instead of a module-level instance: each database
    // gets its own instance with its own storage and embeddings, and a trapped instance is
    // replaced by a fresh one.
    "--instantiation", "async",
  ],
  { stdio: "inherit" },
);
console.log(`transpiled ${wasm} -> ${out}`);
