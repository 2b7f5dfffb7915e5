--- The completion fallback that works on every Neovim: fetch weft's suggestion for the cursor
--- (textDocument/completion, which weft answers for clients without inline completion) and
--- insert it, then tell the server it was accepted (the item's command).
local lsp = require("weft.lsp")

local M = {}

--- The weft item to insert from a completion result, or nil.
function M.pick(result)
  if type(result) ~= "table" then
    return nil
  end
  local items = result.items or result
  return type(items) == "table" and items[1] or nil
end

--- The (start, text) to insert for an item at the given cursor, in LSP terms.
function M.edit_for(item, position)
  local edit = item.textEdit
  if type(edit) == "table" then
    return { range = edit.range or edit.insert, newText = edit.newText }
  end
  return { range = { start = position, ["end"] = position }, newText = item.insertText or item.label }
end

--- Inserts weft's suggestion at the cursor of `bufnr`; done(inserted_text or nil).
function M.insert(bufnr, done)
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  done = done or function() end
  local client = lsp.client(bufnr)
  if not client then
    vim.notify("weft is not running for this buffer", vim.log.levels.WARN, { title = "weft" })
    return done(nil)
  end
  local params = lsp.position_params(client, bufnr)
  params.context = { triggerKind = 1 }
  local changedtick = vim.api.nvim_buf_get_changedtick(bufnr)
  lsp.request(client, "textDocument/completion", params, function(err, result)
    local item = not err and M.pick(result) or nil
    -- a suggestion for text that has changed since the request would land in the wrong place
    if not item or vim.api.nvim_buf_get_changedtick(bufnr) ~= changedtick then
      return done(nil)
    end
    local encoding = client.offset_encoding or "utf-16"
    local edit = M.edit_for(item, params.position)
    vim.lsp.util.apply_text_edits({ edit }, bufnr, encoding)
    local start = edit.range.start
    local first = vim.api.nvim_buf_get_lines(bufnr, start.line, start.line + 1, false)[1] or ""
    local lines = vim.split(edit.newText, "\n", { plain = true })
    local row = start.line + #lines - 1
    local col = #lines == 1 and lsp.byte_col(first, start.character, encoding) + #lines[1] or #lines[#lines]
    local win = vim.fn.bufwinid(bufnr)
    if win ~= -1 then
      vim.api.nvim_win_set_cursor(win, { row + 1, col })
    end
    if type(item.command) == "table" then
      lsp.execute(client, item.command.command, item.command.arguments, function() end, bufnr)
    end
    done(edit.newText)
  end, bufnr)
end

return M
