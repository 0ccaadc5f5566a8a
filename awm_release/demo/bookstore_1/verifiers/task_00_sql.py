def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def connect(db_path):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def fetch(conn, sql, params=()):
        return [dict(row) for row in conn.execute(sql, params).fetchall()]

    cart_sql = (
        "SELECT ci.id AS cart_item_id, ci.edition_id, ci.quantity, e.format, e.price, b.title, a.name AS author "
        "FROM cart_items ci JOIN book_editions e ON e.id = ci.edition_id "
        "JOIN books b ON b.id = e.book_id JOIN authors a ON a.id = b.author_id "
        "WHERE ci.user_id = 1 ORDER BY ci.id"
    )
    initial_conn = connect(initial_db_path)
    final_conn = connect(final_db_path)
    try:
        editions = fetch(
            initial_conn,
            "SELECT e.id AS edition_id, e.format, e.price, e.stock_quantity FROM book_editions e "
            "JOIN books b ON b.id = e.book_id WHERE lower(b.title) = 'the left hand of darkness' ORDER BY e.id",
        )
        initial_cart = fetch(initial_conn, cart_sql)
        final_cart = fetch(final_conn, cart_sql)
        initial_ids = {row["cart_item_id"] for row in initial_cart}
        return {
            "task": "Add two paperback copies of The Left Hand of Darkness to the cart",
            "left_hand_of_darkness_editions": editions,
            "initial_cart": initial_cart,
            "final_cart": final_cart,
            "new_cart_lines": [row for row in final_cart if row["cart_item_id"] not in initial_ids],
            "initial_order_count": fetch(initial_conn, "SELECT COUNT(*) AS n FROM orders WHERE user_id = 1")[0]["n"],
            "final_order_count": fetch(final_conn, "SELECT COUNT(*) AS n FROM orders WHERE user_id = 1")[0]["n"],
        }
    finally:
        initial_conn.close()
        final_conn.close()
