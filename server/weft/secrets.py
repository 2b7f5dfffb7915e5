"""Finding secrets in text before it leaves the machine, and masking them.

Every outgoing path (completion prompts, cross-file snippets, agent context, tool results,
verification output) calls :func:`redact` on *values*, before anything is serialised: JSON's
escaped quotes would otherwise hide an assignment from the rules.

What is found:

- **Provider tokens by shape** (:data:`TOKEN_RULES`): the providers gitleaks' default
  configuration covers (AWS, GitHub, GitLab, Slack, OpenAI, Anthropic, Google, Stripe,
  SendGrid, Hugging Face, npm, PyPI, Azure, DigitalOcean, Shopify, Vault, JWTs, …), each rule
  written for Python's ``re`` and gated by literal keywords, as gitleaks gates its rules.
- **Private keys** (PEM and OpenSSH blocks, also when the window starts inside one).
- **Context**: values assigned to names that say "secret" (``password``, ``api_key``,
  ``clientSecret``, ``pw``, ``DB_PASS``, a provider's name, …), bearer/basic credentials,
  passwords in URLs, ``?api_key=``-style query parameters, ``AccountKey=``-style connection
  string parts, ``curl -u``, Kubernetes ``Secret`` data, and any long high-entropy value
  assigned to any name.
- **Disguised forms**: base64 and hex encodings of a secret, ``\\u``/``\\x``/``%XX``-escaped
  ones, and a secret split over string literals joined by ``+``, ``..``, ``.`` or adjacency.

Cost: one RE2 scan of the whole text for every keyword at once (linear time, ~15 µs for 8 KB),
after which only the rules whose keywords occur run, on the lines that hold them. Text without
secrets costs a few tens of microseconds, which matters on the keystroke path.
"""

from __future__ import annotations

import base64
import binascii
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

import re2  # type: ignore[import-untyped]

MASK = "[REDACTED]"
KEY_MASK = "[REDACTED PRIVATE KEY]"


@dataclass(frozen=True)
class Finding:
    """A secret at ``[start, end)`` of the text, found by rule ``rule``."""

    start: int
    end: int
    rule: str


@dataclass(frozen=True)
class Redaction:
    """Masked text and how many secrets each rule masked."""

    text: str
    fired: Counter[str] = field(default_factory=Counter)

    @property
    def count(self) -> int:
        return sum(self.fired.values())


@dataclass(frozen=True)
class TokenRule:
    """A credential recognisable by its shape; ``group`` is the secret part of a match."""

    id: str
    keywords: tuple[str, ...]
    pattern: re.Pattern[str]
    group: int | str = 0
    entropy: float = 0.0


def _rule(
    id: str, keywords: str, pattern: str, group: int | str = 0, entropy: float = 0.0, flags: int = 0
) -> TokenRule:
    return TokenRule(id, tuple(keywords.split()), re.compile(pattern, flags), group, entropy)


