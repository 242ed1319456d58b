"""The Postfix SMTP access policy delegation protocol as a sans-I/O codec (SMTPD_POLICY_README).

Bytes in, events out; events in, bytes out — in the manner of h11. Nothing here reads a socket::

    reader = PolicyReader()
    for item in reader.feed(chunk):          # PolicyRequest or ProtocolError, in order
        writer.write(render(await decide(item)))

**Requests.** A request is ``name=value`` lines, each ended by LF (a CR before it is dropped),
and is ended by an empty line. One connection carries any number of requests; every request,
well-formed or not, is answered once, in order, so client and server never fall out of step.

**What is refused** (a :class:`ProtocolError` takes the request's place and is answered with the
configured error action; the reader is back in step at the next empty line):

* a line without ``=`` or with an empty name, or holding a NUL octet (the README: "an
  attribute value must not contain null or newline");
* no ``request=smtpd_access_policy``, or a ``client_address`` that is missing or not an IP
  address — without them nothing can be checked;
* an attribute that spfkit uses (:data:`KEY_ATTRIBUTES`) sent twice with different values — the
  README lets a server keep either the first or the last value; spfkit will not guess which
  identity to check;
* more than ``max_attributes`` lines, more than ``max_request_octets`` octets of attributes kept,
  or a line of a key attribute longer than ``max_line_octets``.

**What is tolerated** (noted in :attr:`PolicyRequest.notes`, for the log), because a
hostile SMTP client may be able to put it into an attribute and must not thereby escape the
check: a repeated attribute spfkit does not use (the first value is kept), an over-long line
of an attribute spfkit does not use (dropped, e.g. a huge ``ccert_subject``), octets that are
not UTF-8 (decoded with U+FFFD in their place), unknown attributes (kept, ignored).

**State.** The reader is in one :class:`ReaderState` at a time — idle between requests,
reading attributes, dropping the rest of an over-long line, or dropping the lines of a refused
request — and each octet's meaning follows from that state alone.

**Memory** is bounded: at most one line's head (``max_line_octets + 1``) and one request's kept
attributes (``max_request_octets``) are held, however the input is cut; the rest of an
over-long line is skipped as it arrives.

**Replies.** ``action=<text>`` and an empty line. :class:`PolicyReply` refuses text holding a
control or line-break character or longer than :data:`MAX_ACTION_OCTETS`, so :func:`render`
can never emit a second line; hostile text reaches an action only through
:func:`spfkit.headers.quote_value`.

Pure: imports no asyncio, socket or dnspython.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum
from types import MappingProxyType
from typing import Final

from spfkit.identity import IPAddress, normalize_ip, strip_reverse_path

__all__ = [
    "KEY_ATTRIBUTES",
    "MAX_ACTION_OCTETS",
    "MAX_ATTRIBUTES",
    "MAX_LINE_OCTETS",
    "MAX_REQUEST_OCTETS",
    "SMTPD_ACCESS_POLICY",
    "PolicyReader",
    "PolicyReply",
    "PolicyRequest",
    "ProtocolError",
    "ReaderState",
    "render",
]

SMTPD_ACCESS_POLICY: Final = "smtpd_access_policy"
MAX_LINE_OCTETS: Final = 8192
"""Longest attribute line kept. Postfix's own SMTP line limit is 2048 octets, so a Postfix
request fits with room to spare; only xtext-encoded certificate fields could come close."""
MAX_REQUEST_OCTETS: Final = 65536
"""Most octets of attribute lines one request may keep."""
MAX_ATTRIBUTES: Final = 128
"""Most attribute lines in one request (Postfix 3.x sends about 30)."""
MAX_ACTION_OCTETS: Final = 4096
"""Longest reply action, in UTF-8 octets."""

KEY_ATTRIBUTES: Final = frozenset(
    {
        "request",
        "protocol_state",
        "client_address",
        "helo_name",
        "sender",
        "recipient",
        "instance",
        "sasl_username",
        "queue_id",
    }
)
"""The attributes spfkit reads; the README's others are kept but not used."""

