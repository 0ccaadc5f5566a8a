"""The serving runtime behaves as the original AWM runtime: its database rules, its module-level code, its
argument handling (fastapi-mcp 0.4), and where it deliberately does better (each route its own tool)."""

import asyncio
import json
import sqlite3

import pytest

from awm_release.bundle import Bundle
from awm_release.check.original import build_original_database
from awm_release.database import HydrationError, build_database, open_image
from env_server.errors import ToolCallError
from env_server.registry import hydrate_bundle

CODE = '''
import os
from typing import Optional
from fastapi import FastAPI, HTTPException
from pydantic import BaseModel
from sqlalchemy import create_engine, Column, Integer, String, ForeignKey, text
from sqlalchemy.orm import declarative_base, sessionmaker

engine = create_engine("sqlite:///./hard_coded.db", connect_args={"check_same_thread": False})
SessionLocal = sessionmaker(bind=engine)
Base = declarative_base()

class Owner(Base):
    __tablename__ = "owners"
    id = Column(Integer, primary_key=True)
    name = Column(String)

class Pet(Base):
    __tablename__ = "pets"
    id = Column(Integer, primary_key=True)
    owner_id = Column(Integer, ForeignKey("owners.id"))
    name = Column(String)

class Tag(Base):  # its DDL below is broken: create_all makes it, as in the original
    __tablename__ = "tags"
    id = Column(Integer, primary_key=True)
    label = Column(String)

Base.metadata.create_all(engine)
with engine.begin() as conn:  # module-level writes land in the template database too
    conn.execute(text("INSERT INTO tags (label) VALUES ('from module code')"))

app = FastAPI()

class NewPet(BaseModel):
    name: str
    owner_id: int = 1

@app.post("/pets", operation_id="add_pet")
def add_pet(pet: NewPet):
    with SessionLocal() as s:
        row = Pet(name=pet.name, owner_id=pet.owner_id)
        s.add(row)
        s.commit()
        return {"id": row.id, "name": row.name, "kind": "pet"}

@app.post("/pets", operation_id="add_pet_twice")
def add_pet_twice(pet: NewPet, copies: int = 2):
    return {"name": pet.name, "copies": copies, "kind": "twice"}

@app.get("/pets/{name}", operation_id="find_pet")
def find_pet(name: str, owner: Optional[str] = None):
    with SessionLocal() as s:
        rows = s.execute(text("SELECT id FROM pets WHERE name = :n"), {"n": name}).fetchall()
    if not rows:
        raise HTTPException(404, f"no pet {name}")
    return {"name": name, "owner": owner, "ids": [r[0] for r in rows]}

@app.get("/tags", operation_id="list_tags")
def list_tags():
    with SessionLocal() as s:
        return {"tags": [r[0] for r in s.execute(text("SELECT label FROM tags"))]}
'''


def pets_bundle(**changes) -> Bundle:
    data = dict(
        bundle_id="pets_1", display_name="Pets", tasks=["Adopt a pet."],
        tables=[
            {"name": "owners", "ddl": "CREATE TABLE owners (id INTEGER PRIMARY KEY, name TEXT)",
             "indexes": ["CREATE INDEX ix_owner_name ON owners (name)"]},
            {"name": "pets", "ddl": "CREATE TABLE pets (id INTEGER PRIMARY KEY, owner_id INTEGER REFERENCES owners(id), name TEXT)",
             "indexes": ["CREATE INDEX ix_bad ON pets (no_such_column)", "CREATE INDEX ix_pet_name ON pets (name)"]},
            {"name": "tags", "ddl": "CREATE TABLE tags (id INTEGER PRIMARY KEY, label TEXT);;"},  # two statements: fails there too
        ],
        seed=[
            {"table_name": "owners", "insert_statements": ["INSERT INTO owners VALUES (1, 'Ada'), (2, 'Grace')"]},
            {"table_name": "pets", "insert_statements": [
                "INSERT INTO pets VALUES (1, 1, 'Rex')", "INSERT INTO pets VALUES (2, 99, 'Ghost')",  # owner 99: FK fails
                "INSERT INTO pets VALUES (3, 2, 'a/b c%41')"]},
            {"table_name": "tags", "insert_statements": ["INSERT INTO tags VALUES (1, 'lost with its table')"]},
        ],
        env_code=CODE,
    )
    data.update(changes)
    return Bundle(**data)


