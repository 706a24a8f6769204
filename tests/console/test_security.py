from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]
TEMPLATES = sorted((ROOT / "webhooks" / "templates" / "console").glob("*.html"))
STATIC = sorted((ROOT / "webhooks" / "static" / "console").glob("*"))

WORKER_PAGES = ["/console/", "/console/screen", "/console/batch/", "/console/handoffs/"]
ADMIN_PAGES = ["/console/admin/users", "/console/admin/imports"]


@pytest.mark.parametrize("path", WORKER_PAGES + ADMIN_PAGES)
def test_every_page_carries_the_security_headers(admin_client, path):
    response = admin_client.get(path)

    assert response.status_code == 200
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["X-Frame-Options"] == "DENY"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize("path", WORKER_PAGES)
def test_workers_reach_every_worker_page(worker_client, path):
    assert worker_client.get(path).status_code == 200


def test_error_pages_are_html_with_headers(worker_client):
    response = worker_client.get("/console/batch/424242")

    assert response.status_code == 404
    assert response.mimetype == "text/html"
    assert response.headers["X-Frame-Options"] == "DENY"


def test_security_headers_stay_inside_the_console(client):
    assert "X-Frame-Options" not in client.get("/healthz").headers


@pytest.mark.parametrize("template", TEMPLATES, ids=lambda p: p.name)
def test_templates_have_no_inline_code_no_external_urls_and_no_unescaped_output(template):
    text = template.read_text(encoding="utf-8")

    assert not re.search(r"<script(?![^>]*\bsrc=)", text), "inline script (blocked by the CSP)"
    assert not re.search(r"\sstyle=", text), "inline style (blocked by the CSP)"
    assert not re.search(r"\son[a-z]+=", text), "inline event handler (blocked by the CSP)"
    assert not re.search(r"(src|href|action)=\"(https?:)?//", text), "external URL"
    assert "|safe" not in text
    assert "autoescape false" not in text


@pytest.mark.parametrize("asset", STATIC, ids=lambda p: p.name)
def test_static_assets_load_nothing_from_the_internet(asset):
    text = asset.read_text(encoding="utf-8")

    assert "http://" not in text
    assert "https://" not in text
    assert "@import" not in text


def test_forms_posting_state_changes_all_carry_the_csrf_field():
    for template in TEMPLATES:
        text = template.read_text(encoding="utf-8")
        forms = re.findall(r"<form[^>]*method=\"post\"[^>]*>(.*?)</form>", text, flags=re.S)
        for form in forms:
            assert "csrf_field" in form or "fields.items()" in form, template.name
