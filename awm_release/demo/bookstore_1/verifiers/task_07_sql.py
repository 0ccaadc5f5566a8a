def verify_task(initial_db_path: str, final_db_path: str) -> dict:
    import sqlite3

    def connect(db_path):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        return conn

    def fetch(conn, sql, params=()):
        return [dict(row) for row in conn.execute(sql, params).fetchall()]

    cart_sql = (
        "SELECT ci.edition_id, b.title, e.format, e.price, ci.quantity FROM cart_items ci "
        "JOIN book_editions e ON e.id = ci.edition_id JOIN books b ON b.id = e.book_id "
        "WHERE ci.user_id = 1 ORDER BY ci.id"
    )
    order_sql = (
        "SELECT o.id, o.status, o.shipping_address_id, sa.label AS address_label, p.code AS promo_code, "
        "o.subtotal, o.discount_amount, o.shipping_fee, o.total FROM orders o "
        "JOIN shipping_addresses sa ON sa.id = o.shipping_address_id "
        "LEFT JOIN promo_codes p ON p.id = o.promo_code_id WHERE o.user_id = 1 ORDER BY o.id"
    )
    initial_conn = connect(initial_db_path)
    final_conn = connect(final_db_path)
    try:
        initial_ids = {row["id"] for row in fetch(initial_conn, "SELECT id FROM orders")}
        new_orders = [row for row in fetch(final_conn, order_sql) if row["id"] not in initial_ids]
        for order in new_orders:
            order["items"] = fetch(
                final_conn,
                "SELECT edition_id, quantity, unit_price FROM order_items WHERE order_id = ? ORDER BY id",
                (order["id"],),
            )
        return {
            "task": "Check out the cart to the 'Home' address with promo code SPRING15",
            "initial_cart": fetch(initial_conn, cart_sql),
            "final_cart": fetch(final_conn, cart_sql),
            "addresses": fetch(initial_conn, "SELECT id, label FROM shipping_addresses WHERE user_id = 1 ORDER BY id"),
            "spring15": fetch(initial_conn, "SELECT id, discount_type, discount_value, min_subtotal FROM promo_codes WHERE code = 'SPRING15'"),
            "new_orders": new_orders,
        }
    finally:
        initial_conn.close()
        final_conn.close()
