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
        "SELECT t.id, p.name AS project_name, t.title, t.status, t.assignee_id, t.parent_task_id "
        "FROM tasks t JOIN projects p ON p.id = t.project_id "
        "WHERE t.title = 'Set up staging database' OR t.parent_task_id IN "
        "(SELECT id FROM tasks WHERE title = 'Set up staging database') ORDER BY t.id"
    )
    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    before = {r["id"]: r for r in rows(initial_db_path, f"SELECT {cols} FROM tasks")}
    after = {r["id"]: r for r in rows(final_db_path, f"SELECT {cols} FROM tasks")}
    return {
        "staging_tasks_initial": rows(initial_db_path, sql),
        "staging_tasks_final": rows(final_db_path, sql),
        "deleted_tasks": [before[i] for i in sorted(before) if i not in after],
        "changed_task_ids": sorted(i for i in before if i in after and before[i] != after[i]),
        "new_task_ids": sorted(i for i in after if i not in before),
        "task_count_initial": len(before),
        "task_count_final": len(after),
        "expected": "Only the unassigned todo duplicate 'Set up staging database' is deleted; the in-progress one and its sub-task remain",
    }
