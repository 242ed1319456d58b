"""The JSON API's requests and responses, as pydantic models (so ``/openapi.json`` is precise).

Requests are checked by spfkit's own parsers — the wizard's ``parse_domain``/``parse_ip4``/
``parse_domain_spec`` (RFC 7208 §5, §7.1), the evaluator's ``is_valid_domain`` (§4.3) — so
the API accepts exactly what the command line accepts, with the same sentences when it does
not. Responses mirror the ``as_dict()`` of spfkit's result objects (``RecordTree``,
``LintReport``, ``Finding``, ``CheckResult`` via ``spfkit.view.CheckReport``): one JSON shape
for ``spfkit … --json`` and the API.
"""

from __future__ import annotations

from typing import Annotated, Final, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from spfkit.identity import is_valid_domain, strip_reverse_path, written_ip
from spfkit.web.report_models import BudgetModel, BudgetsModel, DmarcModel, VerdictModel
from spfkit.wizard.draft import parse_domain, parse_domain_spec, parse_ip4, parse_ip6
from spfkit.wizard.zones import MAX_TTL

__all__ = [
    "CheckQuery", "CheckResponse", "ErrorMessage", "FindingModel", "LintReportModel", "TestQuery",
    "TestResponse", "TreeModel", "WizardRequest", "WizardResponse",
]

#: RFC 1035 §2.3.4 / RFC 7208 §4.3: a name is at most 253 octets (+ an optional final dot)
MAX_NAME: Final = 254
#: entries of one list of the wizard (more than any sane record; 10 lookups is the limit)
MAX_ITEMS: Final = 64


def _printable(value: str, what: str) -> str:
    if not value.isprintable():
        raise ValueError(f"{what} holds a control character")
    return value


def _short(text: str, limit: int = 60) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


# -- validators (each raises ValueError with the sentence the user sees) ----------------------


def valid_domain(value: str) -> str:
    """A domain to look up (§4.3): what ``spfkit show``/``lint`` accept; no final dot. An
    address is taken for its domain (the form says "the part after the @")."""
    # <user@example.com> as a mail client shows it: the brackets go only as a pair
    name = strip_reverse_path(_printable(value, "the domain")).rpartition("@")[2].rstrip(".")
    if not name:
        raise ValueError("a domain name is needed, like example.com")
    if any(c.isspace() for c in name) or not is_valid_domain(name):
        raise ValueError(f"{_short(value.strip())!r} is not a domain name (like example.com)")
    return name


def valid_ip(value: str) -> str:
    """The client address (§4.1 <ip>): IPv4 or IPv6, as ``spfkit check`` accepts it."""
    return written_ip(value)


def valid_sender(value: str) -> str:
    """MAIL FROM (§2.4): an address, a bare domain, or empty (``<>``) for the null sender."""
    text = _printable(value.strip(), "MAIL FROM")
    if text in ("", "<>"):
        return ""
    bare = text[1:-1] if text.startswith("<") and text.endswith(">") else text
    domain = bare.rpartition("@")[2]
    if any(c.isspace() for c in bare) or not is_valid_domain(domain):
        raise ValueError(f"{_short(text)!r} is not an address like user@example.com, a domain, "
                         "or empty for the null sender")
    return bare


def valid_helo(value: str) -> str:
    """The HELO/EHLO name (§2.3): any one word (a name or an address literal), or empty."""
    text = _printable(value.strip(), "the HELO name")
    if any(c.isspace() for c in text):
        raise ValueError(f"{_short(text)!r} is not one name: a HELO name has no spaces")
    return text


def _ip4(value: str) -> str:
    return str(parse_ip4(value))


def _ip6(value: str) -> str:
    return str(parse_ip6(value))


def _spec(value: str) -> str:
    return str(parse_domain_spec(value))


DomainName = Annotated[str, Field(max_length=MAX_NAME, examples=["example.com"])]
NameList = Annotated[list[Annotated[str, Field(max_length=MAX_NAME),
                                    AfterValidator(_spec)]], Field(max_length=MAX_ITEMS)]


# -- requests ---------------------------------------------------------------------------------