_I = re.IGNORECASE
TOKEN_RULES: tuple[TokenRule, ...] = (
    _rule("1password-secret-key", "a3-", r"A3-[A-Z0-9]{6}-(?:[A-Z0-9]{11}|[A-Z0-9]{6}-[A-Z0-9]{5})-[A-Z0-9]{5}-[A-Z0-9]{5}-[A-Z0-9]{5}"),
    _rule("1password-service-account-token", "ops_eyj", r"ops_eyJ[A-Za-z0-9+/]{250,}={0,3}"),
    _rule("adobe-client-secret", "p8e-", r"p8e-[A-Za-z0-9]{32}"),
    _rule("age-secret-key", "age-secret-key-1", r"AGE-SECRET-KEY-1[QPZRY9X8GF2TVDW0S3JN54KHCE6MUA7L]{58}"),
    _rule("airtable-pat", "pat", r"pat[A-Za-z0-9]{14}\.[a-f0-9]{64}"),
    _rule("alibaba-access-key-id", "ltai", r"LTAI[A-Za-z0-9]{20}"),
    _rule("anthropic-api-key", "sk-ant-", r"sk-ant-(?:api|admin|sid)\d{2}-[A-Za-z0-9_\-]{20,}|sk-ant-[A-Za-z0-9_\-]{20,}"),
    _rule("artifactory-api-key", "akcp", r"AKCp[A-Za-z0-9]{69}"),
    _rule("artifactory-reference-token", "cmvmd", r"cmVmd[A-Za-z0-9]{59}"),
    _rule("authress-access-key", "sc_ ext_ scauth_ authress_", r"(?:sc|ext|scauth|authress)_[A-Za-z0-9]{5,30}\.[A-Za-z0-9]{4,6}\.acc[_-][A-Za-z0-9-]{10,32}\.[A-Za-z0-9+/_=-]{30,120}"),
    _rule("aws-access-key-id", "akia asia abia acca a3t agpa aida aipa anpa anva apka aroa asca", r"(?:A3T[A-Z0-9]|AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|APKA|AROA|ASCA)[A-Z0-9]{16}(?![A-Z0-9])"),
    _rule("aws-bedrock-api-key", "absk bedrock-api-key-", r"ABSK[A-Za-z0-9+/]{109,269}={0,2}|bedrock-api-key-YmVkcm9jay5hbWF6b25hd3MuY29t[A-Za-z0-9+/=&%-]*"),
    _rule("azure-ad-client-secret", "q~", r"[A-Za-z0-9_~.]{3}\dQ~[A-Za-z0-9_~.-]{31,34}"),
    _rule("azure-storage-account-key", "accountkey= sharedaccesskey=", r"(?i:AccountKey|SharedAccessKey)=([A-Za-z0-9+/]{20,}={0,2})", group=1),
    _rule("clickhouse-cloud-api-secret", "4b1d", r"4b1d[A-Za-z0-9]{38}"),
    _rule("clojars-api-token", "clojars_", r"CLOJARS_[a-z0-9]{60}", flags=_I),
    _rule("cloudflare-origin-ca-key", "v1.0-", r"v1\.0-[a-f0-9]{24}-[a-f0-9]{146}"),
    _rule("databricks-api-token", "dapi", r"dapi[a-f0-9]{32}(?:-\d)?"),
    _rule("digitalocean-token", "doo_v1_ dop_v1_ dor_v1_", r"do[opr]_v1_[a-f0-9]{64}"),
    _rule("discord-webhook-url", "discord.com/api/webhooks discordapp.com/api/webhooks", r"https://(?:ptb\.|canary\.)?discord(?:app)?\.com/api/webhooks/\d+/[\w-]{60,}"),
    _rule("doppler-api-token", "dp.pt.", r"dp\.pt\.[A-Za-z0-9]{43}"),
    _rule("duffel-api-token", "duffel_", r"duffel_(?:test|live)_[A-Za-z0-9_\-=]{43}"),
    _rule("dynatrace-api-token", "dt0c01.", r"dt0c01\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{64}"),
    _rule("easypost-api-token", "ezak eztk", r"EZ[AT]K[A-Za-z0-9]{54}"),
    _rule("facebook-access-token", "eaam eaac", r"EAA[MC][A-Za-z0-9]{100,}"),
    _rule("flutterwave-key", "flwseck_test flwpubk_test flwseck- flwpubk-", r"FLW(?:SECK|PUBK)(?:_TEST)?-[a-hA-H0-9]{12,32}(?:-X)?"),
    _rule("flyio-access-token", "fo1_ fm1 fm2_", r"fo1_[\w-]{43}|fm1[ar]_[A-Za-z0-9+/]{100,}={0,3}|fm2_[A-Za-z0-9+/]{100,}={0,3}"),
    _rule("frameio-api-token", "fio-u-", r"fio-u-[A-Za-z0-9\-_=]{64}"),
    _rule("gcp-api-key", "aiza", r"AIza[\w-]{35}"),
    _rule("github-token", "ghp_ gho_ ghu_ ghs_ ghr_", r"gh[pousr]_[A-Za-z0-9]{36,255}"),
    _rule("github-fine-grained-pat", "github_pat_", r"github_pat_\w{22,255}"),
    _rule("gitlab-token", "glpat- gldt- glrt- glptt- glft- glimt- glagent- gloas- glsoat- glcbt- glffct- gr1348941", r"(?:glpat|gldt|glrt|glptt|glft|glimt|glagent|gloas|glsoat|glcbt|glffct)-[\w.\-]{20,}|GR1348941[\w-]{20}"),
    _rule("gitlab-session-cookie", "_gitlab_session=", r"_gitlab_session=([0-9a-z]{32})", group=1),
    _rule("grafana-token", "eyjrijoi glc_ glsa_", r"eyJrIjoi[A-Za-z0-9]{70,400}={0,3}|glc_[A-Za-z0-9+/]{32,400}={0,3}|glsa_[A-Za-z0-9]{32}_[A-Fa-f0-9]{8}"),
    _rule("harness-api-key", "pat. sat.", r"(?:pat|sat)\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9]{24}\.[A-Za-z0-9]{20}"),
    _rule("hashicorp-tf-api-token", "atlasv1", r"[A-Za-z0-9]{14}\.atlasv1\.[A-Za-z0-9\-_=]{60,70}"),
    _rule("heroku-api-key-v2", "hrku-aa", r"HRKU-AA[0-9A-Za-z_-]{58}"),
    _rule("huggingface-token", "hf_ api_org_", r"(?:hf|api_org)_[A-Za-z0-9]{30,40}"),
    _rule("infracost-api-token", "ico-", r"ico-[A-Za-z0-9]{32}"),
    _rule("intra42-client-secret", "s-s4t2", r"s-s4t2(?:ud|af)-[a-f0-9]{64}"),
    _rule("jwt", "eyj", r"eyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]*"),
    _rule("linear-api-key", "lin_api_", r"lin_api_[A-Za-z0-9]{40}"),
    _rule("lob-api-key", "live_ test_", r"(?:live|test)_(?:pub_)?[a-f0-9]{31,35}(?![a-f0-9])"),
    _rule("mailchimp-api-key", "-us", r"[a-f0-9]{32}-us\d{1,2}(?!\d)"),
    _rule("mailgun-key", "key- pubkey-", r"(?:pub)?key-[a-f0-9]{32}"),
    _rule("mapbox-secret-token", "sk.eyj", r"sk\.eyJ[A-Za-z0-9_.-]{50,}"),
    _rule("maxmind-license-key", "_mmk", r"[A-Za-z0-9]{6}_[A-Za-z0-9]{29}_mmk"),
    _rule("microsoft-teams-webhook", "webhook.office.com", r"https://[a-z0-9]+\.webhook\.office\.com/webhookb2/[\w@/-]{40,}"),
    _rule("new-relic-key", "nrak- nrjs- nrii-", r"NRAK-[A-Z0-9]{27}|NRJS-[a-f0-9]{19}|NRII-[a-z0-9-]{32}"),
    _rule("notion-api-token", "ntn_ secret_", r"ntn_[0-9]{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}(?![A-Za-z0-9])"),
    _rule("npm-access-token", "npm_", r"npm_[A-Za-z0-9]{36}"),
    _rule("octopus-deploy-api-key", "api-", r"API-[A-Z0-9]{26}(?![A-Z0-9])"),
    _rule("openai-api-key", "sk- t3blbkfj", r"sk-(?:proj|svcacct|admin|None)-[A-Za-z0-9_\-]{20,}|sk-(?!ant-)(?=[A-Za-z_\-]*[0-9])[A-Za-z0-9_\-]{20,}"),
    _rule("openshift-user-token", "sha256~", r"sha256~[\w-]{43}"),
    _rule("perplexity-api-key", "pplx-", r"pplx-[A-Za-z0-9]{48}"),
    _rule("planetscale-token", "pscale_", r"pscale_(?:tkn|oauth|pw)_[\w=.\-]{32,64}"),
    _rule("postman-api-token", "pmak-", r"PMAK-[A-Fa-f0-9]{24}-[A-Fa-f0-9]{34}"),
    _rule("prefect-api-token", "pnu_", r"pnu_[A-Za-z0-9]{36}"),
    _rule("pulumi-api-token", "pul-", r"pul-[a-f0-9]{40}"),
    _rule("pypi-upload-token", "pypi-ageichlwas5vcmc", r"pypi-AgEIcHlwaS5vcmc[\w-]{50,1000}"),
    _rule("readme-api-token", "rdme_", r"rdme_[a-z0-9]{70}"),
    _rule("rubygems-api-token", "rubygems_", r"rubygems_[a-f0-9]{48}"),
    _rule("scalingo-api-token", "tk-us-", r"tk-us-[\w-]{48}"),
    _rule("sendgrid-api-token", "sg.", r"SG\.[A-Za-z0-9_\-]{16,32}\.[A-Za-z0-9_\-]{16,64}"),
    _rule("sendinblue-api-token", "xkeysib-", r"xkeysib-[a-f0-9]{64}-[A-Za-z0-9]{16}"),
    _rule("sentry-token", "sntrys_ sntryu_", r"sntrys_eyJ[A-Za-z0-9+/=_]{60,}|sntryu_[a-f0-9]{64}"),
    _rule("settlemint-token", "sm_aat_ sm_pat_ sm_sat_", r"sm_(?:aat|pat|sat)_[A-Za-z0-9]{16}"),
    _rule("shippo-api-token", "shippo_", r"shippo_(?:live|test)_[A-Fa-f0-9]{40}"),
    _rule("shopify-token", "shpat_ shpca_ shppa_ shpss_", r"shp(?:at|ca|pa|ss)_[A-Fa-f0-9]{32}"),
    _rule("sidekiq-secret", "contribsys__com", r"(?i:BUNDLE_(?:ENTERPRISE|GEMS)__CONTRIBSYS__COM)[\"']?\s*[=:]\s*[\"']?([a-f0-9]{8}:[a-f0-9]{8})", group=1),
    _rule("slack-token", "xoxa xoxb xoxe xoxo xoxp xoxr xoxs xapp-", r"xox[abeoprs](?:\.xox[bp])?-[A-Za-z0-9-]{10,}|xapp-\d-[A-Za-z0-9-]{10,}"),
    _rule("slack-webhook-url", "hooks.slack.com", r"(?:https?://)?hooks\.slack\.com/(?:services|workflows|triggers)/[A-Za-z0-9+/_-]{20,}"),
    _rule("sourcegraph-access-token", "sgp_", r"sgp_(?:[a-fA-F0-9]{16}|local)_[a-fA-F0-9]{40}|sgp_[a-fA-F0-9]{40}"),
    _rule("square-token", "sq0atp- sq0csp- eaaa", r"(?:sq0atp|sq0csp)-[\w-]{22,60}|EAAA[\w-]{22,60}"),
    _rule("stripe-key", "sk_test sk_live sk_prod rk_test rk_live rk_prod whsec_", r"(?:sk|rk)_(?:test|live|prod)_[A-Za-z0-9]{10,99}|whsec_[A-Za-z0-9]{24,}"),
    _rule("telegram-bot-token", ":aa", r"(?<![\d])\d{6,12}:AA[A-Za-z0-9_-]{33}"),
    _rule("twilio-api-key", "twilio", r"SK[0-9a-fA-F]{32}"),
    _rule("typeform-api-token", "tfp_", r"tfp_[A-Za-z0-9\-_.=]{59}"),
    _rule("vault-token", "hvs. hvb.", r"hvs\.[\w-]{90,120}|hvb\.[\w-]{138,300}"),
    _rule("yandex-token", "aqvn yandex", r"AQVN[A-Za-z0-9_\-]{35,38}|t1\.[A-Z0-9a-z_-]+[=]{0,2}\.[A-Z0-9a-z_-]{86}[=]{0,2}"),
)  # fmt: skip
"""Provider credentials by shape. Keywords are lowercase literals; a rule runs only where one
occurs in the text. ``docs/security.md`` lists them; ``tests/unit/test_secrets.py`` has a
sample per rule."""

