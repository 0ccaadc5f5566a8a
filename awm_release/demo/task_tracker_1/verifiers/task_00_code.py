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

    project = query(
        initial_db_path,
        "SELECT p.id, p.workspace_id FROM projects p JOIN workspaces w ON w.id = p.workspace_id "
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Customer Portal'",
    )
    assignee = query(
        initial_db_path,
        "SELECT u.id FROM users u JOIN workspace_members m ON m.user_id = u.id "
        "JOIN workspaces w ON w.id = m.workspace_id WHERE w.name = 'Northwind Labs' AND u.full_name = 'Priya Raman'",
    )
    if not project or len(project) != 1 or not assignee or len(assignee) != 1:
        return {"result": "others", "reason": "reference rows missing"}
    project_id, workspace_id = project[0]
    assignee_id = assignee[0][0]

    initial_tasks = query(initial_db_path, f"SELECT {task_cols} FROM tasks")
    final_tasks = query(final_db_path, f"SELECT {task_cols} FROM tasks")
    if initial_tasks is None or final_tasks is None:
        return {"result": "others", "reason": "cannot read tasks"}
    initial_map = {r[0]: r for r in initial_tasks}
    final_map = {r[0]: r for r in final_tasks}

    for tid, row in initial_map.items():
        if final_map.get(tid) != row:
            return {"result": "others", "reason": f"existing task {tid} was changed or deleted"}

    new_ids = [tid for tid in final_map if tid not in initial_map]
    if len(new_ids) != 1:
        return {"result": "others", "reason": f"expected exactly one new task, found {len(new_ids)}"}
    new = final_map[new_ids[0]]
    (_, t_project, _ms, _parent, t_title, _desc, t_status, t_priority, t_assignee, _rep, t_due, _pts) = new

    if t_project != project_id:
        return {"result": "others", "reason": "new task is in the wrong project"}
    if norm(t_title) != norm("Add CSV export to invoices page"):
        return {"result": "others", "reason": "wrong title"}
    if t_priority != "high":
        return {"result": "others", "reason": "wrong priority"}
    if t_assignee != assignee_id:
        return {"result": "others", "reason": "wrong assignee"}
    if str(t_due or "")[:10] != "2025-07-18":
        return {"result": "others", "reason": "wrong due date"}
    if t_status == "done":
        return {"result": "others", "reason": "new task should not be done"}

    new_labels = query(
        final_db_path,
        "SELECT l.workspace_id, LOWER(l.name) FROM task_labels tl JOIN labels l ON l.id = tl.label_id WHERE tl.task_id = ?",
        (new[0],),
    )
    if new_labels is None or set(new_labels) != {(workspace_id, "feature")} or len(new_labels) != 1:
        return {"result": "others", "reason": "new task must carry exactly the Northwind 'feature' label"}

    initial_links = query(initial_db_path, "SELECT task_id, label_id FROM task_labels")
    final_links = query(final_db_path, "SELECT task_id, label_id FROM task_labels")
    if initial_links is None or final_links is None:
        return {"result": "others", "reason": "cannot read task_labels"}
    if not set(initial_links) <= set(final_links):
        return {"result": "others", "reason": "existing label links were removed"}
    extra = [link for link in set(final_links) - set(initial_links) if link[0] != new[0]]
    if extra:
        return {"result": "others", "reason": "labels were added to other tasks"}

    return {"result": "complete", "new_task_id": new[0]}
