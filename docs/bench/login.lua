-- POST JSON credentials of $BENCH_USER / $BENCH_PASSWORD to a login endpoint.
local user = os.getenv("BENCH_USER") or "testuser"
local pass = os.getenv("BENCH_PASSWORD") or "password"
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"username":"' .. user .. '","password":"' .. pass .. '"}'
