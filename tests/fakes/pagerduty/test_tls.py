"""The throwaway certificate: names 127.0.0.1 (IP SAN) and localhost, made either way."""

from __future__ import annotations

import shutil
import ssl

import pytest

from fakes.pagerduty import tls


def sans(cert_path):
    # The stdlib's own decoder (private, but stable since 3.x) keeps this test free of
    # the optional ``cryptography`` package.
    decoded = ssl._ssl._test_decode_cert(str(cert_path))  # type: ignore[attr-defined]
    return set(decoded["subjectAltName"])


def test_default_maker_names_loopback(tmp_path):
    cert, key = tls.make_self_signed_cert(tmp_path)
    assert sans(cert) == {("IP Address", "127.0.0.1"), ("DNS", "localhost")}
    assert key.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert key.stat().st_mode & 0o777 == 0o600


@pytest.mark.skipif(shutil.which("openssl") is None, reason="no openssl command here")
def test_openssl_maker_names_loopback(tmp_path):
    cert, _ = tls.cert_with_openssl(tmp_path)
    assert sans(cert) == {("IP Address", "127.0.0.1"), ("DNS", "localhost")}


def test_cryptography_maker_names_loopback(tmp_path):
    pytest.importorskip("cryptography")
    cert, _ = tls.cert_with_cryptography(tmp_path)
    assert sans(cert) == {("IP Address", "127.0.0.1"), ("DNS", "localhost")}


@pytest.mark.parametrize("maker", ["cert_with_openssl", "cert_with_cryptography"])
def test_a_client_trusting_the_cert_can_load_it(tmp_path, maker):
    """The certificate loads as a server cert and as a client's trust store."""
    if maker == "cert_with_openssl" and shutil.which("openssl") is None:
        pytest.skip("no openssl command here")
    if maker == "cert_with_cryptography":
        pytest.importorskip("cryptography")
    cert, key = getattr(tls, maker)(tmp_path)
    ssl.create_default_context(ssl.Purpose.CLIENT_AUTH).load_cert_chain(cert, key)
    ssl.create_default_context(cafile=str(cert))
