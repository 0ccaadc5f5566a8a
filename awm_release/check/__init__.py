"""`awm bundle check`: a differential checker that runs each bundle the original AWM way and awm-serve's way.

The original way (check.original) is the AWM repository's `awm env start`: the database file built from
DDL, indexes and INSERTs by its rules, the environment code (with its `create_engine(` and `uvicorn.run(app`
lines rewritten as it rewrites them) as its own uvicorn process, tools derived from the app's OpenAPI and
called over HTTP as fastapi-mcp 0.4 calls them. Our way is a real `awm-serve` process driven over REST.
Every tool is called with arguments from the spec's examples, from seed rows, in create-then-read
sequences, and with strings that stress encoding in every parameter location (check.cases); outcome class,
JSON body (volatile fields masked) and the database after are compared (check.compare).
"""
