def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    try:
        rows = query(
            initial_db_path,
            "SELECT r.id FROM reviews r JOIN books b ON b.id = r.book_id "
            "WHERE r.user_id = 1 AND lower(b.title) = 'project hail mary'",
        )
        if len(rows) != 1:
            return {"result": "others", "reason": "my Project Hail Mary review not found in initial db"}
        target_id = rows[0][0]

        sql = "SELECT id, book_id, user_id, rating, title, review_text FROM reviews ORDER BY id"
        initial_reviews = {row[0]: row for row in query(initial_db_path, sql)}
        final_reviews = {row[0]: row for row in query(final_db_path, sql)}
        if set(initial_reviews) != set(final_reviews):
            return {"result": "others", "reason": "reviews were created or deleted"}

        for rid, row in initial_reviews.items():
            if rid != target_id and final_reviews[rid] != row:
                return {"result": "others", "reason": f"review {rid} was changed"}

        before = initial_reviews[target_id]
        after = final_reviews[target_id]
        if after[3] != 4:
            return {"result": "others", "reason": "rating is not 4", "rating": after[3]}
        if after[1:3] != before[1:3] or after[4:] != before[4:]:
            return {"result": "others", "reason": "title, text, book or author of the review changed"}
        return {"result": "complete", "review_id": target_id}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
