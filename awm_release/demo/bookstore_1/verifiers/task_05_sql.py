def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def connect(db_path):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def fetch(conn, sql, params=()):
        return [dict(row) for row in conn.execute(sql, params).fetchall()]

    orders_sql = "SELECT id, status, cancel_reason, cancelled_at IS NOT NULL AS has_cancelled_at FROM orders WHERE user_id = 1 ORDER BY id"
    piranesi_sql = (
        "SELECT o.id AS order_id, o.status, e.format, oi.quantity FROM orders o "
        "JOIN order_items oi ON oi.order_id = o.id JOIN book_editions e ON e.id = oi.edition_id "
        "JOIN books b ON b.id = e.book_id WHERE o.user_id = 1 AND lower(b.title) = 'piranesi' ORDER BY o.id"
    )
    initial_conn = connect(initial_db_path)
    final_conn = connect(final_db_path)
    try:
        stock_sql = (
            "SELECT e.id AS edition_id, b.title, e.format, e.stock_quantity FROM book_editions e "
            "JOIN books b ON b.id = e.book_id WHERE e.id IN "
            "(SELECT oi.edition_id FROM order_items oi JOIN orders o ON o.id = oi.order_id "
            "WHERE o.user_id = 1 AND o.status = 'placed') ORDER BY e.id"
        )
        return {
            "task": "Cancel the unshipped order containing the Piranesi hardcover with reason 'Found a copy at my local library'",
            "orders_with_piranesi_initial": fetch(initial_conn, piranesi_sql),
            "initial_orders": fetch(initial_conn, orders_sql),
            "final_orders": fetch(final_conn, orders_sql),
            "stock_of_placed_order_editions_initial": fetch(initial_conn, stock_sql),
            "stock_of_same_editions_final": [
                fetch(final_conn, "SELECT id AS edition_id, stock_quantity FROM book_editions WHERE id = ?", (row["edition_id"],))[0]
                for row in fetch(initial_conn, stock_sql)
            ],
        }
    finally:
        initial_conn.close()
        final_conn.close()
