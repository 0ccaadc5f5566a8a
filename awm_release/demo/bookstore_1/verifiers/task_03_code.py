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
        cols = "id, label, recipient_name, line1, line2, city, state, postal_code, country, is_default"
        sql = f"SELECT {cols} FROM shipping_addresses WHERE user_id = 1 ORDER BY id"
        initial_rows = query(initial_db_path, sql)
        final_rows = query(final_db_path, sql)
        initial_by_id = {row[0]: row for row in initial_rows}
        final_by_id = {row[0]: row for row in final_rows}

        new_rows = [row for rid, row in final_by_id.items() if rid not in initial_by_id]
        if len(new_rows) != 1:
            return {"result": "others", "reason": f"expected exactly one new address, found {len(new_rows)}"}
        _, label, recipient, line1, line2, city, state, postal_code, country, is_default = new_rows[0]

        line1_norm = normalize(line1).replace(" road", " rd")
        checks = {
            "label": normalize(label) == "cabin",
            "recipient_name": normalize(recipient) == "jordan avery",
            "line1": line1_norm == "48 pine ridge rd",
            "line2": not (line2 or "").strip(),
            "city": normalize(city) == "bend",
            "state": normalize(state) in ("or", "oregon"),
            "postal_code": normalize(postal_code) in ("97701",),
            "country": normalize(country) in ("us", "usa", "united states", "united states of america"),
            "is_default": is_default == 1,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            return {"result": "others", "reason": "new address fields do not match", "failed_checks": failed}

        # Every previously saved address still exists, unchanged except that none is default any more.
        for rid, row in initial_by_id.items():
            final_row = final_by_id.get(rid)
            if final_row is None:
                return {"result": "others", "reason": f"address {rid} was deleted"}
            if final_row[:-1] != row[:-1]:
                return {"result": "others", "reason": f"address {rid} was modified"}
            if final_row[-1] != 0:
                return {"result": "others", "reason": f"address {rid} is still marked default"}

        return {"result": "complete"}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
