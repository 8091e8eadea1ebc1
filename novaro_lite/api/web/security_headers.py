"""The headers every HTML page the server serves carries (the dashboard, /scalar, /problems/*) and the files
those pages load: a Content-Security-Policy that runs only the server's own scripts and refuses framing
(`frame-ancestors 'none'`, and X-Frame-Options for older browsers), and nosniff, so no answer is ever read
as a type other than the one it declares.

The Scalar page gets the same policy but for styles: Scalar writes <style> elements and style attributes
at run time, which no hash can allow ahead, so its style-src adds 'unsafe-inline'. Styles cannot run
script; script-src stays 'self' (api/docs/pages.py keeps Scalar from probing for eval).
"""

from __future__ import annotations


def _policy(style_src: str) -> str:
    return "; ".join(
        (
            "default-src 'self'",
            "script-src 'self'",
            f"style-src {style_src}",
            "img-src 'self' blob:",  # the dashboard shows an agent's picture (fetched with the token) from a blob:
            "connect-src 'self'",
            "font-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "form-action 'self'",
            "frame-ancestors 'none'",
        )
    )


CSP = _policy("'self'")
SCALAR_CSP = _policy("'self' 'unsafe-inline'")
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
    "Cross-Origin-Opener-Policy": "same-origin",
}
SCALAR_HEADERS = SECURITY_HEADERS | {"Content-Security-Policy": SCALAR_CSP}
