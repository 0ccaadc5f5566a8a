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
        orders = fetch(initial_conn, "SELECT id, status, total FROM orders WHERE user_id = 1 ORDER BY id")
        totals_by_status = {}
        for row in orders:
            totals_by_status[row["status"]] = round(totals_by_status.get(row["status"], 0.0) + row["total"], 2)
        changed_tables = []
        for table in ["cart_items", "orders", "order_items", "wishlist_items", "reviews", "shipping_addresses", "book_editions"]:
            sql = f"SELECT * FROM {table} ORDER BY id"
            if [tuple(r) for r in initial_conn.execute(sql)] != [tuple(r) for r in final_conn.execute(sql)]:
                changed_tables.append(table)
        return {
            "task": "State the total amount spent on shipped orders (read-only)",
            "orders": orders,
            "totals_by_status": totals_by_status,
            "expected_answer_usd": totals_by_status.get("shipped"),
            "tables_changed": changed_tables,
        }
    finally:
        initial_conn.close()
        final_conn.close()