# -- context rules --------------------------------------------------------------------------

# Names whose value is a secret when the name ends with one of these (case and _ - ignored).
_SECRET_NAME_ENDINGS = (
    "password", "passwd", "passphrase", "pwd", "pw", "secret", "token", "apikey", "accesskey",
    "secretkey", "privatekey", "signingkey", "encryptionkey", "masterkey", "credential",
    "credentials", "authkey", "clientsecret", "connectionstring", "dsn",
)  # fmt: skip
# Names that merely contain one of these hide values that look random.
_SECRET_NAME_PARTS = (
    "pass", "pwd", "secret", "token", "key", "credential", "creds", "auth", "access", "api",
    "private", "cookie", "session", "signature", "salt", "cert",
)  # fmt: skip
# Providers whose name next to an assignment marks its random-looking value (gitleaks' keyword
# rules: `adafruit_key = "…"`, `TWITTER_CONSUMER = "…"`).
PROVIDER_NAMES = (
    "adafruit", "adobe", "airtable", "algolia", "alibaba", "asana", "atlassian", "confluence",
    "jira", "beamer", "bitbucket", "bittrex", "meraki", "cloudflare", "codecov", "cohere",
    "coinbase", "confluent", "contentful", "datadog", "dnkey", "discord", "droneci", "dropbox",
    "etsy", "facebook", "fastly", "finicity", "finnhub", "flickr", "freshbooks", "gitter",
    "gocardless", "heroku", "hubspot", "intercom", "jfrog", "artifactory", "bintray", "kraken",
    "kucoin", "launchdarkly", "linear", "linkedin", "looker", "mailchimp", "mailgun", "mapbox",
    "mattermost", "messagebird", "netlify", "newrelic", "nytimes", "okta", "plaid", "privateai",
    "rapidapi", "sendbird", "sentry", "snyk", "sonar", "squarespace", "sumo", "telegram",
    "travis", "twitch", "twitter", "twilio", "typeform", "yandex", "zendesk", "openai",
    "anthropic", "github", "gitlab", "slack", "stripe", "sendgrid", "aws", "azure", "gcp",
)  # fmt: skip
_PASSWORD_ENDINGS = ("password", "passwd", "passphrase", "pwd", "pw", "pass")
_LINE_WORDS = (
    "pass", "pwd", "pw", "secret", "token", "key", "credential", "creds", "auth", "access",
    "api", "private", "cookie", "session", "signature", "salt", "cert", "dsn", "conn",
)  # fmt: skip