class WizardRequest(BaseModel):
    """The wizard's answers (``spfkit wizard``'s options, RFC 7208 §5, §8, §2.3).

    Strict: JSON types as the schema says (``"ttl": false`` is not 0).
    """

    model_config = ConfigDict(extra="forbid", strict=True)

    domain: Annotated[DomainName, AfterValidator(parse_domain)] = Field(
        description="The domain whose record is drafted.")
    mx: bool = Field(True, description="The domain's MX hosts send its mail (mx).")
    a: bool = Field(False, description="The domain's own A/AAAA address sends mail (a).")
    ip4: Annotated[list[Annotated[str, Field(max_length=64), AfterValidator(_ip4)]],
                   Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list, description="IPv4 addresses or networks (ip4).")
    ip6: Annotated[list[Annotated[str, Field(max_length=64), AfterValidator(_ip6)]],
                   Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list, description="IPv6 addresses or networks (ip6).")
    a_hosts: NameList = Field(default_factory=list,
                              description="Other domains' servers by host name (a:NAME).")
    mx_domains: NameList = Field(default_factory=list,
                                 description="Other domains whose MX hosts send (mx:DOMAIN).")
    includes: NameList = Field(default_factory=list,
                               description="Mail providers' SPF domains (include:DOMAIN).")
    ptr: bool = Field(False, description="Add ptr (discouraged, RFC 7208 §5.5).")
    all: Literal["fail", "softfail", "neutral"] = Field(
        "softfail", description="The end of the record: -all, ~all or ?all (§8).")
    ttl: int = Field(3600, ge=0, le=MAX_TTL, description="TTL of the zone lines, in seconds.")
    mail_hosts: Annotated[list[Annotated[str, Field(max_length=MAX_NAME),
                                         AfterValidator(parse_domain)]],
                          Field(max_length=MAX_ITEMS)] = Field(
        default_factory=list,
        description="Mail hosts' own (HELO) names that get 'v=spf1 a -all' (§2.3).")


class CheckQuery(BaseModel):
    """The domain to check (RFC 7208 §4.3): its record tree and lint findings."""

    model_config = ConfigDict(extra="forbid")

    domain: Annotated[str, Field(max_length=MAX_NAME, examples=["news.example.com"]),
                      AfterValidator(valid_domain)]


class TestQuery(BaseModel):
    """One check as a receiver makes it (§2.3, §2.4, §4): client IP, MAIL FROM, HELO."""

    __test__ = False  # not a pytest test class, whatever its name
    model_config = ConfigDict(extra="forbid")

    ip: Annotated[str, Field(max_length=64, examples=["192.0.2.25"]), AfterValidator(valid_ip)]
    sender: Annotated[str, Field(max_length=320, examples=["alice@example.com"]),
                      AfterValidator(valid_sender)] = ""
    helo: Annotated[str, Field(max_length=MAX_NAME, examples=["mail.example.com"]),
                    AfterValidator(valid_helo)] = ""

    @model_validator(mode="after")
    def _null_sender_needs_helo(self) -> TestQuery:
        # §2.4: with the null reverse-path the HELO identity is checked (postmaster@HELO)
        if not self.sender and not self.helo:
            raise ValueError("an empty MAIL FROM (the null sender) needs a HELO name: "
                             "then postmaster@HELO is checked (RFC 7208 §2.4)")
        return self


# -- responses --------------------------------------------------------------------------------


class ErrorMessage(BaseModel):
    detail: str


class ExtraRecord(BaseModel):
    """Another record a finding's fix needs published (a chained ``_spf{n}`` record)."""

    name: str
    text: str


class FindingModel(BaseModel):
    code: str
    severity: Literal["error", "warning", "info"]
    message: str
    rfc: str
    fix: str
    domain: str | None = None
    column: int | None = None
    term: str | None = None
    fixed_record: str | None = None
    extra_records: list[ExtraRecord] = []


class PublishedRecord(BaseModel):
    name: str
    purpose: Literal["mail-from", "helo"]
    text: str
    bind: list[str]
    tinydns: list[str]


class WizardLookups(BaseModel):
    ipv4: int
    ipv6: int
    void_ipv4: int
    void_ipv6: int
    limit: int = 10
    void_limit: int = 2


class MailHostRecordModel(BaseModel):
    name: str
    record: str


