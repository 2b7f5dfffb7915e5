--- weft's Neovim options: defaults, merging and root detection (no editor state here).
local M = {}

local uv = vim.uv or vim.loop -- vim.loop is the 0.7–0.9 name

--- The weft checkout this plugin lives in (clients/neovim/lua/weft/config.lua → the repo), or nil.
local function checkout()
  local here = debug.getinfo(1, "S").source:gsub("^@", "")
  local repo = vim.fn.fnamemodify(here, ":p:h:h:h:h:h")
  return vim.fn.filereadable(repo .. "/pyproject.toml") == 1 and repo or nil
end

--- How to install the server today: weft is not on a package index yet, so from the checkout
--- the plugin came with (or a wheel built from it with `python -m build`).
function M.install_hint()
  local repo = checkout()
  local from = repo and ("python3 -m pip install " .. vim.fn.shellescape(repo))
    or "python3 -m pip install /path/to/weft (a checkout of weft's repository)"
  return from .. " into a Python 3.11+ environment (or pip install a wheel built there with "
    .. "python3 -m build), so that `weft` is on $PATH"
end

M.defaults = {
  -- argv that starts the server (`pip install .` from a checkout puts `weft` on PATH)
  cmd = { "weft", "serve" },
  -- extra environment for the server process
  cmd_env = nil,
  -- weft settings, the same shape as weft.toml / VS Code's weft.* (camelCase keys);
  -- sent as initializationOptions and answered for workspace/configuration section "weft"
  settings = {},
  -- filetypes to start weft for; "*" means every normal file buffer
  filetypes = {
    "bash", "c", "cpp", "cs", "css", "dart", "elixir", "erlang", "go", "haskell", "html",
    "java", "javascript", "javascriptreact", "json", "julia", "kotlin", "lua", "markdown",
    "ocaml", "perl", "php", "python", "r", "ruby", "rust", "scala", "scss", "sh", "sql",
    "swift", "toml", "typescript", "typescriptreact", "vim", "yaml", "zig", "zsh",
  },
  -- files or folders that mark a workspace root (first found upwards wins)
  root_markers = { "weft.toml", ".git", "pyproject.toml", "package.json", "go.mod", "Cargo.toml" },
  -- ghost text through vim.lsp.inline_completion where Neovim has it (0.12+)
  inline_completion = true,
  -- where inline completion is missing: "auto" (vim.lsp.completion, else nvim-cmp, else
  -- omnifunc), "lsp", "cmp", "omnifunc" or false
  completion = "auto",
  -- open the completion menu as you type with vim.lsp.completion (0.11+)
  autotrigger = true,
  -- insert-mode keys; nil leaves the key unmapped
  keymaps = {
    accept = nil, -- accept the inline suggestion (0.12+)
    accept_word = nil, -- accept its next word (0.12+)
    accept_line = nil, -- accept the rest of its line (0.12+)
    suggest = nil, -- fetch and insert weft's suggestion at the cursor (any version)
  },
  -- send weft every diagnostic shown for its buffers (weft/clientDiagnostics), so Neovim's own
  -- code-action menu offers "Fix with weft" for any server's error
  forward_diagnostics = true,
  -- called after weft attaches to a buffer: on_attach(client, bufnr)
  on_attach = nil,
  -- ask Neovim's trust store (vim.secure.read, 0.9+) before the server may apply the
  -- trusted-only settings of the workspace's weft.toml; false: only `weft trust` decides
  secure_read = true,
}

--- Deep-merges `opts` over the defaults; lists replace, tables merge.
function M.merge(opts)
  return vim.tbl_deep_extend("force", vim.deepcopy(M.defaults), opts or {})
end

--- `settings` as JSON wants it: an empty Lua table encodes as `[]`, so the table and each of
--- its sections (all objects) are marked as dictionaries when empty.
function M.as_object(settings)
  if type(settings) ~= "table" then
    return settings
  end
  if next(settings) == nil then
    return vim.empty_dict()
  end
  local out = {}
  for key, value in pairs(settings) do
    out[key] = (type(value) == "table" and next(value) == nil) and vim.empty_dict() or value
  end
  return out
end

--- An error message for bad options, or nil.
function M.validate(cfg)
  if type(cfg.cmd) ~= "table" or #cfg.cmd == 0 then
    return "weft: `cmd` must be a non-empty list, e.g. { \"weft\", \"serve\" }"
  end
  for _, part in ipairs(cfg.cmd) do
    if type(part) ~= "string" then
      return "weft: every element of `cmd` must be a string"
    end
  end
  if type(cfg.settings) ~= "table" then
    return "weft: `settings` must be a table"
  end
  if cfg.filetypes ~= "*" and type(cfg.filetypes) ~= "table" then
    return "weft: `filetypes` must be a list or \"*\""
  end
  return nil
end

--- True when weft should start for `filetype`.
function M.wants(cfg, filetype)
  if filetype == nil or filetype == "" then
    return false
  end
  if cfg.filetypes == "*" then
    return true
  end
  return vim.tbl_contains(cfg.filetypes, filetype)
end

local function exists(path)
  return uv.fs_stat(path) ~= nil
end

local function parent(path)
  local up = vim.fn.fnamemodify(path, ":h")
  return up ~= path and up or nil
end

--- The workspace root for a file: the nearest folder upwards holding a marker, else the
--- file's own folder, else the current directory.
function M.find_root(file, markers)
  if file == nil or file == "" then
    return uv.cwd()
  end
  local start = vim.fn.fnamemodify(file, ":p:h")
  for _, marker in ipairs(markers) do
    local dir = start
    while dir do
      if exists(dir .. "/" .. marker) then
        return dir
      end
      dir = parent(dir)
    end
  end
  return start
end

return M
