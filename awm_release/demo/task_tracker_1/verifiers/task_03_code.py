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
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Mobile App Redesign'",
    )
    if not project or len(project) != 1:
        return {"result": "others", "reason": "project not found"}
    project_id, workspace_id = project[0]

    ms_cols = "id, project_id, name, description, due_date, status"
    initial_ms = query(initial_db_path, f"SELECT {ms_cols} FROM milestones")
    final_ms = query(final_db_path, f"SELECT {ms_cols} FROM milestones")
    if initial_ms is None or final_ms is None:
        return {"result": "others", "reason": "cannot read milestones"}
    initial_ms_map = {r[0]: r for r in initial_ms}
    final_ms_map = {r[0]: r for r in final_ms}
    for mid, row in initial_ms_map.items():
        if final_ms_map.get(mid) != row:
            return {"result": "others", "reason": f"existing milestone {mid} changed or deleted"}
    new_ms = [r for mid, r in final_ms_map.items() if mid not in initial_ms_map]
    if len(new_ms) != 1:
        return {"result": "others", "reason": f"expected exactly one new milestone, found {len(new_ms)}"}
    new_mid, m_project, m_name, _m_desc, m_due, _m_status = new_ms[0]
    if m_project != project_id or norm(m_name) != "beta release" or str(m_due or "")[:10] != "2025-08-29":
        return {"result": "others", "reason": "new milestone has wrong project, name or due date"}

    targets = query(
        initial_db_path,
        "SELECT DISTINCT t.id FROM tasks t JOIN task_labels tl ON tl.task_id = t.id JOIN labels l ON l.id = tl.label_id "
        "WHERE t.project_id = ? AND l.workspace_id = ? AND l.name = 'beta-blocker' AND t.status != 'done'",
        (project_id, workspace_id),
    )
    if not targets:
        return {"result": "others", "reason": "no beta-blocker tasks in initial state"}
    target_ids = {r[0] for r in targets}

    initial_tasks = query(initial_db_path, f"SELECT {task_cols} FROM tasks")
    final_tasks = query(final_db_path, f"SELECT {task_cols} FROM tasks")
    if initial_tasks is None or final_tasks is None:
        return {"result": "others", "reason": "cannot read tasks"}
    initial_map = {r[0]: r for r in initial_tasks}
    final_map = {r[0]: r for r in final_tasks}
    if set(initial_map) != set(final_map):
        return {"result": "others", "reason": "tasks were created or deleted"}

    ms_idx = 2
    for tid, row in initial_map.items():
        frow = final_map[tid]
        if tid in target_ids:
            if frow[ms_idx] != new_mid:
                return {"result": "others", "reason": f"task {tid} not moved into the new milestone"}
            if frow[:ms_idx] + frow[ms_idx + 1:] != row[:ms_idx] + row[ms_idx + 1:]:
                return {"result": "others", "reason": f"task {tid} changed beyond its milestone"}
        elif frow != row:
            return {"result": "others", "reason": f"task {tid} should not have changed"}

    return {"result": "complete", "milestone_id": new_mid, "moved": sorted(target_ids)}
