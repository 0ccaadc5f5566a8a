def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def connect(db_path):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def fetch(conn, sql, params=()):
        return [dict(row) for row in conn.execute(sql, params).fetchall()]

    sql = (
        "SELECT r.id, r.book_id, b.title AS book_title, r.user_id, r.rating, r.title, r.review_text "
        "FROM reviews r JOIN books b ON b.id = r.book_id ORDER BY r.id"
    )
    initial_conn = connect(initial_db_path)
    final_conn = connect(final_db_path)
    try:
        initial_rows = fetch(initial_conn, sql)
        final_rows = fetch(final_conn, sql)
        initial_by_id = {row["id"]: row for row in initial_rows}
        final_ids = {row["id"] for row in final_rows}
        return {
            "task": "Write a 5-star review of Braiding Sweetgrass titled 'A gift of a book' with the given text",
            "expected": {
                "book_title": "Braiding Sweetgrass",
                "rating": 5,
                "title": "A gift of a book",
                "review_text": "Kimmerer braids science and gratitude together so gently that I reread every chapter.",
            },
            "new_reviews": [row for row in final_rows if row["id"] not in initial_by_id],
            "changed_reviews": [row for row in final_rows if row["id"] in initial_by_id and initial_by_id[row["id"]] != row],
            "deleted_review_ids": sorted(set(initial_by_id) - final_ids),
            "kimmerer_books": fetch(
                initial_conn,
                "SELECT b.id, b.title FROM books b JOIN authors a ON a.id = b.author_id WHERE a.name LIKE '%Kimmerer%'",
            ),
        }
    finally:
        initial_conn.close()
        final_conn.close()
