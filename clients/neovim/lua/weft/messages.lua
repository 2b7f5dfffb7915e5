--- window/showMessage from weft → vim.notify at the message's level, titled "weft".
--- Neovim 0.7–0.11 only echo these (a warning lands in :messages, easily missed); the outage
--- warning ("the model backend is not answering") must reach the user, and nvim-notify & co.
local M = {}

--- LSP MessageType (1 error, 2 warning, 3 info, 4 log) → vim.log.levels.
function M.level(message_type)
  local levels = vim.log.levels
  return ({ levels.ERROR, levels.WARN, levels.INFO, levels.DEBUG })[message_type] or levels.INFO
end

--- The handler (the signature every Neovim since 0.5.1 calls handlers with).
function M.show_message(_, result, _)
  if type(result) == "table" and type(result.message) == "string" then
    vim.notify(result.message, M.level(result.type), { title = "weft" })
  end
  return result
end

return M
