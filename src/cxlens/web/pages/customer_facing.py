"""What every page a customer sees shares: their layout (``customer_base.html``: the brand, never
cxlens, and none of the staff app's navigation or chart scripts) and the brand's stylesheet.

The brand's colour reaches the page through ``/brand.css``, a stylesheet served from this origin,
because the CSP refuses inline styles (``style-src 'self'``); a logo on another https host is
allowed for that page alone (``img-src`` gains its origin, web/security.py).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from cxlens.surveys import WidgetSettings
from cxlens.web.pages.render import render

router = APIRouter(include_in_schema=False)
BRAND_CSS = "/brand.css"
CUSTOMER_PREFIXES = ("/s/", "/p/")  # personal survey links and public links: customers' pages


def brand_of(request: Request) -> WidgetSettings:
    settings: WidgetSettings = request.app.state.widget_settings
    return settings


def render_customer_page(
    request: Request, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A customer-facing page: its template (which extends customer_base.html) with the brand."""
    brand = brand_of(request)
    logo = urlsplit(brand.brand_logo_url or "")
    if logo.scheme == "https":
        request.state.image_origins = [f"https://{logo.netloc}"]
    return render(request, template, status=status, brand=brand, brand_css=_brand_css_url(brand), **context)


def _brand_css_url(brand: WidgetSettings) -> str:
    # The colour in the URL: a changed setting is a new URL, so no cached copy shows the old one.
    return f"{BRAND_CSS}?c={brand.brand_color.lstrip('#')}"


def brand_css(color: str) -> str:
    """The brand's accent for customer pages (app.css reads ``--accent`` everywhere)."""
    return f"body.customer {{ --accent: {color}; --accent-hover: {_darker(color)}; }}\n"


def _darker(color: str, by: float = 0.8) -> str:
    """The same hue, darker (hover): each channel times ``by``; still AA against white."""
    channels = (round(int(color[i : i + 2], 16) * by) for i in (1, 3, 5))
    return "#" + "".join(f"{c:02x}" for c in channels)


@router.get(BRAND_CSS)
def brand_stylesheet(request: Request) -> Response:
    return Response(
        brand_css(brand_of(request).brand_color),
        media_type="text/css; charset=utf-8",
        headers={"cache-control": "public, max-age=300"},
    )
