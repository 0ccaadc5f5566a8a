def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    try:
        plan = query(initial_db_path, "SELECT id FROM insurance_plans WHERE lower(plan_name) = 'unitedhealthcare choice plus'")
        me = query(initial_db_path, "SELECT id FROM patients WHERE account_user_id = 1 AND relationship = 'self'")
        leo = query(initial_db_path, "SELECT id FROM patients WHERE account_user_id = 1 AND lower(first_name) = 'leo'")
        if len(plan) != 1 or len(me) != 1 or len(leo) != 1:
            return {"result": "others", "reason": "could not resolve plan or profiles"}
        plan_id = plan[0]["id"]
        expected = {me[0]["id"]: "UHC884120", leo[0]["id"]: "UHC884121"}

        cols = "id, account_user_id, first_name, last_name, relationship, date_of_birth, sex, insurance_plan_id, insurance_member_id"
        init_rows = {r["id"]: r for r in query(initial_db_path, f"SELECT {cols} FROM patients")}
        final_rows = {r["id"]: r for r in query(final_db_path, f"SELECT {cols} FROM patients")}
        if set(init_rows) != set(final_rows):
            return {"result": "others", "reason": "patient profiles were added or removed"}

        for pid, member_id in expected.items():
            row = final_rows[pid]
            if row["insurance_plan_id"] != plan_id:
                return {"result": "others", "reason": f"patient {pid} is not on UnitedHealthcare Choice Plus"}
            if (row["insurance_member_id"] or "").strip().upper() != member_id:
                return {"result": "others", "reason": f"patient {pid} has the wrong member ID"}
            before = init_rows[pid]
            for key in ("first_name", "last_name", "relationship", "date_of_birth", "sex", "account_user_id"):
                if row[key] != before[key]:
                    return {"result": "others", "reason": f"patient {pid} field {key} changed"}

        for pid, row in init_rows.items():
            if pid not in expected and final_rows[pid] != row:
                return {"result": "others", "reason": f"patient {pid} should not have changed"}

        return {"result": "complete"}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
