"""Loading generated environment code, deriving tools, and turning its failures into precise errors."""

import asyncio
import json

import pytest

from awm_release.bundle import Bundle
from awm_release.bundle_io import read_bundle
from awm_release.database import HydrationError, build_template_image, open_image
from env_server.errors import EnvironmentLoadError, ToolCallError
from env_server.runtime import load_environment

ENV_TEMPLATE = '''
import os
from fastapi import FastAPI, HTTPException, Body
from pydantic import BaseModel
from sqlalchemy import create_engine, Column, Integer, String
from sqlalchemy.orm import declarative_base, sessionmaker

engine = create_engine(os.getenv("DATABASE_PATH", "sqlite:///x.db"), connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine, autoflush=False, autocommit=False)
Base = declarative_base()

class Note(Base):
    __tablename__ = "notes"
    id = Column(Integer, primary_key=True)
    text = Column(String, nullable=False)

class NoteIn(BaseModel):
    text: str

app = FastAPI()

@app.post("/notes/{folder}", operation_id="add_note", summary="Add a note")
async def add_note(folder: str, body: NoteIn = Body(...), pin: bool = False):
    session = SessionLocal()
    note = Note(text=f"{folder}:{body.text}:{pin}")
    session.add(note)
    session.commit()
    out = {"id": note.id, "text": note.text}
    session.close()
    return out

@app.get("/notes/{note_id}", operation_id="get_note", summary="Get a note", description="By id.")
async def get_note(note_id: int):
    session = SessionLocal()
    note = session.get(Note, note_id)
    session.close()
    if note is None:
        raise HTTPException(status_code=404, detail="note not found")
    return {"id": note.id, "text": note.text}

@app.get("/crash", operation_id="crash")
async def crash():
    return {"ratio": 1 / 0}

if __name__ == "__main__":
    raise SystemExit("the __main__ block must never run inside the server")
'''


CRASH_LINE = ENV_TEMPLATE.splitlines().index('    return {"ratio": 1 / 0}') + 1


def notes_bundle(code: str = ENV_TEMPLATE, seed: list[str] | None = None) -> Bundle:
    return Bundle(
        bundle_id="notes_1",
        display_name="Notes",
        tasks=["Add a note."],
        tables=[{"name": "notes", "ddl": "CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT NOT NULL)"}],
        seed=[{"table_name": "notes", "insert_statements": seed or ["INSERT INTO notes (id, text) VALUES (1, 'first')"]}],
        env_code=code,
    )


def run(coro):
    result = asyncio.run(coro)
    return json.loads(result) if isinstance(result, bytes) else result


def test_tools_merge_path_query_and_body_arguments():
    env = load_environment(notes_bundle())
    tool = env.tools["add_note"]
    schema = tool.input_schema
    assert set(schema["properties"]) == {"folder", "pin", "text"}
    assert schema["required"] == ["folder", "text"]
    assert env.tools["get_note"].description == "Get a note\n\nBy id."
    assert sorted(env.tools) == ["add_note", "crash", "get_note"]


def test_calls_route_to_the_connection_they_are_given():
    bundle = notes_bundle()
    env = load_environment(bundle)
    image, _ = build_template_image(bundle)
    one, two = open_image(image), open_image(image)
    created = run(env.call(one, "add_note", {"folder": "inbox", "text": "hello", "pin": True}))
    assert created == {"id": 2, "text": "inbox:hello:True"}
    assert run(env.call(one, "get_note", {"note_id": 2}))["text"] == "inbox:hello:True"
    with pytest.raises(ToolCallError) as info:
        run(env.call(two, "get_note", {"note_id": 2}))
    assert info.value.kind == "tool_error" and info.value.status == 404
    assert "note not found" in info.value.message


@pytest.mark.parametrize(
    ("tool", "arguments", "kind", "message"),
    [
        ("nope", {}, "unknown_tool", "no tool named 'nope' in notes_1; available: add_note, get_note, crash"),
        ("get_note", {"note_id": "seven"}, "invalid_arguments", "note_id: Input should be a valid integer"),
        ("get_note", {"id": 1}, "invalid_arguments", "missing required argument(s) for tool get_note: note_id"),
        ("add_note", {"folder": "x"}, "invalid_arguments", "(request body: no body arguments were given): Field required"),
        ("add_note", {"folder": "x", "pin": True}, "invalid_arguments", "(request body: no body arguments were given): Field required"),
        ("crash", {}, "environment_error", f"ZeroDivisionError: division by zero (env_code line {CRASH_LINE}: 'return {{\"ratio\": 1 / 0}}')"),
    ],
)
def test_bad_calls_become_precise_tool_errors(tool, arguments, kind, message):
    bundle = notes_bundle()
    env = load_environment(bundle)
    conn = open_image(build_template_image(bundle)[0])
    with pytest.raises(ToolCallError) as info:
        run(env.call(conn, tool, arguments))
    assert info.value.kind == kind
    assert message in info.value.message


def test_broken_code_names_the_bundle_and_line():
    with pytest.raises(EnvironmentLoadError, match=r"bundle 'notes_1'.*line 3.*syntax error"):
        load_environment(notes_bundle("import os\n\ndef oops(:\n    pass\n"))
    crashing = ENV_TEMPLATE.replace("Base = declarative_base()", "Base = declarative_base()\nraise RuntimeError('boom at import')")
    with pytest.raises(EnvironmentLoadError, match=r"env_code line 11: \"raise RuntimeError\('boom at import'\)\"\): RuntimeError: boom at import"):
        load_environment(notes_bundle(crashing))
    with pytest.raises(EnvironmentLoadError, match="has no environment code"):
        load_environment(notes_bundle().model_copy(update={"env_code": None}))


def test_failing_seed_statement_is_located():
    bundle = notes_bundle(seed=["INSERT INTO notes (id, text) VALUES (1, 'a')", "INSERT INTO notes (id, text) VALUES (1, 'dup')"])
    with pytest.raises(HydrationError) as info:
        build_template_image(bundle)
    message = str(info.value)
    assert "seed[0].insert_statements[1] (table 'notes'): UNIQUE constraint failed: notes.id" in message
    assert "SQL: INSERT INTO notes (id, text) VALUES (1, 'dup')" in message
    _, report = build_template_image(bundle, allow_seed_errors=True)
    assert report.rows_inserted == 1 and len(report.seed_failures) == 1


def test_the_real_content_platform_code_loads(imported_dir):
    bundle = read_bundle(imported_dir / "content_platform_1.json")
    env = load_environment(bundle)
    assert len(env.tools) == 34
    search = env.tools["search_videos"].input_schema
    assert search["required"] == ["query"] and {"channel_id", "limit", "offset"} <= set(search["properties"])
    conn = open_image(build_template_image(bundle)[0])
    created = run(env.call(conn, "create_playlist", {"name": "Road trip", "visibility": "private"}))
    assert created["playlist"]["name"] == "Road trip"
    assert run(env.call(conn, "get_playlist_by_name", {"name": "Road trip"}))["playlist"]["id"] == created["playlist"]["id"]
