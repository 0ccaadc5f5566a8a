def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def rows(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    people = rows(initial_db_path, "SELECT id, full_name FROM users WHERE full_name LIKE 'Daniel%' OR full_name LIKE 'Hannah%'")
    sql = (
        "SELECT t.id, p.name AS project_name, t.title, t.status, t.assignee_id, u.full_name AS assignee_name "
        "FROM tasks t JOIN projects p ON p.id = t.project_id LEFT JOIN users u ON u.id = t.assignee_id "
        "WHERE t.assignee_id IN (SELECT id FROM users WHERE full_name IN ('Daniel Okafor', 'Hannah Kim')) "
        "OR p.name = 'Data Platform Migration' ORDER BY t.id"
    )
    before = rows(initial_db_path, sql)
    after = rows(final_db_path, sql)
    after_map = {r["id"]: r for r in after}
    changes = []
    for r in before:
        f = after_map.get(r["id"])
        if f is None:
            changes.append({"task_id": r["id"], "change": "deleted"})
        elif f != r:
            changes.append({"task_id": r["id"], "title": r["title"], "project": r["project_name"], "status": r["status"],
                            "assignee_before": r["assignee_name"], "assignee_after": f["assignee_name"],
                            "status_after": f["status"]})
    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    all_before = {r["id"]: r for r in rows(initial_db_path, f"SELECT {cols} FROM tasks")}
    all_after = {r["id"]: r for r in rows(final_db_path, f"SELECT {cols} FROM tasks")}
    return {
        "people": people,
        "relevant_tasks_initial": before,
        "relevant_task_changes": changes,
        "all_changed_task_ids": sorted(i for i in all_before if all_before[i] != all_after.get(i)),
        "new_task_ids": sorted(i for i in all_after if i not in all_before),
        "expected": "Open (todo/in_progress) Data Platform Migration tasks of Daniel Okafor reassigned to Hannah Kim; done tasks and other projects untouched",
    }
