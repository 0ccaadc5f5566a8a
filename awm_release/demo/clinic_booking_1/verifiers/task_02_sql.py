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
    sql = (
        "SELECT a.id, pt.first_name AS patient_first_name, p.full_name AS practitioner, a.slot_id, a.visit_reason_id, "
        "v.name AS visit_reason, a.status, a.notes FROM appointments a JOIN patients pt ON pt.id = a.patient_id "
        "JOIN practitioners p ON p.id = a.practitioner_id JOIN visit_reasons v ON v.id = a.visit_reason_id "
        "WHERE pt.account_user_id = 1 AND lower(pt.first_name) = 'ethan' ORDER BY a.id"
    )
    result["ethan_appointments_initial"] = fetch(initial_db_path, sql)
    result["ethan_appointments_final"] = fetch(final_db_path, sql)
    result["cardiology_visit_reasons"] = fetch(
        initial_db_path,
        "SELECT v.id, v.name FROM visit_reasons v JOIN specialties s ON s.id = v.specialty_id WHERE lower(s.name) = 'cardiology'",
    )
    result["requested_note"] = "Home readings have been around 150/95 this week."
    all_sql = "SELECT id, patient_id, slot_id, visit_reason_id, status, notes FROM appointments ORDER BY id"
    before = {r["id"]: r for r in fetch(initial_db_path, all_sql)}
    after = {r["id"]: r for r in fetch(final_db_path, all_sql)}
    result["changed_appointment_ids"] = sorted(i for i in set(before) | set(after) if before.get(i) != after.get(i))
    slot_sql = "SELECT id, status FROM availability_slots ORDER BY id"
    result["slot_statuses_unchanged"] = fetch(initial_db_path, slot_sql) == fetch(final_db_path, slot_sql)
    return result
