def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def rows(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    sql = (
        "SELECT u.id AS user_id, u.full_name, "
        "SUM(CASE WHEN t.status IN ('todo', 'in_progress') THEN 1 ELSE 0 END) AS open_tasks, "
        "SUM(CASE WHEN t.status = 'done' THEN 1 ELSE 0 END) AS done_tasks, COUNT(t.id) AS all_tasks "
        "FROM workspace_members m JOIN workspaces w ON w.id = m.workspace_id JOIN users u ON u.id = m.user_id "
        "LEFT JOIN tasks t ON t.assignee_id = u.id AND t.project_id IN (SELECT id FROM projects WHERE workspace_id = w.id) "
        "WHERE w.name = 'Northwind Labs' GROUP BY u.id ORDER BY open_tasks DESC, u.full_name ASC"
    )
    workload = rows(initial_db_path, sql)
    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    return {
        "northwind_workload": workload,
        "expected_member": workload[0]["full_name"] if workload else None,
        "expected_open_count": workload[0]["open_tasks"] if workload else None,
        "tasks_table_unchanged": rows(initial_db_path, f"SELECT {cols} FROM tasks ORDER BY id") == rows(final_db_path, f"SELECT {cols} FROM tasks ORDER BY id"),
    }
