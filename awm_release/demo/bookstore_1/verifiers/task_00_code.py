def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    try:
        # The paperback edition of 'The Left Hand of Darkness' by Ursula K. Le Guin.
        target_rows = query(
            initial_db_path,
            "SELECT e.id FROM book_editions e "
            "JOIN books b ON b.id = e.book_id JOIN authors a ON a.id = b.author_id "
            "WHERE lower(b.title) = 'the left hand of darkness' AND lower(a.name) LIKE '%le guin%' "
            "AND e.format = 'paperback'",
        )
        if len(target_rows) != 1:
            return {"result": "others", "reason": "target edition not found in initial db"}
        target_edition_id = target_rows[0][0]

        cart_sql = "SELECT edition_id, quantity FROM cart_items WHERE user_id = 1"
        initial_cart = dict(query(initial_db_path, cart_sql))
        final_cart = dict(query(final_db_path, cart_sql))

        # Exactly two copies added to that edition, nothing else in the cart changed.
        expected_cart = dict(initial_cart)
        expected_cart[target_edition_id] = initial_cart.get(target_edition_id, 0) + 2
        if final_cart != expected_cart:
            return {
                "result": "others",
                "reason": "cart does not match expected contents",
                "expected_cart": expected_cart,
                "final_cart": final_cart,
            }

        # Adding to the cart must not place or change orders.
        order_sql = "SELECT id, status FROM orders WHERE user_id = 1 ORDER BY id"
        if query(initial_db_path, order_sql) != query(final_db_path, order_sql):
            return {"result": "others", "reason": "orders changed"}

        return {"result": "complete", "edition_id": target_edition_id}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
