"""Secret redaction, privacy exclusion globs and the audit log.

Fake credentials are assembled from pieces so that this file itself does not look like a leak
to secret scanners (GitHub push protection and the like).
"""

from __future__ import annotations

import json
import os
import threading
from collections import Counter

import pytest

from weft.privacy import (
    KEY_MASK,
    MASK,
    AuditLog,
    is_excluded_by_privacy,
    redact_secrets,
    redactions_for_send,
)
from weft.settings import DEFAULT_PRIVACY_EXCLUDE

AWS_ID = "AKIA" + "Z7QW3RTY5UIO2PLK"
AWS_SECRET = "wJalrXUtnFEMI/K7MDENG/" + "bPxRfiCYzQ8vL2nM4kT1"
GITHUB = "ghp_" + "R8x2Lq9ZtY4mN7vB1cK5wE3sD6fG0hJ2aP9u"
GITHUB_FINE = "github_pat_" + "11ABCDEFG0" + "aBcDeFgHiJkLmNoPqRsTuV_wXyZ0123456789"
GITLAB = "glpat-" + "xR9mK2pL7qW4zT8vN3bY"
SLACK = "xox" + "b-2417839205-5830459817-Zq8RkW2mT9xLp4Vn7Bc1Hd6J"
OPENAI = "sk-" + "proj-Qm8TzL2xW9rK4pV7nB3cY6hJ1dF5gS0a"
ANTHROPIC = "sk-" + "ant-api03-Xk9mP2qL7wR4tZ8vN3bY6cH1jD5fG0sA-kQ2"
GOOGLE = "AIza" + "SyD4k9Lm2Qx7Rt8Vn3Bw6Yc1Hj5Fg0Pa-Ze"
STRIPE = "sk_" + "live_" + "51HxQ2eK8mL3pR7tW9zY4vN"
JWT = (
    "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9"
    ".eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4ifQ"
    ".SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"
)
PEM = (
    "-----BEGIN RSA PRIVATE KEY-----\n"
    "MIIEpAIBAAKCAQEA3Tz2mr7SZiAMfQyuvBjM9Oi3Yq8GcxJ1pL5kR2nT7vW9zX0a\n"
    "b4CdEfGhIjKlMnOpQrStUvWxYz0123456789+/ABCDEFGHIJKLMNOPQRSTUVWXyz\n"
    "-----END RSA PRIVATE KEY-----"
)

SHAPED = [AWS_ID, GITHUB, GITHUB_FINE, GITLAB, SLACK, OPENAI, ANTHROPIC, GOOGLE, STRIPE, JWT]


@pytest.mark.parametrize("secret", SHAPED)
def test_shaped_tokens_are_masked_anywhere(secret):
    for text in (f'client = Client("{secret}")\n', f"# key: {secret}\n", f"{secret}"):
        out, count = redact_secrets(text)
        assert secret not in out and MASK in out and count == 1, text


def test_token_inside_a_longer_word_is_left_alone():
    text = "x" + AWS_ID + "\n"
    assert redact_secrets(text) == (text, 0)


@pytest.mark.parametrize(
    ("line", "masked"),
    [
        ('password = "hunter2!"', 'password = "[REDACTED]"'),
        ("db_password = 'c0rrect-h0rse'", "db_password = '[REDACTED]'"),
        ('api_key: str = "abcd1234efgh"', 'api_key: str = "[REDACTED]"'),
        ('"apiKey": "AbCdEf0123456789xyz",', '"apiKey": "[REDACTED]",'),
        ("'client_secret' => 'p4ss-w0rd-xyz',", "'client_secret' => '[REDACTED]',"),
        ('token := "tok_5f2a9c"', 'token := "[REDACTED]"'),
        ('self.auth_token = b"deadbeefcafe"', 'self.auth_token = b"[REDACTED]"'),
        ("connect(host, password='S3cure!pw')", "connect(host, password='[REDACTED]')"),
        ("aws_secret_access_key = " + AWS_SECRET, "aws_secret_access_key = " + MASK),
        ("DB_PASSWORD=hunter2", "DB_PASSWORD=" + MASK),
        ("export GITHUB_TOKEN=abcdefghij", "export GITHUB_TOKEN=" + MASK),
        ("SECRET=plainword", "SECRET=" + MASK),
        ("password: Tr0ub4dor&3", "password: " + MASK),
        (
            'SESSION_SECRET_SALT = "9f8e7d6c5b4a39281706f5e4d3c2b1a0"',
            'SESSION_SECRET_SALT = "[REDACTED]"',
        ),
        ("Authorization: Bearer abcDEF123456789xyzQ", "Authorization: Bearer " + MASK),
        (
            'headers = {"Authorization": "Basic dXNlcjpwYXNzd29yZA=="}',
            'headers = {"Authorization": "Basic [REDACTED]"}',
        ),
        (
            'url = "postgres://admin:s3cr3t@db:5432/app"',
            f'url = "postgres://admin:{MASK}@db:5432/app"',
        ),
    ],
)
def test_secret_assignments_are_masked(line, masked):
    out, count = redact_secrets(line + "\n")
    assert out == masked + "\n"
    assert count == 1


