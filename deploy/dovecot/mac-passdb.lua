-- Dovecot passdb that asks the MAC Security Console whether a mail client may sign in.
--
-- Every IMAP, POP3, SMTP (submission) and ManageSieve login is posted to the console's
-- POST /api/mail-auth with the console's answer taken as it is: 200 signs the client in,
-- 401 refuses it with the console's one-sentence reason, anything else is an internal
-- failure (the client is told to try again later; no password is accepted by default).
-- The console holds every rule (app passwords, protocols, 2FA, throttles), so nothing here
-- decides, and nothing is cached: a revoke or a brand switch holds from the next login on.
--
-- Settings come from Dovecot's environment (import_environment in the passdb's config):
--   MAC_AUTH_URL         the console's endpoint, e.g. https://console.example.com/api/mail-auth
--   MAC_AUTH_TOKEN_FILE  a file holding the mail-auth token (python -m core mail-auth token create)
-- Dovecot 2.3 passes no arguments to a Lua passdb beyond file= and blocking=, so these two
-- are read from the environment when the script starts.
--
-- The password goes only into the body of the request to the console; it is never logged.

local http_client = nil
local auth_url = nil
local token_file = nil

-- Dovecot's service names, as the console's protocols.
local PROTOCOLS = {
  imap = "imap",
  pop3 = "pop3",
  submission = "smtp",
  smtp = "smtp",
  sieve = "sieve",
  managesieve = "sieve",
}

local function json_string(value)
  local escaped = tostring(value or ""):gsub('[%c"\\]', function(c)
    local named = { ['"'] = '\\"', ["\\"] = "\\\\", ["\n"] = "\\n", ["\r"] = "\\r", ["\t"] = "\\t" }
    return named[c] or string.format("\\u%04x", c:byte())
  end)
  return '"' .. escaped .. '"'
end

local function json_object(fields)
  local parts = {}
  for _, key in ipairs({ "user", "password", "protocol", "remote_ip" }) do
    parts[#parts + 1] = json_string(key) .. ":" .. json_string(fields[key])
  end
  return "{" .. table.concat(parts, ",") .. "}"
end

-- The "reason" of the console's refusal, for Dovecot's log and the client.
local function reason_of(body)
  local reason = (body or ""):match('"reason"%s*:%s*"(.-)"%s*[,}]')
  if reason == nil or reason == "" then
    return "Sign-in refused."
  end
  return (reason:gsub('\\"', '"'):gsub("\\\\", "\\"))
end

local function read_token()
  local fh = io.open(token_file, "r")
  if fh == nil then
    return nil
  end
  local token = fh:read("*l")
  fh:close()
  if token == nil then
    return nil
  end
  return (token:gsub("%s+$", ""))
end

function script_init()
  auth_url = os.getenv("MAC_AUTH_URL")
  token_file = os.getenv("MAC_AUTH_TOKEN_FILE")
  if auth_url == nil or auth_url == "" then
    dovecot.i_error("mac-passdb: MAC_AUTH_URL is not set (import_environment in the passdb config)")
    return 1
  end
  if token_file == nil or token_file == "" then
    dovecot.i_error("mac-passdb: MAC_AUTH_TOKEN_FILE is not set (import_environment in the passdb config)")
    return 1
  end
  http_client = dovecot.http.client({
    timeout = 10000,
    max_attempts = 1,
    user_agent = "mac-dovecot-passdb",
  })
  return 0
end

function auth_password_verify(req, password)
  local token = read_token()
  if token == nil or token == "" then
    req:log_error("mac-passdb: the token file " .. token_file .. " cannot be read")
    return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "The mail server cannot reach its console."
  end
  local protocol = PROTOCOLS[req.service] or req.service
  local request = http_client:request({ url = auth_url, method = "POST" })
  request:add_header("Content-Type", "application/json")
  request:add_header("Authorization", "Bearer " .. token)
  request:set_payload(json_object({
    user = req.user,
    password = password,
    protocol = protocol,
    remote_ip = req.remote_ip,
  }))
  local response = request:submit()
  local status = response:status()
  if status == 200 then
    return dovecot.auth.PASSDB_RESULT_OK, ""
  end
  if status == 401 then
    return dovecot.auth.PASSDB_RESULT_PASSWORD_MISMATCH, reason_of(response:payload())
  end
  req:log_error("mac-passdb: the console answered " .. tostring(status))
  return dovecot.auth.PASSDB_RESULT_INTERNAL_FAILURE, "The mail server cannot reach its console."
end

function auth_passdb_lookup(req)
  -- Only password verification goes through the console: a lookup (for a mechanism that
  -- needs the stored password, such as CRAM-MD5) has nothing to return.
  return dovecot.auth.PASSDB_RESULT_USER_UNKNOWN, ""
end
