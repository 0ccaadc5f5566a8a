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
        plan = query(initial_db_path, "SELECT id FROM insurance_plans WHERE lower(plan_name) = 'blue cross blue shield bluecard ppo'")
        doctor = query(initial_db_path, "SELECT id, specialty_id FROM practitioners WHERE full_name LIKE '%Samuel Okafor%'")
        if len(plan) != 1 or len(doctor) != 1:
            return {"result": "others", "reason": "could not resolve plan or practitioner"}
        doctor_id = doctor[0]["id"]
        reason = query(
            initial_db_path,
            "SELECT id FROM visit_reasons WHERE specialty_id = ? AND lower(name) = 'sick visit'",
            (doctor[0]["specialty_id"],),
        )
        slots = query(
            initial_db_path,
            "SELECT id FROM availability_slots WHERE practitioner_id = ? AND date(start_time) = '2027-03-09' "
            "AND visit_mode = 'video' AND status = 'available' ORDER BY start_time ASC, id ASC",
            (doctor_id,),
        )
        if len(reason) != 1 or not slots:
            return {"result": "others", "reason": "visit reason or slot not found in initial data"}
        expected_slot = slots[0]["id"]

        # 1) Exactly one new dependent: Ava Thompson.
        pcols = "id, account_user_id, first_name, last_name, relationship, date_of_birth, sex, insurance_plan_id, insurance_member_id"
        init_pat = {r["id"]: r for r in query(initial_db_path, f"SELECT {pcols} FROM patients")}
        final_pat = {r["id"]: r for r in query(final_db_path, f"SELECT {pcols} FROM patients")}
        for pid, row in init_pat.items():
            if final_pat.get(pid) != row:
                return {"result": "others", "reason": f"existing patient {pid} changed"}
        new_pat = [r for pid, r in final_pat.items() if pid not in init_pat]
        if len(new_pat) != 1:
            return {"result": "others", "reason": f"expected one new patient profile, found {len(new_pat)}"}
        ava = new_pat[0]
        if ava["account_user_id"] != 1:
            return {"result": "others", "reason": "dependent not on the user's account"}
        if (ava["first_name"] or "").strip().lower() != "ava" or (ava["last_name"] or "").strip().lower() != "thompson":
            return {"result": "others", "reason": "dependent name mismatch"}
        if ava["relationship"] != "child" or str(ava["date_of_birth"] or "")[:10] != "2022-03-14":
            return {"result": "others", "reason": "relationship or date of birth mismatch"}
        if (ava["sex"] or "").lower() != "female":
            return {"result": "others", "reason": "sex mismatch"}
        if ava["insurance_plan_id"] != plan[0]["id"] or (ava["insurance_member_id"] or "").strip().upper() != "BCB448120575":
            return {"result": "others", "reason": "insurance mismatch"}

        # 2) Exactly one new appointment for Ava in the first video slot on 2027-03-09.
        acols = "id, patient_id, practitioner_id, slot_id, visit_reason_id, status"
        init_appts = {r["id"]: r for r in query(initial_db_path, f"SELECT {acols} FROM appointments")}
        final_appts = {r["id"]: r for r in query(final_db_path, f"SELECT {acols} FROM appointments")}
        for aid, row in init_appts.items():
            if final_appts.get(aid) != row:
                return {"result": "others", "reason": f"existing appointment {aid} changed"}
        new_appts = [r for aid, r in final_appts.items() if aid not in init_appts]
        if len(new_appts) != 1:
            return {"result": "others", "reason": f"expected one new appointment, found {len(new_appts)}"}
        appt = new_appts[0]
        if appt["patient_id"] != ava["id"] or appt["practitioner_id"] != doctor_id:
            return {"result": "others", "reason": "appointment patient or practitioner mismatch"}
        if appt["slot_id"] != expected_slot:
            return {"result": "others", "reason": "not the first available video slot on 2027-03-09"}
        if appt["visit_reason_id"] != reason[0]["id"] or appt["status"] != "scheduled":
            return {"result": "others", "reason": "visit reason or status mismatch"}

        init_slots = {r["id"]: r["status"] for r in query(initial_db_path, "SELECT id, status FROM availability_slots")}
        final_slots = {r["id"]: r["status"] for r in query(final_db_path, "SELECT id, status FROM availability_slots")}
        if final_slots.get(expected_slot) != "booked":
            return {"result": "others", "reason": "slot not marked booked"}
        for sid, status in init_slots.items():
            if sid != expected_slot and final_slots.get(sid) != status:
                return {"result": "others", "reason": f"slot {sid} changed unexpectedly"}
        return {"result": "complete"}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