# A possessive name that starts at a name boundary: without both, every position inside a
# long identifier is retried with every shorter length (quadratic per line).
_NAME = r"""(?<![\w.$-])["']?(?P<name>[A-Za-z_$][\w.$-]*+)["']?"""
_ANNOTATION = r"(?::[ \t]*[A-Za-z_][\w\[\], .|]*?)?"
_ASSIGN = r"[ \t]*(?::=|=>|\?=|\|\|=|=|:)[ \t]*"
_QUOTED = r"""[rRbBuUfF]{0,2}(?P<q>["'`])(?P<value>(?:\\.|(?!(?P=q))[^\\\r\n])*)(?P=q)"""
_QUOTED_ASSIGNMENT = re.compile(_NAME + _ANNOTATION + _ASSIGN + _QUOTED)
_BARE_ASSIGNMENT = re.compile(
    r"^[ \t]*(?:export[ \t]+|set[ \t]+|\$env:)?"
    + _NAME
    + r"(?P<op>"
    + _ASSIGN
    + r")(?P<value>[^\s\"'`(){}\[\],;#]+)[ \t]*$",
    re.M,
)
_XML_SECRET = re.compile(
    r"""<add\s+key=["'](?P<name>[^"']*)["']\s+value=["'](?P<value>[^"']+)["']""", re.I
)
_PLACEHOLDER = re.compile(
    r"^(?:<[^>]*>|\[[^\]]*\]|\*+|x+|\.+|-+|_+|changeme|change_me|password|secret|none|null|"
    r"your[-_ ]?\w*|example\w*|dummy\w*|test|todo|xxx+)$|\$\{|\{\{|%\(|%s|\{\}|os\.environ|"
    r"process\.env|getenv",
    re.I,
)
_KEY_LIKE = re.compile(r"[A-Za-z0-9+/=_\-.~]{16,}")
_IDENTIFIER = re.compile(r"[A-Za-z_]\w*")
_ATTRIBUTE = re.compile(r"[A-Za-z_]\w*(?:\.[A-Za-z_]\w*)+")
_BARE_KEYWORDS = frozenset(
    "none null nil true false undefined str string int bytes any optional required".split()
)

