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
    max_patient = fetch(initial_db_path, "SELECT COALESCE(MAX(id), 0) AS m FROM patients")[0]["m"]
    max_appt = fetch(initial_db_path, "SELECT COALESCE(MAX(id), 0) AS m FROM appointments")[0]["m"]
    result["bcbs_plan"] = fetch(initial_db_path, "SELECT id, plan_name FROM insurance_plans WHERE carrier = 'Blue Cross Blue Shield'")
    result["new_patients"] = fetch(
        final_db_path,
        "SELECT id, account_user_id, first_name, last_name, relationship, date_of_birth, sex, insurance_plan_id, insurance_member_id "
        "FROM patients WHERE id > ?",
        (max_patient,),
    )
    doctor = fetch(initial_db_path, "SELECT id, full_name FROM practitioners WHERE full_name LIKE '%Samuel Okafor%'")
    doctor_id = doctor[0]["id"] if doctor else None
    result["practitioner"] = doctor
    slot_sql = (
        "SELECT id, start_time, visit_mode, status FROM availability_slots WHERE practitioner_id = ? "
        "AND date(start_time) = '2027-03-09' ORDER BY start_time"
    )
    result["okafor_slots_2027_03_09_initial"] = fetch(initial_db_path, slot_sql, (doctor_id,))
    result["okafor_slots_2027_03_09_final"] = fetch(final_db_path, slot_sql, (doctor_id,))
    video = [s for s in result["okafor_slots_2027_03_09_initial"] if s["visit_mode"] == "video" and s["status"] == "available"]
    result["expected_slot_id"] = video[0]["id"] if video else None
    result["new_appointments"] = fetch(
        final_db_path,
        "SELECT a.id, a.patient_id, a.practitioner_id, a.slot_id, s.start_time, s.visit_mode, v.name AS visit_reason, a.status "
        "FROM appointments a JOIN availability_slots s ON s.id = a.slot_id JOIN visit_reasons v ON v.id = a.visit_reason_id WHERE a.id > ?",
        (max_appt,),
    )
    return result