@pytest.mark.parametrize(
    "line",
    [
        'password_field = form.get("password")',
        "password = password",
        "password = get_password(user)",
        "secret = self.secret",
        "token = None",
        "def login(user: str, password: str, token: str | None = None) -> bool:",
        "password: string;",
        'token_type = "bearer"',
        'stop_token = "</s>"',
        'pad_token = "[PAD]"',
        'password = ""',
        'password = "${DB_PASSWORD}"',
        'api_key = os.environ["OPENAI_API_KEY"]',
        'label = "Enter your password"',
        'password_hint = "at least 8 characters"',
        'TOKEN_URL = "https://example.com/oauth/token"',
        "max_tokens = 128",
        "PASSWORD_MIN_LENGTH = 8",
        'if password == "":',
        'key = "users"',
        'cache_key = f"user:{user_id}"',
        'msg = "task-management-system-overview-page"',
        "# Basic authentication is configured below",
        'git_url = "ssh://git@github.com/org/repo.git"',
        'url = "http://localhost:8080/path"',
        "const apiKey = process.env.API_KEY;",
        "secret_name = 'prod/db'",
    ],
)
def test_normal_code_is_left_alone(line):
    assert redact_secrets(line + "\n") == (line + "\n", 0)


def test_private_key_block_keeps_line_count():
    text = f"key = '''\n{PEM}\n'''\nprint(key)\n"
    out, count = redact_secrets(text)
    assert count == 1
    assert out.count("\n") == text.count("\n")
    assert "MIIE" not in out and KEY_MASK in out
    assert "-----BEGIN RSA PRIVATE KEY-----" in out and "print(key)" in out


def test_private_key_in_a_json_string():
    escaped = PEM.replace("\n", "\\n")
    out, count = redact_secrets(f'{{"private_key": "{escaped}"}}\n')
    assert count == 1 and "MIIE" not in out


def test_private_key_cut_by_the_window():
    head = PEM[: PEM.index("-----END")]  # the prefix window ends inside the key
    out, count = redact_secrets("x = 1\n" + head)
    assert "MIIE" not in out and count == 1 and out.count("\n") == head.count("\n") + 1
    tail = PEM[PEM.index("\n") + 1 :]  # the suffix window starts inside the key
    out, count = redact_secrets(tail + "\nrest()\n")
    assert "MIIE" not in out and "b4Cd" not in out and count == 1
    assert out.count("\n") == tail.count("\n") + 2
    mid_line = PEM[PEM.index("\n") + 20 :]  # the window starts in the middle of a key line
    out, count = redact_secrets(mid_line)
    assert "b4Cd" not in out and count == 1


def test_shape_is_kept_over_a_realistic_file():
    text = f"""import os

AWS_ACCESS_KEY_ID = "{AWS_ID}"
aws_secret_access_key = "{AWS_SECRET}"
GITHUB = "{GITHUB}"

def connect(password_field):
    password = form.get(password_field)
    return client(token="{OPENAI}", jwt="{JWT}")
"""
    out, count = redact_secrets(text)
    assert count == 5
    assert out.splitlines()[0] == "import os"
    assert len(out.splitlines()) == len(text.splitlines())
    assert "password = form.get(password_field)" in out
    for secret in (AWS_ID, AWS_SECRET, GITHUB, OPENAI, JWT):
        assert secret not in out


def test_redaction_is_idempotent_and_keeps_other_text():
    text = f'a = "{GITHUB}"\nb = 2 \u00e9\0\n'
    once, _ = redact_secrets(text)
    assert redact_secrets(once) == (once, 0)
    assert once.endswith("b = 2 \u00e9\0\n")  # NUL and non-ASCII survive


