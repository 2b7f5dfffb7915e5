--- Neovim 0.12's native ghost text (vim.lsp.inline_completion), right at every keystroke.
---
--- Neovim keeps drawing the last answer while the user types and asks again only 200 ms after
--- the last keystroke, and its accept pastes that answer as it came. weft's items carry a range
--- that starts where the request was made, so Neovim's own prefix matching skips what was typed
--- since; this module covers what that cannot:
---   * it remembers, per request, the line as it was when the request was made (by wrapping
---     this client's rpc.request for textDocument/inlineCompletion);
---   * an answer or a drawn suggestion that no longer matches what was typed since is hidden;
---   * accept replaces the item's range widened by what was typed since (never `retreturn`);
---   * accept-word and accept-line insert the next word or line of what is shown (Neovim core
---     has no partial accept); the rest stays on screen.
local lsp = require("weft.lsp")

local M = {}

local METHOD = "textDocument/inlineCompletion"
--- Neovim's own namespace for the ghost text (nvim_create_namespace returns the same id).
local ns = vim.api.nvim_create_namespace("nvim.lsp.inline_completion")

--- bufnr → { req = request snapshot, items = { {text, s, e, command} } } of the last answer.
M.state = {}
--- command table of an answered item → { req, item }, to find an item Neovim hands back.
local by_command = setmetatable({}, { __mode = "k" })

-- -- pure parts ---------------------------------------------------------------------------

--- What was typed at the request's position since the request, or nil when the line changed
--- in any other way (another row, a deletion, an edit before or after the typed text).
--- `req` = { row, line (text at request time), col (0-based byte column of the request) }.
function M.typed_since(req, line, row, col)
  if row ~= req.row or type(line) ~= "string" then
    return nil
  end
  local before, p = req.line, req.col
  local grown = #line - #before
  if grown < 0 or col ~= p + grown then
    return nil
  end
  if line:sub(1, p) ~= before:sub(1, p) or line:sub(col + 1) ~= before:sub(p + 1) then
    return nil
  end
  return line:sub(p + 1, col)
end

--- The edit that accepts `item` ({ text, s, e }: byte columns of the request-time line) on the
--- current line: { start_col, end_col, rest } where `rest` is what still follows the cursor,
--- or nil when what was typed since does not agree with the item.
function M.reconcile(req, item, line, row, col)
  if type(item.text) ~= "string" or item.s == nil or item.s > req.col then
    return nil
  end
  local typed = M.typed_since(req, line, row, col)
  if not typed then
    return nil
  end
  local head = req.line:sub(item.s + 1, req.col) .. typed
  if item.text:sub(1, #head) ~= head then
    return nil
  end
  local end_col = item.e >= req.col and item.e + #typed or item.e
  return { start_col = item.s, end_col = end_col, rest = item.text:sub(#head + 1) }
end

--- The next word of a suggestion: leading blanks, then a run of word characters or of
--- punctuation.
function M.next_word(rest)
  local blank, after = rest:match("^(%s*)(.*)$")
  local word = after:match("^[%w_]+") or after:match("^[^%w_%s]+") or ""
  return blank .. word
end

--- The rest of the current line of a suggestion; at a line end, the line break and the next line.
function M.next_line(rest)
  if rest:sub(1, 1) == "\n" then
    return "\n" .. rest:sub(2):match("^[^\n]*")
  end
  return rest:match("^[^\n]*")
end

--- { text, s, e, command } of an answered item, byte columns on the request-time line.
function M.item(req, raw)
  local text = raw.insertText
  local s, e = req.col, req.col
  local range = raw.range
  if type(range) == "table" then
    if range.start.line ~= req.row or range["end"].line ~= req.row then
      return { text = nil, command = raw.command } -- not on the request's line: never shown
    end
    s = lsp.byte_col(req.line, range.start.character, req.encoding)
    e = lsp.byte_col(req.line, range["end"].character, req.encoding)
  end
  return { text = type(text) == "string" and text or nil, s = s, e = e, command = raw.command }
end

-- -- editor state ---------------------------------------------------------------------------

--- The current line, 0-based row and byte column of the cursor in a window showing `bufnr`.
local function cursor_in(bufnr)
  local win = vim.api.nvim_get_current_win()
  if vim.api.nvim_win_get_buf(win) ~= bufnr then
    win = vim.fn.bufwinid(bufnr)
  end
  if win == -1 then
    return nil
  end
  local pos = vim.api.nvim_win_get_cursor(win)
  local row = pos[1] - 1
  return vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1] or "", row, pos[2], win
end

local function chunk_text(chunks)
  local parts = {}
  for _, chunk in ipairs(chunks or {}) do
    if chunk[2] ~= "ComplHintMore" then -- the "(1/3)" of cycling is not suggestion text
      table.insert(parts, chunk[1])
    end
  end
  return table.concat(parts)
end

--- The ghost text Neovim draws in `bufnr` (lines joined with "\n"), or nil when none.
function M.displayed(bufnr)
  local marks = vim.api.nvim_buf_get_extmarks(bufnr, ns, 0, -1, { details = true })
  if #marks == 0 then
    return nil
  end
  local details = marks[1][4]
  local lines = { chunk_text(details.virt_text) }
  for _, virt_line in ipairs(details.virt_lines or {}) do
    table.insert(lines, chunk_text(virt_line))
  end
  return table.concat(lines, "\n")
end

local function ends_with(text, tail)
  return #tail <= #text and text:sub(#text - #tail + 1) == tail
end

--- The shown suggestion as { req, item, edit } when what is drawn agrees with what was typed;
--- hides a drawn suggestion that does not, and returns nil.
function M.current(bufnr)
  local shown = M.displayed(bufnr)
  if not shown then
    return nil
  end
  local st = M.state[bufnr]
  local line, row, col = cursor_in(bufnr)
  if st and line then
    for _, item in ipairs(st.items) do
      local edit = M.reconcile(st.req, item, line, row, col)
      if edit and ends_with(edit.rest, shown) then
        return { req = st.req, item = item, edit = edit }
      end
    end
  end
  vim.api.nvim_buf_clear_namespace(bufnr, ns, 0, -1)
  return nil
end

-- -- requests and answers -------------------------------------------------------------------

--- The request's snapshot: its buffer, row, line text and byte column.
local function capture(client, params)
  local ok, bufnr = pcall(vim.uri_to_bufnr, params.textDocument.uri)
  if not ok or not vim.api.nvim_buf_is_loaded(bufnr) then
    return nil
  end
  local row = params.position.line
  local line = vim.api.nvim_buf_get_lines(bufnr, row, row + 1, false)[1]
  if not line then
    return nil
  end
  local encoding = client.offset_encoding or "utf-16"
  return {
    bufnr = bufnr,
    row = row,
    line = line,
    col = lsp.byte_col(line, params.position.character, encoding),
    encoding = encoding,
  }
end

--- Remembers an answer and keeps only the items that agree with what was typed since the
--- request (an answer to an older request must not draw over newer typing).
function M.receive(req, result)
  if type(result) ~= "table" then
    return result
  end
  local list = result.items or result
  if type(list) ~= "table" then
    return result
  end
  local items, keep = {}, {}
  local line, row, col = cursor_in(req.bufnr)
  for _, raw in ipairs(list) do
    local item = M.item(req, raw)
    table.insert(items, item)
    if type(raw.command) == "table" then
      by_command[raw.command] = { req = req, item = item }
    end
    if line and M.reconcile(req, item, line, row, col) then
      table.insert(keep, raw)
    end
  end
  M.state[req.bufnr] = { req = req, items = items }
  if result.items then
    return vim.tbl_extend("force", result, { items = keep })
  end
  return keep
end

--- Wraps this client's rpc.request so inline completion requests and answers pass through here.
local function wrap_requests(client)
  local rpc = client.rpc
  if type(rpc) ~= "table" or type(rpc.request) ~= "function" or rpc._weft_inline then
    return
  end
  local request = rpc.request
  rpc.request = function(method, params, callback, ...)
    if method == METHOD and type(params) == "table" and type(callback) == "function" then
      local req = capture(client, params)
      if req then
        local deliver = callback
        callback = function(err, result, ...)
          if not err then
            result = M.receive(req, result)
          end
          return deliver(err, result, ...)
        end
      end
    end
    return request(method, params, callback, ...)
  end
  rpc._weft_inline = true
end

-- -- accepting ----------------------------------------------------------------------------

local function insert(bufnr, row, start_col, end_col, text)
  local lines = vim.split(text, "\n", { plain = true })
  vim.api.nvim_buf_set_text(bufnr, row, start_col, row, end_col, lines)
  local _, _, _, win = cursor_in(bufnr)
  if win then
    local col = (#lines == 1 and start_col or 0) + #lines[#lines]
    vim.api.nvim_win_set_cursor(win, { row + #lines, col })
  end
end

--- Accepts the shown suggestion: replaces its range, widened by what was typed since the
--- request, and runs its command. False when nothing (right) is shown.
function M.accept(bufnr)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local shown = M.current(bufnr)
  if not shown then
    return false
  end
  return vim.lsp.inline_completion.get({
    bufnr = bufnr,
    on_accept = function(item)
      local mine = (type(item.command) == "table" and by_command[item.command]) or shown
      local line, row, col = cursor_in(bufnr)
      local edit = line and M.reconcile(mine.req, mine.item, line, row, col)
      if not edit then
        return nil -- the text moved on in the meantime: accept nothing rather than the wrong thing
      end
      insert(bufnr, row, edit.start_col, edit.end_col, mine.item.text)
      local client = lsp.client(bufnr)
      if client and type(item.command) == "table" then
        lsp.execute(client, item.command.command, item.command.arguments, function() end, bufnr)
      end
      return nil -- applied here
    end,
  })
end

--- Inserts the next word ("word") or the rest of the line ("line") of the shown suggestion at
--- the cursor; the rest stays shown. False when nothing is shown.
function M.accept_part(bufnr, how)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  local shown = M.current(bufnr)
  if not shown then
    return false
  end
  local piece = how == "word" and M.next_word(shown.edit.rest) or M.next_line(shown.edit.rest)
  if piece == "" then
    return false
  end
  if piece == shown.edit.rest then
    return M.accept(bufnr) -- the last piece: a whole accept (replaces the range, runs the command)
  end
  vim.schedule(function() -- expr mappings may not change text
    local line, row, col = cursor_in(bufnr)
    if line and M.reconcile(shown.req, shown.item, line, row, col) then
      insert(bufnr, row, col, col, piece)
    end
  end)
  return true
end

--- Turns on ghost text for `bufnr` and maps opts.keymaps.accept / accept_word / accept_line.
function M.attach(client, bufnr, opts)
  vim.lsp.inline_completion.enable(true, { bufnr = bufnr, client_id = client.id })
  wrap_requests(client)
  -- Defined after Neovim's own autocmds (enable() just created them), so these run after it
  -- redraws a kept item on a keystroke, and hide it when it no longer fits.
  local group = vim.api.nvim_create_augroup("weft.inline:" .. bufnr, { clear = true })
  vim.api.nvim_create_autocmd({ "CursorMovedI", "TextChangedI", "TextChangedP" }, {
    group = group,
    buffer = bufnr,
    callback = function()
      M.current(bufnr)
    end,
  })
  vim.api.nvim_create_autocmd("InsertLeave", {
    group = group,
    buffer = bufnr,
    callback = function()
      M.state[bufnr] = nil
    end,
  })
  local keys = {
    { opts.keymaps.accept, M.accept, "weft: accept the suggestion" },
    { opts.keymaps.accept_word, function(b) return M.accept_part(b, "word") end, "weft: accept the next word" },
    { opts.keymaps.accept_line, function(b) return M.accept_part(b, "line") end, "weft: accept the next line" },
  }
  for _, key in ipairs(keys) do
    local lhs, fn, desc = key[1], key[2], key[3]
    if lhs then
      vim.keymap.set("i", lhs, function()
        if fn(bufnr) then
          return ""
        end
        return lhs -- nothing shown: the key does what it did before
      end, { buffer = bufnr, expr = true, desc = desc })
    end
  end
end

return M
