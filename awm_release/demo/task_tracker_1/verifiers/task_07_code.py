def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import re
    import sqlite3

    def query(db_path, sql, params=()):
        try:
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        except Exception:
            return None

    def numbers_in(text):
        words = {
            "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
            "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
            "nineteen": 19, "twenty": 20,
        }
        found = []
        for tok in re.findall(r"\d[\d,]*(?:\.\d+)?|[a-z]+", str(text or "").lower()):
            if tok[0].isdigit():
                try:
                    value = float(tok.replace(",", ""))
                except ValueError:
                    continue
                found.append(int(value) if value.is_integer() else value)
            elif tok in words:
                found.append(words[tok])
        return found

    # The database must not have been damaged by a read-only question.
    checks = [
        "SELECT id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date FROM tasks ORDER BY id",
        "SELECT task_id, label_id FROM task_labels ORDER BY task_id, label_id",
        "SELECT id, workspace_id, name, color FROM labels ORDER BY id",
        "SELECT id, task_id, author_id, body FROM comments ORDER BY id",
        "SELECT id, project_id, name, due_date, status FROM milestones ORDER BY id",
    ]
    for sql in checks:
        before = query(initial_db_path, sql)
        after = query(final_db_path, sql)
        if before is None or after is None or before != after:
            return {"result": "others", "reason": "database was modified"}

    expected = query(
        initial_db_path,
        "SELECT COUNT(DISTINCT t.id) FROM tasks t JOIN projects p ON p.id = t.project_id "
        "JOIN workspaces w ON w.id = p.workspace_id JOIN task_labels tl ON tl.task_id = t.id "
        "JOIN labels l ON l.id = tl.label_id "
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Customer Portal' AND l.workspace_id = w.id "
        "AND l.name = 'bug' AND t.status != 'done'",
    )
    if not expected:
        return {"result": "others", "reason": "cannot compute expected answer"}
    expected_count = expected[0][0]

    if not final_answer:
        return {"result": "others", "reason": "no final answer", "expected": expected_count}
    nums = numbers_in(final_answer)
    if not nums or nums[0] != expected_count:
        return {"result": "others", "reason": "wrong count", "expected": expected_count, "found": nums}
    return {"result": "complete", "expected": expected_count}
