def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def rows(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    label_sql = (
        "SELECT l.id, l.workspace_id, w.name AS workspace_name, l.name, l.color FROM labels l "
        "JOIN workspaces w ON w.id = l.workspace_id ORDER BY l.id"
    )
    initial_labels = rows(initial_db_path, label_sql)
    final_labels = rows(final_db_path, label_sql)
    initial_label_ids = {r["id"] for r in initial_labels}
    link_sql = (
        "SELECT tl.task_id, t.title, p.name AS project_name, tl.label_id, l.name AS label_name, l.workspace_id "
        "FROM task_labels tl JOIN tasks t ON t.id = tl.task_id JOIN projects p ON p.id = t.project_id "
        "JOIN labels l ON l.id = tl.label_id ORDER BY tl.task_id, tl.label_id"
    )
    initial_links = rows(initial_db_path, link_sql)
    final_links = rows(final_db_path, link_sql)
    target_sql = (
        "SELECT t.id, p.name AS project_name, t.title FROM tasks t JOIN projects p ON p.id = t.project_id "
        "WHERE t.title IN ('Rotate API keys for payment service', 'Enable 2FA for admin accounts') ORDER BY t.id"
    )
    return {
        "new_labels": [r for r in final_labels if r["id"] not in initial_label_ids],
        "changed_or_deleted_labels": [r for r in initial_labels if r not in final_labels],
        "candidate_tasks": rows(initial_db_path, target_sql),
        "added_label_links": [r for r in final_links if r not in initial_links],
        "removed_label_links": [r for r in initial_links if r not in final_links],
        "expected": "New Northwind Labs label 'security' with color #D93F0B attached to the Customer Portal tasks 'Rotate API keys for payment service' and 'Enable 2FA for admin accounts'",
    }
