def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import re
    import sqlite3

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    try:
        rows = query(initial_db_path, "SELECT total FROM orders WHERE user_id = 1 AND status = 'shipped'")
        if not rows:
            return {"result": "others", "reason": "no shipped orders in initial db"}
        expected_total = round(sum(float(r[0]) for r in rows), 2)

        # The database must be left untouched.
        tables = ["cart_items", "orders", "order_items", "wishlist_items", "reviews", "shipping_addresses", "book_editions"]
        for table in tables:
            sql = f"SELECT * FROM {table} ORDER BY id"
            if query(initial_db_path, sql) != query(final_db_path, sql):
                return {"result": "others", "reason": f"{table} changed during a read-only task"}

        if not final_answer:
            return {"result": "others", "reason": "no final answer"}
        values = [float(n) for n in re.findall(r"\d+(?:\.\d+)?", final_answer.replace(",", ""))]
        if any(abs(v - expected_total) < 0.005 for v in values):
            return {"result": "complete", "expected_total": expected_total}
        return {"result": "others", "reason": "answer does not state the expected amount", "expected_total": expected_total}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
