"""Key pairs made the way customers make them: with the openssl command line."""

from __future__ import annotations

import subprocess
from pathlib import Path

RSA_PSS = [
    "-newkey",
    "rsa:4096",
    "-sigopt",
    "rsa_padding_mode:pss",
    "-sha256",
    "-sigopt",
    "rsa_pss_saltlen:64",
]
EC_P256 = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1"]


def openssl_pair(directory: Path, key: list[str] = RSA_PSS, days: int = 730) -> tuple[Path, Path]:
    """Run ``openssl req -x509`` as our instructions say; return (public.pem, private.pem)."""
    subprocess.run(
        [
            "openssl",
            "req",
            "-new",
            "-x509",
            *key,
            "-nodes",
            "-days",
            str(days),
            "-subj",
            "/CN=test",
            "-out",
            "public.pem",
            "-keyout",
            "private.pem",
        ],
        cwd=directory,
        check=True,
        capture_output=True,
    )
    return directory / "public.pem", directory / "private.pem"
