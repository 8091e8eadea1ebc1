"""The entry point PyInstaller freezes into the one-file executable (see `make dist` in the Makefile).

It lives outside the package because only the frozen build needs it:
- `freeze_support()` lets a frozen process start multiprocessing children (as uvicorn's workers are);
- the command names itself `novaro-lite` in help and usage text, whatever the file is called;
- the OpenSSL inside was built for Debian and looks for CA certificates where Debian keeps them. On a system
  that keeps them elsewhere (Fedora, RHEL, …) and has no SSL_CERT_FILE / SSL_CERT_DIR set, HTTPS calls to
  model providers and webhooks would fail verification, so it falls back to certifi's bundle, frozen in too.
"""

import multiprocessing
import os
import ssl


def trust_certifi_where_the_system_store_is_missing() -> None:
    if "SSL_CERT_FILE" in os.environ or "SSL_CERT_DIR" in os.environ:
        return
    defaults = ssl.get_default_verify_paths()  # cafile and capath are None where they do not exist
    if defaults.cafile is None and defaults.capath is None:
        import certifi

        os.environ["SSL_CERT_FILE"] = certifi.where()


if __name__ == "__main__":
    multiprocessing.freeze_support()
    trust_certifi_where_the_system_store_is_missing()  # before aiohttp makes its default contexts on import
    from novaro_lite.cli.main import main

    main(prog_name="novaro-lite")
