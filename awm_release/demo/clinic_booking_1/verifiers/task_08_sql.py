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
    family = fetch(
        initial_db_path,
        "SELECT p.id, p.full_name, p.languages, p.accepts_new_patients, "
        "(SELECT MIN(s.start_time) FROM availability_slots s WHERE s.practitioner_id = p.id AND date(s.start_time) = '2027-03-10' "
        " AND s.visit_mode = 'in_person' AND s.status = 'available') AS earliest_in_person_2027_03_10 "
        "FROM practitioners p JOIN specialties sp ON sp.id = p.specialty_id WHERE lower(sp.name) = 'family medicine' ORDER BY p.id",
    )
    result["family_medicine_practitioners"] = family
    eligible = [
        p for p in family
        if p["accepts_new_patients"] == 1 and "spanish" in (p["languages"] or "").lower() and p["earliest_in_person_2027_03_10"]
    ]
    eligible.sort(key=lambda p: p["earliest_in_person_2027_03_10"])
    result["expected_answer"] = eligible[0]["full_name"] if eligible else None
    unchanged = {}
    for table in ("availability_slots", "appointments", "patients", "reviews"):
        sql = f"SELECT * FROM {table} ORDER BY id"
        unchanged[table] = fetch(initial_db_path, sql) == fetch(final_db_path, sql)
    result["tables_unchanged"] = unchanged
    return result
