def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    try:
        me = query(initial_db_path, "SELECT id FROM patients WHERE account_user_id = 1 AND relationship = 'self'")
        doctor = query(initial_db_path, "SELECT id FROM practitioners WHERE full_name LIKE '%Priya Raman%'")
        if len(me) != 1 or len(doctor) != 1:
            return {"result": "others", "reason": "could not resolve patient or practitioner"}
        me_id = me[0]["id"]
        doctor_id = doctor[0]["id"]

        originals = query(
            initial_db_path,
            "SELECT a.id, a.slot_id, a.visit_reason_id FROM appointments a "
            "JOIN visit_reasons v ON v.id = a.visit_reason_id "
            "WHERE a.patient_id = ? AND a.practitioner_id = ? AND a.status = 'scheduled' "
            "AND lower(v.name) = 'skin cancer screening'",
            (me_id, doctor_id),
        )
        if len(originals) != 1:
            return {"result": "others", "reason": "original appointment not found"}
        original = originals[0]

        # Latest in-person slot available on Thursday 2027-03-11 before the episode.
        slots = query(
            initial_db_path,
            "SELECT id FROM availability_slots WHERE practitioner_id = ? AND date(start_time) = '2027-03-11' "
            "AND visit_mode = 'in_person' AND status = 'available' ORDER BY start_time DESC, id DESC",
            (doctor_id,),
        )
        if not slots:
            return {"result": "others", "reason": "no qualifying slot in initial data"}
        expected_slot = slots[0]["id"]
        old_slot = original["slot_id"]

        cols = "id, patient_id, practitioner_id, slot_id, visit_reason_id, status"
        init_appts = {r["id"]: r for r in query(initial_db_path, f"SELECT {cols} FROM appointments")}
        final_appts = {r["id"]: r for r in query(final_db_path, f"SELECT {cols} FROM appointments")}
        new_ids = [aid for aid in final_appts if aid not in init_appts]

        moved = final_appts.get(original["id"])
        if moved is None:
            return {"result": "others", "reason": "original appointment was deleted"}

        if moved["status"] == "scheduled":
            # Path A: the appointment itself was moved.
            if new_ids:
                return {"result": "others", "reason": "unexpected new appointments"}
            if moved["slot_id"] != expected_slot:
                return {"result": "others", "reason": "appointment is not in the latest in-person slot on 2027-03-11"}
            if moved["practitioner_id"] != doctor_id or moved["visit_reason_id"] != original["visit_reason_id"]:
                return {"result": "others", "reason": "practitioner or visit reason changed"}
        elif moved["status"] == "cancelled":
            # Path B: cancelled and re-booked into the expected slot with the same reason.
            if len(new_ids) != 1:
                return {"result": "others", "reason": "original cancelled without exactly one replacement"}
            repl = final_appts[new_ids[0]]
            if (
                repl["patient_id"] != me_id
                or repl["practitioner_id"] != doctor_id
                or repl["slot_id"] != expected_slot
                or repl["visit_reason_id"] != original["visit_reason_id"]
                or repl["status"] != "scheduled"
            ):
                return {"result": "others", "reason": "replacement appointment does not match"}
        else:
            return {"result": "others", "reason": f"original appointment has status {moved['status']}"}

        for aid, row in init_appts.items():
            if aid != original["id"] and final_appts.get(aid) != row:
                return {"result": "others", "reason": f"appointment {aid} changed unexpectedly"}

        init_slots = {r["id"]: r["status"] for r in query(initial_db_path, "SELECT id, status FROM availability_slots")}
        final_slots = {r["id"]: r["status"] for r in query(final_db_path, "SELECT id, status FROM availability_slots")}
        if final_slots.get(expected_slot) != "booked":
            return {"result": "others", "reason": "new slot is not marked booked"}
        if final_slots.get(old_slot) != "available":
            return {"result": "others", "reason": "old slot was not released"}
        for sid, status in init_slots.items():
            if sid not in (expected_slot, old_slot) and final_slots.get(sid) != status:
                return {"result": "others", "reason": f"slot {sid} changed unexpectedly"}

        return {"result": "complete"}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
