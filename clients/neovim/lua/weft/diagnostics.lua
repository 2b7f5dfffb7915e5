--- Forwards every diagnostic Neovim shows for a buffer (all namespaces: pyright, ruff, linters)
--- to weft with the `weft/clientDiagnostics` notification (docs/clients.md).
---
--- Neovim's vim.lsp.buf.code_action() (`gra`) sends each server only the diagnostics that
--- server published, so weft would never see another server's error there and could not offer
--- "Fix with weft: <message>" for it. With the set forwarded, weft offers the fix in Neovim's
--- own menu for any error the user sees.
local lsp = require("weft.lsp")

local M = {}

M.METHOD = "weft/clientDiagnostics"
local DELAY_MS = 100 -- diagnostics arrive in bursts (one per server and namespace)

local pending = {}

--- A vim.diagnostic entry as an LSP Diagnostic in the client's position encoding.
function M.to_lsp(bufnr, d, encoding)
  local function position(row, col)
    local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or ""
    return { line = row, character = lsp.character_count(line:sub(1, col or 0), encoding) }
  end
  local code = d.code
  if type(code) ~= "string" and type(code) ~= "number" then
    code = nil
  end
  return {
    range = { start = position(d.lnum, d.col), ["end"] = position(d.end_lnum or d.lnum, d.end_col or d.col) },
    severity = d.severity,
    message = d.message,
    source = type(d.source) == "string" and d.source or nil,
    code = code,
  }
end

--- Every diagnostic of `bufnr` except those weft published itself.
function M.collect(bufnr, client)
  local own = {}
  if vim.lsp.diagnostic.get_namespace then
    own[vim.lsp.diagnostic.get_namespace(client.id)] = true
    pcall(function() own[vim.lsp.diagnostic.get_namespace(client.id, true)] = true end)
  end
  local encoding = client.offset_encoding or "utf-16"
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr)) do
    if not own[d.namespace] then
      table.insert(out, M.to_lsp(bufnr, d, encoding))
    end
  end
  return out
end

--- Sends the buffer's diagnostics to weft now.
function M.send(bufnr)
  pending[bufnr] = nil
  if not vim.api.nvim_buf_is_valid(bufnr) then
    return
  end
  local client = lsp.client(bufnr)
  if not client then
    return
  end
  -- an empty Lua table goes out as [], which is what an empty list should be here
  local params = { uri = vim.uri_from_bufnr(bufnr), diagnostics = M.collect(bufnr, client) }
  lsp.call(client, "notify", M.METHOD, params)
end

local function schedule(bufnr)
  if pending[bufnr] then
    return
  end
  pending[bufnr] = true
  vim.defer_fn(function()
    M.send(bufnr)
  end, DELAY_MS)
end

--- Forwards `bufnr`'s diagnostics from now on (called when weft attaches).
function M.attach(bufnr)
  local group = vim.api.nvim_create_augroup("weft.diagnostics:" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd("DiagnosticChanged", {
    group = group,
    buffer = bufnr,
    callback = function()
      schedule(bufnr)
    end,
  })
  schedule(bufnr)
end

return M
