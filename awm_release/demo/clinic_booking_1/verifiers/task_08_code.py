def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3
    import re

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    def mentions(text, surname):
        return re.search(r"\b" + re.escape(surname.lower()) + r"\b", text) is not None

    try:
        for table in ("availability_slots", "appointments", "patients", "reviews"):
            sql = f"SELECT * FROM {table} ORDER BY id"
            if query(initial_db_path, sql) != query(final_db_path, sql):
                return {"result": "others", "reason": f"table {table} was modified"}

        family = query(
            initial_db_path,
            "SELECT p.id, p.full_name, p.languages, p.accepts_new_patients FROM practitioners p "
            "JOIN specialties s ON s.id = p.specialty_id WHERE lower(s.name) = 'family medicine'",
        )
        best = None
        for p in family:
            if p["accepts_new_patients"] != 1 or "spanish" not in (p["languages"] or "").lower():
                continue
            slot = query(
                initial_db_path,
                "SELECT MIN(start_time) AS t FROM availability_slots WHERE practitioner_id = ? "
                "AND date(start_time) = '2027-03-10' AND visit_mode = 'in_person' AND status = 'available'",
                (p["id"],),
            )[0]["t"]
            if slot is not None and (best is None or slot < best[1]):
                best = (p, slot)
        if best is None:
            return {"result": "others", "reason": "no qualifying practitioner"}
        expected = best[0]

        if not final_answer:
            return {"result": "others", "reason": "no final answer"}
        answer = final_answer.lower()
        if not mentions(answer, expected["full_name"].split()[-1]):
            return {"result": "others", "reason": "expected practitioner not named", "expected": expected["full_name"]}
        for p in family:
            if p["id"] != expected["id"] and mentions(answer, p["full_name"].split()[-1]):
                return {"result": "others", "reason": "answer also names another practitioner"}
        return {"result": "complete", "expected": expected["full_name"]}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
