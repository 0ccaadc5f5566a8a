def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def rows(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    ms_sql = (
        "SELECT m.id, m.project_id, p.name AS project_name, m.name, m.due_date, m.status "
        "FROM milestones m JOIN projects p ON p.id = m.project_id ORDER BY m.id"
    )
    initial_ms = rows(initial_db_path, ms_sql)
    final_ms = rows(final_db_path, ms_sql)
    initial_ms_ids = {m["id"] for m in initial_ms}
    bb_sql = (
        "SELECT t.id, p.name AS project_name, t.title, t.status, t.milestone_id "
        "FROM tasks t JOIN projects p ON p.id = t.project_id JOIN task_labels tl ON tl.task_id = t.id "
        "JOIN labels l ON l.id = tl.label_id WHERE l.name = 'beta-blocker' ORDER BY t.id"
    )
    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    before = {r["id"]: r for r in rows(initial_db_path, f"SELECT {cols} FROM tasks")}
    after = {r["id"]: r for r in rows(final_db_path, f"SELECT {cols} FROM tasks")}
    return {
        "new_milestones": [m for m in final_ms if m["id"] not in initial_ms_ids],
        "changed_or_deleted_milestones": [m for m in initial_ms if m not in final_ms],
        "beta_blocker_tasks_initial": rows(initial_db_path, bb_sql),
        "beta_blocker_tasks_final": rows(final_db_path, bb_sql),
        "tasks_with_changed_milestone": sorted(i for i in before if i in after and before[i]["milestone_id"] != after[i]["milestone_id"]),
        "tasks_with_other_changes": sorted(
            i for i in before if i in after
            and {k: v for k, v in before[i].items() if k != "milestone_id"} != {k: v for k, v in after[i].items() if k != "milestone_id"}
        ),
        "deleted_task_ids": sorted(i for i in before if i not in after),
        "expected": "New 'Beta Release' milestone in Mobile App Redesign due 2025-08-29 containing the not-done beta-blocker tasks of that project",
    }
