--- :WeftFix, :WeftRefactor and :WeftReindex: weft's agent actions through standard LSP
--- (textDocument/codeAction, codeAction/resolve, workspace/executeCommand). Edits arrive as one
--- workspace/applyEdit, which Neovim applies across buffers itself.
local lsp = require("weft.lsp")

local M = {}

--- The result of the last action (tests and statuslines read it).
M.last_result = nil

local function notify(message, level)
  vim.notify(message, level or vim.log.levels.INFO, { title = "weft" })
end

--- Tells the user how a weft.fix / weft.refactor run ended; returns the result table.
function M.report(err, result)
  if err then
    result = { applied = false, error = err.message or tostring(err) }
  elseif type(result) ~= "table" then
    result = { applied = result ~= nil and result ~= vim.NIL, files = {}, summary = "" }
  end
  M.last_result = result
  if result.error and result.error ~= vim.NIL then
    notify("weft: " .. result.error, vim.log.levels.ERROR)
  elseif result.applied then
    local files = type(result.files) == "table" and #result.files or 0
    notify(("weft: %s (%d file%s changed)"):format(result.summary or "done", files, files == 1 and "" or "s"))
  else
    notify("weft: nothing was applied", vim.log.levels.WARN)
  end
  return result
end

local function attached(bufnr)
  local client = lsp.client(bufnr)
  if not client then
    notify("weft is not running for this buffer (see :checkhealth weft)", vim.log.levels.WARN)
  end
  return client
end

--- The end character of a line in the client's position encoding.
local function line_end(line, encoding)
  return lsp.character_count(line, encoding or "utf-16")
end

local function run_command(client, command, bufnr, done)
  lsp.execute(client, command.command, command.arguments, function(err, result)
    done(M.report(err, result))
  end, bufnr)
end

--- Runs weft.fix / weft.refactor and reports the result; asks for the instruction when a
--- refactor comes without one (the "Refactor with weft…" code action carries none).
function M.run(client, command, bufnr, done)
  done = done or function() end
  local args = command.arguments or {}
  local first = type(args[1]) == "table" and args[1] or {}
  local missing = type(first.instruction) ~= "string" or first.instruction:match("^%s*$")
  if command.command ~= "weft.refactor" or not missing then
    return run_command(client, command, bufnr, done)
  end
  vim.ui.input({ prompt = "weft: refactor: " }, function(input)
    if not input or input:match("^%s*$") then
      return done(nil)
    end
    local filled = vim.deepcopy(first)
    filled.instruction = vim.trim(input)
    local rest = { filled }
    for i = 2, #args do
      rest[i] = args[i]
    end
    run_command(client, { command = command.command, arguments = rest }, bufnr, done)
  end)
end

--- Client-side handlers for the commands weft's code actions carry (the client's `commands`),
--- so vim.lsp.buf.code_action() asks for a refactor instruction and reports the outcome.
function M.client_commands()
  local function handler(command, ctx)
    local client = vim.lsp.get_client_by_id(ctx.client_id)
    if client then
      M.run(client, command, ctx.bufnr)
    end
  end
  return { ["weft.fix"] = handler, ["weft.refactor"] = handler }
end

--- Applies a weft code action: resolves it when needed, applies its edit, runs its command.
function M.apply(client, action, bufnr, done)
  done = done or function() end
  local caps = client.server_capabilities.codeActionProvider
  local resolvable = type(caps) == "table" and caps.resolveProvider
  if not action.edit and not action.command and resolvable then
    lsp.request(client, "codeAction/resolve", action, function(err, resolved)
      if err or type(resolved) ~= "table" then
        done(M.report(err or { message = "the action could not be resolved" }))
      elseif resolved.edit or resolved.command then
        M.apply(client, resolved, bufnr, done)
      else
        done(M.report(nil, { applied = false, error = "the action came back without an edit" }))
      end
    end, bufnr)
    return
  end
  if action.edit then
    vim.lsp.util.apply_workspace_edit(action.edit, client.offset_encoding or "utf-16")
  end
  local command = action.command
  if type(command) == "table" then
    M.run(client, command, bufnr, done)
  elseif type(command) == "string" then -- a bare Command
    M.run(client, action, bufnr, done)
  else
    done(M.report(nil, { applied = action.edit ~= nil, files = {}, summary = action.title }))
  end
