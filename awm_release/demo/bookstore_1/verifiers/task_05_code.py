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

    try:
        # The not-yet-shipped order of user 1 that contains the Piranesi hardcover.
        rows = query(
            initial_db_path,
            "SELECT DISTINCT o.id FROM orders o "
            "JOIN order_items oi ON oi.order_id = o.id "
            "JOIN book_editions e ON e.id = oi.edition_id JOIN books b ON b.id = e.book_id "
            "WHERE o.user_id = 1 AND o.status = 'placed' AND lower(b.title) = 'piranesi' AND e.format = 'hardcover'",
        )
        if len(rows) != 1:
            return {"result": "others", "reason": "target order not uniquely identified in initial db"}
        target_order_id = rows[0][0]

        status_sql = "SELECT id, status FROM orders ORDER BY id"
        initial_status = dict(query(initial_db_path, status_sql))
        final_status = dict(query(final_db_path, status_sql))
        if set(initial_status) != set(final_status):
            return {"result": "others", "reason": "orders were created or deleted"}
        for oid, status in initial_status.items():
            if oid != target_order_id and final_status[oid] != status:
                return {"result": "others", "reason": f"order {oid} changed status"}

        final_rows = query(final_db_path, "SELECT status, cancel_reason, cancelled_at FROM orders WHERE id = ?", (target_order_id,))
        status, reason, cancelled_at = final_rows[0]
        if status != "cancelled" or cancelled_at is None:
            return {"result": "others", "reason": "target order is not cancelled"}
        if normalize(reason) != "found a copy at my local library":
            return {"result": "others", "reason": "cancellation reason does not match", "cancel_reason": reason}

        # The copies of the cancelled order are back in stock.
        items = query(initial_db_path, "SELECT edition_id, quantity FROM order_items WHERE order_id = ?", (target_order_id,))
        for edition_id, qty in items:
            before = query(initial_db_path, "SELECT stock_quantity FROM book_editions WHERE id = ?", (edition_id,))[0][0]
            after = query(final_db_path, "SELECT stock_quantity FROM book_editions WHERE id = ?", (edition_id,))[0][0]
            if before is not None and after != before + qty:
                return {"result": "others", "reason": f"stock of edition {edition_id} not restored"}

        return {"result": "complete", "order_id": target_order_id}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