# What PolicyReply refuses: controls (TAB, CR, LF, NUL ...), surrogates, line/paragraph separators.
_FORBIDDEN: Final = frozenset({"Cc", "Cs", "Zl", "Zp"})


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """One ``smtpd_access_policy`` request: its attributes and typed views of those spfkit uses.

    Build one with :meth:`build`, which checks what the reader checks. ``notes`` lists what
    was tolerated on the way (repeated or dropped attributes, octets that were not UTF-8).
    The typed views are read from ``attributes`` once, when the request is made; they are the
    transport-neutral facts of ``decision.Facts``.
    """

    attributes: Mapping[str, str] = field(hash=False)
    client_ip: IPAddress
    notes: tuple[str, ...] = ()
    #: ``CONNECT EHLO HELO MAIL RCPT DATA END-OF-MESSAGE VRFY ETRN``, upper case.
    protocol_state: str = field(init=False)
    helo_name: str = field(init=False)
    #: The MAIL FROM address without angle brackets; "" is the null reverse-path.
    sender: str = field(init=False)
    recipient: str = field(init=False)
    #: Postfix's key of one mail transaction: the same for all its requests.
    instance: str = field(init=False)
    queue_id: str = field(init=False)
    #: Set when the client authenticated with SMTP AUTH (Postfix 2.2 and later).
    sasl_username: str = field(init=False)

    def __post_init__(self) -> None:
        get, put = self.attributes.get, object.__setattr__  # frozen: set once, here
        put(self, "protocol_state", get("protocol_state", "").strip().upper())
        put(self, "helo_name", get("helo_name", "").strip())
        put(self, "sender", strip_reverse_path(get("sender", "")))
        put(self, "recipient", get("recipient", "").strip())
        put(self, "instance", get("instance", "").strip())
        put(self, "queue_id", get("queue_id", "").strip())
        put(self, "sasl_username", get("sasl_username", "").strip())

    @classmethod
    def build(cls, attributes: Mapping[str, str], notes: tuple[str, ...] = ()) -> PolicyRequest:
        """A request from attributes; ``ValueError(reason)`` when it cannot be checked.

        Needs ``request=smtpd_access_policy`` and a ``client_address`` that is an IPv4 or
        IPv6 address (the README's two forms, ``1.2.3.4`` and ``1:2:3::4:5:6``).
        """
        kind = attributes.get("request")
        if kind is None:
            raise ValueError("no request attribute")
        if kind != SMTPD_ACCESS_POLICY:
            raise ValueError(f"request type {kind[:64]!r} is not {SMTPD_ACCESS_POLICY}")
        address = attributes.get("client_address", "")
        if not address:
            raise ValueError("no client_address attribute")
        try:
            client = normalize_ip(address)  # RFC 7208 §5: a mapped IPv4 client is IPv4
        except ValueError:
            raise ValueError(f"client_address {address[:64]!r} is not an IP address") from None
        return cls(MappingProxyType(dict(attributes)), client, notes)

    def get(self, name: str, default: str = "") -> str:
        return self.attributes.get(name, default)

    @property
    def client_address(self) -> str:
        return str(self.client_ip)


@dataclass(frozen=True, slots=True)
class ProtocolError:
    """A request that could not be used; it is still answered, with the error action.

    ``attributes`` holds what was read before the problem (for the log: client, instance).
    """

    reason: str
    attributes: Mapping[str, str] = field(default_factory=dict, hash=False)


@dataclass(frozen=True, slots=True)
class PolicyReply:
    """``action=<action>``: any action of a Postfix SMTPD access(5) table.

    Raises ``ValueError`` for an empty action, one holding a control or line-break
    character, or one longer than :data:`MAX_ACTION_OCTETS` octets.
    """

    action: str

    def __post_init__(self) -> None:
        if not self.action.strip():
            raise ValueError("empty policy action")
        # Printable ASCII (the usual case) needs no look at each character's category.
        plain = self.action.isascii() and self.action.isprintable()
        if not plain and any(unicodedata.category(c) in _FORBIDDEN for c in self.action):
            raise ValueError("policy action holds a control character; use quote_value()")
        if len(self.action.encode("utf-8")) > MAX_ACTION_OCTETS:
            raise ValueError(f"policy action longer than {MAX_ACTION_OCTETS} octets")


def render(reply: PolicyReply) -> bytes:
    """The reply on the wire: one ``action=`` line and the empty line that ends it."""
    return b"action=" + reply.action.encode("utf-8") + b"\n\n"


