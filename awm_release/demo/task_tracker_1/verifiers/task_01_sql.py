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
        "SELECT t.id, p.name AS project_name, t.title, t.status, t.priority, t.assignee_id, t.completed_at "
        "FROM tasks t JOIN projects p ON p.id = t.project_id WHERE t.title LIKE 'Fix login redirect loop%' ORDER BY t.id"
    )
    result = {
        "redirect_loop_tasks_initial": rows(initial_db_path, sql),
        "redirect_loop_tasks_final": rows(final_db_path, sql),
    }
    initial_comment_ids = {r["id"] for r in rows(initial_db_path, "SELECT id FROM comments")}
    final_comments = rows(
        final_db_path,
        "SELECT c.id, c.task_id, t.title AS task_title, p.name AS project_name, c.author_id, c.body "
        "FROM comments c JOIN tasks t ON t.id = c.task_id JOIN projects p ON p.id = t.project_id ORDER BY c.id",
    )
    result["new_comments"] = [c for c in final_comments if c["id"] not in initial_comment_ids]
    result["deleted_comment_ids"] = sorted(initial_comment_ids - {c["id"] for c in final_comments})

    cols = "id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date"
    before = {r["id"]: r for r in rows(initial_db_path, f"SELECT {cols} FROM tasks")}
    after = {r["id"]: r for r in rows(final_db_path, f"SELECT {cols} FROM tasks")}
    result["changed_task_ids"] = sorted(i for i in before if before[i] != after.get(i))
    result["new_task_ids"] = sorted(i for i in after if i not in before)
    result["expected"] = {
        "task": "Fix login redirect loop on Safari (Mobile App Redesign)",
        "status": "done",
        "comment": "Verified on Safari 17 and iOS 17, closing.",
    }
    return result
