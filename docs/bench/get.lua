-- GET with a fixed Bearer token from $TOKEN (any authenticated GET).
local token = os.getenv("TOKEN")
if token == nil or token == "" then error("set TOKEN to an access token") end
wrk.method = "GET"
wrk.headers["Authorization"] = "Bearer " .. token
