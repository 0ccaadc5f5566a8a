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
    result["my_completed_appointments_with_kim"] = fetch(
        initial_db_path,
        "SELECT a.id, v.name AS visit_reason, s.start_time, a.status FROM appointments a "
        "JOIN patients pt ON pt.id = a.patient_id JOIN practitioners p ON p.id = a.practitioner_id "
        "JOIN visit_reasons v ON v.id = a.visit_reason_id JOIN availability_slots s ON s.id = a.slot_id "
        "WHERE pt.account_user_id = 1 AND pt.relationship = 'self' AND p.full_name LIKE '%Hannah Kim%' AND a.status = 'completed'",
    )
    max_id = fetch(initial_db_path, "SELECT COALESCE(MAX(id), 0) AS m FROM reviews")[0]["m"]
    result["new_reviews"] = fetch(
        final_db_path,
        "SELECT r.id, r.practitioner_id, p.full_name AS practitioner, r.user_id, r.appointment_id, r.rating, r.comment "
        "FROM reviews r JOIN practitioners p ON p.id = r.practitioner_id WHERE r.id > ?",
        (max_id,),
    )
    sql = "SELECT id, practitioner_id, user_id, appointment_id, rating, comment FROM reviews WHERE id <= ? ORDER BY id"
    result["existing_reviews_unchanged"] = fetch(initial_db_path, sql, (max_id,)) == fetch(final_db_path, sql, (max_id,))
    kim_sql = "SELECT rating_avg, rating_count FROM practitioners WHERE full_name LIKE '%Hannah Kim%'"
    result["kim_rating_initial"] = fetch(initial_db_path, kim_sql)
    result["kim_rating_final"] = fetch(final_db_path, kim_sql)
    result["requested_comment"] = "Thorough, unhurried and genuinely kind."
    return result
