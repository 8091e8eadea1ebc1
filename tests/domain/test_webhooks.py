"""Webhook secrets and signatures, checked against the standardwebhooks reference library; the address policy."""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from novaro_lite.domain.webhooks import (
    SECRET_PREFIX,
    TargetPolicy,
    new_secret,
    refused_address_reason,
    secret_digest,
    sign,
    signature_header,
)

BODY = b'{"id":"req_1","messages":[{"role":"assistant","content":"hi \\u00e9"}]}'
MESSAGE_ID = "req_01hzy"


def _headers(message_id: str, timestamp: int, signature: str) -> dict[str, str]:
    return {"webhook-id": message_id, "webhook-timestamp": str(timestamp), "webhook-signature": signature}


def test_new_secret_is_prefixed_base64_of_32_random_bytes():
    secret = new_secret()
    assert secret.startswith(SECRET_PREFIX)
    assert len(base64.b64decode(secret.removeprefix(SECRET_PREFIX), validate=True)) == 32
    assert len({new_secret() for _ in range(100)}) == 100


def test_secret_digest_is_sha256_hex_of_the_whole_secret():
    secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
    assert secret_digest(secret) == hashlib.sha256(secret.encode()).hexdigest()
    assert len(secret_digest(secret)) == 64


def test_sign_verifies_with_the_reference_library():
    secret, now = new_secret(), int(time.time())
    header = signature_header([secret], MESSAGE_ID, now, BODY)
    assert header == sign(secret, MESSAGE_ID, now, BODY)
    assert header.startswith("v1,")
    assert Webhook(secret).verify(BODY, _headers(MESSAGE_ID, now, header)) is not None


def test_sign_matches_the_reference_library_for_unpadded_secret():
    secret, now = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", int(time.time())
    Webhook(secret).verify(BODY, _headers(MESSAGE_ID, now, sign(secret, MESSAGE_ID, now, BODY)), json_parse=False)


def test_signature_header_during_rotation_verifies_with_either_key():
    new, old, now = new_secret(), new_secret(), int(time.time())
    header = signature_header([new, old], MESSAGE_ID, now, BODY)
    assert len(header.split(" ")) == 2
    Webhook(old).verify(BODY, _headers(MESSAGE_ID, now, header))  # only the second signature matches
    Webhook(new).verify(BODY, _headers(MESSAGE_ID, now, header))
    with pytest.raises(WebhookVerificationError):
        Webhook(new_secret()).verify(BODY, _headers(MESSAGE_ID, now, header))


@pytest.mark.parametrize(
    ("body", "message_id", "timestamp_shift"),
    [(BODY + b" ", MESSAGE_ID, 0), (BODY, MESSAGE_ID + "x", 0), (BODY, MESSAGE_ID, 1)],
    ids=["body", "id", "timestamp"],
)
def test_sign_tampering_fails_verification(body, message_id, timestamp_shift):
    secret, now = new_secret(), int(time.time())
    header = sign(secret, MESSAGE_ID, now, BODY)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body, _headers(message_id, now + timestamp_shift, header), json_parse=False)


@pytest.mark.parametrize("secret", ["whsec_not base64!", "whsec_", ""])
def test_sign_rejects_a_malformed_secret(secret):
    with pytest.raises(ValueError, match="webhook secret"):
        sign(secret, MESSAGE_ID, 0, BODY)


def test_signature_header_needs_a_secret():
    with pytest.raises(ValueError, match="At least one"):
        signature_header([], MESSAGE_ID, 0, BODY)


DEFAULT = TargetPolicy()
PRIVATE = TargetPolicy(allow_private_networks=True)
CIDRS = TargetPolicy(allowed_cidrs=("127.0.0.1/32", "10.0.0.0/8", "224.0.0.0/24", "fe80::/64"))

# address, reason under the default policy, allowed with allow_private_networks, allowed with CIDRS
ADDRESSES = [
    ("127.0.0.1", "a loopback address", True, True),
    ("127.0.0.2", "a loopback address", True, False),
    ("::1", "a loopback address", True, False),
    ("10.1.2.3", "a private address", True, True),
    ("172.16.0.1", "a private address", True, False),
    ("192.168.1.1", "a private address", True, False),
    ("169.254.169.254", "a link-local address", True, False),
    ("fe80::1", "a link-local address", True, True),
    ("fc00::1", "a private address", True, False),
    ("fec0::1", "a site-local address", True, False),
    ("100.64.0.1", "a shared (carrier-grade NAT) address", True, False),
    ("224.0.0.1", "a multicast address", False, True),
    ("ff02::1", "a multicast address", False, False),
    ("0.0.0.0", "an unspecified address", False, False),
    ("::", "an unspecified address", False, False),
    ("0.1.2.3", "a reserved address", False, False),
    ("240.0.0.1", "a reserved address", False, False),
    ("255.255.255.255", "a reserved address", False, False),
    ("::ffff:127.0.0.1", "a loopback address", True, True),
    ("::ffff:169.254.169.254", "a link-local address", True, False),
    ("::10.1.2.3", "a private address", True, True),
    ("64:ff9b::a9fe:a9fe", "a link-local address", True, False),
    ("2002:7f00:1::", "a loopback address", True, True),
    ("8.8.8.8", None, True, True),
    ("2001:4860:4860::8888", None, True, True),
    ("::ffff:8.8.8.8", None, True, True),
    ("64:ff9b::808:808", None, True, True),
]


@pytest.mark.parametrize(("text", "reason", "allowed_private", "allowed_cidrs"), ADDRESSES)
def test_refused_address_reason(text, reason, allowed_private, allowed_cidrs):
    address = ipaddress.ip_address(text)
    assert refused_address_reason(address, DEFAULT) == reason
    assert (refused_address_reason(address, PRIVATE) is None) is allowed_private
    assert (refused_address_reason(address, CIDRS) is None) is allowed_cidrs
    if not allowed_private:
        assert refused_address_reason(address, PRIVATE) == reason


def test_refused_address_reason_allowed_cidrs_need_not_be_strict():
    policy = TargetPolicy(allowed_cidrs=("192.168.1.7/24",))
    assert refused_address_reason(ipaddress.ip_address("192.168.1.1"), policy) is None
    assert refused_address_reason(ipaddress.ip_address("192.168.2.1"), policy) == "a private address"


def test_verify_signature_accepts_any_of_several_signatures_and_refuses_others():
    from novaro_lite.domain.webhooks import new_secret, signature_header, verify_signature

    old, new, body = new_secret(), new_secret(), b'{"x":1}'
    header = signature_header([new, old], "req_1", 1_800_000_000, body)
    verify_signature(old, "req_1", "1800000000", header, body, 1_800_000_100)
    verify_signature(new, "req_1", "1800000000", header, body, 1_800_000_000)
    for args, reason in [
        ((new_secret(), "req_1", "1800000000", header, body, 1_800_000_000), "no signature matches"),
        ((new, "req_2", "1800000000", header, body, 1_800_000_000), "no signature matches"),
        ((new, "req_1", "1800000000", header, b"{}", 1_800_000_000), "no signature matches"),
        ((new, "req_1", "soon", header, body, 1_800_000_000), "not unix seconds"),
        ((new, "req_1", "1800000000", header, body, 1_800_001_000), "off this machine's clock"),
        ((new, "", "1800000000", header, body, 1_800_000_000), "missing"),
    ]:
        with pytest.raises(ValueError, match=reason):
            verify_signature(*args)
