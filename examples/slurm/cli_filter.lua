-- cli_filter.lua: show users hpcpredict's runtime prediction when they submit (sbatch/salloc/srun).
--
-- Install: put this file in Slurm's configuration directory and set `CliFilterPlugins=cli_filter/lua`
-- in slurm.conf. The prediction service runs on a host the login nodes can reach:
--     hpcpredict serve model/ --jobs jobs.parquet --host 0.0.0.0 --port 8000 --token-file token
-- Settings can also come from the environment of the submitting shell (HPCPREDICT_URL,
-- HPCPREDICT_TOKEN_FILE), which is how `make test-slurm` points it at its own service.
--
-- What it promises:
--   * it never builds a shell command from user text: the request goes to curl on its standard
--     input, every field JSON-escaped; the command line holds only this file's constants and a
--     temporary file name that os.tmpname made;
--   * it never blocks or changes a submission: any failure (no curl, service down or slow, an odd
--     answer, an error in this file) leaves the job exactly as the user wrote it, after at most
--     TIMEOUT_S seconds;
--   * it stays quiet inside an allocation (SLURM_JOB_ID is set: an srun inside a batch job).

local SERVICE = os.getenv("HPCPREDICT_URL") or "http://hpcpredict.example.org:8000/predict"
local TOKEN_FILE = os.getenv("HPCPREDICT_TOKEN_FILE") or "/etc/slurm/hpcpredict.token"
local TIMEOUT_S = 2
-- Slurm hands an unset --time to the filter as NO_VAL (or INFINITE) minutes, not as nil: on 22.05
-- the string "2982616-04:14:00" (4294967294 minutes).
local NO_VALUE = 4294967294

-- Only these characters may reach the command line (constants and os.tmpname's names).
local function shell_safe(text)
   return type(text) == "string" and text:match("^[%w/:%._%-]+$") ~= nil
end

-- A JSON string literal: quotes, backslashes and every control character escaped.
local function json_string(value)
   local text = tostring(value)
   text = text:gsub('[%c"\\]', function(c)
      if c == '"' then return '\\"' end
      if c == "\\" then return "\\\\" end
      return string.format("\\u%04x", c:byte())
   end)
   return '"' .. text .. '"'
end

local function json_number(value)
   local n = tonumber(value)
   if n == nil or n ~= n or n == math.huge or n == -math.huge then return "null" end
   return string.format("%.17g", n)
end

-- Slurm's time strings (minutes, MM:SS, HH:MM:SS, D-HH, D-HH:MM, D-HH:MM:SS) in seconds, or nil.
local function parse_limit(text)
   if text == nil then return nil end
   text = tostring(text)
   if text == "" then return nil end
   local minutes = tonumber(text)
   if minutes then
      if minutes >= NO_VALUE or minutes <= 0 then return nil end
      return minutes * 60
   end
   local d, h, m, s = text:match("^(%d+)%-(%d+):(%d+):(%d+)$")
   if d then return ((d * 24 + h) * 60 + m) * 60 + s end
   d, h, m = text:match("^(%d+)%-(%d+):(%d+)$")
   if d then return ((d * 24 + h) * 60 + m) * 60 end
   d, h = text:match("^(%d+)%-(%d+)$")
   if d then return (d * 24 + h) * 3600 end
   h, m, s = text:match("^(%d+):(%d+):(%d+)$")
   if h then return (h * 60 + m) * 60 + s end
   m, s = text:match("^(%d+):(%d+)$")
   if m then return m * 60 + s end
   return nil
end

-- The time limit in seconds; nil when the job has none (Slurm's no-value placeholder).
local function limit_seconds(text)
   local seconds = parse_limit(text)
   if seconds == nil or seconds >= (NO_VALUE - 1) * 60 then return nil end
   return seconds
end

local function read_all(path)
   local f = io.open(path, "r")
   if not f then return nil end
   local text = f:read("*a")
   f:close()
   return text
end

-- A header file for curl (-H @file): the token never appears on a command line.
local function token_header()
   local token = read_all(TOKEN_FILE)
   token = token and token:match("^%s*(%S+)")
   if not token then return nil end
   local path = os.tmpname()
   local f = io.open(path, "w")
   if not f then return nil end
   f:write("Authorization: Bearer " .. token .. "\n")
   f:close()
   return path
end

-- The submitting user: the environment, else `id -un` (a constant command).
local function user_name()
   local name = os.getenv("USER") or os.getenv("LOGNAME")
   if name and name ~= "" then return name end
   local pipe = io.popen("id -un 2>/dev/null", "r")
   if not pipe then return "" end
   name = pipe:read("*l") or ""
   pipe:close()
   return name
end

local function request_body(options)
   local limit = limit_seconds(options["time"])
   local fields = {
      '"job_id": "submitting"',
      '"user": ' .. json_string(user_name()),
      '"app": ' .. json_string(options["job-name"] or ""),
      '"partition": ' .. json_string(options["partition"] or ""),
      '"time_limit_s": ' .. json_number(limit),
      '"req_nodes": ' .. json_number(tonumber(options["nodes"] or "")),
   }
   if options["account"] then table.insert(fields, '"account": ' .. json_string(options["account"])) end
   return '{"jobs": [{' .. table.concat(fields, ", ") .. '}]}', limit
end

local function ask_service(body)
   if not shell_safe(SERVICE) then return nil end
   local answer_path = os.tmpname()
   local header = token_header()
   if not shell_safe(answer_path) or (header and not shell_safe(header)) then return nil end
   local command = "timeout -k 1 " .. (TIMEOUT_S + 1) .. " curl -s --connect-timeout 1 --max-time " .. TIMEOUT_S
      .. " -H 'Content-Type: application/json'" .. (header and (" -H @" .. header) or "")
      .. " --data-binary @- -o " .. answer_path .. " " .. SERVICE .. " >/dev/null 2>&1"
   local pipe = io.popen(command, "w")
   if pipe then
      pipe:write(body)
      pipe:close()
   end
   local answer = read_all(answer_path)
   os.remove(answer_path)
   if header then os.remove(header) end
   return answer
end

local function tell_user(options)
   local body, limit = request_body(options)
   local answer = ask_service(body) or ""
   local seconds = tonumber(answer:match('"predicted_runtime_s":%s*([%d%.eE+-]+)'))
   if not seconds or seconds <= 0 then return end
   slurm.log_info("hpcpredict: this job will probably run about %s", seconds < 5400
      and string.format("%.0f min", seconds / 60) or string.format("%.1f h", seconds / 3600))
   if limit and limit > 4 * seconds then
      slurm.log_info("hpcpredict: your time limit is %.0fx that; a tighter --time helps backfilling start it sooner",
                     limit / seconds)
   end
end

function slurm_cli_setup_defaults(options, early_pass)
   return slurm.SUCCESS
end

function slurm_cli_post_submit(offset, job_id, step_id)
   return slurm.SUCCESS
end

function slurm_cli_pre_submit(options, offset)
   if os.getenv("SLURM_JOB_ID") then return slurm.SUCCESS end  -- inside an allocation
   local ok, err = pcall(tell_user, options)
   if not ok then slurm.log_debug("hpcpredict: no prediction (%s)", tostring(err)) end
   return slurm.SUCCESS
end
