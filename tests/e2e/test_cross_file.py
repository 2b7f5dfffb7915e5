"""Cross-file context end to end: with the index on, the prompt carries the signatures of the
names used near the cursor, from other workspace files; with context.crossFile off it does not."""

from __future__ import annotations

import asyncio

import pytest
from lsprotocol import types

from tests.e2e.conftest import inline, open_document
from tests.wire import serve_ollama

CALC = 'def compute_total(items: list[float], tax_rate: float = 0.2) -> float:\n    """Sum with tax."""\n    return sum(items) * (1 + tax_rate)\n'
MAIN = (
    "from billing.calc import compute_total\n\n\ndef invoice(items):\n    total = compute_total(\n"
)


@pytest.fixture
def workspace_files():
    return {"billing/__init__.py": "", "billing/calc.py": CALC, "main.py": MAIN}


def settings(loopback, cross_file: bool):
    return {
        "backend": {"kind": "ollama", "url": loopback.url, "model": "m", "timeoutMs": 3000},
        "completion": {"debounceMs": 0},
        "context": {"crossFile": cross_file},
        "index": {"enabled": True},
    }


async def index_ready(client) -> None:
    for _ in range(150):
        stats = await client.workspace_execute_command_async(
            types.ExecuteCommandParams(command="weft.reindex", arguments=[])
        )
        if isinstance(stats, dict) and stats.get("files", 0) >= 2:
            return
        await asyncio.sleep(0.2)
    raise AssertionError("index never became ready")


class TestCrossFileOn:
    @pytest.fixture
    def weft_settings(self, loopback):
        return settings(loopback, True)

    async def test_prompt_carries_the_callee_signature(self, client, loopback, workspace_root):
        serve_ollama(loopback, text="items)\n")
        await index_ready(client)
        uri = open_document(client, workspace_root, "main.py")
        result = await inline(client, uri, 4, 26)
        assert [i.insert_text for i in result.items] == ["items)"]
        prompt = loopback.requests_to("/api/generate")[-1].body["prompt"]
        assert "billing/calc.py" in prompt
        assert "def compute_total(items: list[float], tax_rate: float = 0.2) -> float:" in prompt
        assert prompt.endswith(MAIN[: MAIN.index("compute_total(\n") + len("compute_total(")])


class TestCrossFileOff:
    @pytest.fixture
    def weft_settings(self, loopback):
        return settings(loopback, False)

    async def test_prompt_is_the_file_alone(self, client, loopback, workspace_root):
        serve_ollama(loopback, text="items)\n")
        await index_ready(client)
        uri = open_document(client, workspace_root, "main.py")
        await inline(client, uri, 4, 26)
        prompt = loopback.requests_to("/api/generate")[-1].body["prompt"]
        assert "tax_rate" not in prompt
