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
    me = fetch(
        initial_db_path,
        "SELECT pt.id, pt.insurance_plan_id, ip.plan_name FROM patients pt LEFT JOIN insurance_plans ip ON ip.id = pt.insurance_plan_id "
        "WHERE pt.account_user_id = 1 AND pt.relationship = 'self'",
    )
    result["my_insurance"] = me
    plan_id = me[0]["insurance_plan_id"] if me else None
    result["cardiologists"] = fetch(
        initial_db_path,
        "SELECT p.id, p.full_name, p.rating_avg, p.rating_count, "
        "EXISTS (SELECT 1 FROM practitioner_insurance_plans x WHERE x.practitioner_id = p.id AND x.insurance_plan_id = ?) AS accepts_my_plan "
        "FROM practitioners p JOIN specialties s ON s.id = p.specialty_id WHERE lower(s.name) = 'cardiology' "
        "ORDER BY p.rating_avg DESC, p.rating_count DESC",
        (plan_id,),
    )
    eligible = [c for c in result["cardiologists"] if c["accepts_my_plan"]]
    result["expected_answer"] = eligible[0]["full_name"] if eligible else None
    unchanged = {}
    for table in ("patients", "appointments", "availability_slots", "reviews"):
        sql = f"SELECT * FROM {table} ORDER BY id"
        unchanged[table] = fetch(initial_db_path, sql) == fetch(final_db_path, sql)
    result["tables_unchanged"] = unchanged
    return result
