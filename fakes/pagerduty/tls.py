"""A throwaway self-signed certificate so the fake can be served over https.

The ``pagerduty`` Python client refuses any base URL that is not https. Serving the fake
with uvicorn (``ssl_certfile``/``ssl_keyfile``) and this certificate, and handing the
same certificate to the client as its trust store (``verify=cert_path``), lets it talk
to the fake on 127.0.0.1 without touching the system's trust store.

The certificate names ``127.0.0.1`` (an IP SAN) and ``localhost`` (a DNS SAN), plus any
further ``hosts`` (``drill serve --host``: the host given and the address clients use), is its own
CA, and lasts 30 days from now (wall-clock time: TLS checks real time, not a drill's).
It is made with the ``cryptography`` package when that imports (it is not a project
dependency), otherwise with the ``openssl`` command.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path

CERT_NAME = "cert.pem"
KEY_NAME = "key.pem"
DAYS = 30

_OPENSSL_CONFIG = """\
[req]
distinguished_name = dn
x509_extensions = ext
prompt = no
[dn]
CN = 127.0.0.1
O = rollout-drill fake
[ext]
subjectAltName = {sans}
basicConstraints = critical,CA:TRUE
keyUsage = critical,digitalSignature,keyCertSign
extendedKeyUsage = serverAuth
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""


def make_self_signed_cert(directory: str | os.PathLike[str],
                          hosts: Sequence[str] = ()) -> tuple[Path, Path]:
    """Write ``cert.pem`` and ``key.pem`` into ``directory``; returns their paths.

    Raises RuntimeError when neither ``cryptography`` nor ``openssl`` is available.
    """
    try:
        import cryptography  # noqa: F401  (only probing whether it is installed)
    except ImportError:
        return cert_with_openssl(directory, hosts)
    return cert_with_cryptography(directory, hosts)


def _names(hosts: Sequence[str]) -> tuple[list[str], list[str]]:
    """(IP addresses, DNS names) the certificate covers: loopback and ``hosts``."""
    ips, dns = ["127.0.0.1"], ["localhost"]
    for host in hosts:
        try:
            ip = str(ipaddress.ip_address(host.strip("[]")))
        except ValueError:
            dns += [host] if host not in dns else []
        else:
            ips += [ip] if ip not in ips and ip not in ("0.0.0.0", "::") else []
    return ips, dns


def cert_with_cryptography(directory: str | os.PathLike[str],
                           hosts: Sequence[str] = ()) -> tuple[Path, Path]:
    """The certificate made with the ``cryptography`` package (EC P-256 key)."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    ips, dns = _names(hosts)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1"),
                      x509.NameAttribute(NameOID.ORGANIZATION_NAME, "rollout-drill fake")])
    now = dt.datetime.now(dt.UTC)
    usage = x509.KeyUsage(digital_signature=True, key_cert_sign=True, content_commitment=False,
                          key_encipherment=False, data_encipherment=False, key_agreement=False,
                          crl_sign=False, encipher_only=False, decipher_only=False)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(hours=1))
            .not_valid_after(now + dt.timedelta(days=DAYS))
            .add_extension(x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(ip)) for ip in ips]
                + [x509.DNSName(name) for name in dns]), critical=False)
            .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
            .add_extension(usage, critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]),
                           critical=False)
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()),
                           critical=False)
            .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(
                key.public_key()), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = _paths(directory)
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM,
                                           serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    key_path.chmod(0o600)
    return cert_path, key_path


def cert_with_openssl(directory: str | os.PathLike[str],
                      hosts: Sequence[str] = ()) -> tuple[Path, Path]:
    """The certificate made by the ``openssl`` command; raises RuntimeError without it."""
    openssl = shutil.which("openssl")
    if openssl is None:
        raise RuntimeError("making a certificate needs the 'cryptography' package "
                           "or the 'openssl' command; neither is available")
    cert_path, key_path = _paths(directory)
    config = cert_path.parent / "openssl-fake.cnf"
    ips, dns = _names(hosts)
    sans = ",".join([f"IP:{ip}" for ip in ips] + [f"DNS:{name}" for name in dns])
    config.write_text(_OPENSSL_CONFIG.format(sans=sans))
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
         "-nodes", "-sha256", "-days", str(DAYS), "-config", str(config),
         "-keyout", str(key_path), "-out", str(cert_path)],
        check=True, capture_output=True)
    key_path.chmod(0o600)
    return cert_path, key_path


def _paths(directory: str | os.PathLike[str]) -> tuple[Path, Path]:
    folder = Path(directory)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / CERT_NAME, folder / KEY_NAME
