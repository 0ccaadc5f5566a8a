def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def rows(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    result = {}
    project = rows(
        initial_db_path,
        "SELECT p.id, p.workspace_id, p.name FROM projects p JOIN workspaces w ON w.id = p.workspace_id "
        "WHERE w.name = 'Northwind Labs' AND p.name = 'Customer Portal'",
    )
    result["customer_portal_project"] = project[0] if project else None
    result["people_named_priya"] = rows(
        initial_db_path,
        "SELECT u.id, u.full_name, m.workspace_id, m.role FROM users u "
        "JOIN workspace_members m ON m.user_id = u.id WHERE u.full_name LIKE 'Priya%' ORDER BY u.id",
    )
    result["labels_named_feature"] = rows(initial_db_path, "SELECT id, workspace_id, name FROM labels WHERE LOWER(name) = 'feature'")

    initial_ids = {r["id"] for r in rows(initial_db_path, "SELECT id FROM tasks")}
    final_tasks = rows(
        final_db_path,
        "SELECT t.id, t.project_id, p.name AS project_name, t.parent_task_id, t.title, t.status, t.priority, "
        "t.assignee_id, u.full_name AS assignee_name, t.reporter_id, t.due_date FROM tasks t "
        "JOIN projects p ON p.id = t.project_id LEFT JOIN users u ON u.id = t.assignee_id",
    )
    new_tasks = [t for t in final_tasks if t["id"] not in initial_ids]
    for t in new_tasks:
        t["labels"] = rows(
            final_db_path,
            "SELECT l.id, l.workspace_id, l.name FROM task_labels tl JOIN labels l ON l.id = tl.label_id WHERE tl.task_id = ?",
            (t["id"],),
        )
    result["new_tasks"] = new_tasks
    result["new_task_count"] = len(new_tasks)

    final_ids = {t["id"] for t in final_tasks}
    result["deleted_task_ids"] = sorted(initial_ids - final_ids)
    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    before = {r["id"]: r for r in rows(initial_db_path, f"SELECT {cols} FROM tasks")}
    after = {r["id"]: r for r in rows(final_db_path, f"SELECT {cols} FROM tasks")}
    result["modified_existing_task_ids"] = sorted(i for i in before if i in after and before[i] != after[i])
    result["expected"] = {
        "title": "Add CSV export to invoices page",
        "priority": "high",
        "assignee": "Priya Raman",
        "due_date": "2025-07-18",
        "label": "feature (Northwind Labs)",
    }
    return result