_PEM_BLOCK = re.compile(
    r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----(.*?)"
    r"(?:-----END [A-Z0-9 ]*PRIVATE KEY(?: BLOCK)?-----|\Z)",
    re.S,
)
# The tail of a key whose BEGIN line fell outside the text (a window that starts inside it).
_PEM_TAIL = re.compile(
    r"\A((?:[ \t]*[A-Za-z0-9+/=]+[ \t]*(?:\r\n|\r|\n))+)(?=[ \t]*-----END [A-Z0-9 ]*PRIVATE KEY)"
)
_AUTH_HEADER = re.compile(
    r"\b(?i:bearer|basic|token)[ \t]+([A-Za-z0-9\-._~+/]{16,}=*)"
    r"|(?i:x-api-key|api-key|x-auth-token|private-token)[\"'\]]*[ \t]*[:=][ \t]*[\"']?([\w\-.~+/=]{12,})"
)
_URL_PASSWORD = re.compile(r"://[^\s:/@\"'`]+:([^\s@/\"'`]+)@")
_URL_PARAMETER = re.compile(
    r"[?&](?i:api[_-]?key|apikey|key|token|access[_-]?token|auth(?:[_-]?token)?|sig|signature|"
    r"secret|client[_-]?secret|password|passwd|pwd|private[_-]?token|session(?:id)?|"
    r"x-amz-signature|x-amz-credential|x-amz-security-token|code)=([^&#\s\"'`<>]{4,})"
)
_CONNECTION_PART = re.compile(
    r"(?i:\b(?:password|pwd|sharedaccesssignature|accountkey|sharedaccesskey))=([^;\"'`\s]{3,})"
)
_CURL_USER = re.compile(r"\bcurl\b[^\n]*?\s(?:-u|--user)[ =][\"']?[^\s:\"']*:([^\s\"']{3,})")
_K8S_SECRET = re.compile(r"(?im)^kind:[ \t]*[\"']?secret[\"']?[ \t]*$")
_K8S_DATA = re.compile(r"(?m)^([ \t]*)(?:data|stringData):[ \t]*$")
_K8S_ENTRY = re.compile(r"[ \t]+[\w.\-]+:[ \t]*[|>]?-?[ \t]*[\"']?([^\s\"'#]{6,})[\"']?[ \t]*$")

# -- disguised forms ----------------------------------------------------------------------

_ESCAPE = r"\\u[0-9A-Fa-f]{4}|\\x[0-9A-Fa-f]{2}|\\[0-7]{3}|%[0-9A-Fa-f]{2}|&#x?[0-9A-Fa-f]{1,6};"
_ESCAPED_RUN = re.compile(
    rf"(?:{_ESCAPE}|[A-Za-z0-9_\-.+/=~:])*(?:{_ESCAPE})(?:{_ESCAPE}|[A-Za-z0-9_\-.+/=~:])*"
)
_ONE_ESCAPE = re.compile(_ESCAPE)
_LITERAL = re.compile(r"""(?P<q>["'])(?P<body>(?:\\.|(?!(?P=q))[^\\\r\n])*)(?P=q)""")
_JOIN_GAP = re.compile(
    r"[ \t]*(?:\+|\.\.|[ \t]\.)?[ \t]*\\?(?:\r?\n)?[ \t]*(?:\+|\.\.|\.[ \t])?[ \t]*\Z"
)


def _set_pattern(pattern: str) -> str:
    """A rule's pattern for RE2 (no lookaround): a superset used only to pick rules to run."""
    return re.sub(r"\(\?<?[=!][^()]*(?:\([^()]*\))?[^()]*\)", "", pattern)


def _token_set() -> Any:
    rule_set = re2.Set.SearchSet()
    for rule in TOKEN_RULES:
        rule_set.Add(_set_pattern(rule.pattern.pattern).encode())
    rule_set.Compile()
    return rule_set


_TOKEN_SET = _token_set()
"""Every token rule at once (RE2::Set, one linear pass): which rules may match the text."""

_SCAN = re2.compile(
    rb"(?im)-----(?:begin|end) [a-z0-9 ]*private key"
    rb"|://"
    rb"|\\u[0-9a-f]{4}|\\x[0-9a-f]{2}|%[0-9a-f]{2}|&#x?[0-9a-f]{1,6};"
    rb"|[\"'][ \t]*(?:\+|\.\.)|[\"'][ \t]+\.[ \t]+[\"']|[\"'][ \t]*\\?\r?\n[ \t]*[\"']"
    rb"|[\"'][ \t]+[\"']|[\"'][ \t]*\r?\n[ \t]*(?:\+|\.\.)"
    rb"|[a-z0-9+/=_-]{20,}"
    rb"|" + b"|".join(re.escape(w).encode() for w in _LINE_WORDS) + rb"|bearer|basic|curl|<add"
    rb"|^kind:[ \t]*[\"']?secret"
)
"""Where context rules may apply: private-key markers, URLs, escapes, joined literals, long
key-like runs and words that name secrets. One RE2 pass over the UTF-8 bytes."""


@dataclass
class _Triggers:
    """What :data:`_SCAN` found, as character offsets."""

    lines: list[int] = field(default_factory=list)
    runs: list[tuple[int, int]] = field(default_factory=list)
    joins: list[int] = field(default_factory=list)
    pem: bool = False
    escapes: bool = False
    kubernetes: bool = False


