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
        hardcovers = fetch(
            initial_conn,
            "SELECT b.title, a.name AS author, e.id AS edition_id, e.price, e.stock_quantity FROM book_editions e "
            "JOIN books b ON b.id = e.book_id JOIN authors a ON a.id = b.author_id JOIN genres g ON g.id = b.genre_id "
            "WHERE g.name = 'Fantasy' AND e.format = 'hardcover' ORDER BY e.price, e.id",
        )
        in_stock = [row for row in hardcovers if row["stock_quantity"] and row["stock_quantity"] > 0]
        changed_tables = []
        for table in ["cart_items", "orders", "order_items", "wishlist_items", "reviews", "shipping_addresses", "book_editions"]:
            sql = f"SELECT * FROM {table} ORDER BY id"
            if [tuple(r) for r in initial_conn.execute(sql)] != [tuple(r) for r in final_conn.execute(sql)]:
                changed_tables.append(table)
        return {
            "task": "Name the cheapest in-stock Fantasy hardcover and its price (read-only)",
            "fantasy_hardcovers_by_price": hardcovers,
            "expected_answer": in_stock[0] if in_stock else None,
            "cheapest_overall_but_out_of_stock": hardcovers[0] if hardcovers and hardcovers[0] not in in_stock else None,
            "tables_changed": changed_tables,
        }
    finally:
        initial_conn.close()
        final_conn.close()