@pytest.mark.parametrize(
    ("path", "excluded"),
    [
        (".env", True),
        (".env.local", True),
        ("config/.env.production", True),
        ("certs/server.pem", True),
        ("deploy/tls.key", True),
        ("home/.ssh/id_rsa", True),
        ("id_rsa.pub", True),
        ("keystore.p12", True),
        ("secrets/db.yaml", True),
        ("app/secrets/token.txt", True),
        ("src/main.py", False),
        ("src/environment.py", False),
        ("docs/secrets.md", False),
        ("src/keys.py", False),
        ("./.env", True),
        ("src\\.env", True),
        (".ENV", True),  # case-insensitive: a miss would leak the file
    ],
)
def test_default_privacy_globs(path, excluded):
    assert is_excluded_by_privacy(path, DEFAULT_PRIVACY_EXCLUDE) is excluded


@pytest.mark.parametrize(
    ("pattern", "path", "expected"),
    [
        ("*.log", "a/b/c.log", True),  # no slash: any depth
        ("*.log", "c.log.txt", False),
        ("build", "src/build/x.o", True),  # a directory name matches what is under it
        ("/build", "build/x.o", True),  # leading slash: anchored
        ("/build", "src/build/x.o", False),
        ("doc/*.txt", "doc/a.txt", True),
        ("doc/*.txt", "doc/sub/a.txt", False),  # * stops at /
        ("doc/**/*.txt", "doc/a.txt", True),  # ** spans zero or more directories
        ("doc/**/*.txt", "doc/x/y/a.txt", True),
        ("**/fixtures", "tests/unit/fixtures/a.json", True),
        ("vendor/**", "vendor/a/b.go", True),
        ("vendor/**", "vendor", False),
        ("logs/", "logs/a.txt", True),  # trailing slash: directories only
        ("logs/", "logs", False),
        ("file?.txt", "file1.txt", True),
        ("file?.txt", "file12.txt", False),
        ("[abc].py", "b.py", True),
        ("[!abc].py", "b.py", False),
        ("a**b", "axxb", True),
        ("\\#notes", "#notes", True),
    ],
)
def test_gitignore_semantics(pattern, path, expected):
    assert is_excluded_by_privacy(path, [pattern]) is expected, pattern


def test_negation_comments_and_order():
    globs = ["# comment", "", "*.key", "!public.key"]
    assert is_excluded_by_privacy("a/private.key", globs)
    assert not is_excluded_by_privacy("a/public.key", globs)
    assert is_excluded_by_privacy("a/public.key", [*globs, "public.*"])
    assert not is_excluded_by_privacy("anything", [])


def test_audit_log_appends_one_json_line_per_request(tmp_path):
    path = tmp_path / "sub" / "audit.jsonl"
    log = AuditLog(path)
    log.record_request("POST", "http://127.0.0.1:11434/api/generate", "qwen", 1234)
    with redactions_for_send("agent", Counter({"github-token": 2})):
        log.record_request("POST", "https://api.example.com/v1/chat?key=SECRET123", "gpt", 99)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2
    first, second = json.loads(lines[0]), json.loads(lines[1])
    assert first["kind"] == "probe" and first["model"] == "qwen" and first["bytes"] == 1234
    assert first["redactions"] == {} and first["time"].endswith("+00:00")
    assert second["kind"] == "agent" and second["redactions"] == {"github-token": 2}
    assert "SECRET123" not in second["endpoint"]
    assert os.stat(path).st_mode & 0o777 == 0o600


def test_audit_log_off_writes_nothing(tmp_path):
    log = AuditLog(None)
    log.record_request("POST", "http://x/", "m", 1)
    log.set_path(tmp_path / "a.jsonl")
    log.record_request("POST", "http://x/", "m", 1)
    log.set_path(None)
    log.record_request("POST", "http://x/", "m", 1)
    assert len((tmp_path / "a.jsonl").read_text().splitlines()) == 1


def test_audit_log_never_raises(tmp_path, caplog):
    blocker = tmp_path / "file"
    blocker.write_text("")
    log = AuditLog(blocker / "audit.jsonl")  # its parent is a file: cannot be created
    log.record_request("POST", "u", "m", 1)
    assert any("audit log" in r.message for r in caplog.records)


def test_audit_log_threads_do_not_interleave(tmp_path):
    log = AuditLog(tmp_path / "audit.jsonl")
    big = "x" * 20_000

    def worker(n: int) -> None:
        for i in range(20):
            log.record({"worker": n, "i": i, "text": big})

    threads = [threading.Thread(target=worker, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    lines = (tmp_path / "audit.jsonl").read_text().splitlines()
    assert len(lines) == 80
    assert all(json.loads(line)["text"] == big for line in lines)