def _triggers(text: str, data: bytes) -> _Triggers:
    """Run :data:`_SCAN` over ``data`` (``text`` in UTF-8) and sort what it found."""
    to_chars = _CharOffsets(text, data)
    found = _Triggers()
    for match in _SCAN.finditer(data):
        byte_start, byte_end = match.span()
        head = data[byte_start : byte_start + 2]
        start = to_chars(byte_start)
        if head == b"--":
            found.pem = True
        elif head in (b"\\u", b"\\x") or head[:1] in (b"%", b"&"):
            found.escapes = True
        elif head[:1] in (b'"', b"'"):
            found.joins.append(start)
        elif head[:1] in (b"k", b"K") and match.group(0)[:5].lower() == b"kind:":
            found.kubernetes = True
        else:
            found.lines.append(start)
            if byte_end - byte_start >= 20:
                found.runs.append((start, to_chars(byte_end)))
    return found


class _CharOffsets:
    """Byte offsets of ``data`` → character offsets of ``text``, for offsets asked in rising
    order (linear overall; free for ASCII)."""

    def __init__(self, text: str, data: bytes) -> None:
        self.data = data
        self.ascii = len(data) == len(text)
        self.byte = self.char = 0

    def __call__(self, offset: int) -> int:
        if self.ascii:
            return offset
        if offset < self.byte:
            return len(self.data[:offset].decode("utf-8", "surrogatepass"))
        self.char += len(self.data[self.byte : offset].decode("utf-8", "surrogatepass"))
        self.byte = offset
        return self.char


MAX_DECODE_DEPTH = 2


def redact(text: str) -> Redaction:
    """``text`` with every secret masked (line breaks kept), and which rules fired."""
    findings = find_secrets(text)
    if not findings:
        return Redaction(text)
    return Redaction(mask(text, findings), Counter(f.rule for f in findings))


def redact_around(prefix: str, suffix: str) -> tuple[str, str, Counter[str]]:
    """Both sides of a cursor masked in one pass (a secret the cursor cuts is found whole and
    masked on each side), and which rules fired."""
    findings = find_secrets(prefix + suffix)
    if not findings:
        return prefix, suffix, Counter()
    cut = len(prefix)
    before = [Finding(f.start, min(f.end, cut), f.rule) for f in findings if f.start < cut]
    after = [Finding(max(f.start, cut) - cut, f.end - cut, f.rule) for f in findings if f.end > cut]
    fired = Counter(f.rule for f in findings)
    return mask(prefix, before), mask(suffix, after), fired


def find_secrets(text: str, depth: int = 0) -> list[Finding]:
    """Every secret in ``text``, overlapping findings merged, in order."""
    if not text:
        return []
    data = text.encode("utf-8", "surrogatepass")
    found = list(_token_findings(text, data))
    triggers = _triggers(text, data)
    found += _context_findings(text, triggers)
    if depth < MAX_DECODE_DEPTH:
        found += _disguised_findings(text, triggers, depth)
    return _merge(found)


def mask(text: str, findings: Iterable[Finding]) -> str:
    """Replace each finding with the mask, keeping its line breaks (offsets of later lines
    shift only within their line, and the text stays useful as code)."""
    out: list[str] = []
    done = 0
    for finding in findings:
        out.append(text[done : finding.start])
        marker = KEY_MASK if finding.rule == "private-key" else MASK
        out.append(marker + "".join(re.findall(r"\r\n|\r|\n", text[finding.start : finding.end])))
        done = finding.end
    out.append(text[done:])
    return "".join(out)


def _merge(found: list[Finding]) -> list[Finding]:
    merged: list[Finding] = []
    for finding in sorted(found, key=lambda f: (f.start, -f.end)):
        if merged and finding.start < merged[-1].end:
            last = merged[-1]
            if finding.end > last.end:
                merged[-1] = Finding(last.start, finding.end, last.rule)
            continue
        if finding.end > finding.start:
            merged.append(finding)
    return merged


def _boundary_before(text: str, start: int) -> bool:
    return start == 0 or not (text[start - 1].isalnum() or text[start - 1] == "_")


def _token_findings(text: str, data: bytes) -> Iterator[Finding]:
    matched = _TOKEN_SET.Match(data) or ()
    for index in matched:
        rule = TOKEN_RULES[index]
        for match in rule.pattern.finditer(text):
            if not _boundary_before(text, match.start()):
                continue
            secret = match.group(rule.group)
            if secret and (not rule.entropy or entropy(secret) >= rule.entropy):
                yield Finding(match.start(rule.group), match.end(rule.group), rule.id)


def _context_findings(text: str, triggers: _Triggers) -> Iterator[Finding]:
    if triggers.pem:
        yield from _pem_findings(text)
    done = -1
    for position in sorted(triggers.lines):
        if position < done:
            continue
        start, end = _line_bounds(text, position)
        done = end
        yield from _line_findings(text[start:end], start)
    if triggers.kubernetes:
        yield from _kubernetes_findings(text)


