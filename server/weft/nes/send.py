"""A next-edit prompt sent to a backend: raw prompts (Sweep, Zeta) to a completion endpoint,
chat prompts to a chat API (OpenAI-compatible, Ollama, Anthropic) through the agent's chat
client. The wiring phase owns the backends and their lifetimes; this only speaks to them."""

from __future__ import annotations

from weft.agent.chat import ChatClient, Message
from weft.backends.base import CompletionBackend
from weft.backends.raw import RawRequest, complete_raw
from weft.nes.prompts import NesPrompt


def raw_request(prompt: NesPrompt) -> RawRequest:
    return RawRequest(prompt.prompt, prompt.max_tokens, prompt.temperature, prompt.stop)


def chat_messages(prompt: NesPrompt) -> list[Message]:
    return [Message(message.role, message.content) for message in prompt.messages]


async def ask_completion(backend: CompletionBackend, prompt: NesPrompt, timeout_s: float) -> str:
    """The model's answer to a raw prompt."""
    return await complete_raw(backend, raw_request(prompt), timeout_s)


async def ask_chat(client: ChatClient, prompt: NesPrompt) -> str:
    """The model's answer to a chat prompt (no tools)."""
    turn = await client.complete(chat_messages(prompt), None)
    return turn.text
