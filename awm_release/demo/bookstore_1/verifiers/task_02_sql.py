def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def connect(db_path):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def fetch(conn, sql, params=()):
        return [dict(row) for row in conn.execute(sql, params).fetchall()]

    wishlist_sql = (
        "SELECT w.id AS wishlist_item_id, b.title, w.preferred_format, w.note FROM wishlist_items w "
        "JOIN books b ON b.id = w.book_id WHERE w.user_id = 1 ORDER BY w.id"
    )
    cart_sql = (
        "SELECT ci.id AS cart_item_id, ci.edition_id, b.title, e.format, ci.quantity FROM cart_items ci "
        "JOIN book_editions e ON e.id = ci.edition_id JOIN books b ON b.id = e.book_id "
        "WHERE ci.user_id = 1 ORDER BY ci.id"
    )
    initial_conn = connect(initial_db_path)
    final_conn = connect(final_db_path)
    try:
        return {
            "task": "Move Klara and the Sun from the wish list to the cart in the preferred format",
            "klara_editions": fetch(
                initial_conn,
                "SELECT e.id AS edition_id, e.format, e.price, e.stock_quantity FROM book_editions e "
                "JOIN books b ON b.id = e.book_id WHERE lower(b.title) = 'klara and the sun' ORDER BY e.id",
            ),
            "initial_wishlist": fetch(initial_conn, wishlist_sql),
            "final_wishlist": fetch(final_conn, wishlist_sql),
            "initial_cart": fetch(initial_conn, cart_sql),
            "final_cart": fetch(final_conn, cart_sql),
            "other_users_wishlist_rows_final": fetch(final_conn, "SELECT id, user_id, book_id FROM wishlist_items WHERE user_id <> 1"),
        }
    finally:
        initial_conn.close()
        final_conn.close()
