"""The built-in offline engine end to end (issue 7): `offline` and the `auto` fallback serve
completions learned from the workspace, say so in the log and status, and stay quiet when
there is nothing to say."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.e2e.conftest import inline, log_text, open_document
from tests.wire import closed_url, serve_ollama

LIB = (
    "import logging\n\nlogger = logging.getLogger(__name__)\n\n\ndef run():\n    logger.info('x')\n"
)


@pytest.fixture
def workspace_files():
    files = {f"pkg/mod{i}.py": LIB for i in range(6)}
    files["main.py"] = "import logging\n\nlogger = logging.get\n"
    return files


async def wait_trained(client, timeout: float = 20) -> dict:
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        status = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="weft.status", arguments=[])
        )
        offline = status.get("offline") or {}
        if offline.get("ready") and not offline.get("training"):
            return status
        assert asyncio.get_running_loop().time() < deadline, status
        await asyncio.sleep(0.2)


class TestExplicitOffline:
    @pytest.fixture
    def weft_settings(self):
        return {
            "backend": {"kind": "offline"},
            "completion": {"debounceMs": 0},
            "index": {"enabled": False},
        }

    async def test_completion_learned_from_the_workspace(self, client, workspace_root):
        uri = open_document(client, workspace_root, "main.py")
        await inline(client, uri, 2, 20)  # first request starts the engine
        status = await wait_trained(client)
        assert status["backend"] == "offline"
        assert "model server" in status["hint"]
        assert status["offline"]["files"] >= 6
        result = await inline(client, uri, 2, 20)
        assert [i.insert_text for i in result.items] == ["Logger(__name__)"]
        assert "offline engine" in log_text(client)

    async def test_nothing_to_say_is_an_empty_answer(self, client, workspace_root):
        uri = open_document(
            client, workspace_root, "other.py", text="zzqx_unseen_token_\n", version=1
        )
        await inline(client, uri, 0, 18)
        await wait_trained(client)
        assert (await inline(client, uri, 0, 18)).items == []


class TestAutoFallsBackToOffline:
    @pytest.fixture
    def weft_settings(self):
        return {
            "backend": {"kind": "auto", "url": closed_url()},
            "completion": {"debounceMs": 0},
            "index": {"enabled": False},
        }

    async def test_auto_without_a_model_server_uses_the_offline_engine(
        self, client, workspace_root
    ):
        uri = open_document(client, workspace_root, "main.py")
        for _ in range(50):
            if "offline engine is serving" in log_text(client):
                break
            await asyncio.sleep(0.1)
        assert "no Ollama model server answered" in log_text(client)
        await inline(client, uri, 2, 20)
        await wait_trained(client)
        result = await inline(client, uri, 2, 20)
        assert [i.insert_text for i in result.items] == ["Logger(__name__)"]


class TestEmptyWorkspace:
    @pytest.fixture
    def workspace_files(self):
        return {}

    @pytest.fixture
    def weft_settings(self):
        return {
            "backend": {"kind": "offline"},
            "completion": {"debounceMs": 0},
            "index": {"enabled": False},
        }

    async def test_empty_workspace_answers_empty_without_error(self, client, workspace_root):
        uri = open_document(client, workspace_root, "new.py", text="x = \n")
        await inline(client, uri, 0, 4)
        await wait_trained(client)
        assert (await inline(client, uri, 0, 4)).items == []
        assert "failed" not in log_text(client)


class TestAutoDuringAnOutage:
    """`auto` with Ollama serving: when it stops answering, the offline engine takes over, and
    Ollama takes back over once a re-probe finds it again."""

    @pytest.fixture
    def weft_settings(self, loopback):
        loopback.ollama = serve_ollama(loopback, text="Logger('from-ollama')\n")
        return {
            "backend": {"kind": "auto", "url": loopback.url, "timeoutMs": 2000},
            "completion": {"debounceMs": 0},
            "index": {"enabled": False},
        }

    async def test_offline_engine_serves_while_ollama_is_down(
        self, client, loopback, workspace_root
    ):
        ollama = loopback.ollama
        for _ in range(50):
            if "using Ollama" in log_text(client):
                break
            await asyncio.sleep(0.1)
        text = "import logging\n\nlogger = logging.get\n"
        first = open_document(client, workspace_root, "a.py", text=text)
        assert [i.insert_text for i in (await inline(client, first, 2, 20)).items] == [
            "Logger('from-ollama')"
        ]
        ollama.fault = "http500"
        failing = open_document(client, workspace_root, "b.py", text=text)
        assert (await inline(client, failing, 2, 20)).items == []
        await wait_trained(client)
        during = open_document(client, workspace_root, "c.py", text=text)
        assert [i.insert_text for i in (await inline(client, during, 2, 20)).items] == [
            "Logger(__name__)"
        ]
        assert len(client.messages) == 1 and "offline engine" in client.messages[0].message
        ollama.fault = None
        for _ in range(100):  # the re-probe runs every few seconds
            if "answers again" in log_text(client):
                break
            await asyncio.sleep(0.1)
        after = open_document(client, workspace_root, "d.py", text=text)
        assert [i.insert_text for i in (await inline(client, after, 2, 20)).items] == [
            "Logger('from-ollama')"
        ]
