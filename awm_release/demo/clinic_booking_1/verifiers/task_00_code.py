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
        # Leo is the logged-in user's child profile.
        leo = query(
            initial_db_path,
            "SELECT id FROM patients WHERE account_user_id = 1 AND lower(first_name) = 'leo' AND relationship = 'child'",
        )
        doctor = query(initial_db_path, "SELECT id, specialty_id FROM practitioners WHERE full_name LIKE '%Elena Vasquez%'")
        if len(leo) != 1 or len(doctor) != 1:
            return {"result": "others", "reason": "could not resolve Leo or Dr. Vasquez"}
        leo_id = leo[0]["id"]
        doctor_id = doctor[0]["id"]
        reason = query(
            initial_db_path,
            "SELECT id FROM visit_reasons WHERE specialty_id = ? AND lower(name) = 'well-child visit'",
            (doctor[0]["specialty_id"],),
        )
        if len(reason) != 1:
            return {"result": "others", "reason": "visit reason not found"}
        reason_id = reason[0]["id"]

        # Earliest in-person slot that was available on 2027-03-10 before the episode.
        slots = query(
            initial_db_path,
            "SELECT id FROM availability_slots WHERE practitioner_id = ? AND date(start_time) = '2027-03-10' "
            "AND visit_mode = 'in_person' AND status = 'available' ORDER BY start_time ASC, id ASC",
            (doctor_id,),
        )
        if not slots:
            return {"result": "others", "reason": "no qualifying slot in initial data"}
        expected_slot = slots[0]["id"]

        cols = "id, patient_id, practitioner_id, slot_id, visit_reason_id, status, cancellation_reason"
        init_appts = {r["id"]: r for r in query(initial_db_path, f"SELECT {cols} FROM appointments")}
        final_appts = {r["id"]: r for r in query(final_db_path, f"SELECT {cols} FROM appointments")}

        # Existing appointments must be untouched.
        for aid, row in init_appts.items():
            if final_appts.get(aid) != row:
                return {"result": "others", "reason": f"existing appointment {aid} was changed or removed"}

        new_rows = [r for aid, r in final_appts.items() if aid not in init_appts]
        if len(new_rows) != 1:
            return {"result": "others", "reason": f"expected exactly one new appointment, found {len(new_rows)}"}
        appt = new_rows[0]
        if appt["patient_id"] != leo_id:
            return {"result": "others", "reason": "appointment is not for Leo"}
        if appt["practitioner_id"] != doctor_id:
            return {"result": "others", "reason": "wrong practitioner"}
        if appt["slot_id"] != expected_slot:
            return {"result": "others", "reason": "not the earliest available in-person slot on 2027-03-10"}
        if appt["visit_reason_id"] != reason_id:
            return {"result": "others", "reason": "wrong visit reason"}
        if appt["status"] != "scheduled":
            return {"result": "others", "reason": "appointment is not scheduled"}

        # Slot bookkeeping: the booked slot is no longer available, nothing else moved.
        init_slots = {r["id"]: r["status"] for r in query(initial_db_path, "SELECT id, status FROM availability_slots")}
        final_slots = {r["id"]: r["status"] for r in query(final_db_path, "SELECT id, status FROM availability_slots")}
        if final_slots.get(expected_slot) != "booked":
            return {"result": "others", "reason": "booked slot is still marked available"}
        for sid, status in init_slots.items():
            if sid != expected_slot and final_slots.get(sid) != status:
                return {"result": "others", "reason": f"slot {sid} changed unexpectedly"}

        return {"result": "complete"}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
