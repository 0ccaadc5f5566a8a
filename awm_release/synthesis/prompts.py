"""Every prompt of the synthesis pipeline, in one place, versioned.

Bump PROMPT_VERSION whenever a prompt's meaning changes. Runs record the version and PROMPT_DIGEST (a hash
over all prompt texts), so a release says exactly which prompts made it, even after an unversioned edit.
Templates use `$name` placeholders (string.Template), so JSON examples need no brace escaping.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from string import Template

PROMPT_VERSION = "awm-gen-1"


@dataclass(frozen=True)
class Prompt:
    """A system message and a user-message template; `messages(**fields)` fills the template."""

    name: str
    system: str
    user: str

    def messages(self, **fields: object) -> list[dict[str, str]]:
        return [
            {"role": "system", "content": self.system},
            {"role": "user", "content": Template(self.user).substitute({k: str(v) for k, v in fields.items()})},
        ]


_JSON_ONLY = "Answer with one JSON object and nothing else (no prose before or after it)."
_CODE_ONLY = "Answer with exactly one ```python fenced code block and nothing else."
_WITH_SCHEMA = """Application: $name
$description

Tasks:
$tasks

Schema:
$schema"""

SCENARIO_EXPAND = Prompt(
    name="scenario_expand",
    system=f"""You design realistic web applications that an AI agent will operate through an API.
Given a seed domain, you invent distinct applications of that domain. Each description is one paragraph
(120-250 words) that names the product, its users, its core entities and the create, read, update and
delete actions a logged-in user performs. Applications of one seed must differ in audience, entities or
workflows, not only in name. {_JSON_ONLY}
Format: {{"scenarios": [{{"name": "<product name>", "description": "<one paragraph>"}}]}}""",
    user="""Seed domain: $seed
Invent $count distinct applications of this domain.
Do not repeat these applications, which already exist: $avoid""",
)

SCENARIO_CLASSIFY = Prompt(
    name="scenario_classify",
    system=f"""You decide whether an application is suitable for a tool-use training environment backed by one
SQLite database. Suitable: a logged-in user creates, reads, updates and deletes records (orders, bookings,
posts, tasks, ...), and the outcome of each action can be checked in the database. Unsuitable: mainly
static content, real-time media or hardware, payments or messages that only make sense with outside
parties, or no user-owned state. {_JSON_ONLY}
Format: {{"suitable": true or false, "reason": "<one sentence>"}}""",
    user="""Application: $name
$description""",
)

TASKS = Prompt(
    name="tasks",
    system=f"""You write tasks that a user of an application asks an AI agent to do for them through the
application's API. The user is already logged in (user id 1). Each task is concrete (names, titles,
amounts, dates), solvable with API calls alone, and either changes data (create, update, delete) or asks a
question whose answer is in the data. Mix simple and multi-step tasks; do not ask for login, sign-up,
payments with real money, emails or anything outside the application. {_JSON_ONLY}
Format: {{"tasks": ["<task>", ...]}}""",
    user="""Application: $name
$description

Write exactly $count tasks.""",
)

DATABASE = Prompt(
    name="db",
    system=f"""You design the SQLite schema of an application so that every given task can be carried out
and checked in the database. Use one CREATE TABLE statement per table (SQLite syntax: INTEGER PRIMARY KEY,
TEXT, REAL, DATETIME, CHECK and FOREIGN KEY constraints, DEFAULT CURRENT_TIMESTAMP) and CREATE INDEX
statements for the columns that tasks search or join on. Include a users table; user id 1 is the
logged-in user. {_JSON_ONLY}
Format: {{"tables": [{{"name": "<table>", "ddl": "CREATE TABLE <table> (...);", "indexes": ["CREATE INDEX ...;"]}}]}}""",
    user="""Application: $name
$description

Tasks the schema must support:
$tasks""",
)

SEED = Prompt(
    name="sample",
    system=f"""You write the seed data of an application's SQLite database: INSERT statements that make every
task feasible (the records a task names exist, with the values it needs), plus realistic other rows so that
searches return more than the answer. User id 1 is the logged-in user. Use explicit ids, SQLite syntax,
'' to escape quotes, datetime('now', '-N days') for times, and insert parent rows before the rows that
reference them. Only INSERT statements. {_JSON_ONLY}
Format: {{"tables": [{{"table_name": "<table>", "reasoning": "<why these rows>", "insert_statements": ["INSERT INTO ...;"]}}]}}""",
    user=_WITH_SCHEMA,
)

SPEC = Prompt(
    name="spec",
    system=f"""You design the REST API through which an AI agent operates an application for its logged-in user