class WizardResponse(BaseModel):
    domain: str
    record: str
    all_explanation: str
    dns_terms: int = Field(description="Terms of the record that cause DNS lookups (limit 10).")
    bind_lines: list[str]
    tinydns_lines: list[str]
    records: list[PublishedRecord]
    mail_host_records: list[MailHostRecordModel]
    findings: list[FindingModel]
    lookups: WizardLookups | None = Field(
        None, description="As receivers will count them once published; null without DNS.")
    lookups_not_counted: str | None = None
    mx_hosts: list[str] | None = None
    notes: list[str]
    dns_queries: int
    query_limit_reached: bool = Field(
        False, description="The request's DNS budget ran out: later questions were not sent.")


class Pair(BaseModel):
    ipv4: int | None
    ipv6: int | None


class LintReportModel(BaseModel):
    domain: str | None
    records: list[str]
    findings: list[FindingModel]
    lookups: Pair
    void_lookups: Pair
    fixed_record: str | None
    exit_status: int


class NetworkModel(BaseModel):
    network: str
    qualifier: str
    host: str | None


class OutcomeModel(BaseModel):
    detail: str
    lookups: int
    void_lookups: int
    total_lookups: int
    total_void_lookups: int
    voids: list[str]
    beyond_limit: bool


class CostModel(BaseModel):
    lookups: int
    own_lookups: int
    total_lookups: int
    void_lookups: int
    own_void_lookups: int
    total_void_lookups: int
    result: str | None
    voids: list[str]
    beyond_limit: bool


class TreeErrorModel(BaseModel):
    kind: str
    result: str
    message: str
    family: str | None
    term: str | None
    beyond_limit: bool


class ExpModel(BaseModel):
    target: str
    status: str
    texts: list[str]
    problem: str | None


class TermModel(BaseModel):
    term: str
    evaluated: bool
    outcomes: dict[str, OutcomeModel]
    networks: list[NetworkModel]
    mx_names: int | None
    children: list[NodeModel]


class NodeModel(BaseModel):
    domain: str
    kind: Literal["top", "include", "redirect"]
    via: str | None
    record: str | None
    evaluated: bool
    counted: bool
    costs: dict[str, CostModel]
    errors: list[TreeErrorModel]
    exp: ExpModel | None
    terms: list[TermModel]


TermModel.model_rebuild()


class FamilyRunModel(BaseModel):
    client: str
    result: str
    problem: str | None
    domain: str
    mechanism: str | None
    lookups: int
    void_lookups: int
    needed_lookups: int
    needed_void_lookups: int
    complete: bool


class MacroUseModel(BaseModel):
    domain: str
    term: str
    letters: str


class TreeModel(BaseModel):
    """``RecordTree.as_dict()``: what ``spfkit show --json`` prints."""

    domain: str
    sample: dict[str, str]
    limits: dict[str, int]
    ipv4: FamilyRunModel
    ipv6: FamilyRunModel
    sender_dependent: bool
    macro_uses: list[MacroUseModel]
    notes: list[str]
    root: NodeModel | None


class CheckResponse(BaseModel):
    domain: str
    verdict: VerdictModel = Field(description="One sentence: fine, will break for some "
                                  "receivers, or broken for everyone, and why.")
    budget: BudgetsModel = Field(description="The real §4.6.4 totals (11/10), per family.")
    dmarc: DmarcModel = Field(description="The DMARC record at _dmarc.DOMAIN (RFC 7489).")
    record: str | None = Field(description="The domain's SPF record; null when it has none.")
    lookups: Pair = Field(description="DNS-querying terms for an IPv4 and an IPv6 client.")
    void_lookups: Pair
    limits: dict[str, int]
    tree: TreeModel
    lint: LintReportModel
    dns_queries: int = Field(description="DNS questions this request asked.")
    query_limit_reached: bool


class TraceEventModel(BaseModel):
    kind: Literal["check", "query", "record", "term", "result", "note"]
    depth: int
    domain: str
    text: str
    detail: str
    lookups: int
    void_lookups: int


class TestResponse(BaseModel):
    """``spfkit check --json`` of one check."""

    __test__ = False
    result: Literal["pass", "fail", "softfail", "neutral", "none", "temperror", "permerror"]
    meaning: str
    explanation: str | None
    problem: str | None
    domain: str
    mechanism: str | None
    lookups: int
    void_lookups: int
    identity: str
    ip: str
    sender: str
    helo: str
    checked_domain: str
    received_spf: str
    authentication_results: str
    trace: list[TraceEventModel]
    budget: BudgetModel = Field(description="The counts against the §4.6.4 limits; past one, "
                                "the real total (11/10).")
    dns_queries: int
