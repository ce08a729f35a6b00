"""The security headers of every response, and the one Content Security Policy."""

from __future__ import annotations


def content_security_policy(*, inline_styles: bool = False) -> str:
    """Scripts, styles, images and fetches from the service itself only (no CDN, nothing
    inline). ``inline_styles`` also allows inline styles, never scripts: ReDoc (``/redoc``)
    styles itself at run time with styled-components, before a nonce could reach them."""
    style = "'self' 'unsafe-inline'" if inline_styles else "'self'"
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