(user id 1; no authentication endpoints). Provide every endpoint the tasks need, plus the natural
neighbours (list, get, search, create, update, delete), grouped by resource. Each endpoint has a unique
snake_case operation_id (it becomes the tool name), a path starting with /api, path parameters written
{{name}} and declared with param_type "path", and an example value for every parameter. {_JSON_ONLY}
Format: {{"api_groups": [{{"group_name": "<group>", "endpoints": [{{"path": "/api/...", "method": "GET|POST|PUT|PATCH|DELETE",
"summary": "...", "description": "...", "operation_id": "...", "tags": ["..."],
"request_params": {{"<param>": {{"type": "string|integer|float|boolean|array|object", "param_type": "path|query|body",
"required": true, "description": "...", "example": <value>}}}},
"response": {{"<field>": {{"type": "...", "description": "...", "example": <value>}}}},
"required_tables": ["<table>"], "required_fields": {{"<table>": ["<column>"]}}}}]}}]}}""",
    user=_WITH_SCHEMA,
)

ENVIRONMENT = Prompt(
    name="env",
    system=f"""You implement an application's API as one self-contained Python file with FastAPI, SQLAlchemy 2
and Pydantic v2. Rules:
- module level: `database_url = os.getenv("DATABASE_PATH", "sqlite:///app.db")`, an `engine`, a `SessionLocal`
  sessionmaker and `app = FastAPI(...)`; do not create tables or rows (the database already exists);
- one ORM class per table, matching the schema's table and column names exactly;
- one route per endpoint of the spec, with the same method and path and `operation_id` set to the spec's
  operation_id; the logged-in user is user id 1;
- validate input with Pydantic models, answer 404 / 400 / 409 with HTTPException when the request is wrong,
  and never let a request end in a 500;
- no network access, no files other than the database; a `if __name__ == "__main__":` block may run uvicorn.
{_CODE_ONLY}""",
    user="""Application: $name
$description

Schema:
$schema

API spec (JSON):
$spec""",
)

_VERIFIER_CONTEXT = """You write a verification function for one task of an application whose state is a SQLite
database. The function gets the paths of the database before (initial) and after (final) an AI agent
worked on the task. Open both read-only with sqlite3 (`sqlite3.connect(f"file:{path}?mode=ro", uri=True)`),
find the records the task is about by their content (not by guessed ids), and compare. Use only the
standard library (sqlite3, json, re, datetime, math); import inside the function; catch exceptions
and report them in the returned dict instead of raising."""

VERIFIER_CODE = Prompt(
    name="verifier_code",
    system=f"""{_VERIFIER_CONTEXT}
Define `def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict`
returning {{"result": "complete"}} only when the task was fully and correctly done (for a question, when
`final_answer` contains the right answer) and nothing else was damaged, else {{"result": "others", ...}};
other keys may explain the verdict. On an untouched database with no answer it must return "others".
{_CODE_ONLY}""",
    user="""Application: $name
$description

Task: $task

Schema:
$schema

Seed data:
$seed""",
)

VERIFIER_SQL = Prompt(
    name="verifier_sql",
    system=f"""{_VERIFIER_CONTEXT}
Define `def verify_task(initial_db_path: str, final_db_path: str) -> dict` returning the facts an LLM judge
needs to decide whether the task was done: the relevant rows before and after, what changed, and the values
the task's answer depends on. It must not decide itself. Keep the dict JSON-serializable and small.
{_CODE_ONLY}""",
    user=VERIFIER_CODE.user,
)

SUMMARIZE_FAILURE = Prompt(
    name="summarize_failure",
    system="""You help a code and data generator fix its previous attempt. Given what it was asked to produce,
the checker's error report and an excerpt of the failed output, write a summary of 200 to 500 tokens:
what exactly failed (quote names, lines and messages), the most likely cause, and concrete instructions
for the next attempt. Plain text, no code blocks.""",
    user="""Stage: $stage

Error report:
$error

Excerpt of the failed output:
$output""",
)

CORRECTION = """Your earlier attempt(s) at this were rejected by automatic checks. Summaries of what went wrong:

$summaries

Produce the complete answer again, in the required format, fixing these problems."""

ALL_PROMPTS: tuple[Prompt, ...] = (
    SCENARIO_EXPAND, SCENARIO_CLASSIFY, TASKS, DATABASE, SEED, SPEC, ENVIRONMENT, VERIFIER_CODE, VERIFIER_SQL,
    SUMMARIZE_FAILURE,
)


def correction_message(summaries: list[str]) -> dict[str, str]:
    """The follow-up user message that carries the failure summaries of earlier attempts."""
    numbered = "\n\n".join(f"Attempt {i}: {text.strip()}" for i, text in enumerate(summaries, start=1))
    return {"role": "user", "content": Template(CORRECTION).substitute(summaries=numbered)}


def _digest() -> str:
    h = hashlib.sha256(PROMPT_VERSION.encode())
    for prompt in ALL_PROMPTS:
        for part in (prompt.name, prompt.system, prompt.user):
            h.update(b"\0" + part.encode())
    h.update(b"\0" + CORRECTION.encode())
    return h.hexdigest()[:16]


PROMPT_DIGEST = _digest()
