--- :checkhealth weft — is the server command there, which completion path this Neovim uses,
--- and is weft attached here. Works with 0.7's require("health").report_* and 0.10's vim.health.
local M = {}

local function reporter()
  local h = vim.health
  if h and h.start then
    return { start = h.start, ok = h.ok, warn = h.warn, error = h.error, info = h.info }
  end
  h = require("health")
  return { start = h.report_start, ok = h.report_ok, warn = h.report_warn, error = h.report_error, info = h.report_info }
end

function M.check()
  local report = reporter()
  local weft = require("weft")
  report.start("weft")
  local opts = weft.options
  if not opts then
    report.warn("require('weft').setup() has not run", { "Call require('weft').setup({}) in your config." })
    opts = require("weft.config").merge({})
  else
    report.ok("setup() ran")
  end

  local exe = opts.cmd[1]
  if vim.fn.executable(exe) == 1 then
    report.ok(("server command: %s (%s)"):format(table.concat(opts.cmd, " "), vim.fn.exepath(exe)))
  else
    report.error(("server command not found: %s"):format(exe), {
      "Install weft: pipx install weft (or pip install weft in a Python 3.11+ environment)",
      "or point setup({ cmd = { '/path/to/weft', 'serve' } }) at it",
    })
  end

  report.start("weft: completion")
  if vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    report.ok("vim.lsp.inline_completion is available: ghost-text suggestions")
  elseif vim.lsp.completion and vim.lsp.completion.enable then
    report.ok("vim.lsp.completion is available: weft's suggestions appear in the completion menu")
  elseif pcall(require, "cmp") then
    report.ok("nvim-cmp found: add { name = 'weft' } to its sources")
  else
    report.info("No inline completion, vim.lsp.completion or nvim-cmp here: use <C-x><C-o> "
      .. "(omnifunc) or map keymaps.suggest in setup() to insert weft's suggestion")
  end

  report.start("weft: clients")
  local clients = {}
  local all = vim.lsp.get_clients and vim.lsp.get_clients() or vim.lsp.get_active_clients()
  for _, client in pairs(all) do
    if client.name == "weft" then
      table.insert(clients, client)
    end
  end
  if #clients == 0 then
    report.info("no weft client is running (it starts when you open a file of a configured filetype)")
  end
  for _, client in ipairs(clients) do
    local buffers = {}
    if vim.lsp.get_buffers_by_client_id then
      buffers = vim.lsp.get_buffers_by_client_id(client.id)
    else -- 0.11+: the client keeps them
      for bufnr in pairs(client.attached_buffers or {}) do
        table.insert(buffers, bufnr)
      end
    end
    local modes = {}
    for _, bufnr in ipairs(buffers) do
      local mode = vim.b[bufnr].weft_completion
      if mode and not vim.tbl_contains(modes, mode) then
        table.insert(modes, mode)
      end
    end
    report.ok(("client %d running, root %s, %d buffer(s), completion path: %s"):format(
      client.id, client.config.root_dir or "?", #buffers, #modes > 0 and table.concat(modes, ", ") or "none"))
  end
end

return M
