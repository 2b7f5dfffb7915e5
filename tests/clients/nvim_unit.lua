-- Unit tests of the Neovim plugin's pure parts, run in headless Neovim by
-- tests/e2e/test_neovim.py. Writes {passed = [...], failed = {name = message}} to $WEFT_NVIM_UNIT_OUT.
local out = os.getenv("WEFT_NVIM_UNIT_OUT")
vim.opt.runtimepath:prepend(os.getenv("WEFT_NVIM_PLUGIN"))

local results = { passed = {}, failed = {} }
local function eq(actual, expected, what)
  if not vim.deep_equal(actual, expected) then
    error(("%s: expected %s, got %s"):format(what or "value", vim.inspect(expected), vim.inspect(actual)), 2)
  end
end

local cases = {}

cases["config merges over the defaults and validates"] = function()
  local config = require("weft.config")
  local cfg = config.merge({ settings = { backend = { kind = "ollama" } }, filetypes = { "python" } })
  eq(cfg.cmd, { "weft", "serve" }, "default cmd")
  eq(cfg.settings, { backend = { kind = "ollama" } }, "settings")
  eq(cfg.filetypes, { "python" }, "filetypes replace the default list")
  eq(config.validate(cfg), nil, "valid")
  eq(config.merge(nil).completion, "auto", "no opts")
  assert(config.validate(config.merge({ cmd = {} })):find("non%-empty"), "empty cmd rejected")
  assert(config.validate(config.merge({ cmd = { "weft", 1 } })):find("string"), "non-string cmd rejected")
  assert(config.validate(config.merge({ settings = "x" })), "settings must be a table")
  assert(config.validate(config.merge({ filetypes = 3 })), "filetypes must be a list")
end

cases["filetypes: list, star, and never the empty filetype"] = function()
  local config = require("weft.config")
  local cfg = config.merge({ filetypes = { "go" } })
  eq(config.wants(cfg, "go"), true, "listed")
  eq(config.wants(cfg, "python"), false, "not listed")
  eq(config.wants(config.merge({ filetypes = "*" }), "anything"), true, "star")
  eq(config.wants(config.merge({ filetypes = "*" }), ""), false, "empty filetype")
  eq(config.wants(config.merge({}), "python"), true, "python is a default")
end

cases["the root is the nearest folder with a marker, weft.toml first"] = function()
  local config = require("weft.config")
  local base = vim.fn.tempname()
  vim.fn.mkdir(base .. "/repo/.git", "p")
  vim.fn.mkdir(base .. "/repo/pkg/sub", "p")
  vim.fn.writefile({}, base .. "/repo/pkg/weft.toml")
  local markers = config.defaults.root_markers
  eq(config.find_root(base .. "/repo/pkg/sub/a.py", markers), base .. "/repo/pkg", "weft.toml wins")
  vim.fn.delete(base .. "/repo/pkg/weft.toml")
  eq(config.find_root(base .. "/repo/pkg/sub/a.py", markers), base .. "/repo", ".git")
  vim.fn.mkdir(base .. "/loose", "p")
  eq(config.find_root(base .. "/loose/b.py", { "no-such-marker" }), base .. "/loose", "the file's folder")
  eq(config.find_root("", markers), vim.loop.cwd(), "no name: cwd")
end

cases["position encodings count code units like LSP"] = function()
  local lsp = require("weft.lsp")
  local line = "aé😀b" -- 1 + 2 + 4 + 1 bytes
  eq(lsp.character_count(line, "utf-8"), 8, "utf-8")
  eq(lsp.character_count(line, "utf-16"), 5, "utf-16 (the emoji is a surrogate pair)")
  eq(lsp.character_count(line, "utf-32"), 4, "utf-32")
  eq(lsp.byte_col(line, 2, "utf-16"), 3, "after é")
  eq(lsp.byte_col(line, 4, "utf-16"), 7, "after the emoji")
  eq(lsp.byte_col(line, 99, "utf-16"), 8, "clamped")
  eq(lsp.byte_col(line, 3, "utf-8"), 3, "utf-8 is bytes")
end

cases["the client call shim handles closures (<= 0.10) and methods (0.11+)"] = function()
  local lsp = require("weft.lsp")
  local closure = { request = function(method, params) return method .. params end }
  eq(lsp.call(closure, "request", "m", "p"), "mp", "closure field")
  local Class = {}
  Class.__index = Class
  function Class:request(method, params) return self.tag .. method .. params end
  local object = setmetatable({ tag = "obj:" }, Class)
  eq(lsp.call(object, "request", "m", "p"), "obj:mp", "method")
end

cases["completion mode follows what Neovim and the server offer"] = function()
  local weft = require("weft")
  local opts = require("weft.config").merge({})
  local client = { server_capabilities = { inlineCompletionProvider = true } }
  local saved_inline, saved_completion = vim.lsp.inline_completion, vim.lsp.completion
  vim.lsp.inline_completion = { enable = function() end }
  eq(weft.completion_mode(client, opts), "inline", "0.12 with a server that offers it")
  eq(weft.completion_mode(client, require("weft.config").merge({ inline_completion = false })) ~= "inline", true, "opt out")
  -- {} rather than nil: 0.12 loads vim.lsp's modules lazily and would load the real one again
  vim.lsp.inline_completion = {}
  vim.lsp.completion = { enable = function() end }
  eq(weft.completion_mode({ server_capabilities = {} }, opts), "lsp", "0.11")
  vim.lsp.completion = {}
  eq(weft.completion_mode({ server_capabilities = {} }, opts), "omnifunc", "0.7 without nvim-cmp")
  package.loaded["cmp"] = { register_source = function() end }
  eq(weft.completion_mode({ server_capabilities = {} }, opts), "cmp", "nvim-cmp present")
  package.loaded["cmp"] = nil
  eq(weft.completion_mode({ server_capabilities = {} }, require("weft.config").merge({ completion = false })), "none", "off")
  vim.lsp.inline_completion, vim.lsp.completion = saved_inline, saved_completion
