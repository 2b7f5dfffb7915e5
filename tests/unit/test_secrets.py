"""Secret detection, rule by rule (one sample per rule), the disguised forms, and the 31 kinds
of planted secret from issue #10, each of which must be masked.

Samples are generated from a seeded generator and assembled from pieces, so this file does not
hold anything a secret scanner would flag as a real credential.
"""

from __future__ import annotations

import base64
import random
import string
from pathlib import Path

import pytest

from weft.secrets import MASK, TOKEN_RULES, find_secrets, redact, redact_around

RNG = random.Random(10)
LOWER, UPPER, DIGITS = string.ascii_lowercase, string.ascii_uppercase, string.digits
ALNUM = LOWER + UPPER + DIGITS
HEX = "0123456789abcdef"
B32 = "QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L"


def rnd(chars: str, n: int) -> str:
    return "".join(RNG.choice(chars) for _ in range(n))


def mixed(n: int) -> str:
    """``n`` random alphanumerics with at least one digit, lower and upper letter."""
    return rnd(DIGITS, 1) + rnd(LOWER, 1) + rnd(UPPER, 1) + rnd(ALNUM, n - 3)


# One sample per token rule: what the provider's credential looks like.
TOKEN_SAMPLES: dict[str, str] = {
    "1password-secret-key": "A3-" + rnd(UPPER, 6) + "-" + rnd(UPPER, 11) + "-" + "-".join(rnd(UPPER, 5) for _ in range(3)),
    "1password-service-account-token": "ops_" + "eyJ" + rnd(ALNUM, 260),
    "adobe-client-secret": "p8e-" + rnd(ALNUM, 32),
    "age-secret-key": "AGE-SECRET-KEY-1" + rnd(B32, 58),
    "airtable-pat": "pat" + rnd(ALNUM, 14) + "." + rnd(HEX, 64),
    "alibaba-access-key-id": "LTAI" + rnd(ALNUM, 20),
    "anthropic-api-key": "sk-" + "ant-api03-" + rnd(ALNUM, 93) + "AA",
    "artifactory-api-key": "AKCp" + rnd(ALNUM, 69),
    "artifactory-reference-token": "cmVmd" + rnd(ALNUM, 59),
    "authress-access-key": "sc_" + rnd(LOWER, 10) + "." + rnd(LOWER, 5) + ".acc_" + rnd(LOWER, 12) + "." + rnd(ALNUM, 40),
    "aws-access-key-id": "AKIA" + rnd(UPPER + DIGITS, 16),
    "aws-bedrock-api-key": "ABSK" + rnd(ALNUM, 120),
    "azure-ad-client-secret": rnd(ALNUM, 3) + "8Q~" + rnd(ALNUM, 32),
    "azure-storage-account-key": "AccountKey=" + rnd(ALNUM, 86) + "==",
    "clickhouse-cloud-api-secret": "4b1d" + rnd(ALNUM, 38),
    "clojars-api-token": "CLOJARS_" + rnd(LOWER + DIGITS, 60),
    "cloudflare-origin-ca-key": "v1.0-" + rnd(HEX, 24) + "-" + rnd(HEX, 146),
    "databricks-api-token": "dapi" + rnd(HEX, 32),
    "digitalocean-token": "dop_v1_" + rnd(HEX, 64),
    "discord-webhook-url": "https://discord.com/api/webhooks/" + rnd(DIGITS, 18) + "/" + rnd(ALNUM, 68),
    "doppler-api-token": "dp.pt." + rnd(ALNUM, 43),
    "duffel-api-token": "duffel_live_" + rnd(ALNUM, 43),
    "dynatrace-api-token": "dt0c01." + rnd(UPPER + DIGITS, 24) + "." + rnd(ALNUM, 64),
    "easypost-api-token": "EZAK" + rnd(ALNUM, 54),
    "facebook-access-token": "EAAC" + rnd(ALNUM, 120),
    "flutterwave-key": "FLWSECK_TEST-" + rnd("abcdef0123456789", 32) + "-X",
    "flyio-access-token": "fo1_" + rnd(ALNUM, 43),
    "frameio-api-token": "fio-u-" + rnd(ALNUM, 64),
    "gcp-api-key": "AIza" + rnd(ALNUM, 35),
    "github-token": "ghp_" + rnd(ALNUM, 36),
    "github-fine-grained-pat": "github_pat_" + rnd(ALNUM, 82),
    "gitlab-token": "glpat-" + rnd(ALNUM, 20),
    "gitlab-session-cookie": "_gitlab_session=" + rnd(LOWER + DIGITS, 32),
    "grafana-token": "glsa_" + rnd(ALNUM, 32) + "_" + rnd(HEX, 8),
    "harness-api-key": "pat." + rnd(ALNUM, 22) + "." + rnd(ALNUM, 24) + "." + rnd(ALNUM, 20),
    "hashicorp-tf-api-token": rnd(ALNUM, 14) + ".atlasv1." + rnd(ALNUM, 64),
    "heroku-api-key-v2": "HRKU-AA" + rnd(ALNUM, 58),
    "huggingface-token": "hf_" + rnd(ALNUM, 34),
    "infracost-api-token": "ico-" + rnd(ALNUM, 32),
    "intra42-client-secret": "s-s4t2ud-" + rnd(HEX, 64),
    "jwt": "eyJ" + rnd(ALNUM, 20) + ".eyJ" + rnd(ALNUM, 30) + "." + rnd(ALNUM, 43),
    "linear-api-key": "lin_api_" + rnd(ALNUM, 40),
    "lob-api-key": "live_" + rnd(HEX, 35),
    "mailchimp-api-key": rnd(HEX, 32) + "-us" + rnd(DIGITS, 2),
    "mailgun-key": "key-" + rnd(HEX, 32),
    "mapbox-secret-token": "sk.eyJ" + rnd(ALNUM, 60) + "." + rnd(ALNUM, 22),
    "maxmind-license-key": rnd(ALNUM, 6) + "_" + rnd(ALNUM, 29) + "_mmk",
    "microsoft-teams-webhook": "https://acme.webhook.office.com/webhookb2/" + rnd(HEX, 8) + "-aaaa-bbbb-cccc-" + rnd(HEX, 12) + "@" + rnd(HEX, 36) + "/IncomingWebhook/" + rnd(HEX, 32),
    "new-relic-key": "NRAK-" + rnd(UPPER + DIGITS, 27),
    "notion-api-token": "ntn_" + rnd(DIGITS, 11) + rnd(ALNUM, 35),
    "npm-access-token": "npm_" + rnd(ALNUM, 36),
    "octopus-deploy-api-key": "API-" + rnd(UPPER + DIGITS, 26),
    "openai-api-key": "sk-" + "proj-" + mixed(48),
    "openshift-user-token": "sha256~" + rnd(ALNUM, 43),
    "perplexity-api-key": "pplx-" + rnd(ALNUM, 48),
    "planetscale-token": "pscale_tkn_" + rnd(ALNUM, 43),
    "postman-api-token": "PMAK-" + rnd(HEX, 24) + "-" + rnd(HEX, 34),
    "prefect-api-token": "pnu_" + rnd(ALNUM, 36),
    "pulumi-api-token": "pul-" + rnd(HEX, 40),
    "pypi-upload-token": "pypi-" + "AgEIcHlwaS5vcmc" + rnd(ALNUM, 70),
    "readme-api-token": "rdme_" + rnd(LOWER + DIGITS, 70),
    "rubygems-api-token": "rubygems_" + rnd(HEX, 48),
    "scalingo-api-token": "tk-us-" + rnd(ALNUM, 48),
    "sendgrid-api-token": "SG." + rnd(ALNUM, 22) + "." + rnd(ALNUM, 43),
    "sendinblue-api-token": "xkeysib-" + rnd(HEX, 64) + "-" + rnd(ALNUM, 16),
    "sentry-token": "sntryu_" + rnd(HEX, 64),
    "settlemint-token": "sm_pat_" + rnd(ALNUM, 16),
    "shippo-api-token": "shippo_live_" + rnd(HEX, 40),
    "shopify-token": "shpat_" + rnd(HEX, 32),
    "sidekiq-secret": "BUNDLE_GEMS__CONTRIBSYS__COM=" + rnd(HEX, 8) + ":" + rnd(HEX, 8),
    "slack-token": "xox" + "b-" + rnd(DIGITS, 12) + "-" + rnd(DIGITS, 12) + "-" + rnd(ALNUM, 24),
    "slack-webhook-url": "https://hooks.slack.com/services/T" + rnd(UPPER, 8) + "/B" + rnd(UPPER, 8) + "/" + rnd(ALNUM, 24),
    "sourcegraph-access-token": "sgp_" + rnd(HEX, 40),
    "square-token": "sq0atp-" + rnd(ALNUM, 22),
    "stripe-key": "sk_" + "live_" + rnd(ALNUM, 24),
    "telegram-bot-token": rnd(DIGITS, 9) + ":AA" + rnd(ALNUM, 33),
    "twilio-api-key": "twilio = SK" + rnd(HEX, 32),
    "typeform-api-token": "tfp_" + rnd(ALNUM, 59),
    "vault-token": "hvs." + rnd(ALNUM, 95),
    "yandex-token": "AQVN" + rnd(ALNUM, 36),
}  # fmt: skip


