def verify_task_completion(initial_db_path: str, final_db_path: str, final_answer: str | None = None) -> dict:
    import re
    import sqlite3
    from collections import Counter

    def query(db_path, sql, params=()):
        try:
            conn = sqlite3.connect(f"file:{db_path}?mode=ro", uri=True)
            try:
                return conn.execute(sql, params).fetchall()
            finally:
                conn.close()
        except Exception:
            return None

    def norm(text):
        return " ".join(re.sub(r"[^a-z0-9]+", " ", str(text or "").lower()).split())

    def numbers_in(text):
        words = {
            "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
            "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13,
            "fourteen": 14, "fifteen": 15, "sixteen": 16, "seventeen": 17, "eighteen": 18,
            "nineteen": 19, "twenty": 20,
        }
        found = []
        for tok in re.findall(r"\d[\d,]*(?:\.\d+)?|[a-z]+", str(text or "").lower()):
            if tok[0].isdigit():
                try:
                    value = float(tok.replace(",", ""))
                except ValueError:
                    continue
                found.append(int(value) if value.is_integer() else value)
            elif tok in words:
                found.append(words[tok])
        return found

    checks = [
        "SELECT id, project_id, milestone_id, parent_task_id, title, status, priority, assignee_id, due_date FROM tasks ORDER BY id",
        "SELECT task_id, label_id FROM task_labels ORDER BY task_id, label_id",
        "SELECT id, task_id, author_id, body FROM comments ORDER BY id",
        "SELECT workspace_id, user_id, role FROM workspace_members ORDER BY workspace_id, user_id",
    ]
    for sql in checks:
        before = query(initial_db_path, sql)
        after = query(final_db_path, sql)
        if before is None or after is None or before != after:
            return {"result": "others", "reason": "database was modified"}

    rows = query(
        initial_db_path,
        "SELECT u.full_name FROM tasks t JOIN projects p ON p.id = t.project_id "
        "JOIN workspaces w ON w.id = p.workspace_id JOIN users u ON u.id = t.assignee_id "
        "WHERE w.name = 'Northwind Labs' AND t.status IN ('todo', 'in_progress')",
    )
    if not rows:
        return {"result": "others", "reason": "cannot compute expected answer"}
    counts = Counter(r[0] for r in rows).most_common()
    if len(counts) > 1 and counts[0][1] == counts[1][1]:
        return {"result": "others", "reason": "ambiguous maximum in seed data"}
    expected_name, expected_count = counts[0]

    answer = norm(final_answer)
    if not answer:
        return {"result": "others", "reason": "no final answer", "expected": [expected_name, expected_count]}
    answer_words = set(answer.split())
    name_ok = norm(expected_name) in answer or norm(expected_name).split()[0] in answer_words
    nums = numbers_in(final_answer)
    count_ok = bool(nums) and nums[0] == expected_count
    if not name_ok or not count_ok:
        return {"result": "others", "reason": "wrong member or count",
                "expected": [expected_name, expected_count], "found_numbers": nums}
    return {"result": "complete", "expected": [expected_name, expected_count]}
