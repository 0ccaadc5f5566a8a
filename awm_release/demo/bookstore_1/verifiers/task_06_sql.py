def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def connect(db_path):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def fetch(conn, sql, params=()):
        return [dict(row) for row in conn.execute(sql, params).fetchall()]

    initial_conn = connect(initial_db_path)
    final_conn = connect(final_db_path)
    try:
        reviews = fetch(
            initial_conn,
            "SELECT r.id, r.user_id, r.rating, r.title FROM reviews r JOIN books b ON b.id = r.book_id "
            "WHERE lower(b.title) = 'the overstory' ORDER BY r.id",
        )
        ratings = [row["rating"] for row in reviews]
        changed_tables = []
        for table in ["cart_items", "orders", "order_items", "wishlist_items", "reviews", "shipping_addresses", "book_editions"]:
            sql = f"SELECT * FROM {table} ORDER BY id"
            if [tuple(r) for r in initial_conn.execute(sql)] != [tuple(r) for r in final_conn.execute(sql)]:
                changed_tables.append(table)
        return {
            "task": "State the average rating and review count of The Overstory (read-only)",
            "overstory_reviews": reviews,
            "expected_average_rating": round(sum(ratings) / len(ratings), 2) if ratings else None,
            "expected_review_count": len(ratings),
            "tables_changed": changed_tables,
        }
    finally:
        initial_conn.close()
        final_conn.close()
