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
        rows = query(
            initial_db_path,
            "SELECT AVG(r.rating), COUNT(r.id) FROM reviews r JOIN books b ON b.id = r.book_id "
            "WHERE lower(b.title) = 'the overstory'",
        )
        if not rows or not rows[0][1]:
            return {"result": "others", "reason": "no reviews of The Overstory in initial db"}
        expected_avg, expected_count = float(rows[0][0]), int(rows[0][1])

        # The database must be left untouched.
        tables = ["cart_items", "orders", "order_items", "wishlist_items", "reviews", "shipping_addresses", "book_editions"]
        for table in tables:
            sql = f"SELECT * FROM {table} ORDER BY id"
            if query(initial_db_path, sql) != query(final_db_path, sql):
                return {"result": "others", "reason": f"{table} changed during a read-only task"}

        if not final_answer:
            return {"result": "others", "reason": "no final answer"}
        text = final_answer.lower().replace(",", "")
        tokens = re.findall(r"\d+(?:\.\d+)?", text)
        # Average: accept the exact value or a one-decimal rounding of it (4.25 -> 4.2 / 4.3).
        avg_idx = [i for i, t in enumerate(tokens) if abs(float(t) - expected_avg) <= 0.051]
        words = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five", 6: "six", 7: "seven", 8: "eight", 9: "nine", 10: "ten"}
        count_ok = any(
            i not in avg_idx and "." not in t and int(t) == expected_count for i, t in enumerate(tokens)
        ) or bool(re.search(rf"\b{words.get(expected_count, '@@')}\b", text))
        if avg_idx and count_ok:
            return {"result": "complete", "expected_average": expected_avg, "expected_count": expected_count}
        return {
            "result": "others",
            "reason": "answer does not state the expected average and review count",
            "expected_average": expected_avg,
            "expected_count": expected_count,
        }
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
