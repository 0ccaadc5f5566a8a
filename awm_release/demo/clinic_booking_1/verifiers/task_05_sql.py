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
    result["target_plan"] = fetch(initial_db_path, "SELECT id, carrier, plan_name FROM insurance_plans WHERE plan_name LIKE '%Choice Plus%'")
    sql = (
        "SELECT pt.id, pt.first_name, pt.last_name, pt.relationship, pt.insurance_plan_id, ip.plan_name, pt.insurance_member_id "
        "FROM patients pt LEFT JOIN insurance_plans ip ON ip.id = pt.insurance_plan_id WHERE pt.account_user_id = 1 ORDER BY pt.id"
    )
    result["my_profiles_initial"] = fetch(initial_db_path, sql)
    result["my_profiles_final"] = fetch(final_db_path, sql)
    result["expected_member_ids"] = {"self": "UHC884120", "Leo": "UHC884121"}
    other_sql = "SELECT * FROM patients WHERE account_user_id <> 1 ORDER BY id"
    result["other_accounts_unchanged"] = fetch(initial_db_path, other_sql) == fetch(final_db_path, other_sql)
    count_sql = "SELECT COUNT(*) AS n FROM patients"
    result["patient_count_initial"] = fetch(initial_db_path, count_sql)[0]["n"]
    result["patient_count_final"] = fetch(final_db_path, count_sql)[0]["n"]
    return result
