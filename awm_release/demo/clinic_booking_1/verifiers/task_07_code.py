def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import sqlite3
    import re

    def query(db_path, sql, params=()):
        conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return [dict(r) for r in conn.execute(sql, params).fetchall()]
        finally:
            conn.close()

    words = {
        "zero": 0, "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6,
        "seven": 7, "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12,
    }

    def numbers_in(text):
        text = text.lower()
        # Drop dates, times and years so that only counts remain.
        text = re.sub(r"\b\d{4}-\d{1,2}-\d{1,2}\b", " ", text)
        text = re.sub(r"\b\d{1,2}/\d{1,2}(/\d{2,4})?\b", " ", text)
        text = re.sub(r"\b\d{1,2}:\d{2}\b", " ", text)
        months = "january|february|march|april|may|june|july|august|september|october|november|december|jan|feb|mar|apr|jun|jul|aug|sep|sept|oct|nov|dec"
        text = re.sub(r"\b(" + months + r")\.?\s+\d{1,2}(st|nd|rd|th)?\b", " ", text)
        text = re.sub(r"\b\d{1,2}(st|nd|rd|th)?\s+(of\s+)?(" + months + r")\b", " ", text)
        text = re.sub(r"\b(19|20)\d{2}\b", " ", text)
        found = set(int(n) for n in re.findall(r"\b\d+\b", text))
        for w, v in words.items():
            if re.search(r"\b" + w + r"\b", text):
                found.add(v)
        return found

    try:
        for table in ("availability_slots", "appointments", "patients", "reviews"):
            sql = f"SELECT * FROM {table} ORDER BY id"
            if query(initial_db_path, sql) != query(final_db_path, sql):
                return {"result": "others", "reason": f"table {table} was modified"}

        doctor = query(initial_db_path, "SELECT id FROM practitioners WHERE full_name LIKE '%Jordan Avery%'")
        if len(doctor) != 1:
            return {"result": "others", "reason": "practitioner not found"}
        expected = query(
            initial_db_path,
            "SELECT COUNT(*) AS n FROM availability_slots WHERE practitioner_id = ? AND visit_mode = 'video' "
            "AND status = 'available' AND date(start_time) BETWEEN '2027-03-08' AND '2027-03-12'",
            (doctor[0]["id"],),
        )[0]["n"]

        if not final_answer:
            return {"result": "others", "reason": "no final answer"}
        found = numbers_in(final_answer)
        if found != {expected}:
            return {"result": "others", "reason": "wrong or ambiguous count", "expected": expected, "found": sorted(found)}
        return {"result": "complete", "expected": expected}
    except Exception as exc:
        return {"result": "others", "error": str(exc)}
