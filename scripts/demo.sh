#!/usr/bin/env bash
# The main job: load the Debian package catalog of this machine into REM and
# run a few queries over it, through the real `rem` CLI.
set -euo pipefail
cd "$(dirname "$0")/.."

LISTS=${APT_LISTS:-/var/lib/apt/lists}
WORK=target/demo
DB=$WORK/db

if ! ls "$LISTS"/*_Translation-en* >/dev/null 2>&1 || ! ls "$LISTS"/*_Packages* >/dev/null 2>&1; then
  echo "== fetching the package lists (apt-get update -o Acquire::Languages=en)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -o Acquire::Languages=en >&2; else sudo apt-get update -o Acquire::Languages=en >&2; fi
fi

echo "== building rem and the catalog loader (release)" >&2
cargo build --release --locked -p rem-cli -p debian-catalog -j "${JOBS:-2}" >&2
REM="target/release/rem --path $DB"

rm -rf "$WORK" && mkdir -p "$WORK"
echo "== reading the catalog from $LISTS" >&2
target/release/debian-catalog "$LISTS" --edges "$WORK/edges.jsonl" > "$WORK/packages.jsonl"

echo "== registering the schema (name and summary embedded with ${P8_DEFAULT_EMBEDDING:-local:all-MiniLM-L6-v2})" >&2
# The catalog schema plus semantic search on the package name and one-line summary.
python3 - examples/debian-catalog/package.schema.json > "$WORK/package.schema.json" <<'PY'
import json, sys
schema = json.load(open(sys.argv[1]))
schema["embedding_fields"] = ["name", "summary"]
json.dump(schema, sys.stdout, indent=1)
PY
$REM init >/dev/null
$REM schema add "$WORK/package.schema.json" >/dev/null
echo "== loading $(wc -l < "$WORK/packages.jsonl") packages: validated, embedded and indexed (HNSW) in one transaction" >&2
$REM insert packages --batch "$WORK/packages.jsonl"

run() { echo; echo "\$ rem query \"$1\""; $REM query "$1" --format table; }
echo; echo "\$ rem count packages"; $REM count packages
echo; echo "\$ rem lookup nginx"; $REM lookup nginx --format jsonl | cut -c1-300
run "SELECT section, COUNT(*) AS packages, SUM(installed_size_kib) AS total_kib FROM packages GROUP BY section ORDER BY packages DESC LIMIT 10"
run "SELECT name, version, section, installed_size_kib FROM packages WHERE section = 'httpd' AND name LIKE 'nginx%' ORDER BY name LIMIT 8"
run "SELECT name, installed_size_kib FROM packages ORDER BY installed_size_kib DESC NULLS LAST LIMIT 5"
run "SELECT priority, COUNT(*) AS n FROM packages GROUP BY priority ORDER BY n DESC"
run "SELECT name, summary FROM packages WHERE 'implemented-in::python' = ANY(tags) AND section = 'web' ORDER BY name LIMIT 8"
run "SELECT COUNT(*) AS matches FROM packages WHERE description ILIKE '%web server%'"

search() { echo; echo "\$ rem search \"$1\" --table packages --top-k 8 ${2:+--where \"$2\"}"; $REM search "$1" --table packages --top-k 8 ${2:+--where "$2"} --format jsonl | python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); p = r["properties"]
    print("%.3f  %-32s %s" % (r["_score"], p["name"], p.get("summary", "")[:70]))'; }
search "web server"
search "read and write PDF files in Python"
search "a tool to find duplicate files on disk"
search "web server" "section = 'httpd' AND priority = 'optional'"
echo; echo "\$ rem index stats packages"; $REM index stats packages --format jsonl

echo; echo "== loading $(wc -l < "$WORK/edges.jsonl") depends_on edges (alternatives included, marked)" >&2
$REM edge import "$WORK/edges.jsonl"
echo; echo "\$ rem traverse python3-numpy --depth 2 --type depends_on   (what it pulls in, two hops down)"
$REM traverse python3-numpy --depth 2 --type depends_on --format jsonl > "$WORK/numpy.jsonl"
IDS=$(python3 -c 'import json,sys; print(", ".join("'"'"'%s'"'"'" % json.loads(l)["id"] for l in open(sys.argv[1])))' "$WORK/numpy.jsonl")
python3 -c 'import json,sys,collections; c=collections.Counter(json.loads(l)["depth"] for l in open(sys.argv[1])); print("nodes by depth:", dict(sorted(c.items())))' "$WORK/numpy.jsonl"
run "SELECT name, section FROM packages WHERE id IN ($IDS) ORDER BY name LIMIT 40"
echo; echo "\$ rem query \"TRAVERSE FROM 'python3-numpy' DEPTH 1 DIRECTION out TYPE 'depends_on'\" --format jsonl"
$REM query "TRAVERSE FROM 'python3-numpy' DEPTH 1 DIRECTION out TYPE 'depends_on'" --format jsonl | cut -c1-200
echo; echo "\$ rem edge list libssl3 --direction in  (who depends on libssl3)"
$REM edge list libssl3 --direction in --type depends_on --format jsonl | wc -l
echo; echo "\$ rem path python3-numpy libc6"
$REM path python3-numpy libc6 --format jsonl | cut -c1-300

# Resources: documents that ship with the machine (or REM_DEMO_DOCS), chunked, embedded and searched.
DOCS="${REM_DEMO_DOCS:-/usr/share/doc/valgrind}"
EXISTING=""
for d in $DOCS; do [ -e "$d" ] && EXISTING="$EXISTING $d"; done
if [ -n "$EXISTING" ]; then
  echo; echo "== ingesting documents from$EXISTING (text, Markdown, HTML, PDF)" >&2
  echo "\$ rem ingest$EXISTING"
  $REM ingest $EXISTING --format jsonl | cut -c1-400
  docsearch() { echo; echo "\$ rem search \"$1\" --table resources --top-k 4"; $REM search "$1" --table resources --top-k 4 --format jsonl | python3 -c 'import json,sys
for l in sys.stdin:
    r = json.loads(l); p = r["properties"]
    print("%.3f  %-40s %s" % (r["_score"], p["name"][:40], " ".join(p["content"].split())[:80]))'; }
  docsearch "how do I find memory leaks in my program"
  docsearch "detect data races between threads"
  docsearch "profile which functions use the most cache misses"
  run "SELECT content_type, COUNT(*) AS documents, SUM(chunk_count) AS chunks FROM documents GROUP BY content_type ORDER BY documents DESC"
  echo; echo "\$ rem ingest$EXISTING   (again: unchanged files are skipped)"
  $REM ingest $EXISTING --format jsonl | cut -c1-300
fi

# The agent's side: `rem ask` and `rem dream` against a scripted OpenAI-compatible endpoint, so the demo
# needs no key and no network. Point P8_DEFAULT_LLM / P8_OPENAI_BASE_URL at a real model instead (README).
echo; echo "== the agent's side: answers come from a SCRIPTED endpoint (scripts/llm_stub.py with scripts/demo-llm.json), not a model" >&2
python3 scripts/llm_stub.py --script scripts/demo-llm.json > "$WORK/llm.url" &
STUB=$!
trap 'kill $STUB 2>/dev/null || true' EXIT
for _ in $(seq 50); do [ -s "$WORK/llm.url" ] && break; sleep 0.1; done
export P8_OPENAI_BASE_URL="$(head -1 "$WORK/llm.url")" P8_DEFAULT_LLM=scripted-demo P8_OPENAI_API_KEY=none
echo; echo "\$ rem ask \"which web servers are in section httpd?\" --plan"
$REM ask "which web servers are in section httpd?" --plan
echo; echo "\$ rem ask \"which web servers are in section httpd?\" --format table   (the checked plan, run)"
$REM ask "which web servers are in section httpd?" --format table

# A small session in its own tenant, then a dream over the last hour of it.
AGENT="$REM --tenant demo-agent"
$AGENT init >/dev/null
$AGENT insert sessions '{"session_id": "demo-session-1", "user_id": "demo-user", "name": "docs site"}' >/dev/null
python3 - "$WORK/messages.jsonl" <<'PY'
import datetime, json, sys
now = datetime.datetime.now(datetime.timezone.utc)
lines = [("user", "I need a web server for a small static documentation site. nginx or lighttpd?"),
         ("assistant", "Both serve static files well; nginx has more documentation and is packaged everywhere."),
         ("user", "Let's go with nginx. What about TLS?"),
         ("assistant", "Use certbot for the certificates; we can set up renewal in a later session.")]
with open(sys.argv[1], "w") as f:
    for i, (role, content) in enumerate(lines):
        ts = (now - datetime.timedelta(minutes=10 - i)).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        f.write(json.dumps({"message_id": f"demo-m{i}", "session_id": "demo-session-1", "role": role,
                            "content": content, "timestamp": ts}) + "\n")
PY
$AGENT insert messages --batch "$WORK/messages.jsonl" >/dev/null
echo; echo "\$ rem --tenant demo-agent dream --lookback-hours 1"
$AGENT dream --lookback-hours 1
echo; echo "\$ rem --tenant demo-agent query \"SELECT name, moment_type, tags FROM moments ORDER BY name\""
$AGENT query "SELECT name, moment_type, tags FROM moments ORDER BY name" --format table
