def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    try:
        home = query(initial_db_path, "SELECT id FROM shipping_addresses WHERE user_id = 1 AND lower(label) = 'home'")
        promo = query(initial_db_path, "SELECT id, discount_type, discount_value FROM promo_codes WHERE upper(code) = 'SPRING15'")
        if len(home) != 1 or len(promo) != 1:
            return {"result": "others", "reason": "Home address or SPRING15 not found in initial db"}
        home_id = home[0][0]
        promo_id, discount_type, discount_value = promo[0]

        cart_sql = "SELECT edition_id, quantity FROM cart_items WHERE user_id = 1"
        initial_cart = dict(query(initial_db_path, cart_sql))
        if not initial_cart:
            return {"result": "others", "reason": "initial cart is empty"}
        if query(final_db_path, cart_sql):
            return {"result": "others", "reason": "cart was not emptied by checkout"}

        initial_orders = {row[0]: row[1] for row in query(initial_db_path, "SELECT id, status FROM orders")}
        final_orders = query(
            final_db_path,
            "SELECT id, status, shipping_address_id, promo_code_id, subtotal, discount_amount, shipping_fee, total "
            "FROM orders WHERE user_id = 1",
        )
        new_orders = [row for row in final_orders if row[0] not in initial_orders]
        if len(new_orders) != 1:
            return {"result": "others", "reason": f"expected exactly one new order, found {len(new_orders)}"}
        order_id, status, address_id, promo_code_id, subtotal, discount, shipping_fee, total = new_orders[0]
        for row in query(final_db_path, "SELECT id, status FROM orders"):
            if row[0] in initial_orders and initial_orders[row[0]] != row[1]:
                return {"result": "others", "reason": f"existing order {row[0]} changed status"}

        if status != "placed":
            return {"result": "others", "reason": "new order is not in placed status"}
        if address_id != home_id:
            return {"result": "others", "reason": "order does not ship to the Home address", "shipping_address_id": address_id}
        if promo_code_id != promo_id:
            return {"result": "others", "reason": "SPRING15 was not applied"}

        # The order contains exactly what was in the cart.
        order_items = {}
        for edition_id, qty in query(final_db_path, "SELECT edition_id, quantity FROM order_items WHERE order_id = ?", (order_id,)):
            order_items[edition_id] = order_items.get(edition_id, 0) + qty
        if order_items != initial_cart:
            return {"result": "others", "reason": "order items do not match the cart", "order_items": order_items, "cart": initial_cart}

        prices = dict(query(initial_db_path, "SELECT id, price FROM book_editions"))
        expected_subtotal = round(sum(prices[e] * q for e, q in initial_cart.items()), 2)
        if discount_type == "percent":
            expected_discount = round(expected_subtotal * discount_value / 100.0 + 1e-9, 2)
        else:
            expected_discount = round(min(discount_value, expected_subtotal), 2)
        if abs(subtotal - expected_subtotal) > 0.01 or abs(discount - expected_discount) > 0.01:
            return {"result": "others", "reason": "subtotal or discount is wrong"}
        if abs(total - (subtotal - discount + shipping_fee)) > 0.01:
            return {"result": "others", "reason": "order total is inconsistent"}

        # Stock was reduced by the purchased quantities.
        stock_before = dict(query(initial_db_path, "SELECT id, stock_quantity FROM book_editions"))
        stock_after = dict(query(final_db_path, "SELECT id, stock_quantity FROM book_editions"))
        for edition_id, qty in initial_cart.items():
            if stock_before[edition_id] is not None and stock_after[edition_id] != stock_before[edition_id] - qty:
                return {"result": "others", "reason": f"stock of edition {edition_id} not reduced"}

        return {"result": "complete", "order_id": order_id, "total": total}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
