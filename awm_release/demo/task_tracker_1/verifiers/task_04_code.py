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

    parent = query(
        initial_db_path,
        "SELECT t.id, t.project_id FROM tasks t JOIN projects p ON p.id = t.project_id JOIN workspaces w ON w.id = p.workspace_id "
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Mobile App Redesign' AND t.title = 'Design onboarding flow'",
    )
    sofia = query(initial_db_path, "SELECT id FROM users WHERE full_name = 'Sofia Alvarez'")
    if not parent or len(parent) != 1 or not sofia or len(sofia) != 1:
        return {"result": "others", "reason": "reference rows missing"}
    parent_id, project_id = parent[0]
    sofia_id = sofia[0][0]

    initial_tasks = query(initial_db_path, f"SELECT {task_cols} FROM tasks")
    final_tasks = query(final_db_path, f"SELECT {task_cols} FROM tasks")
    if initial_tasks is None or final_tasks is None:
        return {"result": "others", "reason": "cannot read tasks"}
    initial_map = {r[0]: r for r in initial_tasks}
    final_map = {r[0]: r for r in final_tasks}
    for tid, row in initial_map.items():
        if final_map.get(tid) != row:
            return {"result": "others", "reason": f"existing task {tid} changed or deleted"}

    new_rows = [r for tid, r in final_map.items() if tid not in initial_map]
    if len(new_rows) != 2:
        return {"result": "others", "reason": f"expected exactly two new tasks, found {len(new_rows)}"}
    expected_titles = {norm("Wireframe welcome screens"), norm("Write onboarding copy")}
    if {norm(r[4]) for r in new_rows} != expected_titles:
        return {"result": "others", "reason": "sub-task titles do not match"}
    for r in new_rows:
        if r[1] != project_id or r[3] != parent_id:
            return {"result": "others", "reason": f"task {r[0]} is not a sub-task of 'Design onboarding flow'"}
        if r[8] != sofia_id:
            return {"result": "others", "reason": f"task {r[0]} is not assigned to Sofia Alvarez"}

    return {"result": "complete", "subtask_ids": sorted(r[0] for r in new_rows)}