def test_every_token_rule_has_a_sample() -> None:
    assert {rule.id for rule in TOKEN_RULES} == set(TOKEN_SAMPLES)


@pytest.mark.parametrize("rule_id", sorted(TOKEN_SAMPLES))
def test_token_rule_masks_its_sample_in_prose(rule_id: str) -> None:
    sample = TOKEN_SAMPLES[rule_id]
    text = f"Use {sample} for the deploy.\n"
    result = redact(text)
    assert result.fired[rule_id] >= 1, (rule_id, result.fired)
    secret = sample.split("=", 1)[-1].split(" ")[-1]
    assert secret[-12:] not in result.text, result.text
    assert result.text.startswith("Use ") and result.text.endswith(" for the deploy.\n")


# Context rules: (rule, text, the secret that must disappear).
CONTEXT_CASES = [
    ("password-assignment", 'password = "hunter2!"', "hunter2!"),
    ("password-assignment", 'pw="x9"', "x9"),
    ("password-assignment", "DB_PASS=s3cr3t", "s3cr3t"),
    ("secret-assignment", 'client_secret: "p4ss-w0rd-xyz"', "p4ss-w0rd-xyz"),
    ("secret-assignment", "airtable_base = 'keyA1b2C3d4E5f6G7h'", "keyA1b2C3d4E5f6G7h"),
    (
        "high-entropy-assignment",
        'config_blob = "q8Z3xT1vB7nM2kL9pR4sW6yD"',
        "q8Z3xT1vB7nM2kL9pR4sW6yD",
    ),
    ("auth-header", "Authorization: Bearer abcDEF123456789xyzQ", "abcDEF123456789xyzQ"),
    ("auth-header", 'headers["X-Api-Key"] = "Zk29xLq8Wm3vN7bR"', "Zk29xLq8Wm3vN7bR"),
    ("url-password", "postgres://admin:s3cr3tpw@db:5432/app", "s3cr3tpw"),
    (
        "url-secret-parameter",
        "https://api.example.com/v1/items?api_key=Zq9Wx2Lm&page=2",
        "Zq9Wx2Lm",
    ),
    ("url-secret-parameter", "GET /feed?access_token=abcd1234efgh HTTP/1.1", "abcd1234efgh"),
    ("connection-string-secret", "Server=db;User Id=sa;Password=Pa55w0rd!;", "Pa55w0rd!"),
    ("curl-user-password", "curl -u deploy:Tr1cky9Pass https://example.com", "Tr1cky9Pass"),
    ("password-assignment", '<add key="ClearTextPassword" value="nuget-Pa55"/>', "nuget-Pa55"),
    (
        "private-key",
        "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\n-----END OPENSSH PRIVATE KEY-----",
        "b3BlbnNzaC1rZXktdjEAAAAA",
    ),
    (
        "kubernetes-secret",
        "apiVersion: v1\nkind: Secret\ndata:\n  config: c3VwZXJzZWNyZXQxMjM=\n",
        "c3VwZXJzZWNyZXQxMjM=",
    ),
]


