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

    def norm(text):
        return " ".join(re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).split())

    checks = [
        "SELECT id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date FROM tasks ORDER BY id",
        "SELECT task_id, label_id FROM task_labels ORDER BY task_id, label_id",
        "SELECT id, task_id, author_id, body FROM comments ORDER BY id",
        "SELECT id, project_id, name, due_date, status FROM milestones ORDER BY id",
    ]
    for sql in checks:
        before = query(initial_db_path, sql)
        after = query(final_db_path, sql)
        if before is None or after is None or before != after:
            return {"result": "others", "reason": "database was modified"}

    rows = query(
        initial_db_path,
        "SELECT t.id, t.title, t.due_date, u.full_name FROM tasks t JOIN projects p ON p.id = t.project_id "
        "JOIN workspaces w ON w.id = p.workspace_id LEFT JOIN users u ON u.id = t.assignee_id "
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Data Platform Migration' "
        "AND t.status != 'done' AND t.due_date IS NOT NULL ORDER BY t.due_date ASC, t.id ASC",
    )
    if not rows:
        return {"result": "others", "reason": "cannot compute expected answer"}
    if len(rows) > 1 and rows[1][2] == rows[0][2]:
        return {"result": "others", "reason": "ambiguous earliest due date in seed data"}
    _tid, title, _due, assignee = rows[0]
    if not assignee:
        return {"result": "others", "reason": "expected task has no assignee"}

    answer = norm(final_answer)
    if not answer:
        return {"result": "others", "reason": "no final answer", "expected_title": title}
    stop = {"with", "the", "and", "for", "to", "of", "a", "an", "on", "in"}
    title_words = [w for w in norm(title).split() if w not in stop]
    answer_words = set(answer.split())
    title_ok = norm(title) in answer or all(w in answer_words for w in title_words)
    name_ok = norm(assignee) in answer or norm(assignee).split()[0] in answer_words
    if not title_ok or not name_ok:
        return {"result": "others", "reason": "answer does not name the expected task and assignee",
                "expected_title": title, "expected_assignee": assignee}
    return {"result": "complete", "expected_title": title, "expected_assignee": assignee}
