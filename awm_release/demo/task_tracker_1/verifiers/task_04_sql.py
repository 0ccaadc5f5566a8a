def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def rows(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    parent = rows(
        initial_db_path,
        "SELECT t.id, t.project_id, p.name AS project_name, t.title FROM tasks t JOIN projects p ON p.id = t.project_id "
        "WHERE t.title = 'Design onboarding flow'",
    )
    initial_ids = {r["id"] for r in rows(initial_db_path, "SELECT id FROM tasks")}
    final_tasks = rows(
        final_db_path,
        "SELECT t.id, t.project_id, t.parent_task_id, pt.title AS parent_title, t.title, t.status, t.priority, "
        "t.assignee_id, u.full_name AS assignee_name, t.due_date FROM tasks t "
        "LEFT JOIN tasks pt ON pt.id = t.parent_task_id LEFT JOIN users u ON u.id = t.assignee_id ORDER BY t.id",
    )
    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    before = {r["id"]: r for r in rows(initial_db_path, f"SELECT {cols} FROM tasks")}
    after = {r["id"]: r for r in rows(final_db_path, f"SELECT {cols} FROM tasks")}
    sub_sql = "SELECT id, title, assignee_id FROM tasks WHERE parent_task_id = ? ORDER BY id"
    return {
        "parent_task": parent,
        "subtasks_initial": rows(initial_db_path, sub_sql, (parent[0]["id"],)) if parent else [],
        "subtasks_final": rows(final_db_path, sub_sql, (parent[0]["id"],)) if parent else [],
        "new_tasks": [t for t in final_tasks if t["id"] not in initial_ids],
        "changed_existing_task_ids": sorted(i for i in before if i in after and before[i] != after[i]),
        "deleted_task_ids": sorted(i for i in before if i not in after),
        "expected": "Two new sub-tasks of 'Design onboarding flow': 'Wireframe welcome screens' and 'Write onboarding copy', assigned to Sofia Alvarez",
    }
