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
        return " ".join(re.sub(r"[^a-z0-9]+", " ", (text or "").lower()).split())

    try:
        me = query(initial_db_path, "SELECT id FROM patients WHERE account_user_id = 1 AND relationship = 'self'")
        if len(me) != 1:
            return {"result": "others", "reason": "self profile not found"}
        targets = query(
            initial_db_path,
            "SELECT a.id, a.slot_id FROM appointments a JOIN availability_slots s ON s.id = a.slot_id "
            "WHERE a.patient_id = ? AND a.status = 'scheduled' AND date(s.start_time) = '2027-03-12'",
            (me[0]["id"],),
        )
        if not targets:
            return {"result": "others", "reason": "no target appointments in initial data"}
        target_ids = {t["id"] for t in targets}
        target_slots = {t["slot_id"] for t in targets}

        cols = "id, patient_id, practitioner_id, slot_id, visit_reason_id, status, notes, cancellation_reason, cancelled_at"
        init_appts = {r["id"]: r for r in query(initial_db_path, f"SELECT {cols} FROM appointments")}
        final_appts = {r["id"]: r for r in query(final_db_path, f"SELECT {cols} FROM appointments")}
        if set(init_appts) != set(final_appts):
            return {"result": "others", "reason": "appointments were added or removed"}

        for aid in target_ids:
            row = final_appts[aid]
            if row["status"] != "cancelled":
                return {"result": "others", "reason": f"appointment {aid} was not cancelled"}
            if norm(row["cancellation_reason"]) != "out of town":
                return {"result": "others", "reason": f"appointment {aid} has the wrong cancellation reason"}
            if row["slot_id"] != init_appts[aid]["slot_id"]:
                return {"result": "others", "reason": f"appointment {aid} was moved"}

        for aid, row in init_appts.items():
            if aid not in target_ids and final_appts[aid] != row:
                return {"result": "others", "reason": f"appointment {aid} should not have changed"}

        init_slots = {r["id"]: r["status"] for r in query(initial_db_path, "SELECT id, status FROM availability_slots")}
        final_slots = {r["id"]: r["status"] for r in query(final_db_path, "SELECT id, status FROM availability_slots")}
        for sid, status in init_slots.items():
            if sid in target_slots:
                if final_slots.get(sid) != "available":
                    return {"result": "others", "reason": f"slot {sid} was not released"}
            elif final_slots.get(sid) != status:
                return {"result": "others", "reason": f"slot {sid} changed unexpectedly"}
        return {"result": "complete", "cancelled": sorted(target_ids)}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
