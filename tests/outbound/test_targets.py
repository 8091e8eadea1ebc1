"""Webhook URLs are checked after DNS resolution; only loopback, literal and .invalid hosts are used here."""

from __future__ import annotations

import pytest

from novaro_lite.domain.webhooks import TargetPolicy
from novaro_lite.outbound.targets import TargetRefusedError, UnresolvedHostError, check_target

pytestmark = pytest.mark.anyio

DEFAULT = TargetPolicy()


async def test_check_target_refuses_a_loopback_literal_and_names_the_settings():
    with pytest.raises(TargetRefusedError) as caught:
        await check_target("http://127.0.0.1:8000/x", DEFAULT)
    assert str(caught.value) == (
        "The webhook URL http://127.0.0.1:8000/x resolves to 127.0.0.1, a loopback address; deliveries to it are"
        " refused unless the operator sets [webhooks] allow_private_networks = true or lists the range in"
        " [webhooks] allowed_cidrs."
    )


async def test_check_target_refuses_an_ipv6_loopback_literal():
    with pytest.raises(TargetRefusedError, match=r"resolves to ::1, a loopback address"):
        await check_target("https://[::1]:8443/hook", DEFAULT)


async def test_check_target_allows_a_literal_inside_allowed_cidrs():
    await check_target("http://127.0.0.1:8000/x", TargetPolicy(allowed_cidrs=("127.0.0.0/8",)))
    await check_target("http://[::1]/x", TargetPolicy(allowed_cidrs=("::1/128",)))


async def test_check_target_allows_loopback_with_allow_private_networks():
    await check_target("http://127.0.0.1:8000/x", TargetPolicy(allow_private_networks=True))


async def test_check_target_allows_a_public_literal():
    await check_target("https://8.8.8.8/hook", DEFAULT)  # a literal: getaddrinfo does no lookup


async def test_check_target_refuses_a_name_that_resolves_to_loopback():
    with pytest.raises(TargetRefusedError, match=r"http://localhost:1/x resolves to .*a loopback address"):
        await check_target("http://localhost:1/x", DEFAULT)


async def test_check_target_names_only_allowed_cidrs_for_addresses_private_networks_do_not_cover():
    with pytest.raises(TargetRefusedError) as caught:
        await check_target("http://0.0.0.0:8000/x", TargetPolicy(allow_private_networks=True))
    message = str(caught.value)
    assert "an unspecified address" in message
    assert "allow_private_networks" not in message
    assert "lists the range in [webhooks] allowed_cidrs." in message


async def test_check_target_https_only_refuses_http():
    policy = TargetPolicy(https_only=True, allow_private_networks=True)
    with pytest.raises(TargetRefusedError, match=r"\[webhooks\] https_only = false"):
        await check_target("http://127.0.0.1/x", policy)
    await check_target("https://127.0.0.1/x", policy)


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "file:///etc/passwd", "127.0.0.1:8000/x", "/just/a/path"])
async def test_check_target_refuses_other_schemes(url):
    with pytest.raises(TargetRefusedError, match="must start with http:// or https://"):
        await check_target(url, DEFAULT)


@pytest.mark.parametrize("url", ["http:///x", "https://", "http://:80/x"])
async def test_check_target_refuses_a_url_without_host(url):
    with pytest.raises(TargetRefusedError, match="has no host"):
        await check_target(url, DEFAULT)


@pytest.mark.parametrize("url", ["http://127.0.0.1:99999/x", "http://127.0.0.1:0/x", "https://example.com:0/"])
async def test_check_target_refuses_an_invalid_port(url):
    with pytest.raises(TargetRefusedError, match="invalid port"):  # port 0 was taken for the scheme's default
        await check_target(url, DEFAULT)


async def test_check_target_refuses_a_host_that_does_not_resolve():
    with pytest.raises(TargetRefusedError, match="names the host nonexistent.invalid, which does not resolve"):
        await check_target("http://nonexistent.invalid/", TargetPolicy(allow_private_networks=True))


async def test_a_host_name_no_lookup_can_ever_find_is_refused_for_good():
    """A name IDNA cannot encode (a label over 63 characters) is refused as such; only a name that does not
    resolve now is an UnresolvedHostError, which deliveries retry (a DNS outage may pass)."""
    with pytest.raises(TargetRefusedError, match="not a valid host name") as refused:
        await check_target(f"https://{'a' * 64}.example.com/hook", DEFAULT)
    assert not isinstance(refused.value, UnresolvedHostError)
