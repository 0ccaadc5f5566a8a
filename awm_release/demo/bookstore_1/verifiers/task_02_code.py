def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    try:
        # Wish list entry for 'Klara and the Sun' and the format saved on it.
        rows = query(
            initial_db_path,
            "SELECT w.id, w.book_id, w.preferred_format FROM wishlist_items w "
            "JOIN books b ON b.id = w.book_id "
            "WHERE w.user_id = 1 AND lower(b.title) = 'klara and the sun'",
        )
        if len(rows) != 1 or rows[0][2] is None:
            return {"result": "others", "reason": "wish list entry with a preferred format not found"}
        wishlist_item_id, book_id, preferred_format = rows[0]
        edition_rows = query(
            initial_db_path,
            "SELECT id FROM book_editions WHERE book_id = ? AND format = ?",
            (book_id, preferred_format),
        )
        if len(edition_rows) != 1:
            return {"result": "others", "reason": "preferred edition not found"}
        target_edition_id = edition_rows[0][0]

        # Cart: exactly one copy of the preferred edition added, nothing else changed.
        cart_sql = "SELECT edition_id, quantity FROM cart_items WHERE user_id = 1"
        initial_cart = dict(query(initial_db_path, cart_sql))
        final_cart = dict(query(final_db_path, cart_sql))
        expected_cart = dict(initial_cart)
        expected_cart[target_edition_id] = initial_cart.get(target_edition_id, 0) + 1
        if final_cart != expected_cart:
            return {
                "result": "others",
                "reason": "cart does not match expected contents",
                "expected_cart": expected_cart,
                "final_cart": final_cart,
            }

        # Wish list: the book is gone, every other entry is intact.
        wl_sql = "SELECT id, book_id, preferred_format, note FROM wishlist_items WHERE user_id = 1 ORDER BY id"
        initial_wl = query(initial_db_path, wl_sql)
        final_wl = query(final_db_path, wl_sql)
        expected_wl = [row for row in initial_wl if row[1] != book_id]
        if final_wl != expected_wl:
            return {"result": "others", "reason": "wish list does not match expected contents", "final_wishlist": final_wl}

        order_sql = "SELECT id, status FROM orders WHERE user_id = 1 ORDER BY id"
        if query(initial_db_path, order_sql) != query(final_db_path, order_sql):
            return {"result": "others", "reason": "orders changed"}

        return {"result": "complete", "edition_id": target_edition_id, "removed_wishlist_item_id": wishlist_item_id}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
