--- weft for Neovim: starts the weft language server for supported filetypes and turns on the
--- best completion path this Neovim has. Works from 0.7 on; newer APIs are used when present
--- (feature checks, never version strings):
---   vim.lsp.start (0.8+) else start_client + buf_attach_client;
---   vim.lsp.inline_completion (0.12+) else vim.lsp.completion (0.11) else nvim-cmp else omnifunc.
local config = require("weft.config")
local lsp = require("weft.lsp")

local M = {}

M.options = nil
--- root folder → client id, for Neovims without vim.lsp.start
M._clients = {}

local function notify(message, level)
  vim.notify(message, level or vim.log.levels.INFO, { title = "weft" })
end

--- The completion path for a buffer, by what this Neovim and the server offer.
function M.completion_mode(client, opts)
  local caps = client.server_capabilities or {}
  if opts.inline_completion ~= false and caps.inlineCompletionProvider
    and vim.lsp.inline_completion and vim.lsp.inline_completion.enable then
    return "inline"
  end
  local want = opts.completion
  if want == false then
    return "none"
  end
  if (want == "auto" or want == "lsp") and vim.lsp.completion and vim.lsp.completion.enable then
    return "lsp"
  end
  if (want == "auto" or want == "cmp") and pcall(require, "cmp") then
    return "cmp"
  end
  return "omnifunc"
end

local function enable_completion(client, bufnr, opts)
  local mode = M.completion_mode(client, opts)
  if mode == "inline" then
    require("weft.inline").attach(client, bufnr, opts)
  elseif mode == "lsp" then
    vim.lsp.completion.enable(true, client.id, bufnr, { autotrigger = opts.autotrigger })
  elseif mode == "cmp" then
    require("weft.cmp").register()
  elseif mode == "omnifunc" and vim.bo[bufnr].omnifunc == "" then
    vim.bo[bufnr].omnifunc = "v:lua.vim.lsp.omnifunc"
  end
  if opts.keymaps.suggest then
    vim.keymap.set("i", opts.keymaps.suggest, function()
      require("weft.suggest").insert(bufnr)
    end, { buffer = bufnr, desc = "weft: insert the suggestion" })
  end
  vim.b[bufnr].weft_completion = mode
  return mode
end

local function client_config(opts, root)
  return {
    name = "weft",
    cmd = opts.cmd,
    cmd_env = opts.cmd_env,
    root_dir = root,
    workspace_folders = { { uri = vim.uri_from_fname(root), name = vim.fn.fnamemodify(root, ":t") } },
    init_options = require("weft.trust").init_options(config.as_object(opts.settings), root, opts),
    -- Neovim answers workspace/configuration from here; weft asks for section "weft".
    settings = { weft = config.as_object(opts.settings) },
    -- the outage warning and bad-settings messages reach vim.notify (0.7–0.11 only echo them)
    handlers = { ["window/showMessage"] = require("weft.messages").show_message },
    -- weft.fix / weft.refactor from code actions: prompt for the instruction, report the result
    commands = require("weft.actions").client_commands(),
    on_attach = function(client, bufnr)
      enable_completion(client, bufnr, opts)
      if opts.forward_diagnostics ~= false then
        require("weft.diagnostics").attach(bufnr)
      end
      if opts.on_attach then
        opts.on_attach(client, bufnr)
      end
    end,
  }
end

--- Starts (or reuses) the weft client for the buffer's workspace and attaches it.
function M.attach(bufnr)
  local opts = M.options
  bufnr = (bufnr == nil or bufnr == 0) and vim.api.nvim_get_current_buf() or bufnr
  if not opts or vim.bo[bufnr].buftype ~= "" then
    return nil
  end
  local root = config.find_root(vim.api.nvim_buf_get_name(bufnr), opts.root_markers)
  if vim.fn.executable(opts.cmd[1]) ~= 1 then
    if not M._warned_cmd then
      M._warned_cmd = true
      notify(("weft: %s is not executable; install weft (%s) or set cmd in "
        .. "require('weft').setup{}. :checkhealth weft has details."):format(opts.cmd[1], config.install_hint()),
        vim.log.levels.ERROR)
    end
    return nil
  end
  if vim.lsp.start then
    return vim.lsp.start(client_config(opts, root), { bufnr = bufnr })
  end
  local id = M._clients[root]
  local client = id and vim.lsp.get_client_by_id(id)
  if not client or lsp.call(client, "is_stopped") then
    id = vim.lsp.start_client(client_config(opts, root))
    M._clients[root] = id
  end
  if id then
    vim.lsp.buf_attach_client(bufnr, id)
  end
  return id
end

local function define_commands()
  local actions = require("weft.actions")
  vim.api.nvim_create_user_command("WeftFix", function()
    actions.fix(0)
  end, { desc = "weft: fix the diagnostics on this line" })
  vim.api.nvim_create_user_command("WeftRefactor", function(args)
    local range = nil
    if args.range == 2 then
      range = { args.line1 - 1, args.line2 - 1 }
    end
    actions.refactor(0, args.args, range)
  end, { nargs = "+", range = true, desc = "weft: refactor with an instruction" })
  vim.api.nvim_create_user_command("WeftReindex", function()
    actions.reindex(0)
  end, { desc = "weft: rebuild the workspace index" })
end

--- require("weft").setup({ cmd = {...}, settings = {...}, filetypes = {...} })
function M.setup(opts)
  local merged = config.merge(opts)
  local problem = config.validate(merged)
  if problem then
    notify(problem, vim.log.levels.ERROR)
    return
  end
  M.options = merged
  local group = vim.api.nvim_create_augroup("weft", { clear = true })
  vim.api.nvim_create_autocmd("FileType", {
    group = group,
    callback = function(event)
      if config.wants(merged, event.match) then
        M.attach(event.buf)
      end
    end,
  })
  define_commands()
  -- buffers that were already open when setup ran
  for _, bufnr in ipairs(vim.api.nvim_list_bufs()) do
    if vim.api.nvim_buf_is_loaded(bufnr) and config.wants(merged, vim.bo[bufnr].filetype) then
      M.attach(bufnr)
    end
  end
end

return M
