-- Headless Neovim driver for tests/e2e/test_neovim.py:
--   nvim --headless -u NONE -c "luafile tests/clients/nvim_driver.lua"
-- Reads the scenario from $WEFT_NVIM_TEST (JSON), drives the real weft plugin and server,
-- writes what happened to the scenario's `out` file as JSON, and quits.
local test = vim.fn.json_decode(os.getenv("WEFT_NVIM_TEST"))
local result = { steps = {} }

local function write_result()
  local fh = io.open(test.out, "w")
  fh:write(vim.fn.json_encode(result))
  fh:close()
end

local function step(name)
  table.insert(result.steps, name)
end

local function wait(ms, predicate, what)
  if not vim.wait(ms, predicate, 50) then
    error("timed out waiting for " .. what)
  end
end

local function attached_client(bufnr)
  local client = require("weft.lsp").client(bufnr)
  return client and client.initialized and client or nil
end

local scenarios = {}

-- The completion fallback inserts the loopback model's suggestion at the cursor.
function scenarios.completion()
  vim.cmd("edit " .. vim.fn.fnameescape(test.files[1]))
  local bufnr = vim.api.nvim_get_current_buf()
  wait(20000, function() return attached_client(bufnr) ~= nil end, "weft to attach")
  step("attached")
  local client = attached_client(bufnr)
  result.completion_mode = vim.b[bufnr].weft_completion
  result.completion_provider = client.server_capabilities.completionProvider ~= nil
  result.inline_provider = client.server_capabilities.inlineCompletionProvider ~= nil
  -- the cursor where insert mode has it: just past the end of the line
  vim.o.virtualedit = "onemore"
  vim.api.nvim_win_set_cursor(0, { test.cursor[1], test.cursor[2] })
  local inserted = false
  require("weft.suggest").insert(bufnr, function(text)
    result.inserted = text or vim.NIL
    inserted = true
  end)
  wait(20000, function() return inserted end, "the suggestion")
  result.lines = vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  result.cursor = vim.api.nvim_win_get_cursor(0)
end

-- One completion request of the kind this Neovim gets (inline on 0.12, the fallback before);
-- records the first item's text (nil when weft had nothing).
function scenarios.ask()
  vim.cmd("edit " .. vim.fn.fnameescape(test.files[1]))
  local bufnr = vim.api.nvim_get_current_buf()
  wait(20000, function() return attached_client(bufnr) ~= nil end, "weft to attach")
  local client = attached_client(bufnr)
  vim.o.virtualedit = "onemore"
  vim.api.nvim_win_set_cursor(0, { test.cursor[1], test.cursor[2] })
  local params = require("weft.lsp").position_params(client, bufnr)
  local inline = client.server_capabilities.inlineCompletionProvider
  params.context = { triggerKind = 1 }
  local answered = false
  require("weft.lsp").request(client, inline and "textDocument/inlineCompletion" or "textDocument/completion", params, function(err, res)
    local items = type(res) == "table" and (res.items or res) or {}
    local item = items[1]
    if item then
      result.suggested = item.insertText or (item.textEdit and item.textEdit.newText) or item.label
    end
    result.error_reply = err and tostring(err.message) or nil
    answered = true
  end, bufnr)
  wait(20000, function() return answered end, "the answer")
end

local function open_all()
  local buffers = {}
  for _, name in ipairs(test.files) do
    vim.cmd("edit " .. vim.fn.fnameescape(name))
    table.insert(buffers, vim.api.nvim_get_current_buf())
  end
  for _, bufnr in ipairs(buffers) do
    wait(20000, function() return attached_client(bufnr) ~= nil end, "weft to attach to every buffer")
  end
  vim.cmd("buffer " .. buffers[1])
  step("attached")
  return buffers
end

local function record_buffers(buffers)
  result.buffers = {}
  for _, bufnr in ipairs(buffers) do
    result.buffers[vim.fn.fnamemodify(vim.api.nvim_buf_get_name(bufnr), ":t")] =
      vim.api.nvim_buf_get_lines(bufnr, 0, -1, false)
  end
end