end

cases["the fallback picks weft's item and its edit"] = function()
  local suggest = require("weft.suggest")
  local pos = { line = 1, character = 4 }
  eq(suggest.pick(nil), nil, "no result")
  eq(suggest.pick({ items = {} }), nil, "empty list")
  eq(suggest.pick({ { label = "x" } }).label, "x", "a bare item array")
  local edit = { range = { start = pos, ["end"] = pos }, newText = "a + b" }
  eq(suggest.edit_for({ textEdit = edit }, pos), edit, "textEdit")
  eq(suggest.edit_for({ textEdit = { insert = edit.range, replace = edit.range, newText = "z" } }, pos).newText, "z", "insert/replace edit")
  eq(suggest.edit_for({ insertText = "q", label = "l" }, pos), { range = { start = pos, ["end"] = pos }, newText = "q" }, "insertText at the cursor")
end

cases["agent results are reported and remembered"] = function()
  local actions = require("weft.actions")
  local shown = {}
  local saved = vim.notify
  vim.notify = function(message, level) table.insert(shown, { message, level }) end
  actions.report(nil, { applied = true, files = { "a", "b" }, summary = "renamed" })
  actions.report(nil, { applied = false, error = "the model did not answer" })
  actions.report({ message = "boom" })
  vim.notify = saved
  eq(shown[1][1], "weft: renamed (2 files changed)", "applied")
  eq(shown[2][2], vim.log.levels.ERROR, "error level")
  eq(actions.last_result.error, "boom", "an RPC error becomes the result")
end

cases["inline: what was typed since the request, and the accept range"] = function()
  local inline = require("weft.inline")
  local req = { row = 1, line = "    )", col = 4 }
  eq(inline.typed_since(req, "    ret)", 1, 7), "ret", "typed at the request position")
  eq(inline.typed_since(req, "    ret)", 2, 7), nil, "another row")
  eq(inline.typed_since(req, "   )", 1, 3), nil, "a deletion")
  eq(inline.typed_since(req, "    ret)x", 1, 7), nil, "a change after the typed text")
  eq(inline.typed_since(req, "    ret)", 1, 5), nil, "the cursor is not after the typed text")
  local item = { text = "return a + b)", s = 4, e = 5 }
  eq(inline.reconcile(req, item, "    ret)", 1, 7), { start_col = 4, end_col = 8, rest = "urn a + b)" }, "typed through")
  eq(inline.reconcile(req, item, "    rex)", 1, 7), nil, "typing that disagrees")
  eq(inline.reconcile(req, { text = "x", s = 5, e = 5 }, "    )", 1, 4), nil, "a range after the request")
  eq(inline.reconcile(req, { text = nil, s = 4, e = 4 }, "    )", 1, 4), nil, "a snippet item")
end

cases["inline: the next word and line of a suggestion"] = function()
  local inline = require("weft.inline")
  eq(inline.next_word("total = a + b"), "total", "a word")
  eq(inline.next_word(" = a"), " =", "blanks and punctuation")
  eq(inline.next_word("\n    return x"), "\n    return", "across the line break")
  eq(inline.next_line("a + b\nreturn"), "a + b", "the rest of the line")
  eq(inline.next_line("\n    return total\nx"), "\n    return total", "at a line end: the next line")
end

cases["inline: answers that disagree with the typing are not shown"] = function()
  local inline = require("weft.inline")
  local buf = vim.api.nvim_create_buf(false, true)
  vim.api.nvim_set_current_buf(buf)
  vim.api.nvim_buf_set_lines(buf, 0, -1, false, { "def f():", "    rex" })
  vim.o.virtualedit = "onemore" -- insert mode puts the cursor after the last character
  vim.api.nvim_win_set_cursor(0, { 2, 7 })
  local req = { bufnr = buf, row = 1, line = "    ", col = 4, encoding = "utf-16" }
  local range = { start = { line = 1, character = 4 }, ["end"] = { line = 1, character = 4 } }
  local kept = inline.receive(req, { items = { { insertText = "return 1", range = range },
    { insertText = "rex = 2", range = range } } })
  eq(#kept.items, 1, "only the item that agrees")
  eq(kept.items[1].insertText, "rex = 2", "kept")
  eq(#inline.state[buf].items, 2, "both remembered")
  eq(inline.receive(req, vim.NIL), vim.NIL, "a null result passes through")
end

cases["settings: empty tables go out as JSON objects"] = function()
  local config = require("weft.config")
  eq(vim.fn.json_encode(config.as_object({})), "{}", "empty settings")
  eq(vim.fn.json_encode(config.as_object({ backend = {} })), '{"backend": {}}', "an empty section")
  assert(config.install_hint():find("pip install", 1, true), "install hint")
end

for name, case in pairs(cases) do
  local ok, err = pcall(case)
  if ok then
    table.insert(results.passed, name)
  else
    results.failed[name] = tostring(err)
  end
end
local fh = io.open(out, "w")
fh:write(vim.fn.json_encode(results))
fh:close()
vim.cmd("qall!")
