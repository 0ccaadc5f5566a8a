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
        # Read-only task: the database must be unchanged.
        for table in ("patients", "appointments", "availability_slots", "reviews", "practitioners", "practitioner_insurance_plans"):
            sql = f"SELECT * FROM {table} ORDER BY 1, 2"
            if query(initial_db_path, sql) != query(final_db_path, sql):
                return {"result": "others", "reason": f"table {table} was modified"}

        me = query(
            initial_db_path,
            "SELECT insurance_plan_id FROM patients WHERE account_user_id = 1 AND relationship = 'self'",
        )
        if len(me) != 1 or me[0]["insurance_plan_id"] is None:
            return {"result": "others", "reason": "user's insurance plan not found"}
        plan_id = me[0]["insurance_plan_id"]

        cardiologists = query(
            initial_db_path,
            "SELECT p.id, p.full_name, p.rating_avg, p.rating_count, "
            "EXISTS (SELECT 1 FROM practitioner_insurance_plans pip WHERE pip.practitioner_id = p.id AND pip.insurance_plan_id = ?) AS accepts "
            "FROM practitioners p JOIN specialties s ON s.id = p.specialty_id WHERE lower(s.name) = 'cardiology'",
            (plan_id,),
        )
        eligible = [c for c in cardiologists if c["accepts"] and c["rating_avg"] is not None]
        if not eligible:
            return {"result": "others", "reason": "no eligible cardiologist"}
        eligible.sort(key=lambda c: (-c["rating_avg"], -(c["rating_count"] or 0), c["id"]))
        expected = eligible[0]

        if not final_answer:
            return {"result": "others", "reason": "no final answer"}
        answer = final_answer.lower()
        expected_surname = expected["full_name"].split()[-1]
        if not mentions(answer, expected_surname):
            return {"result": "others", "reason": "expected practitioner not named", "expected": expected["full_name"]}
        for c in cardiologists:
            if c["id"] != expected["id"] and mentions(answer, c["full_name"].split()[-1]):
                return {"result": "others", "reason": "answer also names another cardiologist"}
        return {"result": "complete", "expected": expected["full_name"]}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
