"""Webhook secrets, Standard Webhooks signatures and the address policy for webhook targets.

Pure: no I/O, and no starlette, httpx, aiosqlite, apscheduler or click. Resolving a URL's host is
outbound/targets.py's job; this module only judges the addresses it finds.
Signing follows https://www.standardwebhooks.com/ (spec/standard-webhooks.md, "Signature scheme").
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import hashlib
import hmac
import ipaddress
import secrets as random
from collections.abc import Sequence

SECRET_PREFIX = "whsec_"
SECRET_BYTES = 32

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

# 100.64.0.0/10 is carrier-grade NAT space (RFC 6598); ipaddress calls it neither private nor global.
_SHARED = ipaddress.IPv4Network("100.64.0.0/10")
# "This network" (RFC 791); Linux routes 0.0.0.0 to the local host.
_THIS_NETWORK = ipaddress.IPv4Network("0.0.0.0/8")
# The NAT64 well-known prefix (RFC 6052): DNS64 answers with it for IPv4-only hosts.
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_HARD_REASONS = frozenset({"an unspecified address", "a multicast address", "a reserved address"})


def new_secret() -> str:
    """Return `whsec_` + standard base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(random.token_bytes(SECRET_BYTES)).decode()


def secret_digest(secret: str) -> str:
    """Return the SHA-256 hex of the whole secret string, as the body's `secret` field carries it."""
    return hashlib.sha256(secret.encode()).hexdigest()


def _key(secret: str) -> bytes:
    encoded = secret.removeprefix(SECRET_PREFIX)
    try:
        # Tolerate unpadded base64, as the reference libraries do.
        key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
    except binascii.Error:
        raise ValueError("A webhook secret must be 'whsec_' followed by base64.") from None
    if not key:
        raise ValueError("A webhook secret may not be empty.")
    return key


def sign(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    """Return `v1,` + base64 HMAC-SHA256 of `id.timestamp.body`, keyed by the secret's decoded bytes."""
    digest = hmac.new(_key(secret), f"{message_id}.{timestamp}.".encode() + body, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def signature_header(secrets: Sequence[str], message_id: str, timestamp: int, body: bytes) -> str:
    """Return the `webhook-signature` value: one signature per secret, space-separated (rotation)."""
    if not secrets:
        raise ValueError("At least one webhook secret is needed to sign a delivery.")
    return " ".join(sign(secret, message_id, timestamp, body) for secret in secrets)


SIGNATURE_TOLERANCE_SECONDS = 300  # a receiver refuses timestamps further than this from its clock


def verify_signature(secret: str, message_id: str, timestamp: str, signatures: str, body: bytes, now: float) -> None:
    """Check a delivery the way a Standard Webhooks receiver does; raise ValueError saying what is wrong."""
    if not (message_id and timestamp and signatures):
        raise ValueError("the webhook-id, webhook-timestamp or webhook-signature header is missing")
    if not timestamp.isdigit():
        raise ValueError(f"webhook-timestamp {timestamp!r} is not unix seconds")
    if abs(now - int(timestamp)) > SIGNATURE_TOLERANCE_SECONDS:
        raise ValueError(f"webhook-timestamp is {int(now) - int(timestamp)} s off this machine's clock")
    expected = sign(secret, message_id, int(timestamp), body).encode()
    # Any of the space-separated signatures may match (during a rotation two keys sign).
    if not any(hmac.compare_digest(expected, candidate.encode()) for candidate in signatures.split()):
        raise ValueError("no signature matches this secret")


@dataclasses.dataclass(frozen=True)
class TargetPolicy:
    """Which addresses webhook deliveries may reach; mirrors the [webhooks] settings."""

    allow_private_networks: bool = False
    allowed_cidrs: tuple[str, ...] = ()
    https_only: bool = False


def _embedded_ipv4(address: IPAddress) -> ipaddress.IPv4Address | None:
    """Return the IPv4 address an IPv6 address stands for: mapped, compatible, NAT64 or 6to4."""
    if isinstance(address, ipaddress.IPv4Address):
        return None
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address in _NAT64 or (int(address) >> 32 == 0 and int(address) > 1):  # ::a.b.c.d, deprecated
        return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address.sixtofour


def _reason(address: IPAddress) -> str | None:
    # Order matters: ::1 is also in ::/8 (reserved), and 240.0.0.0/4 is also "private" to ipaddress.
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address"
    if address.is_multicast:
        return "a multicast address"
    if address.is_reserved or address in _THIS_NETWORK:
        return "a reserved address"
    if address in _SHARED:
        return "a shared (carrier-grade NAT) address"
    if isinstance(address, ipaddress.IPv6Address) and address.is_site_local:
        return "a site-local address"
    if not address.is_global:  # a superset of is_private, so a range neither names is still refused
        return "a private address"
    return None


def refused_address_reason(address: IPAddress, policy: TargetPolicy) -> str | None:
    """Return None if deliveries may reach this address, else a short reason such as 'a loopback address'.

    An address inside one of `policy.allowed_cidrs` is always allowed. Otherwise
    `allow_private_networks` allows private, loopback, link-local, shared (100.64.0.0/10), site-local
    and any other non-global unicast addresses, but unspecified (0.0.0.0, ::), multicast and reserved
    addresses (240.0.0.0/4, 0.0.0.0/8, broadcast) stay refused: no legitimate receiver lives there,
    and 0.0.0.0 reaches the local host on Linux. IPv6 forms of an IPv4 address (mapped, compatible,
    NAT64 64:ff9b::/96, 6to4) are judged by the IPv4 address they carry.
    """
    embedded = _embedded_ipv4(address)
    networks = [ipaddress.ip_network(cidr, strict=False) for cidr in policy.allowed_cidrs]
    candidates = [address] if embedded is None else [address, embedded]
    if any(candidate in network for network in networks for candidate in candidates):
        return None
    reason = _reason(address if embedded is None else embedded)
    if reason is None or (policy.allow_private_networks and reason not in _HARD_REASONS):
        return None
    return reason


ROTATION_OVERLAP_SECONDS = 24 * 3600  # after a rotation the old secret keeps signing this long


@dataclasses.dataclass(frozen=True)
class Webhook:
    """Where an account's async replies are POSTed, and the secrets that sign them."""

    id: str
    account: str
    url: str
    description: str
    enabled: bool
    disabled_reason: str | None
    secret: str
    previous_secret: str | None
    previous_secret_until: int | None
    created_at: int
    updated_at: int
    events: tuple[str, ...] = ("reply",)  # events.EVENTS it subscribes to; the reply is always among them
    # health (issue 14): deliveries that reached for the receiver, not test pings
    last_success_at: int | None = None
    failing_since: int | None = None  # the first failure after the last success; None while healthy
    consecutive_failures: int = 0

    def signing_secrets(self, now: int) -> tuple[str, ...]:
        """The current secret, then the previous one while a rotation's overlap lasts."""
        if self.previous_secret and self.previous_secret_until and now < self.previous_secret_until:
            return (self.secret, self.previous_secret)
        return (self.secret,)