def call(env, image, tool, arguments):
    conn = open_image(image)
    try:
        return json.loads(asyncio.run(env.call(conn, tool, arguments)))
    finally:
        conn.close()


def rows(conn, sql):
    return [tuple(r) for r in conn.execute(sql)]


def test_the_database_follows_the_original_rules_and_matches_the_original_file(tmp_path):
    bundle = pets_bundle()
    conn = sqlite3.connect(":memory:")
    report = build_database(bundle, conn)
    assert [(f.location, f.error.split(":")[0]) for f in report.failures] == [
        ("tables[1].indexes[0]", "no such column"),  # the rest of that table's indexes are abandoned, as there
        ("tables[2].ddl", "You can only execute one statement at a time."),
        ("seed[1].insert_statements[1]", "FOREIGN KEY constraint failed"),  # foreign keys on while seeding
        ("seed[2].insert_statements[0]", "no such table"),
    ]
    assert report.rows_inserted == 4 and report.indexes_created == 1  # rows, not statements
    build_original_database(bundle, tmp_path / "original.db")  # the checker's independent reproduction
    original = sqlite3.connect(tmp_path / "original.db")
    for sql in ("SELECT type, name FROM sqlite_master ORDER BY name", "SELECT * FROM pets ORDER BY id", "SELECT * FROM owners"):
        assert rows(conn, sql) == rows(original, sql)
    assert rows(conn, "PRAGMA foreign_keys") == [(0,)]  # the environment's connections start with SQLite's default


def test_module_level_code_builds_on_the_template_and_a_failed_ddl_is_not_fatal(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    env, image, report = hydrate_bundle(pets_bundle())
    assert report.tables_from_code == ["tags"] and report.missing_tables == []
    assert "table 'tags': its DDL failed; the environment code's create_all created it (empty)" in report.notes()
    assert call(env, image, "list_tags", {}) == {"tags": ["from module code"]}
    assert not (tmp_path / "hard_coded.db").exists()  # the engine's own URL is never opened
    with pytest.raises(HydrationError, match="statement"):
        hydrate_bundle(pets_bundle(), strict=True)


def test_a_table_nothing_creates_is_fatal_with_the_reason():
    code = CODE.replace('__tablename__ = "tags"', '__tablename__ = "labels"').replace("tags (label)", "labels (label)")
    with pytest.raises(HydrationError, match="tables missing afterwards: tags"):
        hydrate_bundle(pets_bundle(env_code=code))


def test_routes_on_one_method_and_path_are_two_tools_each_running_its_own_handler():
    env, image, _ = hydrate_bundle(pets_bundle())
    assert [name for name in env.tools if name.startswith("add_pet")] == ["add_pet", "add_pet_twice"]
    assert "copies" in env.tools["add_pet_twice"].input_schema["properties"]
    assert "copies" not in env.tools["add_pet"].input_schema["properties"]
    assert call(env, image, "add_pet", {"name": "Tom"})["kind"] == "pet"
    assert call(env, image, "add_pet_twice", {"name": "Tom", "copies": 3}) == {"name": "Tom", "copies": 3, "kind": "twice"}


def test_arguments_are_sent_as_fastapi_mcp_sends_them_and_path_values_arrive_intact():
    env, image, _ = hydrate_bundle(pets_bundle())
    # a path value with a slash, a space and %41 reaches the handler as written (the original mangles it)
    assert call(env, image, "find_pet", {"name": "a/b c%41"})["ids"] == [3]
    # unknown arguments: a GET drops them, a POST sends them in the body (where pydantic ignores them)
    assert call(env, image, "find_pet", {"name": "Rex", "colour": "red"}) == {"name": "Rex", "owner": None, "ids": [1]}
    assert call(env, image, "add_pet", {"name": "Tom", "colour": "red"})["name"] == "Tom"
    # a null query argument is sent empty, as httpx sends it
    assert call(env, image, "find_pet", {"name": "Rex", "owner": None})["owner"] == ""
    with pytest.raises(ToolCallError, match="request body: no body arguments were given"):
        call(env, image, "add_pet", {})  # nothing left for the body: no body is sent, as there
