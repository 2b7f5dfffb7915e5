--- weft.toml and Neovim's own trust store (`:trust`, vim.secure, Neovim 0.9+).
---
--- A repository's weft.toml may name commands, model servers and credentials; the server only
--- applies those keys once the user trusted that exact file content. With vim.secure the user
--- decides in Neovim: vim.secure.read() asks the first time and after every change (as for
--- .nvim.lua), and the plugin tells the server the SHA-256 of the content the user accepted.
--- Without vim.secure (0.7-0.8) nothing is added and the server decides from `weft trust`.
local M = {}

local uv = vim.uv or vim.loop

--- The workspaceTrust word for initializationOptions, or nil.
function M.word(root, opts)
  if opts.secure_read == false or not (vim.secure and vim.secure.read) then
    return nil
  end
  local path = root .. "/weft.toml"
  if not uv.fs_stat(path) then
    return nil
  end
  local ok, content = pcall(vim.secure.read, path)
  if ok and type(content) == "string" then
    return { weftTomlSha256 = vim.fn.sha256(content) }
  end
  return nil
end

--- initializationOptions: the settings, plus the trust word when there is one.
function M.init_options(settings, root, opts)
  local word = M.word(root, opts)
  if not word then
    return settings
  end
  local out = vim.deepcopy(settings or {})
  out.workspaceTrust = word
  return out
end

return M