-- :WeftFix on a diagnostic: the agent's edit lands in two buffers through workspace/applyEdit.
function scenarios.fix()
  local buffers = open_all()
  local ns = vim.api.nvim_create_namespace("weft-test")
  local d = test.diagnostic
  vim.diagnostic.set(ns, buffers[1], { {
    lnum = d.line, col = d.col, end_lnum = d.line, end_col = d.end_col,
    message = d.message, severity = vim.diagnostic.severity.WARN, source = "test",
  } })
  vim.api.nvim_win_set_cursor(0, { d.line + 1, d.col })
  vim.ui.select = function(items, _, choose) choose(items[1]) end
  local actions = require("weft.actions")
  vim.cmd("WeftFix")
  wait(60000, function() return actions.last_result ~= nil end, "the fix to finish")
  result.action_result = actions.last_result
  record_buffers(buffers)
end

-- :WeftRefactor {instruction}: the same two-buffer edit from the command.
function scenarios.refactor()
  local buffers = open_all()
  local actions = require("weft.actions")
  vim.cmd("WeftRefactor " .. test.instruction)
  wait(60000, function() return actions.last_result ~= nil end, "the refactor to finish")
  result.action_result = actions.last_result
  record_buffers(buffers)
end

-- The built-in code action menu: "Refactor with weft…" on a selection asks for the
-- instruction (vim.ui.input) and applies the edit across two buffers.
function scenarios.code_action()
  local buffers = open_all()
  local actions = require("weft.actions")
  local offered = {}
  vim.ui.select = function(items, opts, choose)
    for i, item in ipairs(items) do
      local action = item[2] or item.action or item
      table.insert(offered, action.title)
      if action.title and action.title:find("^Refactor with weft") then
        return choose(item, i)
      end
    end
    choose(nil)
  end
  vim.ui.input = function(_, on_confirm)
    result.prompted = true
    on_confirm(test.instruction)
  end
  if vim.lsp.buf.range_code_action then
    vim.lsp.buf.range_code_action(nil, { 1, 0 }, { 2, 0 })
  else
    vim.lsp.buf.code_action({ range = { start = { 1, 0 }, ["end"] = { 2, 0 } } })
  end
  wait(60000, function() return actions.last_result ~= nil end, "the code action to finish")
  result.offered = offered
  result.action_result = actions.last_result
  record_buffers(buffers)
end

-- :checkhealth weft runs on this Neovim's health API.
function scenarios.health()
  vim.cmd("edit " .. vim.fn.fnameescape(test.files[1]))
  local bufnr = vim.api.nvim_get_current_buf()
  wait(20000, function() return attached_client(bufnr) ~= nil end, "weft to attach")
  vim.cmd("checkhealth weft")
  result.health = vim.api.nvim_buf_get_lines(0, 0, -1, false)
end

-- :help weft opens the plugin's help (doc/tags is committed).
function scenarios.help()
  vim.cmd("help weft")
  result.help_file = vim.fn.fnamemodify(vim.api.nvim_buf_get_name(0), ":t")
  result.help_line = vim.api.nvim_get_current_line()
end

-- The model backend is down: the first completion makes weft warn, and the plugin hands that
-- warning to vim.notify (which notification plugins and the user see), not only to :messages.
function scenarios.outage()
  vim.cmd("edit " .. vim.fn.fnameescape(test.files[1]))
  local bufnr = vim.api.nvim_get_current_buf()
  wait(20000, function() return attached_client(bufnr) ~= nil end, "weft to attach")
  local client = attached_client(bufnr)
  vim.api.nvim_win_set_cursor(0, { 2, 4 })
  local params = require("weft.lsp").position_params(client, bufnr)
  local method = client.server_capabilities.inlineCompletionProvider and "textDocument/inlineCompletion"
    or "textDocument/completion"
  params.context = { triggerKind = 1 }
  require("weft.lsp").request(client, method, params, function() end, bufnr)
  wait(20000, function()
    for _, note in ipairs(result.notes) do
      if note[1]:find("not answering", 1, true) then
        return true
      end
    end
  end, "the outage warning to reach vim.notify")
end

result.notes = {}
local real_notify = vim.notify
vim.notify = function(message, level, opts)
  table.insert(result.notes, { tostring(message), level or vim.log.levels.INFO })
  return real_notify(message, level, opts)
end

local ok, err = pcall(function()
  vim.opt.runtimepath:prepend(test.plugin)
  vim.cmd("filetype on")
  require("weft").setup({ cmd = test.cmd, cmd_env = test.env, settings = test.settings })
  step("setup")
  scenarios[test.scenario]()
end)
if not ok then
  result.error = tostring(err)
end
local messages = vim.api.nvim_exec("messages", true)
result.messages = messages
write_result()
vim.cmd("qall!")
