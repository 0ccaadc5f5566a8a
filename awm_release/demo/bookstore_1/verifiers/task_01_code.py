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
        return " ".join(re.sub(r"[^a-z0-9.]+", " ", text.lower()).split())

    def numbers(text):
        return [float(n) for n in re.findall(r"\d+(?:\.\d+)?", text.replace(",", ""))]

    try:
        # Cheapest fantasy hardcover with at least one copy in stock (read-only question).
        rows = query(
            initial_db_path,
            "SELECT b.title, e.price FROM book_editions e "
            "JOIN books b ON b.id = e.book_id JOIN genres g ON g.id = b.genre_id "
            "WHERE g.name = 'Fantasy' AND e.format = 'hardcover' AND e.stock_quantity > 0 "
            "ORDER BY e.price ASC, e.id ASC",
        )
        if not rows:
            return {"result": "others", "reason": "no in-stock fantasy hardcover in initial db"}
        expected_title, expected_price = rows[0][0], float(rows[0][1])

        # The database must be left untouched.
        tables = ["cart_items", "orders", "order_items", "wishlist_items", "reviews", "shipping_addresses", "book_editions"]
        for table in tables:
            sql = f"SELECT * FROM {table} ORDER BY id"
            if query(initial_db_path, sql) != query(final_db_path, sql):
                return {"result": "others", "reason": f"{table} changed during a read-only task"}

        if not final_answer:
            return {"result": "others", "reason": "no final answer"}
        answer = normalize(final_answer)
        title_ok = normalize(expected_title) in answer
        price_ok = any(abs(n - expected_price) < 0.005 for n in numbers(final_answer))
        if title_ok and price_ok:
            return {"result": "complete", "expected_title": expected_title, "expected_price": expected_price}
        return {
            "result": "others",
            "reason": "answer does not state the expected title and price",
            "expected_title": expected_title,
            "expected_price": expected_price,
        }
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
