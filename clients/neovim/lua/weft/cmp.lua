--- An nvim-cmp source for weft (`{ name = "weft" }` in cmp's sources), for Neovims without
--- vim.lsp.inline_completion and vim.lsp.completion. It asks only the weft client, so weft's
--- items can be ranked and shown apart from other language servers'.
local lsp = require("weft.lsp")

local source = {}
source.__index = source

function source.new()
  return setmetatable({}, source)
end

function source:get_debug_name()
  return "weft"
end

function source:is_available()
  return lsp.client(0) ~= nil
end

function source:get_keyword_pattern()
  return [[\k*]]
end

function source:complete(params, callback)
  local bufnr = vim.api.nvim_get_current_buf()
  local client = lsp.client(bufnr)
  if not client then
    return callback({ items = {}, isIncomplete = false })
  end
  local request = lsp.position_params(client, bufnr)
  request.context = { triggerKind = params.completion_context and params.completion_context.triggerKind or 1 }
  lsp.request(client, "textDocument/completion", request, function(err, result)
    if err or type(result) ~= "table" then
      return callback({ items = {}, isIncomplete = true })
    end
    local items = result.items or result
    callback({ items = items, isIncomplete = result.isIncomplete == true })
  end, bufnr)
end

function source:execute(item, callback)
  local client = lsp.client(0)
  if client and type(item.command) == "table" then
    lsp.execute(client, item.command.command, item.command.arguments, function() end, 0)
  end
  callback(item)
end

local M = { source = source }
local registered = false

--- Registers the source with nvim-cmp once.
function M.register()
  if registered then
    return
  end
  local ok, cmp = pcall(require, "cmp")
  if ok then
    cmp.register_source("weft", source.new())
    registered = true
  end
end

return M