def _line_findings(line: str, offset: int) -> Iterator[Finding]:
    """The line-local context rules, each only where a cheap test says it may apply."""
    lowered = line.lower()
    for pattern, check, needles in _ASSIGNMENT_CHECKS:
        if not any(needle in lowered for needle in needles):
            continue
        for match in pattern.finditer(line):
            rule = check(match)
            if rule is not None:
                yield Finding(offset + match.start("value"), offset + match.end("value"), rule)
    for pattern, rule, needles in _LINE_RULES:
        if any(needle in lowered for needle in needles):
            for finding in _group_findings(pattern, line, rule):
                yield Finding(offset + finding.start, offset + finding.end, rule)


def _group_findings(pattern: re.Pattern[str], text: str, rule: str) -> Iterator[Finding]:
    for match in pattern.finditer(text):
        for index in range(1, (pattern.groups or 0) + 1):
            value = match.group(index)
            if value and MASK not in value and not _PLACEHOLDER.search(value):
                if rule != "auth-header" or re.search(r"[\d+/=]", value):
                    yield Finding(match.start(index), match.end(index), rule)


def _pem_findings(text: str) -> Iterator[Finding]:
    for match in _PEM_BLOCK.finditer(text):
        yield Finding(match.start(1), match.end(1), "private-key")
    tail = _PEM_TAIL.match(text)
    if tail:
        yield Finding(tail.start(1), tail.end(1), "private-key")


def _line_bounds(text: str, position: int) -> tuple[int, int]:
    """Start and end (before the line break) of the line holding ``position``."""
    newline = text.rfind("\n", 0, position)
    start = max(newline, text.rfind("\r", newline + 1, position)) + 1
    newline = text.find("\n", position)
    carriage = text.find("\r", position, newline if newline >= 0 else len(text))
    end = carriage if carriage >= 0 else newline if newline >= 0 else len(text)
    return start, end


def _quoted_rule(match: re.Match[str]) -> str | None:
    return secret_value_rule(match.group("name"), _unescape_simple(match.group("value")))


def _bare_rule(match: re.Match[str]) -> str | None:
    value, name = match.group("value"), match.group("name")
    env_style = match.group("op").strip() == "=" and re.fullmatch(r"[A-Z][A-Z0-9_]*", name)
    if (
        value.lower() in _BARE_KEYWORDS
        or _ATTRIBUTE.fullmatch(value)
        or not env_style
        and _IDENTIFIER.fullmatch(value)
        and entropy(value) < 3.5
    ):
        return None
    return secret_value_rule(name, value)


def _xml_rule(match: re.Match[str]) -> str | None:
    return secret_value_rule(match.group("name"), match.group("value"))


_ASSIGNMENT_CHECKS: tuple[
    tuple[re.Pattern[str], Callable[[re.Match[str]], str | None], tuple[str, ...]], ...
] = (
    (_QUOTED_ASSIGNMENT, _quoted_rule, ('"', "'", "`")),
    (_BARE_ASSIGNMENT, _bare_rule, ("=", ":")),
    (_XML_SECRET, _xml_rule, ("<add",)),
)
_LINE_RULES: tuple[tuple[re.Pattern[str], str, tuple[str, ...]], ...] = (
    (_AUTH_HEADER, "auth-header", ("bearer", "basic", "token", "api-key", "private-token")),
    (_URL_PASSWORD, "url-password", ("://",)),
    (_URL_PARAMETER, "url-secret-parameter", ("?", "&")),
    (
        _CONNECTION_PART,
        "connection-string-secret",
        ("password=", "pwd=", "accountkey=", "sharedaccess"),
    ),
    (_CURL_USER, "curl-user-password", ("curl",)),
)


def secret_value_rule(name: str, value: str) -> str | None:
    """The rule that masks ``value`` assigned to ``name``, or None when it is not a secret."""
    if (
        not value
        or MASK in value
        or value.lower() in _BARE_KEYWORDS
        or _PLACEHOLDER.search(value)
        or re.search(r"\s", value)
    ):
        return None
    key = re.sub(r"[^a-z0-9]", "", name.rsplit(".", 1)[-1].lower())
    if key.endswith(_PASSWORD_ENDINGS) and not key.endswith(("bypass", "compass", "surpass")):
        return "password-assignment"
    if len(value) >= 4 and key.endswith(_SECRET_NAME_ENDINGS):
        return "secret-assignment"
    named = any(part in key for part in _SECRET_NAME_PARTS) or any(
        provider in key for provider in PROVIDER_NAMES
    )
    if named and looks_random(value):
        return "secret-assignment"
    if high_entropy(value):
        return "high-entropy-assignment"
    return None


def looks_random(value: str) -> bool:
    """One long run of key-like characters with letters and digits, and high entropy (URLs,
    paths with dots, words and sentences are not)."""
    return (
        _KEY_LIKE.fullmatch(value) is not None
        and re.search(r"\d", value) is not None
        and re.search(r"[A-Za-z]", value) is not None
        and entropy(value) >= 3.5
    )


def high_entropy(value: str) -> bool:
    """A long value that looks like key material whatever its name: at least 20 key-like
    characters, digits and mixed-case letters, and close to one new symbol per character."""
    return (
        len(value) >= 20
        and looks_random(value)
        and re.search(r"[a-z]", value) is not None
        and re.search(r"[A-Z]", value) is not None
        and len(re.findall(r"\d", value)) >= 2
        and entropy(value) >= min(4.2, 0.9 * math.log2(len(value)))
    )