@pytest.mark.parametrize(("rule", "text", "secret"), CONTEXT_CASES)
def test_context_rule(rule: str, text: str, secret: str) -> None:
    result = redact(text + "\n")
    assert secret not in result.text, (rule, result.text)
    assert result.fired[rule] >= 1, (rule, result.fired)
    assert result.text.count("\n") == (text + "\n").count("\n")


def _aws() -> str:
    return "AKIA" + rnd(UPPER + DIGITS, 16)


DISGUISED_CASES = [
    ("base64-encoded-secret", lambda s: base64.b64encode(s.encode()).decode()),
    ("hex-encoded-secret", lambda s: s.encode().hex()),
    ("escaped-secret", lambda s: "".join(f"\\u{ord(c):04x}" for c in s)),
    ("escaped-secret", lambda s: "".join(f"\\x{ord(c):02x}" for c in s)),
    ("escaped-secret", lambda s: "".join(f"%{ord(c):02X}" for c in s)),
]


@pytest.mark.parametrize(("rule", "encode"), DISGUISED_CASES)
def test_disguised_token(rule: str, encode) -> None:
    token = _aws()
    encoded = encode(token)
    result = redact(f'blob = "{encoded}"\n')
    assert encoded not in result.text and rule in result.fired, result


@pytest.mark.parametrize(
    "line",
    [
        'KEY = "{a}" + "{b}"',
        "key = '{a}' .. '{b}'",
        "$key = '{a}' . '{b}';",
        'key = ("{a}"\n       "{b}")',
        'key = "{a}"\n    + "{b}"',
    ],
)
def test_split_literal(line: str) -> None:
    token = "ghp_" + rnd(ALNUM, 36)
    a, b = token[:14], token[14:]
    text = line.format(a=a, b=b) + "\n"
    result = redact(text)
    assert a not in result.text and b not in result.text, result.text
    assert result.fired["split-secret"] == 2


