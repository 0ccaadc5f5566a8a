def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import re
    import sqlite3

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    def normalize(text):
        return " ".join(re.sub(r"[^a-z0-9]+", " ", (text or "").lower()).split())

    expected_title = "A gift of a book"
    expected_text = "Kimmerer braids science and gratitude together so gently that I reread every chapter."

    try:
        book_rows = query(
            initial_db_path,
            "SELECT b.id FROM books b JOIN authors a ON a.id = b.author_id "
            "WHERE lower(b.title) = 'braiding sweetgrass' AND lower(a.name) LIKE '%kimmerer%'",
        )
        if len(book_rows) != 1:
            return {"result": "others", "reason": "book not found in initial db"}
        book_id = book_rows[0][0]

        sql = "SELECT id, book_id, user_id, rating, title, review_text FROM reviews ORDER BY id"
        initial_reviews = {row[0]: row for row in query(initial_db_path, sql)}
        final_reviews = {row[0]: row for row in query(final_db_path, sql)}

        # Existing reviews must be untouched.
        for rid, row in initial_reviews.items():
            if final_reviews.get(rid) != row:
                return {"result": "others", "reason": f"existing review {rid} was changed or deleted"}

        new_reviews = [row for rid, row in final_reviews.items() if rid not in initial_reviews]
        if len(new_reviews) != 1:
            return {"result": "others", "reason": f"expected exactly one new review, found {len(new_reviews)}"}
        _, r_book_id, r_user_id, rating, title, review_text = new_reviews[0]
        checks = {
            "book": r_book_id == book_id,
            "user": r_user_id == 1,
            "rating": rating == 5,
            "title": normalize(title) == normalize(expected_title),
            "review_text": normalize(review_text) == normalize(expected_text),
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            return {"result": "others", "reason": "new review does not match", "failed_checks": failed}
        return {"result": "complete", "review_id": new_reviews[0][0]}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
