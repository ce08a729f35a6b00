"""The security headers of every response, and the one Content Security Policy."""

from __future__ import annotations


def content_security_policy(style_nonce: str | None = None) -> str:
    """Scripts, styles, images and fetches from the service itself only (no CDN, nothing
    inline). ``style_nonce`` also allows ``<style>`` elements carrying that nonce: ReDoc's
    styled-components create them at run time (``/redoc`` passes a fresh nonce per response)."""
    style = "'self'" + (f" 'nonce-{style_nonce}'" if style_nonce else "")
    return (
        f"default-src 'self'; script-src 'self'; style-src {style}; img-src 'self' data:; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    )


SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Content-Security-Policy": content_security_policy(),
}
