def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def connect(db_path):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def fetch(conn, sql, params=()):
        return [dict(row) for row in conn.execute(sql, params).fetchall()]

    sql = (
        "SELECT r.id, b.title AS book_title, r.rating, r.title, r.review_text FROM reviews r "
        "JOIN books b ON b.id = r.book_id WHERE r.user_id = 1 ORDER BY r.id"
    )
    initial_conn = connect(initial_db_path)
    final_conn = connect(final_db_path)
    try:
        all_sql = "SELECT id, book_id, user_id, rating, title, review_text FROM reviews ORDER BY id"
        initial_all = {row["id"]: row for row in fetch(initial_conn, all_sql)}
        final_all = {row["id"]: row for row in fetch(final_conn, all_sql)}
        return {
            "task": "Change my Project Hail Mary review to 4 stars, keeping title and text",
            "my_reviews_initial": fetch(initial_conn, sql),
            "my_reviews_final": fetch(final_conn, sql),
            "changed_review_ids": sorted(rid for rid in initial_all if rid in final_all and initial_all[rid] != final_all[rid]),
            "added_review_ids": sorted(set(final_all) - set(initial_all)),
            "deleted_review_ids": sorted(set(initial_all) - set(final_all)),
        }
    finally:
        initial_conn.close()
        final_conn.close()