def entropy(value: str) -> float:
    """Shannon entropy in bits per character."""
    counts = Counter(value)
    total = len(value)
    return -sum(n / total * math.log2(n / total) for n in counts.values()) if total else 0.0


def _kubernetes_findings(text: str) -> Iterator[Finding]:
    for block in _K8S_DATA.finditer(text):
        indent = len(block.group(1))
        position = block.end() + 1
        for line in text[position:].splitlines(keepends=True):
            body = line.rstrip("\r\n")
            if body.strip() and len(body) - len(body.lstrip()) <= indent:
                break
            entry = _K8S_ENTRY.match(body)
            if entry and not entry.group(1).startswith(("{{", "$")):
                yield Finding(
                    position + entry.start(1), position + entry.end(1), "kubernetes-secret"
                )
            position += len(line)


# -- disguised forms ----------------------------------------------------------------------


def _disguised_findings(text: str, triggers: _Triggers, depth: int) -> Iterator[Finding]:
    for start, end in triggers.runs:
        run = text[start:end].rstrip("=")
        if len(run) >= 24 and len(run) % 2 == 0 and all(c in _HEX_DIGITS for c in run):
            decoded = _printable(bytes.fromhex(run))
            rule = "hex-encoded-secret"
        else:
            decoded = _b64decode(text[start:end])
            rule = "base64-encoded-secret"
        if decoded is not None and _hides_secret(decoded, depth):
            yield Finding(start, end, rule)
    if triggers.escapes:
        for match in _ESCAPED_RUN.finditer(text):
            run = match.group(0)
            if len(_ONE_ESCAPE.findall(run)) >= 3 and _hides_secret(_unescape(run), depth):
                yield Finding(match.start(), match.end(), "escaped-secret")
    if triggers.joins:
        yield from _split_literal_findings(text, triggers.joins, depth)


_HEX_DIGITS = frozenset("0123456789abcdefABCDEF")


def _hides_secret(decoded: str, depth: int) -> bool:
    return bool(find_secrets(decoded, depth + 1))


def _b64decode(run: str) -> str | None:
    body = run.rstrip("=")
    if len(body) % 4 == 1:
        return None
    padded = body + "=" * (-len(body) % 4)
    try:
        data = (
            base64.urlsafe_b64decode(padded)
            if "-" in body or "_" in body
            else base64.b64decode(padded, validate=True)
        )
    except (binascii.Error, ValueError):
        return None
    return _printable(data)


_NOT_PRINTABLE = bytes(b for b in range(256) if not (32 <= b < 127 or b in (9, 10, 13)))


def _printable(data: bytes) -> str | None:
    """``data`` as text when it is (nearly all) printable ASCII, else None."""
    if len(data) < 12:
        return None
    kept = data.translate(None, _NOT_PRINTABLE)
    if len(kept) < 0.95 * len(data):
        return None
    return kept.decode("ascii")


def _unescape(run: str) -> str:
    def one(match: re.Match[str]) -> str:
        token = match.group(0)
        try:
            if token.startswith("\\u"):
                return chr(int(token[2:], 16))
            if token.startswith(("\\x", "%")):
                return chr(int(token[-2:], 16))
            if token.startswith("&#x"):
                return chr(int(token[3:-1], 16))
            if token.startswith("&#"):
                return chr(int(token[2:-1]))
            return chr(int(token[1:], 8))
        except (ValueError, OverflowError):
            return token

    return _ONE_ESCAPE.sub(one, run)


def _unescape_simple(value: str) -> str:
    return _unescape(value) if "\\" in value or "%" in value else value


def _split_literal_findings(text: str, joins: list[int], depth: int) -> Iterator[Finding]:
    """A secret split over string literals joined by ``+``, ``..``, `` . `` or adjacency (also
    across a line break): the joined text is checked, and each literal of a secret join is
    masked. Only the lines around a join are parsed for literals."""
    done = -1
    for position in joins:
        if position < done:
            continue
        start = _line_bounds(text, position)[0]
        end = _line_bounds(text, min(len(text), _line_bounds(text, position)[1] + 1))[1]
        done = end
        literals = list(_LITERAL.finditer(text, start, end))
        group: list[re.Match[str]] = []
        for literal in [*literals, None]:
            if (
                literal is not None
                and group
                and _JOIN_GAP.match(text, group[-1].end(), literal.start())
            ):
                group.append(literal)
                continue
            if len(group) > 1:
                yield from _joined(text, group, depth)
            group = [literal] if literal is not None else []


def _joined(text: str, group: list[re.Match[str]], depth: int) -> Iterator[Finding]:
    joined = "".join(match.group("body") for match in group)
    line_start = text.rfind("\n", 0, group[0].start()) + 1
    assignment = _QUOTED_ASSIGNMENT.search(text, line_start, group[0].end())
    named = (
        assignment is not None
        and assignment.start("value") == group[0].start("body")
        and secret_value_rule(assignment.group("name"), joined) is not None
    )
    if named or _hides_secret(joined, depth):
        for match in group:
            yield Finding(match.start("body"), match.end("body"), "split-secret")
