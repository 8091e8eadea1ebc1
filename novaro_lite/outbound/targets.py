"""Check a webhook URL against the target policy. Does I/O: it resolves the URL's host through DNS.

The address rules live in domain/webhooks.py; this module parses the URL, resolves the host with the
event loop's getaddrinfo and turns a refusal into a sentence the user can act on.
"""

from __future__ import annotations

import asyncio
import dataclasses
import ipaddress
import socket
from urllib.parse import SplitResult, urlsplit, urlunsplit

from novaro_lite.domain.webhooks import IPAddress, TargetPolicy, refused_address_reason
from novaro_lite.outbound.playground import PLAYGROUND_URL

_DEFAULT_PORTS = {"http": 80, "https": 443}


class TargetRefusedError(Exception):
    """A webhook URL that deliveries may not go to; the message says why and what to change."""


class UnresolvedHostError(TargetRefusedError):
    """A webhook URL whose host name does not resolve: refused when the webhook is made, but at delivery a
    failure of DNS that may pass, retried like a receiver that cannot be reached."""


async def check_target(url: str, policy: TargetPolicy) -> None:
    """Raise TargetRefusedError unless `url` is http(s), has a host, and every address it resolves to is allowed."""
    if url == PLAYGROUND_URL:
        return  # delivered in memory (outbound/playground.py): no address to judge
    try:
        parts = urlsplit(url)
    except ValueError:
        raise TargetRefusedError(f"The webhook URL {url} is not a valid URL.") from None
    scheme = parts.scheme.lower()
    if scheme not in _DEFAULT_PORTS:
        raise TargetRefusedError(f"The webhook URL {url} must start with http:// or https://.")
    if scheme == "http" and policy.https_only:
        raise TargetRefusedError(
            f"The webhook URL {url} uses http, but deliveries must use https; "
            "use an https URL, or the operator can set [webhooks] https_only = false."
        )
    if parts.username is not None or parts.password is not None:
        # Credentials in the URL would be sent to the receiver on every delivery and show in every log
        # and listing; the signature already proves who is calling.
        raise TargetRefusedError(
            f"The webhook URL must not carry a user name or password (user:pass@); {_without_userinfo(parts)}"
            " is the same URL without them. Receivers check the webhook-signature header instead."
        )
    host = parts.hostname
    if not host:
        raise TargetRefusedError(f"The webhook URL {url} has no host; use a URL such as https://example.com/hook.")
    try:
        port = _DEFAULT_PORTS[scheme] if parts.port is None else parts.port
    except ValueError:
        port = 0
    if port == 0:  # no server listens on port 0: every delivery would fail
        raise TargetRefusedError(f"The webhook URL {url} has an invalid port.")
    for address in await _resolve(url, host, port):
        reason = refused_address_reason(address, policy)
        if reason is None:
            continue
        if refused_address_reason(address, dataclasses.replace(policy, allow_private_networks=True)) is None:
            remedy = "sets [webhooks] allow_private_networks = true or lists the range in [webhooks] allowed_cidrs"
        else:
            remedy = "lists the range in [webhooks] allowed_cidrs"
        raise TargetRefusedError(
            f"The webhook URL {url} resolves to {address}, {reason}; "
            f"deliveries to it are refused unless the operator {remedy}."
        )


def _without_userinfo(parts: SplitResult) -> str:
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


async def _resolve(url: str, host: str, port: int) -> list[IPAddress]:
    try:  # an address literal needs no lookup (and no trip to the resolver's thread pool)
        return [ipaddress.ip_address(host)]
    except ValueError:
        pass
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except UnicodeError:  # IDNA cannot encode the name: no lookup will ever find it
        raise TargetRefusedError(
            f"The webhook URL {url} names the host {host}, which is not a valid host name."
        ) from None
    except OSError:  # socket.gaierror: the name does not resolve now (a DNS outage may pass)
        infos = []
    addresses = [
        ipaddress.ip_address(sockaddr[0])
        for family, _, _, _, sockaddr in infos
        if family in (socket.AF_INET, socket.AF_INET6)
    ]
    if not addresses:
        raise UnresolvedHostError(f"The webhook URL {url} names the host {host}, which does not resolve to an address.")
    return addresses
