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

    def norm(text):
        text = (text or "").lower()
        text = re.sub(r"[^a-z0-9]+", " ", text)
        return " ".join(text.split())

    try:
        me = query(initial_db_path, "SELECT id FROM patients WHERE account_user_id = 1 AND relationship = 'self'")
        doctor = query(initial_db_path, "SELECT id FROM practitioners WHERE full_name LIKE '%Hannah Kim%'")
        if len(me) != 1 or len(doctor) != 1:
            return {"result": "others", "reason": "could not resolve patient or practitioner"}
        doctor_id = doctor[0]["id"]
        targets = query(
            initial_db_path,
            "SELECT a.id FROM appointments a JOIN visit_reasons v ON v.id = a.visit_reason_id "
            "WHERE a.patient_id = ? AND a.practitioner_id = ? AND a.status = 'completed' AND lower(v.name) = 'annual physical'",
            (me[0]["id"], doctor_id),
        )
        if len(targets) != 1:
            return {"result": "others", "reason": "completed annual physical not found"}
        target_id = targets[0]["id"]

        cols = "id, practitioner_id, user_id, appointment_id, rating, comment"
        init_reviews = {r["id"]: r for r in query(initial_db_path, f"SELECT {cols} FROM reviews")}
        final_reviews = {r["id"]: r for r in query(final_db_path, f"SELECT {cols} FROM reviews")}
        for rid, row in init_reviews.items():
            if final_reviews.get(rid) != row:
                return {"result": "others", "reason": f"existing review {rid} was changed or deleted"}
        new_rows = [r for rid, r in final_reviews.items() if rid not in init_reviews]
        if len(new_rows) != 1:
            return {"result": "others", "reason": f"expected exactly one new review, found {len(new_rows)}"}
        review = new_rows[0]
        if review["practitioner_id"] != doctor_id or review["user_id"] != 1:
            return {"result": "others", "reason": "review is for the wrong practitioner or user"}
        if review["appointment_id"] != target_id:
            return {"result": "others", "reason": "review is not attached to the annual physical"}
        if review["rating"] != 5:
            return {"result": "others", "reason": "rating is not 5"}
        if norm("Thorough, unhurried and genuinely kind.") not in norm(review["comment"]):
            return {"result": "others", "reason": "comment text does not match"}

        sql = "SELECT id, patient_id, slot_id, visit_reason_id, status FROM appointments ORDER BY id"
        if query(initial_db_path, sql) != query(final_db_path, sql):
            return {"result": "others", "reason": "appointments changed"}
        return {"result": "complete"}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
