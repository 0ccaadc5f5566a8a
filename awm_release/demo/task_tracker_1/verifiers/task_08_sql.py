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
        "SELECT t.id, t.title, t.status, t.due_date, u.full_name AS assignee_name FROM tasks t "
        "JOIN projects p ON p.id = t.project_id LEFT JOIN users u ON u.id = t.assignee_id "
        "WHERE p.name = 'Data Platform Migration' ORDER BY t.due_date ASC, t.id ASC"
    )
    tasks = rows(initial_db_path, sql)
    open_tasks = [t for t in tasks if t["status"] != "done" and t["due_date"]]
    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    return {
        "data_platform_tasks_by_due_date": tasks,
        "expected_task": open_tasks[0] if open_tasks else None,
        "earliest_including_done": tasks[0] if tasks else None,
        "tasks_table_unchanged": rows(initial_db_path, f"SELECT {cols} FROM tasks ORDER BY id") == rows(final_db_path, f"SELECT {cols} FROM tasks ORDER BY id"),
    }
