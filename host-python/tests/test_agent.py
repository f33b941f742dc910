"""The agent's side against a scripted OpenAI-compatible endpoint (``scripts/llm_stub.py``,
real HTTP, checking what it receives): ``query_natural_language``, ``dream``, an ``llm=``
callable, and ``rem mcp`` driven by the official MCP Python SDK's stdio client."""

from __future__ import annotations

from datetime import datetime, timezone

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional

import pytest

import rem_db
from conftest import PEOPLE, PERSON
from test_server import REM, serve

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "scripts"))
import llm_stub  # noqa: E402

# The day the activity happens: today (UTC), since dream windows also take rows by their
# modified_at, which is the time of the insert.
DAY = datetime.now(timezone.utc).date().isoformat()


class Endpoint:
    """A running stub: its base URL and the requests it received."""

    def __init__(self, rules: List[Dict[str, Any]], tmp: Path) -> None:
        self.log = tmp / f"llm-{id(self)}.jsonl"
        self.server = llm_stub.start(rules, str(self.log), key="sk-test-secret")
        self.url = f"http://127.0.0.1:{self.server.server_port}/v1"

    def requests(self) -> List[Dict[str, Any]]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines()]


@pytest.fixture
def endpoint(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    started: List[Endpoint] = []

    def start(rules: List[Dict[str, Any]]) -> Endpoint:
        e = Endpoint(rules, tmp_path)
        monkeypatch.setenv("P8_OPENAI_BASE_URL", e.url)
        monkeypatch.setenv("P8_OPENAI_API_KEY", "sk-test-secret")
        monkeypatch.setenv("P8_DEFAULT_LLM", "stub-model")
        started.append(e)
        return e

    yield start
    for e in started:
        e.server.shutdown()


def plan(query: str, confidence: float = 0.8) -> Dict[str, Any]:
    return {"query": query, "query_type": "select", "confidence": confidence,
            "reasoning": "because", "requires_search": False}


def test_a_question_is_planned_checked_corrected_once_and_run(people: rem_db.REMDatabase, endpoint: Any) -> None:
    e = endpoint([
        {"match": "REM refused", "reply": plan("SELECT name FROM person WHERE role = 'engineer' ORDER BY name")},
        {"match": "engineers", "reply": plan("SELECT name FROM persons WHERE role = 'engineer'")},
    ])
    out = people.query_natural_language("who are the engineers?")
    assert [r["name"] for r in out["results"]] == ["Alice", "Dana"]
    assert out["query_type"] == "select" and out["confidence"] == 0.8 and out["explanation"] == "because"
    assert [s["rows"] for s in out["stages"]] == [2]
    assert out["tokens"]["calls"] == 2 and out["model"] == "stub-model"
    first, second = e.requests()
    assert first["authorization"] == "Bearer sk-test-secret"
    body = first["body"]
    assert body["model"] == "stub-model" and body["temperature"] == 0
    assert body["response_format"]["type"] == "json_schema"
    assert set(body["response_format"]["json_schema"]["schema"]["required"]) >= {"query", "confidence", "reasoning"}
    system = body["messages"][0]["content"]
    # The prompt carries the tables: fields, types, indexed and embedded fields, the dialect.
    for needle in ["table person (4 rows)", "natural key: name", "indexed: role, age", "embedded for SEARCH",
                   "- age: integer", "SEARCH '<text>' IN <table>", "LOOKUP", "TRAVERSE"]:
        assert needle in system, needle
    # The refused query went back once, with the engine's error.
    correction = second["body"]["messages"][-1]["content"]
    assert "REM refused" in correction and "persons" in correction


def test_plan_only_does_not_run_and_writes_are_refused(people: rem_db.REMDatabase, endpoint: Any) -> None:
    endpoint([
        {"match": "plan a search", "reply": plan("SEARCH 'databases' IN person LIMIT 2")},
        {"match": "", "reply": plan("DELETE FROM person WHERE age > 0")},
    ])
    out = people.query_natural_language("plan a search for databases", plan_only=True)
    assert out["query"] == "SEARCH 'databases' IN person LIMIT 2"
    assert out["query_type"] == "search" and out["results"] == [] and out["stages"] == []
    with pytest.raises(rem_db.LlmError, match="DELETE statements are refused"):
        people.query_natural_language("remove everyone")
    assert people.count("person") == 4


def test_an_empty_result_asks_again_with_what_came_back(people: rem_db.REMDatabase, endpoint: Any) -> None:
    e = endpoint([
        {"match": "returned no rows", "reply": plan("SELECT name FROM person WHERE role = 'manager'")},
        {"match": "boss", "reply": plan("SELECT name FROM person WHERE role = 'boss'")},
    ])
    out = people.query_natural_language("who is the boss?")
    assert [r["name"] for r in out["results"]] == ["Carol"]
    assert [s["rows"] for s in out["stages"]] == [0, 1]
    assert len(e.requests()) == 2
    e2 = endpoint([{"match": "", "reply": plan("SELECT name FROM person WHERE role = 'boss'")}])
    out = people.query_natural_language("who is the boss?", max_stages=1)
    assert out["results"] == [] and len(e2.requests()) == 1


def test_clear_errors_no_model_no_json_endpoint_down_bad_key(
    people: rem_db.REMDatabase, endpoint: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("P8_DEFAULT_LLM", raising=False)
    with pytest.raises(rem_db.LlmError, match="P8_DEFAULT_LLM"):
        people.query_natural_language("anything")
    endpoint([{"match": "", "reply": "I would rather not say."}])
    with pytest.raises(rem_db.LlmError, match="did not answer a JSON object"):
        people.query_natural_language("anything")
    monkeypatch.setenv("P8_OPENAI_API_KEY", "sk-wrong-key-123456")
    with pytest.raises(rem_db.LlmError, match="401") as err:
        people.query_natural_language("anything")
    assert "sk-wrong-key-123456" not in str(err.value)
    monkeypatch.setenv("P8_OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    with pytest.raises(rem_db.LlmError, match=r"cannot reach .*gave up after 4 attempts"):
        people.query_natural_language("anything")


def test_a_callable_stands_in_for_the_endpoint(tmp_path: Path) -> None:
    seen: List[Any] = []

    def llm(messages: List[Dict[str, str]], schema: Optional[Dict[str, Any]]) -> Dict[str, Any]:
        seen.append((messages, schema))
        return plan("SELECT COUNT(*) AS n FROM person")

    with rem_db.REMDatabase(tmp_path / "db", embedding_model="hash:64", llm=llm) as db:
        db.register_schema("person", PERSON)
        db.insert_batch("person", PEOPLE)
        out = db.query_natural_language("how many people?")
        assert out["results"] == [{"n": 4}] and out["model"] == "llm"
        messages, schema = seen[0]
        assert messages[0]["role"] == "system" and messages[-1] == {"role": "user", "content": "how many people?"}
        assert schema is not None and "query" in schema["properties"]

    def broken(messages: List[Dict[str, str]], schema: Optional[Dict[str, Any]]) -> str:
        raise ConnectionRefusedError("the local model is down")

    with rem_db.REMDatabase(tmp_path / "db", embedding_model="hash:64", llm=broken) as db:
        with pytest.raises(rem_db.LlmError, match="the local model is down") as err:
            db.query_natural_language("how many people?")
        assert isinstance(err.value.__cause__, ConnectionRefusedError)


def activity(db: rem_db.REMDatabase) -> None:
    db.register_core_schemas()
    db.insert_batch("sessions", [{"session_id": "s1", "user_id": "alice"}, {"session_id": "s2", "user_id": "alice"}])
    now = f"{DAY}T09:00:00.000000Z"
    db.insert_batch("messages", [
        {"message_id": "m1", "session_id": "s1", "role": "user", "content": "Plan the launch for Friday",
         "timestamp": now},
        {"message_id": "m2", "session_id": "s2", "role": "assistant", "content": "The launch checklist is done",
         "timestamp": f"{DAY}T10:00:00.000000Z"},
    ])


def dream_reply(db: rem_db.REMDatabase, name: str) -> Dict[str, Any]:
    s1, s2 = (db.lookup(k)[0]["id"] for k in ("s1", "s2"))
    return {
        "moments": [{"name": name, "summary": "Alice planned the launch.", "moment_type": "planning",
                     "start_time": f"{DAY}T09:00:00Z", "end_time": f"{DAY}T10:00:00Z",
                     "tags": ["launch"], "people": ["Alice"], "session_ids": ["s1", "s2", "s9"]},
                    {"name": "Odd", "summary": "x", "moment_type": "dancing"}],
        "summary": "A day of launch planning.",
        "edges": [{"src": s2, "dst": s1, "rel_type": "continues", "reason": "same launch", "weight": 0.9},
                  {"src": s1, "dst": "00000000-0000-0000-0000-000000000000", "rel_type": "x", "reason": "?"}],
    }


def test_dream_writes_moments_a_summary_and_edges_once_per_window(db: rem_db.REMDatabase, endpoint: Any) -> None:
    activity(db)
    window = {"start": DAY, "end": DAY}
    e = endpoint([{"match": "Activity:", "reply": dream_reply(db, "Launch planning"), "times": 2}])
    dry = db.dream(**window, dry_run=True)
    assert dry["dry_run"] and db.count("moments") == 0
    assert [m["name"] for m in dry["writes"]["moments"]][:2] == ["Launch planning", "Odd"]
    report = db.dream(**window)
    assert (report["messages"], report["sessions"], report["batches"]) == (2, 2, 1)
    assert (report["moments_written"], report["summaries_written"]) == (2, 1)
    assert (report["edges_written"], report["edges_dropped"]) == (1, 1)
    assert report["tokens"]["calls"] == 1 and report["summary"] == "A day of launch planning."
    moment = db.lookup("Launch planning")[0]["properties"]
    assert moment["session_ids"] == ["s1", "s2"] and "dream" in moment["tags"]
    assert db.lookup("Odd")[0]["properties"]["moment_type"] == "other"
    edges = db.get_edges(db.lookup("s2")[0]["id"], direction="out")
    assert [(x["rel_type"], x["properties"]["reason"]) for x in edges] == [("continues", "same launch")]
    prompt = e.requests()[0]["body"]["messages"][1]["content"]
    assert "Plan the launch for Friday" in prompt and "The launch checklist is done" in prompt
    # The same window again, with one moment renamed: updated, not duplicated; the old one goes.
    endpoint([{"match": "Activity:", "reply": dream_reply(db, "Launch plan")}])
    again = db.dream(**window)
    assert again["moments_replaced"] == 1
    names = sorted(m["name"] for m in db.sql("SELECT name FROM moments"))
    assert names == [f"Dream summary {DAY}T00:00:00.000000Z to {DAY}T23:59:59.999999Z", "Launch plan", "Odd"]


def test_a_dream_that_fails_validation_writes_nothing(db: rem_db.REMDatabase, endpoint: Any) -> None:
    activity(db)
    bad = {"moments": [{"name": "ok", "summary": "fine", "moment_type": "planning"},
                       {"name": "bad", "summary": "x", "moment_type": "planning", "tags": "not-a-list"}],
           "summary": "s", "edges": []}
    endpoint([{"match": "Activity:", "reply": bad}])
    report = db.dream(start=DAY, end=DAY)
    # A tag list that is not a list is dropped to [] (then "dream" is added): the row is valid.
    assert report["moments_written"] == 2
    db2_moments = db.count("moments")
    assert db2_moments == 3
    empty = db.dream(start="2020-01-01", end="2020-01-02")
    assert (empty["messages"], empty["batches"], empty["moments_written"], empty["model"]) == (0, 0, 0, "")


def test_ask_and_dream_through_a_served_database(tmp_path: Path, endpoint: Any) -> None:
    path = tmp_path / "db"
    with rem_db.REMDatabase(path, embedding_model="hash:64") as db:
        activity(db)
    endpoint([
        {"match": "Activity:", "reply": {"moments": [], "summary": "quiet", "edges": []}},
        {"match": "sessions", "reply": plan("SELECT session_id FROM sessions ORDER BY session_id")},
    ])
    with serve(path) as url:
        with rem_db.REMDatabase(path) as db:
            assert db.server == url
            out = db.query_natural_language("list the sessions")
            assert [r["session_id"] for r in out["results"]] == ["s1", "s2"]
            assert db.dream(start=DAY, end=DAY)["summaries_written"] == 1
            assert db.count("moments") == 1


async def mcp_session(path: Path, env: Dict[str, str]) -> Dict[str, Any]:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    params = StdioServerParameters(command=REM, args=["mcp"], env={**env, "P8_DB_PATH": str(path)})
    out: Dict[str, Any] = {}
    async with stdio_client(params) as (read, write):
        async with ClientSession(read, write) as s:
            out["init"] = await s.initialize()
            out["tools"] = {t.name: t for t in (await s.list_tools()).tools}

            async def call(name: str, args: Dict[str, Any]) -> Any:
                r = await s.call_tool(name, args)
                text = r.content[0].text  # type: ignore[union-attr]
                return ("error", text) if r.is_error else json.loads(text)

            out["search"] = await call("search", {"table": "person", "query": "databases", "limit": 2,
                                                  "where": "role = 'engineer'"})
            out["query"] = await call("query", {"sql": "SELECT name FROM person WHERE age > 30 ORDER BY name"})
            out["delete"] = await call("query", {"sql": "DELETE FROM person"})
            out["unknown"] = await call("query", {"sql": "SELECT * FROM nope"})
            out["lookup"] = await call("lookup", {"key": "Alice"})
            out["remember"] = await call("remember", {"table": "person", "data": {"name": "Erin", "age": 29}})
            out["invalid"] = await call("remember", {"table": "person", "data": {"name": "Fay"}})
            out["tables"] = await call("list_tables", {})
            out["describe"] = await call("describe_table", {"table": "person"})
            out["traverse"] = await call("traverse", {"start": "Alice", "depth": 1})
            out["ask"] = await call("ask", {"question": "how many people?"})
            resources = (await s.list_resources()).resources
            out["resources"] = [str(r.uri) for r in resources]
            read_back = await s.read_resource(resources[0].uri)
            out["resource"] = json.loads(read_back.contents[0].text)  # type: ignore[union-attr]
    return out


def test_mcp_with_the_official_client(tmp_path: Path, endpoint: Any) -> None:
    path = tmp_path / "db"
    with rem_db.REMDatabase(path, embedding_model="hash:64") as db:
        db.register_schema("person", PERSON)
        db.insert_batch("person", PEOPLE)
        db.create_edge("Alice", "Dana", "works_with")
    endpoint([{"match": "how many", "reply": plan("SELECT COUNT(*) AS n FROM person")}])
    env = {k: v for k, v in os.environ.items() if not k.startswith("P8_SERVER")}
    env["P8_DEFAULT_EMBEDDING"] = "hash:64"
    out = asyncio.run(asyncio.wait_for(mcp_session(path, env), 120))
    assert out["init"].server_info.name == "rem"
    assert set(out["tools"]) == {"search", "query", "lookup", "traverse", "ask", "remember", "list_tables",
                                 "describe_table"}
    schema = out["tools"]["search"].input_schema
    assert schema["required"] == ["query"] and schema["properties"]["limit"]["default"] == 10
    assert out["tools"]["query"].annotations.read_only_hint is True
    assert out["tools"]["remember"].annotations.read_only_hint is False
    assert sorted(r["properties"]["name"] for r in out["search"]) == ["Alice", "Dana"]
    assert [r["name"] for r in out["query"]] == ["Carol", "Dana"]
    assert out["delete"][0] == "error" and "refused" in out["delete"][1]
    assert out["unknown"][0] == "error" and "nope" in out["unknown"][1]
    assert out["lookup"][0]["properties"]["name"] == "Alice"
    assert out["remember"]["properties"]["name"] == "Erin"
    assert out["invalid"][0] == "error" and "age" in out["invalid"][1]
    assert {t["table"]: t["rows"] for t in out["tables"]} == {"person": 5}
    assert out["describe"]["key_field"] == "name" and "bio" in out["describe"]["embedding_fields"]
    assert any(n["depth"] == 1 for n in out["traverse"]), out["traverse"]
    assert out["ask"]["results"] == [{"n": 5}]
    assert out["resources"] == ["rem://schema/person"] and out["resource"]["name"] == "person"


def test_the_async_handle_asks_and_dreams_in_a_worker_thread(tmp_path: Path, endpoint: Any) -> None:
    endpoint([
        {"match": "Activity:", "reply": {"moments": [], "summary": "quiet", "edges": []}},
        {"match": "", "reply": plan("SELECT COUNT(*) AS n FROM messages")},
    ])

    async def main() -> Any:
        async with rem_db.AsyncREMDatabase(tmp_path / "db", embedding_model="hash:64") as adb:
            await asyncio.to_thread(activity, adb.sync)
            asked = await adb.query_natural_language("how many messages?")
            dreamt = await adb.dream(start=DAY, end=DAY, dry_run=True)
            return asked, dreamt

    asked, dreamt = asyncio.run(main())
    assert asked["results"] == [{"n": 2}]
    assert dreamt["dry_run"] and dreamt["summary"] == "quiet"


def test_mcp_uses_the_server_of_a_served_database(tmp_path: Path) -> None:
    from mcp import ClientSession, StdioServerParameters
    from mcp.client.stdio import stdio_client

    path = tmp_path / "db"
    with rem_db.REMDatabase(path, embedding_model="hash:64") as db:
        db.register_schema("person", PERSON)
        db.insert_batch("person", PEOPLE)

    async def session() -> Any:
        env = {k: v for k, v in os.environ.items() if not k.startswith("P8_SERVER")}
        env.update({"P8_DB_PATH": str(path), "P8_BUSY_TIMEOUT_MS": "0"})
        params = StdioServerParameters(command=REM, args=["mcp"], env=env)
        async with stdio_client(params) as (read, write):
            async with ClientSession(read, write) as s:
                await s.initialize()
                r = await s.call_tool("remember", {"table": "person", "data": {"name": "Gus", "age": 50}})
                return r.is_error, r.content[0].text  # type: ignore[union-attr]

    with serve(path):
        # The server holds the file (P8_BUSY_TIMEOUT_MS=0: no waiting for it), so this works
        # only through the server.
        is_error, text = asyncio.run(asyncio.wait_for(session(), 120))
        assert not is_error, text
        with rem_db.REMDatabase(path) as db:
            assert db.count("person") == 5
