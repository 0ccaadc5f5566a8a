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

    project = query(
        initial_db_path,
        "SELECT p.id, p.workspace_id FROM projects p JOIN workspaces w ON w.id = p.workspace_id "
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Data Platform Migration'",
    )
    users = query(initial_db_path, "SELECT full_name, id FROM users WHERE full_name IN ('Daniel Okafor', 'Hannah Kim')")
    if not project or len(project) != 1 or users is None:
        return {"result": "others", "reason": "reference rows missing"}
    user_ids = dict(users)
    if "Daniel Okafor" not in user_ids or "Hannah Kim" not in user_ids:
        return {"result": "others", "reason": "reference users missing"}
    project_id = project[0][0]
    daniel_id = user_ids["Daniel Okafor"]
    hannah_id = user_ids["Hannah Kim"]

    initial_tasks = query(initial_db_path, f"SELECT {task_cols} FROM tasks")
    final_tasks = query(final_db_path, f"SELECT {task_cols} FROM tasks")
    if initial_tasks is None or final_tasks is None:
        return {"result": "others", "reason": "cannot read tasks"}
    initial_map = {r[0]: r for r in initial_tasks}
    final_map = {r[0]: r for r in final_tasks}
    if set(initial_map) != set(final_map):
        return {"result": "others", "reason": "tasks were created or deleted"}

    assignee_idx = 8
    targets = [
        tid for tid, r in initial_map.items()
        if r[1] == project_id and r[assignee_idx] == daniel_id and r[6] != "done"
    ]
    if not targets:
        return {"result": "others", "reason": "no target tasks in initial state"}

    for tid, row in initial_map.items():
        frow = final_map[tid]
        if tid in targets:
            if frow[assignee_idx] != hannah_id:
                return {"result": "others", "reason": f"task {tid} was not reassigned to Hannah Kim"}
            if frow[:assignee_idx] + frow[assignee_idx + 1:] != row[:assignee_idx] + row[assignee_idx + 1:]:
                return {"result": "others", "reason": f"task {tid} changed beyond its assignee"}
        elif frow != row:
            return {"result": "others", "reason": f"task {tid} should not have changed"}

    return {"result": "complete", "reassigned": sorted(targets)}