def test_secret_cut_by_the_cursor_is_masked_on_both_sides() -> None:
    token = "ghp_" + rnd(ALNUM, 36)
    text = f'token = "{token}"\n'
    cut = text.index(token) + 10
    before, after, fired = redact_around(text[:cut], text[cut:])
    assert token[:10] not in before and token[10:] not in after and fired
    assert before.endswith(MASK) and after.startswith(MASK + '"')


# -- the 31 planted secrets of issue #10 ---------------------------------------------------


def planted() -> list[tuple[str, str, str]]:
    """(kind, line, secret) for every kind of secret the attack planted."""
    openai = "sk-" + "proj-" + mixed(48)
    aws = _aws()
    gh = "ghp_" + rnd(ALNUM, 36)
    return [
        ("aws access key id", f"aws_access_key_id = {aws}", aws),
        ("aws secret", "aws_secret_access_key = " + mixed(40), None),
        ("github pat", f"GH = '{gh}'", gh),
        ("github fine-grained", "t = '" + TOKEN_SAMPLES["github-fine-grained-pat"] + "'", TOKEN_SAMPLES["github-fine-grained-pat"]),
        ("gitlab", "CI_TOKEN = '" + TOKEN_SAMPLES["gitlab-token"] + "'", TOKEN_SAMPLES["gitlab-token"]),
        ("slack token", "bot = '" + TOKEN_SAMPLES["slack-token"] + "'", TOKEN_SAMPLES["slack-token"]),
        ("slack webhook", "HOOK = '" + TOKEN_SAMPLES["slack-webhook-url"] + "'", TOKEN_SAMPLES["slack-webhook-url"]),
        ("openai", f"client = OpenAI(api_key='{openai}')", openai),
        ("anthropic", "A = '" + TOKEN_SAMPLES["anthropic-api-key"] + "'", TOKEN_SAMPLES["anthropic-api-key"]),
        ("google", "maps('" + TOKEN_SAMPLES["gcp-api-key"] + "')", TOKEN_SAMPLES["gcp-api-key"]),
        ("stripe", "stripe.api_key = '" + TOKEN_SAMPLES["stripe-key"] + "'", TOKEN_SAMPLES["stripe-key"]),
        ("jwt", "cookie = '" + TOKEN_SAMPLES["jwt"] + "'", TOKEN_SAMPLES["jwt"]),
        ("rsa private key", "-----BEGIN RSA PRIVATE KEY-----\nMIIEow" + mixed(58) + "\n-----END RSA PRIVATE KEY-----", "MIIEow"),
        ("openssh private key", "-----BEGIN OPENSSH PRIVATE KEY-----\nb3Blbn" + mixed(58) + "\n-----END OPENSSH PRIVATE KEY-----", "b3Blbn"),
        ("bearer header", "Authorization: Bearer " + mixed(32), None),
        ("url password", "DATABASE_URL = 'postgres://app:Sup3rS3cret@db/app'", "Sup3rS3cret"),
        ("password assignment", 'password = "correct-horse-battery"', "correct-horse-battery"),
        ("api_key assignment", 'api_key = "' + mixed(24) + '"', None),
        ("client secret", 'clientSecret: "' + mixed(30) + '"', None),
        (".env value", "STRIPE_WEBHOOK_SECRET=" + mixed(32), None),
        ("high-entropy assignment", 'BLOB = "' + mixed(36) + '"', None),
        ("base64-encoded key", "ENC = '" + base64.b64encode(aws.encode()).decode() + "'", base64.b64encode(aws.encode()).decode()),
        ("hex-encoded key", "HEX = '" + gh.encode().hex() + "'", gh.encode().hex()),
        ("split over two literals", f"k = '{openai[:20]}' + '{openai[20:]}'", openai[20:]),
        ("\\u-escaped key", "k = '" + "".join(f"\\u{ord(c):04x}" for c in gh) + "'", "\\u0067\\u0068\\u0070"),
        ("?api_key= in a URL", "fetch('https://api.example.com/x?api_key=" + mixed(20) + "')", None),
        ("short pw= assignment", 'pw="t0p"', "t0p"),
        ("sendgrid", "SG_KEY = '" + TOKEN_SAMPLES["sendgrid-api-token"] + "'", TOKEN_SAMPLES["sendgrid-api-token"]),
        ("hugging face", "login('" + TOKEN_SAMPLES["huggingface-token"] + "')", TOKEN_SAMPLES["huggingface-token"]),
        ("npm", "//registry.npmjs.org/:_authToken=" + TOKEN_SAMPLES["npm-access-token"], TOKEN_SAMPLES["npm-access-token"]),
        ("azure storage key", "conn = 'DefaultEndpointsProtocol=https;AccountName=acme;" + TOKEN_SAMPLES["azure-storage-account-key"] + ";EndpointSuffix=core.windows.net'", TOKEN_SAMPLES["azure-storage-account-key"].split("=", 1)[1]),
    ]  # fmt: skip


