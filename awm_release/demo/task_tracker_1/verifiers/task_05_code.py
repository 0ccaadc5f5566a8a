def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
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

    task_cols = "id, project_id, milestone_id, parent_task_id, title, description, status, priority, assignee_id, reporter_id, due_date, estimate_points"

    candidates = query(
        initial_db_path,
        "SELECT t.id, t.status, t.assignee_id FROM tasks t JOIN projects p ON p.id = t.project_id "
        "JOIN workspaces w ON w.id = p.workspace_id "
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Data Platform Migration' AND t.title = 'Set up staging database'",
    )
    if not candidates or len(candidates) != 2:
        return {"result": "others", "reason": "expected two 'Set up staging database' tasks initially"}
    duplicates = [r[0] for r in candidates if r[1] == "todo" and r[2] is None]
    keepers = [r[0] for r in candidates if r[0] not in duplicates]
    if len(duplicates) != 1 or len(keepers) != 1:
        return {"result": "others", "reason": "cannot identify the duplicate"}
    duplicate_id = duplicates[0]

    initial_tasks = query(initial_db_path, f"SELECT {task_cols} FROM tasks")
    final_tasks = query(final_db_path, f"SELECT {task_cols} FROM tasks")
    if initial_tasks is None or final_tasks is None:
        return {"result": "others", "reason": "cannot read tasks"}
    initial_map = {r[0]: r for r in initial_tasks}
    final_map = {r[0]: r for r in final_tasks}

    if duplicate_id in final_map:
        return {"result": "others", "reason": "duplicate task still exists"}
    if any(tid not in initial_map for tid in final_map):
        return {"result": "others", "reason": "new tasks were created"}
    for tid, row in initial_map.items():
        if tid == duplicate_id:
            continue
        if final_map.get(tid) != row:
            return {"result": "others", "reason": f"task {tid} was changed or deleted"}

    initial_comments = query(initial_db_path, "SELECT id, task_id, author_id, body FROM comments WHERE task_id != ?", (duplicate_id,))
    final_comments = query(final_db_path, "SELECT id, task_id, author_id, body FROM comments")
    if initial_comments is None or final_comments is None or not set(initial_comments) <= set(final_comments):
        return {"result": "others", "reason": "comments of other tasks were removed"}

    return {"result": "complete", "deleted_task_id": duplicate_id}
