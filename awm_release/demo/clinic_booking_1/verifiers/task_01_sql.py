def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def fetch(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    result = {}
    doctor = fetch(initial_db_path, "SELECT id, full_name FROM practitioners WHERE full_name LIKE '%Priya Raman%'")
    doctor_id = doctor[0]["id"] if doctor else None
    result["practitioner"] = doctor
    appt_sql = (
        "SELECT a.id, a.patient_id, a.slot_id, s.start_time, s.visit_mode, v.name AS visit_reason, a.status, a.cancellation_reason "
        "FROM appointments a JOIN patients pt ON pt.id = a.patient_id JOIN availability_slots s ON s.id = a.slot_id "
        "JOIN visit_reasons v ON v.id = a.visit_reason_id "
        "WHERE pt.account_user_id = 1 AND pt.relationship = 'self' AND a.practitioner_id = ? ORDER BY a.id"
    )
    result["my_appointments_with_raman_initial"] = fetch(initial_db_path, appt_sql, (doctor_id,))
    result["my_appointments_with_raman_final"] = fetch(final_db_path, appt_sql, (doctor_id,))
    slot_sql = "SELECT id, start_time, visit_mode, status FROM availability_slots WHERE practitioner_id = ? ORDER BY start_time"
    result["raman_slots_initial"] = fetch(initial_db_path, slot_sql, (doctor_id,))
    result["raman_slots_final"] = fetch(final_db_path, slot_sql, (doctor_id,))
    candidates = [
        s for s in result["raman_slots_initial"]
        if s["start_time"].startswith("2027-03-11") and s["visit_mode"] == "in_person" and s["status"] == "available"
    ]
    result["expected_new_slot_id"] = candidates[-1]["id"] if candidates else None
    other_sql = "SELECT id, patient_id, practitioner_id, slot_id, status FROM appointments WHERE practitioner_id <> ? ORDER BY id"
    result["other_practitioners_appointments_unchanged"] = fetch(initial_db_path, other_sql, (doctor_id,)) == fetch(final_db_path, other_sql, (doctor_id,))
    return result
