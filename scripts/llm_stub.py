#!/usr/bin/env python3
"""A scripted OpenAI-compatible chat endpoint for tests and the demo (no network, no key).

It answers ``POST /v1/chat/completions`` from a script, and checks each request the way
an OpenAI-compatible server would: JSON body, a ``model``, ``messages`` as a list of
``{role, content}`` with known roles, and (with ``--key``) the bearer token. A request
that fails a check gets a 400 naming the problem, so a client bug fails its test.

The script is a JSON list of rules, tried in order against the last user message::

    [{"match": "web servers", "reply": {"query": "SELECT ...", ...}},
     {"match": "Activity:", "reply": {...}, "times": 1},
     {"match": "", "status": 503, "reply": {"error": "busy"}}]

``match`` is a substring of that message ("" matches anything); ``reply`` is the
assistant message's content (an object is sent as its JSON text) or, with ``status``
other than 200, the error body; ``times`` limits how often a rule answers. Every
request is appended to ``--log`` as one JSON line. The first line on stdout is the
base URL to give ``P8_OPENAI_BASE_URL``.

Usage: ``python3 scripts/llm_stub.py --script rules.json [--log requests.jsonl] [--key K]``
"""

from __future__ import annotations

import argparse
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROLES = {"system", "user", "assistant", "tool", "developer"}


def check(body: Any) -> str | None:
    """The first problem with a chat-completions request body, or None."""
    if not isinstance(body, dict):
        return "the body is not a JSON object"
    if not isinstance(body.get("model"), str) or not body["model"]:
        return "`model` is missing"
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        return "`messages` must be a non-empty list"
    for i, m in enumerate(messages):
        if not isinstance(m, dict) or m.get("role") not in ROLES or not isinstance(m.get("content"), str):
            return f"messages[{i}] must be {{role, content}} with a known role"
    fmt = body.get("response_format")
    if fmt is not None and fmt.get("type") not in {"json_schema", "json_object", "text"}:
        return "`response_format.type` is not one OpenAI knows"
    return None


class Stub:
    """The rules, how often each answered, and the request log."""

    def __init__(self, rules: list[dict[str, Any]], log: str | None, key: str | None) -> None:
        self.rules = rules
        self.used = [0] * len(rules)
        self.log = log
        self.key = key
        self.lock = threading.Lock()

    def answer(self, body: dict[str, Any]) -> tuple[int, Any]:
        last = next((m["content"] for m in reversed(body["messages"]) if m["role"] == "user"), "")
        with self.lock:
            for i, rule in enumerate(self.rules):
                if rule.get("match", "") in last and self.used[i] < rule.get("times", 1 << 30):
                    self.used[i] += 1
                    status = int(rule.get("status", 200))
                    reply = rule.get("reply", "")
                    if status != 200:
                        return status, reply
                    content = reply if isinstance(reply, str) else json.dumps(reply)
                    return 200, {
                        "id": f"chatcmpl-stub-{sum(self.used)}",
                        "object": "chat.completion",
                        "model": body["model"],
                        "choices": [
                            {"index": 0, "finish_reason": "stop",
                             "message": {"role": "assistant", "content": content}}
                        ],
                        "usage": {"prompt_tokens": len(json.dumps(body["messages"])) // 4,
                                  "completion_tokens": len(content) // 4},
                    }
        return 400, {"error": {"message": f"the script has no rule for: {last[:200]!r}"}}


def handler(stub: Stub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:  # quiet: the log file has the requests
            pass

        def reply(self, status: int, body: Any) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
            auth = self.headers.get("Authorization", "")
            if stub.log:
                with stub.lock, open(stub.log, "a", encoding="utf-8") as f:
                    f.write(json.dumps({"path": self.path, "authorization": auth, "body": body}) + "\n")
            if self.path.rstrip("/") != "/v1/chat/completions":
                return self.reply(404, {"error": {"message": f"no route {self.path}"}})
            if stub.key is not None and auth != f"Bearer {stub.key}":
                return self.reply(401, {"error": {"message": "invalid API key"}})
            problem = check(body)
            if problem:
                return self.reply(400, {"error": {"message": problem}})
            status, answer = stub.answer(body)
            self.reply(status, answer)

    return Handler


def start(rules: list[dict[str, Any]], log: str | None = None, key: str | None = None) -> ThreadingHTTPServer:
    """Start the stub on a free loopback port in a background thread; the server
    (its base URL is ``f"http://127.0.0.1:{server.server_port}/v1"``)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler(Stub(rules, log, key)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--script", required=True, help="JSON file of rules")
    parser.add_argument("--log", help="append each request here as a JSON line")
    parser.add_argument("--key", help="require this bearer token")
    args = parser.parse_args()
    with open(args.script, encoding="utf-8") as f:
        rules = json.load(f)
    server = start(rules, args.log, args.key)
    print(f"http://127.0.0.1:{server.server_port}/v1", flush=True)
    try:
        threading.Event().wait()
    except KeyboardInterrupt:
        pass
    server.shutdown()
    sys.exit(0)


if __name__ == "__main__":
    main()
