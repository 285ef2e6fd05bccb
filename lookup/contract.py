"""What the lookup shares with its callers and the wiring around it (config/ imports it; lookup never imports config)."""

# Every path under this prefix answers JSON only (design §7).
API_PREFIX = "/api/"
LOOKUP_PATH = f"{API_PREFIX}customer/lookup"

# The Architect flow's data action gives up after this long (the tutorial's step timeout): the
# insights page, the latency histogram and gunicorn's worker timeout are measured against it.
FLOW_BUDGET_MS = 3000

# The WSGI environ key under which the API leaves the caller's token name (never the token)
# for gunicorn's access log (config/accesslog.py).
TOKEN_NAME_KEY = "crm.token_name"

# The database router hint of the lookup's customer query: this read may be served by a read
# replica. Whether it is, and which one, is the router's choice (config/routers.py).
REPLICA_OK_HINT = "replica_ok"

# The hint of the retry after a replica read failed: its value is the exception. The router marks
# the replica down and answers with the primary.
REPLICA_FAILED_HINT = "replica_failed"
