-- cli_filter.lua: show users hpcpredict's runtime prediction when they submit (sbatch/salloc/srun).
--
-- Install: put this file in Slurm's configuration directory and set `CliFilterPlugins=cli_filter/lua`
-- in slurm.conf. The prediction service runs on a host the login nodes can reach:
--     hpcpredict serve model/ --jobs jobs.parquet --host 0.0.0.0 --port 8000 --token-file token
-- The filter never blocks a submission: if the service is slow or down, it says nothing.

local SERVICE = "http://hpcpredict.example.org:8000/predict"
local TOKEN_FILE = "/etc/slurm/hpcpredict.token"
local TIMEOUT_S = 1

local function read_token()
   local f = io.open(TOKEN_FILE, "r")
   if not f then return nil end
   local token = f:read("*l")
   f:close()
   return token
end

-- Slurm's time strings (minutes, MM:SS, HH:MM:SS, D-HH:MM:SS) in seconds, or nil.
local function limit_seconds(text)
   if text == nil or text == "" then return nil end
   local d, h, m, s = text:match("^(%d+)%-(%d+):(%d+):(%d+)$")
   if d then return ((d * 24 + h) * 60 + m) * 60 + s end
   h, m, s = text:match("^(%d+):(%d+):(%d+)$")
   if h then return (h * 60 + m) * 60 + s end
   m, s = text:match("^(%d+):(%d+)$")
   if m then return m * 60 + s end
   if text:match("^%d+$") then return tonumber(text) * 60 end
   return nil
end

function slurm_cli_setup_defaults(options, early_pass)
   return slurm.SUCCESS
end

function slurm_cli_post_submit(offset, job_id, step_id)
   return slurm.SUCCESS
end

function slurm_cli_pre_submit(options, offset)
   local token = read_token()
   local limit = limit_seconds(options["time"])
   local body = string.format(
      '{"jobs": [{"job_id": "pending", "user": "%s", "app": "%s", "partition": "%s", "time_limit_s": %s, "req_nodes": %s}]}',
      os.getenv("USER") or "", options["job-name"] or "", options["partition"] or "",
      limit and tostring(limit) or "null", tonumber(options["nodes"] or "") or "null")
   local auth = token and ('-H "Authorization: Bearer ' .. token .. '" ') or ""
   local cmd = string.format("curl -s --max-time %d -H 'Content-Type: application/json' %s-d '%s' %s",
                             TIMEOUT_S, auth, body, SERVICE)
   local pipe = io.popen(cmd)
   local answer = pipe and pipe:read("*a") or ""
   if pipe then pipe:close() end
   local seconds = answer:match('"predicted_runtime_s":%s*([%d%.]+)')
   if seconds then
      local hours = tonumber(seconds) / 3600
      slurm.log_info("hpcpredict: this job will probably run about %.1f h", hours)
      if limit and limit > 4 * tonumber(seconds) then
         slurm.log_info("hpcpredict: your time limit is %.0fx that; a tighter --time helps backfilling start it sooner",
                        limit / tonumber(seconds))
      end
   end
   return slurm.SUCCESS
end