end

--- :WeftFix — "Fix with weft" for the diagnostics on the cursor line.
function M.fix(bufnr, done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = attached(bufnr)
  if not client then
    return
  end
  local lnum = vim.api.nvim_win_get_cursor(vim.fn.bufwinid(bufnr) ~= -1 and vim.fn.bufwinid(bufnr) or 0)[1] - 1
  local diagnostics = lsp.line_diagnostics(bufnr, lnum)
  if #diagnostics == 0 then
    notify("weft: no diagnostics on this line", vim.log.levels.WARN)
    return
  end
  local line = vim.api.nvim_buf_get_lines(bufnr, lnum, lnum + 1, false)[1] or ""
  local params = {
    textDocument = { uri = vim.uri_from_bufnr(bufnr) },
    range = {
      start = { line = lnum, character = 0 },
      ["end"] = { line = lnum, character = line_end(line, client.offset_encoding) },
    },
    context = { diagnostics = diagnostics, only = { "quickfix" }, triggerKind = 1 },
  }
  lsp.request(client, "textDocument/codeAction", params, function(err, actions)
    if err then
      M.report(err)
      return
    end
    local fixes = {}
    for _, action in ipairs(type(actions) == "table" and actions or {}) do
      if type(action.title) == "string" and action.title:find("^Fix with weft") then
        table.insert(fixes, action)
      end
    end
    if #fixes == 0 then
      notify("weft: no fix offered for this line", vim.log.levels.WARN)
    elseif #fixes == 1 then
      M.apply(client, fixes[1], bufnr, done)
    else
      vim.ui.select(fixes, {
        prompt = "weft: fix which diagnostic?",
        format_item = function(action)
          return action.title
        end,
      }, function(choice)
        if choice then
          M.apply(client, choice, bufnr, done)
        end
      end)
    end
  end, bufnr)
end

--- :WeftRefactor {instruction} — weft.refactor on the buffer (lines = {first, last}, 0-based).
function M.refactor(bufnr, instruction, lines, done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local client = attached(bufnr)
  if not client then
    return
  end
  if type(instruction) ~= "string" or instruction:match("^%s*$") then
    notify("weft: :WeftRefactor needs an instruction, e.g. :WeftRefactor rename Foo to Bar", vim.log.levels.WARN)
    return
  end
  local range
  if lines then
    local last = vim.api.nvim_buf_get_lines(bufnr, lines[2], lines[2] + 1, false)[1] or ""
    range = {
      start = { line = lines[1], character = 0 },
      ["end"] = { line = lines[2], character = line_end(last, client.offset_encoding) },
    }
  else
    local position = lsp.position_params(client, bufnr).position
    range = { start = position, ["end"] = position }
  end
  local arguments = { { instruction = vim.trim(instruction), uri = vim.uri_from_bufnr(bufnr), range = range } }
  notify("weft: working on it…")
  run_command(client, { command = "weft.refactor", arguments = arguments }, bufnr, done or function() end)
end

--- :WeftReindex — rebuild the workspace index.
function M.reindex(bufnr, done)
  local client = attached(bufnr)
  if not client then
    return
  end
  lsp.execute(client, "weft.reindex", {}, function(err, result)
    if err then
      notify("weft: reindex failed: " .. (err.message or tostring(err)), vim.log.levels.ERROR)
    else
      notify("weft: workspace reindexed")
    end
    if done then
      done(err, result)
    end
  end, bufnr)
end

return M
