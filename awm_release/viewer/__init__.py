"""The web viewer: bundles, live sessions and run folders in a browser (`/ui` on awm-serve, `awm view`).

app.py          the pages (server-rendered, autoescaped, CSP) and the ASGI app to mount
live.py         what it reads from a running awm-serve (bundles, seed databases, sessions, calls)
run_folders.py  finding and reading evaluations and run folders
trajectory.py   a trajectory as turns and calls to show
tables.py       SQLite read-only: tables, row pages (sqlite-utils)
db_diff.py      the initial -> final database diff (also `awm runs diff`)
server.py, cli.py  `awm view` and `awm runs diff`
"""
