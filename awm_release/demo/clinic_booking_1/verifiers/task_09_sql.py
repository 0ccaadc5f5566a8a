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
        "SELECT a.id, pt.first_name AS patient_first_name, pt.relationship, p.full_name AS practitioner, a.slot_id, "
        "s.start_time, s.status AS slot_status, a.status, a.cancellation_reason FROM appointments a "
        "JOIN patients pt ON pt.id = a.patient_id JOIN practitioners p ON p.id = a.practitioner_id "
        "JOIN availability_slots s ON s.id = a.slot_id WHERE pt.account_user_id = 1 AND date(s.start_time) = '2027-03-12' ORDER BY a.id"
    )
    result["family_appointments_2027_03_12_initial"] = fetch(initial_db_path, sql)
    result["family_appointments_2027_03_12_final"] = fetch(final_db_path, sql)
    result["expected_cancelled_ids"] = [
        r["id"] for r in result["family_appointments_2027_03_12_initial"] if r["relationship"] == "self" and r["status"] == "scheduled"
    ]
    all_sql = "SELECT id, patient_id, slot_id, visit_reason_id, status, cancellation_reason FROM appointments ORDER BY id"
    before = {r["id"]: r for r in fetch(initial_db_path, all_sql)}
    after = {r["id"]: r for r in fetch(final_db_path, all_sql)}
    result["changed_appointment_ids"] = sorted(i for i in set(before) | set(after) if before.get(i) != after.get(i))
    slot_sql = "SELECT id, status FROM availability_slots ORDER BY id"
    s_before = {r["id"]: r["status"] for r in fetch(initial_db_path, slot_sql)}
    s_after = {r["id"]: r["status"] for r in fetch(final_db_path, slot_sql)}
    result["slot_status_changes"] = {str(i): [s_before.get(i), s_after.get(i)] for i in s_before if s_before.get(i) != s_after.get(i)}
    return result
