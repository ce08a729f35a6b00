"""Where a webhook may be sent: the one resolver and address check, used at registration, at
the admin's approval (the console shows the resolved addresses) and at every delivery.

The rule: the URL is https (http only where WEBHOOK_ALLOW_HTTP, never in production); a host
written as a number in any spelling the C library accepts (``2130706433``, ``0x7f000001``,
``0177.0.0.1``, ``127.1``, ``0``) is normalised with ``ipaddress`` first and checked as that
address; a name is resolved and **every** address it resolves to must be public unicast
(``address_allowed``): no private, loopback, link-local, multicast, reserved or unspecified
address, IPv4-mapped IPv6 judged as its IPv4; no site-local IPv6 (``fec0::/10``), and an IPv6
address that carries an IPv4 one for a tunnel (6to4 ``2002::/16``, Teredo) only if that IPv4
address is public too (NAT64's ``64:ff9b::/96`` is reserved, so refused whole). A name that
does not resolve is refused too (it could not be checked), and so is a host that is no valid
name (an empty or over-long label). Delivery sends to an address checked here (no second
lookup, so no DNS rebinding between the check and the request).
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from urllib.parse import urlsplit

from app.kit.settings import Environment, Settings
from scoring import Phrase

Resolver = Callable[[str, int], list[str]]
IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

#: One part of an inet_aton spelling: decimal, octal (leading 0) or hex (0x).
_NUMERIC_PART = re.compile(r"^(0[xX][0-9a-fA-F]*|[0-9]+)$")


class UnsafeDestination(Exception):
    """The URL may not be sent to (scheme, or an address that is not public). ``reason`` says
    why, in English, keeping its template and values, so that an API problem and the admin
    console say it in the request's language (``app.kit.errors.say``); ``str()`` is the English
    (a delivery's ``last_error``)."""

    def __init__(self, reason: Phrase) -> None:
        super().__init__(reason)
        self.reason = reason


def system_resolver(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


_resolver: Resolver = system_resolver


def resolve(host: str, port: int) -> list[str]:
    """The addresses of ``host`` by the active resolver (the system's, or a test's)."""
    return _resolver(host, port)


def use_resolver(resolver: Resolver) -> Resolver:
    """Make ``resolver`` the active one (tests without DNS); returns the previous one."""
    global _resolver
    previous, _resolver = _resolver, resolver
    return previous


def numeric_address(host: str) -> IPAddress | None:
    """The address a host written as a number means, in any spelling ``inet_aton`` accepts
    (1 to 4 parts, each decimal, octal or hex), or a plain IPv6 address; None for a name."""
    host = host.rstrip(".")
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    parts = host.split(".")
    if not 1 <= len(parts) <= 4 or not all(_NUMERIC_PART.match(part) for part in parts):
        return None
    try:
        return ipaddress.IPv4Address(socket.inet_aton(host))
    except OSError:
        return None  # a number too large for its place: no address at all


def allows_http(settings: Settings) -> bool:
    return settings.WEBHOOK_ALLOW_HTTP and settings.ENV != Environment.production


def allows_loopback(settings: Settings) -> bool:
    return settings.WEBHOOK_ALLOW_LOOPBACK and settings.ENV != Environment.production


def _carried_ipv4(address: ipaddress.IPv6Address) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses a tunnel would reach through ``address``."""
    carried = [address.sixtofour] if address.sixtofour is not None else []
    if address.teredo is not None:
        carried.extend(address.teredo)
    return carried


def address_allowed(address: IPAddress, settings: Settings) -> bool:
    """Public unicast only; loopback only where the setting allows it (tests)."""
    if isinstance(address, ipaddress.IPv6Address):
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address.is_site_local:
            return False
        elif any(not address_allowed(ipv4, settings) for ipv4 in _carried_ipv4(address)):
            return False
    if address.is_loopback:
        return allows_loopback(settings)
    return not (
        address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def checked_addresses(url: str, settings: Settings, resolver: Resolver | None = None) -> list[str]:
    """The addresses ``url`` may be sent to; raises UnsafeDestination if any is not public."""
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme == "https" else 80)
    except ValueError as exc:  # brackets or a port urlsplit cannot read: callers expect
        # UnsafeDestination for every URL they may not send to, not a ValueError (a 500)
        raise UnsafeDestination(Phrase("malformed URL (%(error)s)", error=str(exc))) from exc
    if allows_http(settings):
        schemes, only = {"https", "http"}, Phrase("only http or https URLs are sent to")
    else:
        schemes, only = {"https"}, Phrase("only https URLs are sent to")
    if parts.scheme not in schemes or not parts.hostname:
        raise UnsafeDestination(only)
    host = parts.hostname
    numeric = numeric_address(host)
    if numeric is not None:
        addresses = [str(numeric)]
    else:
        try:
            addresses = (resolver or resolve)(host, port)
        except (OSError, UnicodeError) as exc:  # UnicodeError: no valid name ("a..example")
            # The system's reason (``error``) is English: only the English says it.
            raise UnsafeDestination(
                Phrase("cannot resolve %(host)s: %(error)s", host=host, error=str(exc))
            ) from exc
    if not addresses:
        raise UnsafeDestination(Phrase("%(host)s has no address", host=host))
    for address in addresses:
        ip = ipaddress.ip_address(address.split("%", 1)[0])
        if not address_allowed(ip, settings):
            if numeric is None:
                reason = Phrase(
                    "%(host)s resolves to %(address)s, which is not a public address",
                    host=host,
                    address=str(ip),
                )
            elif host.rstrip(".") == str(ip):
                reason = Phrase("%(address)s is not a public address", address=str(ip))
            else:  # another spelling of the address (2130706433): both are named
                reason = Phrase(
                    "%(host)s is %(address)s, which is not a public address",
                    host=host,
                    address=str(ip),
                )
            raise UnsafeDestination(reason)
    return addresses
