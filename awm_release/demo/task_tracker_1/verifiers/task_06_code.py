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

    ws = query(initial_db_path, "SELECT id FROM workspaces WHERE name = 'Northwind Labs'")
    if not ws or len(ws) != 1:
        return {"result": "others", "reason": "workspace not found"}
    workspace_id = ws[0][0]

    targets = query(
        initial_db_path,
        "SELECT t.id FROM tasks t JOIN projects p ON p.id = t.project_id "
        "WHERE p.workspace_id = ? AND p.name = 'Customer Portal' "
        "AND t.title IN ('Rotate API keys for payment service', 'Enable 2FA for admin accounts')",
        (workspace_id,),
    )
    if not targets or len(targets) != 2:
        return {"result": "others", "reason": "target tasks not found"}
    target_ids = {r[0] for r in targets}

    label_cols = "id, workspace_id, name, color, description"
    initial_labels = query(initial_db_path, f"SELECT {label_cols} FROM labels")
    final_labels = query(final_db_path, f"SELECT {label_cols} FROM labels")
    if initial_labels is None or final_labels is None:
        return {"result": "others", "reason": "cannot read labels"}
    initial_label_map = {r[0]: r for r in initial_labels}
    final_label_map = {r[0]: r for r in final_labels}
    for lid, row in initial_label_map.items():
        if final_label_map.get(lid) != row:
            return {"result": "others", "reason": f"existing label {lid} changed or deleted"}
    new_labels = [r for lid, r in final_label_map.items() if lid not in initial_label_map]
    if len(new_labels) != 1:
        return {"result": "others", "reason": f"expected exactly one new label, found {len(new_labels)}"}
    new_id, l_ws, l_name, l_color, _l_desc = new_labels[0]
    if l_ws != workspace_id or str(l_name).strip().lower() != "security" or str(l_color).strip().lower() != "#d93f0b":
        return {"result": "others", "reason": "new label has wrong workspace, name or color"}

    initial_links = query(initial_db_path, "SELECT task_id, label_id FROM task_labels")
    final_links = query(final_db_path, "SELECT task_id, label_id FROM task_labels")
    if initial_links is None or final_links is None:
        return {"result": "others", "reason": "cannot read task_labels"}
    if not set(initial_links) <= set(final_links):
        return {"result": "others", "reason": "existing label links were removed"}
    added = set(final_links) - set(initial_links)
    if added != {(tid, new_id) for tid in target_ids}:
        return {"result": "others", "reason": "label links added do not match the two target tasks"}

    task_cols = "id, project_id, milestone_id, parent_task_id, title, description, status, priority, assignee_id, reporter_id, due_date, estimate_points"
    initial_tasks = query(initial_db_path, f"SELECT {task_cols} FROM tasks")
    final_tasks = query(final_db_path, f"SELECT {task_cols} FROM tasks")
    if initial_tasks is None or final_tasks is None or set(initial_tasks) != set(final_tasks):
        return {"result": "others", "reason": "tasks were modified"}

    return {"result": "complete", "label_id": new_id}
