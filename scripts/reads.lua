-- wrk script: readers rotating over the map's read routes (summary, priorities, areas, H3, one
-- area). Usage: wrk -t2 -c100 -d30s --latency -s scripts/reads.lua http://127.0.0.1:8080
local paths = {
  "/api/summary",
  "/api/priorities?level=ward&limit=20",
  "/api/areas?level=ward",
  "/api/hexes?res=8",
  "/api/areas/25975",
}
local i = 0
request = function()
  i = i + 1
  return wrk.format("GET", paths[(i % #paths) + 1], { ["Accept-Encoding"] = "gzip" })
end
