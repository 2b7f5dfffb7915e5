--- Small compatibility layer over Neovim's LSP client API, 0.7 to 0.12, by feature checks.
local M = {}

--- Calls a client function: a closure field up to 0.10 (`client.request(...)`), a method from
--- 0.11 on (`client:request(...)`), told apart by where the function lives.
function M.call(client, name, ...)
  if rawget(client, name) ~= nil then
    return client[name](...)
  end
  return client[name](client, ...)
end

--- Every client attached to a buffer (0 = current).
local function buffer_clients(bufnr)
  if vim.lsp.get_clients then -- 0.10+
    return vim.lsp.get_clients({ bufnr = bufnr })
  end
  local list = {}
  for _, client in pairs(vim.lsp.buf_get_clients(bufnr)) do
    table.insert(list, client)
  end
  return list
end

--- The weft client attached to a buffer, or nil.
function M.client(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  for _, client in ipairs(buffer_clients(bufnr)) do
    if client.name == "weft" then
      return client
    end
  end
  return nil
end

--- textDocument/position params for the cursor in the client's position encoding.
function M.position_params(client, bufnr)
  local win = vim.fn.bufwinid(bufnr)
  return vim.lsp.util.make_position_params(win ~= -1 and win or 0, client.offset_encoding or "utf-16")
end

--- Sends a request to this client only; handler(err, result).
function M.request(client, method, params, handler, bufnr)
  return M.call(client, "request", method, params, function(err, result)
    handler(err, result)
  end, bufnr)
end

--- Runs a server command through workspace/executeCommand; handler(err, result).
function M.execute(client, command, arguments, handler, bufnr)
  return M.request(client, "workspace/executeCommand", { command = command, arguments = arguments }, handler, bufnr)
end

-- Position encodings done here in plain Lua: vim.str_utfindex/str_byteindex changed their
-- signatures in 0.11, and these few lines work the same everywhere.

--- Length of one UTF-8 sequence from its first byte.
local function sequence_length(byte)
  if byte >= 0xF0 then
    return 4
  elseif byte >= 0xE0 then
    return 3
  elseif byte >= 0xC0 then
    return 2
  end
  return 1
end

--- Code units of one character of `encoding` for a UTF-8 sequence of `len` bytes.
local function units(len, encoding)
  if encoding == "utf-8" then
    return len
  elseif encoding == "utf-16" then
    return len == 4 and 2 or 1
  end
  return 1
end

--- The line's length in the encoding's code units.
function M.character_count(line, encoding)
  local count, i = 0, 1
  while i <= #line do
    local len = sequence_length(line:byte(i))
    count = count + units(len, encoding)
    i = i + len
  end
  return count
end

--- The byte column (0-based) of an LSP character offset on a line; clamped to the line end.
function M.byte_col(line, character, encoding)
  local count, i = 0, 1
  while i <= #line and count < character do
    local len = sequence_length(line:byte(i))
    count = count + units(len, encoding)
    i = i + len
  end
  return i - 1
end

--- LSP diagnostics for a 0-based line, from vim.diagnostic (original LSP data when kept).
function M.line_diagnostics(bufnr, lnum)
  local out = {}
  for _, d in ipairs(vim.diagnostic.get(bufnr, { lnum = lnum })) do
    local original = d.user_data and d.user_data.lsp
    if original then
      table.insert(out, original)
    else
      table.insert(out, {
        range = {
          start = { line = d.lnum, character = d.col },
          ["end"] = { line = d.end_lnum or d.lnum, character = d.end_col or d.col },
        },
        severity = d.severity,
        message = d.message,
        source = d.source,
        code = d.code,
      })
    end
  end
  return out
end

return M
