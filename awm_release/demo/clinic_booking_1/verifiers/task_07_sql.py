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
    doctor = fetch(initial_db_path, "SELECT id, full_name, credential FROM practitioners WHERE full_name LIKE '%Jordan Avery%'")
    doctor_id = doctor[0]["id"] if doctor else None
    result["practitioner"] = doctor
    result["all_slots"] = fetch(
        initial_db_path,
        "SELECT id, start_time, visit_mode, status FROM availability_slots WHERE practitioner_id = ? ORDER BY start_time",
        (doctor_id,),
    )
    result["expected_count"] = fetch(
        initial_db_path,
        "SELECT COUNT(*) AS n FROM availability_slots WHERE practitioner_id = ? AND visit_mode = 'video' AND status = 'available' "
        "AND date(start_time) BETWEEN '2027-03-08' AND '2027-03-12'",
        (doctor_id,),
    )[0]["n"]
    sql = "SELECT * FROM availability_slots ORDER BY id"
    result["slots_unchanged"] = fetch(initial_db_path, sql) == fetch(final_db_path, sql)
    sql = "SELECT * FROM appointments ORDER BY id"
    result["appointments_unchanged"] = fetch(initial_db_path, sql) == fetch(final_db_path, sql)
    return result