PLANTED = planted()


def test_there_are_31_kinds_of_planted_secret() -> None:
    assert len(PLANTED) == 31 and len({kind for kind, _, _ in PLANTED}) == 31


@pytest.mark.parametrize(("kind", "line", "secret"), PLANTED, ids=[k for k, _, _ in PLANTED])
def test_planted_secret_is_masked(kind: str, line: str, secret: str | None) -> None:
    result = redact(line + "\n")
    assert result.count >= 1, kind
    if secret is None:  # the value after the assignment or header
        secret = line.rsplit("=", 1)[-1].rsplit(" ", 1)[-1].strip("\"')")
    assert secret not in result.text, (kind, result.text)


def test_all_planted_secrets_in_one_file() -> None:
    text = "\n".join(line for _, line, _ in PLANTED) + "\n"
    result = redact(text)
    for kind, _line, secret in PLANTED:
        if secret is not None:
            assert secret not in result.text, kind
    assert result.text.count("\n") == text.count("\n")


def test_weft_sources_hold_no_secrets() -> None:
    """False positives: weft's own code (apart from the rule table) has nothing to mask."""
    server = Path(__file__).resolve().parents[2] / "server" / "weft"
    noisy = {server / "secrets.py"}
    for path in sorted(server.rglob("*.py")):
        if path in noisy:
            continue
        text = path.read_text(encoding="utf-8")
        assert find_secrets(text) == [], path