class ReaderState(Enum):
    """Where a :class:`PolicyReader` is in the stream (h11 style: one explicit state).

    ``IDLE`` → (any octet) → ``ATTRIBUTES`` → (the empty line) → ``IDLE``. Inside a request an
    over-long line of an unused attribute is ``OVERLONG`` until its LF, then ``ATTRIBUTES``
    again; a refused request (the future :class:`ProtocolError`) is ``REFUSED``, whose lines are
    dropped up to the empty line (an over-long line passes through ``OVERLONG`` first).
    """

    IDLE = "idle"  # between requests: no octet since the last one ended
    ATTRIBUTES = "attributes"  # reading a request's name=value lines
    OVERLONG = "overlong"  # dropping the rest of a line past max_line_octets
    REFUSED = "refused"  # the request is refused: dropping lines up to the empty line


class PolicyReader:
    """Turns the bytes of one connection into requests and errors (see the module doc).

    Feed it whatever arrives — a byte, a line, many requests at once; it returns the items
    completed by that data, in order. :attr:`state` says where it is; :attr:`pending` whether
    a request has begun but not ended (a server gives such a client less time than an idle one).
    """

    def __init__(
        self,
        *,
        max_line_octets: int = MAX_LINE_OCTETS,
        max_request_octets: int = MAX_REQUEST_OCTETS,
        max_attributes: int = MAX_ATTRIBUTES,
    ) -> None:
        if min(max_line_octets, max_request_octets, max_attributes) < 1:
            raise ValueError("limits must be at least 1")
        self.max_line_octets = max_line_octets
        self.max_request_octets = max_request_octets
        self.max_attributes = max_attributes
        self._state = ReaderState.IDLE
        # The open line: at most max_line_octets + 1 octets (a CR may end it); when REFUSED at
        # most two, enough to tell the empty line ("" or CR) from any other.
        self._line = bytearray()
        self._reset()

    def _reset(self) -> None:
        self._state = ReaderState.IDLE
        self._attrs: dict[str, str] = {}
        self._notes: list[str] = []
        self._reason = ""  # why the request is REFUSED
        self._lines = 0
        self._octets = 0

    @property
    def state(self) -> ReaderState:
        return self._state

    @property
    def pending(self) -> bool:
        """True while a request has begun (any octet since the last one ended)."""
        return self._state is not ReaderState.IDLE

    def feed(self, data: bytes) -> list[PolicyRequest | ProtocolError]:
        """The requests (and errors) that ``data`` completes, in order."""
        if self._state is ReaderState.IDLE and (whole := self._whole(data)) is not None:
            return [whole]
        out: list[PolicyRequest | ProtocolError] = []
        *lines, tail = data.split(b"\n")
        limit = self.max_line_octets + 1  # +1: a CR may end the line
        idle, attributes = ReaderState.IDLE, ReaderState.ATTRIBUTES
        for line in lines:  # the usual case first: a whole line of a request, to be kept
            state = self._state
            if state is attributes and len(line) <= limit and not self._line:
                self._end_line(line, out)
            elif state is idle and len(line) <= limit:
                self._state = attributes
                self._end_line(line, out)
            else:
                self._take(line, out, ended=True)
        if tail:
            self._take(tail, out, ended=False)
        return out

    def _whole(self, data: bytes) -> PolicyRequest | ProtocolError | None:
        """The usual chunk — exactly one plain request, whole — read in one go; None for
        anything else, which the line-by-line reading below then takes, as it would this.
        Plain: no CR, NUL or octet that is not UTF-8, no line past the limits, every line
        ``name=value``, no attribute repeated with another value (nothing to note or refuse)."""
        end = len(data) - 2
        if (end < 1 or len(data) > self.max_line_octets or data.find(b"\n\n") != end
                or b"\r" in data or b"\0" in data):
            return None
        try:
            lines = data[:end].decode("utf-8").split("\n")
        except UnicodeDecodeError:
            return None
        if len(lines) > self.max_attributes or end - len(lines) + 1 > self.max_request_octets:
            return None
        try:  # one pass; a line without "=" is a ValueError
            attrs = dict(line.split("=", 1) for line in lines)
        except ValueError:
            return None
        first: dict[str, str] = {}  # plain: no empty name, a repeat only with the same value
        if "" in attrs or len(attrs) != len(lines) and any(
                first.setdefault(n, v) != v for n, _, v in (ln.partition("=") for ln in lines)):
            return None
        try:
            return PolicyRequest.build(attrs)
        except ValueError as exc:
            return ProtocolError(str(exc), attrs)

    def close(self) -> ProtocolError | None:
        """At end of input: an error for a request that began but never ended, else None."""
        if not self.pending:
            return None
        error = ProtocolError("connection closed inside a request (no empty line)", self._attrs)
        self._line.clear()
        self._reset()
        return error

    # -- lines ---------------------------------------------------------------------------------

    def _take(self, chunk: bytes, out: list[PolicyRequest | ProtocolError], *, ended: bool) -> None:
        """Octets of one line, up to its LF when ``ended``; the state says what they are worth."""
        state = self._state
        if state is ReaderState.IDLE:
            self._state = ReaderState.ATTRIBUTES
        elif state is ReaderState.OVERLONG:  # the rest of a line already dealt with
            if ended:
                self._state = ReaderState.ATTRIBUTES if not self._reason else ReaderState.REFUSED
            return
        elif state is ReaderState.REFUSED:
            self._line += chunk[: max(0, 2 - len(self._line))]
            if ended:
                line = bytes(self._line)
                self._line.clear()
                if line in (b"", b"\r"):
                    out.append(self._finish())
            return
        limit = self.max_line_octets + 1  # +1: a CR may end the line
        if self._line:  # finish the line the last chunk left open (enough of it to see overflow)
            chunk = bytes(self._line) + chunk[: limit + 1 - len(self._line)]
            self._line.clear()
        if len(chunk) > limit:
            self._overlong(chunk[:limit])
            if not ended:
                self._state = ReaderState.OVERLONG  # the rest of this line is not kept
        elif ended:
            self._end_line(chunk, out)
        else:
            self._line += chunk

    def _end_line(self, line: bytes, out: list[PolicyRequest | ProtocolError]) -> None:
        if line.endswith(b"\r"):
            line = line[:-1]
        if not line:
            out.append(self._finish())
            return
        self._lines += 1
        if self._lines > self.max_attributes:
            self._fail(f"more than {self.max_attributes} attribute lines")
            return
        name, equals, value = self._text(line).partition("=")
        if not equals or not name:
            self._fail(f"line {self._lines} is not name=value")
            return
        if b"\0" in line:
            self._fail(f"line {self._lines} holds a NUL octet")
            return
        self._octets += len(line)
        if self._octets > self.max_request_octets:
            self._fail(f"request longer than {self.max_request_octets} octets")
            return
        previous = self._attrs.get(name)
        if previous is None:
            self._attrs[name] = value
        elif previous != value:
            if name in KEY_ATTRIBUTES:
                self._fail(f"attribute {name!r} sent twice with different values")
            else:
                self._note(f"attribute {name[:64]!r} repeated; the first value is kept")

    def _overlong(self, head: bytes) -> None:
        """A line passed the limit: its head names the attribute, the rest is not kept."""
        self._lines += 1
        name_octets, equals, _ = head.partition(b"=")
        name = self._text(name_octets) if equals else ""
        if not name or name in KEY_ATTRIBUTES or b"\0" in name_octets:
            what = f"attribute {name!r}" if name else f"line {self._lines}"
            self._fail(f"{what} longer than {self.max_line_octets} octets")
        else:
            self._note(f"attribute {name[:64]!r} longer than {self.max_line_octets} octets dropped")

    def _finish(self) -> PolicyRequest | ProtocolError:
        attrs, notes, reason, lines = self._attrs, tuple(self._notes), self._reason, self._lines
        self._reset()
        if reason:
            return ProtocolError(reason, attrs)
        if not lines:
            return ProtocolError("empty request (an empty line with no attributes before it)")
        try:
            return PolicyRequest.build(attrs, notes)
        except ValueError as exc:
            return ProtocolError(str(exc), attrs)

    def _text(self, octets: bytes) -> str:
        try:
            return octets.decode("utf-8")
        except UnicodeDecodeError:
            self._note("octets that are not UTF-8 were replaced by U+FFFD")
            return octets.decode("utf-8", "replace")

    def _fail(self, reason: str) -> None:
        """The request is refused: its lines are dropped up to the empty line, then answered."""
        self._state = ReaderState.REFUSED
        self._reason = reason

    def _note(self, note: str) -> None:
        if note not in self._notes and len(self._notes) < 16:
            self._notes.append(note)
