def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def connect(db_path):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def fetch(conn, sql, params=()):
        return [dict(row) for row in conn.execute(sql, params).fetchall()]

    sql = (
        "SELECT id, label, recipient_name, line1, line2, city, state, postal_code, country, is_default "
        "FROM shipping_addresses WHERE user_id = 1 ORDER BY id"
    )
    initial_conn = connect(initial_db_path)
    final_conn = connect(final_db_path)
    try:
        initial_rows = fetch(initial_conn, sql)
        final_rows = fetch(final_conn, sql)
        initial_ids = {row["id"] for row in initial_rows}
        return {
            "task": "Add a default 'Cabin' address: Jordan Avery, 48 Pine Ridge Road, Bend, OR 97701, US",
            "initial_addresses": initial_rows,
            "final_addresses": final_rows,
            "new_addresses": [row for row in final_rows if row["id"] not in initial_ids],
            "final_default_address_ids": [row["id"] for row in final_rows if row["is_default"] == 1],
        }
    finally:
        initial_conn.close()
        final_conn.close()
