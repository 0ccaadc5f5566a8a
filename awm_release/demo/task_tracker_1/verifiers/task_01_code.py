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

    task_cols = "id, project_id, milestone_id, parent_task_id, title, description, status, priority, assignee_id, reporter_id, due_date, estimate_points"

    target = query(
        initial_db_path,
        "SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id JOIN workspaces w ON w.id = p.workspace_id "
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Mobile App Redesign' AND t.title = 'Fix login redirect loop on Safari'",
    )
    if not target or len(target) != 1:
        return {"result": "others", "reason": "target task not found"}
    target_id = target[0][0]

    initial_tasks = query(initial_db_path, f"SELECT {task_cols} FROM tasks")
    final_tasks = query(final_db_path, f"SELECT {task_cols} FROM tasks")
    if initial_tasks is None or final_tasks is None:
        return {"result": "others", "reason": "cannot read tasks"}
    initial_map = {r[0]: r for r in initial_tasks}
    final_map = {r[0]: r for r in final_tasks}
    if set(initial_map) != set(final_map):
        return {"result": "others", "reason": "tasks were created or deleted"}

    status_idx = 6
    for tid, row in initial_map.items():
        frow = final_map[tid]
        if tid == target_id:
            if frow[status_idx] != "done":
                return {"result": "others", "reason": "target task is not done"}
            if frow[:status_idx] + frow[status_idx + 1:] != row[:status_idx] + row[status_idx + 1:]:
                return {"result": "others", "reason": "target task changed beyond its status"}
        elif frow != row:
            return {"result": "others", "reason": f"task {tid} was changed"}

    initial_comments = query(initial_db_path, "SELECT id, task_id, author_id, body FROM comments")
    final_comments = query(final_db_path, "SELECT id, task_id, author_id, body FROM comments")
    if initial_comments is None or final_comments is None:
        return {"result": "others", "reason": "cannot read comments"}
    if not set(initial_comments) <= set(final_comments):
        return {"result": "others", "reason": "existing comments were changed or deleted"}
    new_comments = [c for c in final_comments if c not in set(initial_comments)]
    if len(new_comments) != 1:
        return {"result": "others", "reason": f"expected exactly one new comment, found {len(new_comments)}"}
    _cid, c_task, c_author, c_body = new_comments[0]
    if c_task != target_id or c_author != 1:
        return {"result": "others", "reason": "comment posted on the wrong task or by the wrong user"}
    if norm(c_body) != norm("Verified on Safari 17 and iOS 17, closing."):
        return {"result": "others", "reason": "comment text does not match"}

    return {"result": "complete"}
