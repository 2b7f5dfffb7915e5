//! Zed starts only language servers an extension declares. This one declares `weft` and
//! starts `weft serve` from the PATH (or `lsp.weft.binary` in Zed's settings), passing
//! `lsp.weft.initialization_options` and `lsp.weft.settings` through unchanged.

use zed_extension_api::{self as zed, settings::LspSettings, LanguageServerId, Result};

struct Weft;

impl zed::Extension for Weft {
    fn new() -> Self {
        Weft
    }

    fn language_server_command(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<zed::Command> {
        let configured = LspSettings::for_worktree("weft", worktree)
            .ok()
            .and_then(|settings| settings.binary);
        let path = configured
            .as_ref()
            .and_then(|binary| binary.path.clone())
            .or_else(|| worktree.which("weft"))
            .ok_or_else(|| "weft is not on the PATH: `pip install weft` (or set lsp.weft.binary.path)".to_string())?;
        let args = configured
            .and_then(|binary| binary.arguments)
            .unwrap_or_else(|| vec!["serve".to_string()]);
        Ok(zed::Command { command: path, args, env: worktree.shell_env() })
    }

    fn language_server_initialization_options(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<zed::serde_json::Value>> {
        Ok(LspSettings::for_worktree("weft", worktree)
            .ok()
            .and_then(|settings| settings.initialization_options))
    }

    fn language_server_workspace_configuration(
        &mut self,
        _language_server_id: &LanguageServerId,
        worktree: &zed::Worktree,
    ) -> Result<Option<zed::serde_json::Value>> {
        let settings = LspSettings::for_worktree("weft", worktree)
            .ok()
            .and_then(|settings| settings.settings);
        // weft pulls section "weft" of workspace/configuration.
        Ok(settings.map(|value| zed::serde_json::json!({ "weft": value })))
    }
}

zed::register_extension!(Weft);
