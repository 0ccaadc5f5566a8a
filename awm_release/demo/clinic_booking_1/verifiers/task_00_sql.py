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
    leo = fetch(initial_db_path, "SELECT id, first_name, last_name, relationship FROM patients WHERE account_user_id = 1 AND lower(first_name) = 'leo'")
    doctor = fetch(initial_db_path, "SELECT id, full_name, specialty_id FROM practitioners WHERE full_name LIKE '%Elena Vasquez%'")
    result["leo_profile"] = leo
    result["practitioner"] = doctor
    doctor_id = doctor[0]["id"] if doctor else None
    result["well_child_reason"] = fetch(
        initial_db_path,
        "SELECT v.id, v.name, v.is_telehealth_eligible FROM visit_reasons v JOIN practitioners p ON p.specialty_id = v.specialty_id "
        "WHERE p.id = ? AND lower(v.name) = 'well-child visit'",
        (doctor_id,),
    )
    slot_sql = (
        "SELECT id, start_time, visit_mode, status FROM availability_slots WHERE practitioner_id = ? "
        "AND date(start_time) = '2027-03-10' ORDER BY start_time"
    )
    result["slots_2027_03_10_initial"] = fetch(initial_db_path, slot_sql, (doctor_id,))
    result["slots_2027_03_10_final"] = fetch(final_db_path, slot_sql, (doctor_id,))
    candidates = [s for s in result["slots_2027_03_10_initial"] if s["visit_mode"] == "in_person" and s["status"] == "available"]
    result["expected_slot_id"] = candidates[0]["id"] if candidates else None

    max_id = fetch(initial_db_path, "SELECT COALESCE(MAX(id), 0) AS m FROM appointments")[0]["m"]
    result["new_appointments"] = fetch(
        final_db_path,
        "SELECT a.id, a.patient_id, pt.first_name AS patient_first_name, a.practitioner_id, a.slot_id, s.start_time, s.visit_mode, "
        "a.visit_reason_id, v.name AS visit_reason, a.status FROM appointments a "
        "JOIN patients pt ON pt.id = a.patient_id JOIN availability_slots s ON s.id = a.slot_id "
        "JOIN visit_reasons v ON v.id = a.visit_reason_id WHERE a.id > ?",
        (max_id,),
    )
    cols = "SELECT id, patient_id, practitioner_id, slot_id, visit_reason_id, status FROM appointments WHERE id <= ? ORDER BY id"
    result["existing_appointments_unchanged"] = fetch(initial_db_path, cols, (max_id,)) == fetch(final_db_path, cols, (max_id,))
    return result
