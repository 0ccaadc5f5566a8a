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
        text = re.sub(r"[^a-z0-9/]+", " ", text)
        return " ".join(text.split())

    try:
        ethan = query(initial_db_path, "SELECT id FROM patients WHERE account_user_id = 1 AND lower(first_name) = 'ethan'")
        doctor = query(initial_db_path, "SELECT id, specialty_id FROM practitioners WHERE full_name LIKE '%Robert Chen%'")
        if len(ethan) != 1 or len(doctor) != 1:
            return {"result": "others", "reason": "could not resolve Ethan or Dr. Chen"}
        targets = query(
            initial_db_path,
            "SELECT id, slot_id FROM appointments WHERE patient_id = ? AND practitioner_id = ? AND status = 'scheduled'",
            (ethan[0]["id"], doctor[0]["id"]),
        )
        if len(targets) != 1:
            return {"result": "others", "reason": "target appointment not found"}
        target = targets[0]
        reason = query(
            initial_db_path,
            "SELECT id FROM visit_reasons WHERE specialty_id = ? AND lower(name) = 'blood pressure check'",
            (doctor[0]["specialty_id"],),
        )
        if len(reason) != 1:
            return {"result": "others", "reason": "visit reason not found"}

        cols = "id, patient_id, practitioner_id, slot_id, visit_reason_id, status, notes, cancellation_reason"
        init_appts = {r["id"]: r for r in query(initial_db_path, f"SELECT {cols} FROM appointments")}
        final_appts = {r["id"]: r for r in query(final_db_path, f"SELECT {cols} FROM appointments")}
        if set(final_appts) != set(init_appts):
            return {"result": "others", "reason": "appointments were added or removed"}

        row = final_appts[target["id"]]
        if row["status"] != "scheduled" or row["slot_id"] != target["slot_id"]:
            return {"result": "others", "reason": "appointment was cancelled or moved"}
        if row["visit_reason_id"] != reason[0]["id"]:
            return {"result": "others", "reason": "visit reason not changed to Blood Pressure Check"}
        if norm("Home readings have been around 150/95 this week") not in norm(row["notes"]):
            return {"result": "others", "reason": "note text missing"}

        for aid, r in init_appts.items():
            if aid != target["id"] and final_appts[aid] != r:
                return {"result": "others", "reason": f"appointment {aid} changed unexpectedly"}

        init_slots = query(initial_db_path, "SELECT id, status FROM availability_slots ORDER BY id")
        final_slots = query(final_db_path, "SELECT id, status FROM availability_slots ORDER BY id")
        if init_slots != final_slots:
            return {"result": "others", "reason": "slot statuses changed"}

        return {"result": "complete"}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
