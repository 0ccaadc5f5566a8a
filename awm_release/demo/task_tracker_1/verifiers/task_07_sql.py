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
        "SELECT t.id, t.title, t.status, GROUP_CONCAT(l.name) AS labels FROM tasks t "
        "JOIN projects p ON p.id = t.project_id JOIN task_labels tl ON tl.task_id = t.id "
        "JOIN labels l ON l.id = tl.label_id WHERE p.name = 'Customer Portal' AND l.name LIKE 'bug%' "
        "GROUP BY t.id ORDER BY t.id"
    )
    tasks = rows(initial_db_path, sql)
    open_bug = [t for t in tasks if t["status"] != "done" and "bug" in (t["labels"] or "").split(",")]
    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    return {
        "customer_portal_bug_like_tasks": tasks,
        "expected_count_not_done_with_bug_label": len(open_bug),
        "count_including_done": len([t for t in tasks if "bug" in (t["labels"] or "").split(",")]),
        "tasks_table_unchanged": rows(initial_db_path, f"SELECT {cols} FROM tasks ORDER BY id") == rows(final_db_path, f"SELECT {cols} FROM tasks ORDER BY id"),
        "task_labels_unchanged": rows(initial_db_path, "SELECT task_id, label_id FROM task_labels ORDER BY 1, 2") == rows(final_db_path, "SELECT task_id, label_id FROM task_labels ORDER BY 1, 2"),
    }
