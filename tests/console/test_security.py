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


def test_a_mistyped_address_keeps_the_menu_and_sign_out_for_a_signed_in_worker(worker_client):
    """An address no page answers (typed wrong, or from an old bookmark) is not a dead end: the
    worker still has the console's menu and can sign out from it."""
    response = worker_client.get("/console/no-such-page")
    page = response.get_data(as_text=True)

    assert response.status_code == 404
    assert 'aria-label="Console"' in page
    assert ">Look up</a>" in page
    assert "Sign out" in page
    assert "Import</a>" not in page  # a worker's menu, not an admin's


def test_a_mistyped_address_shows_no_menu_to_someone_signed_out(client):
    response = client.get("/console/no-such-page")
    page = response.get_data(as_text=True)

    assert response.status_code == 404
    assert "Sign out" not in page
    assert "Back to the console" in page


def test_sign_out_works_from_the_page_of_a_mistyped_address(worker_client):
    page = worker_client.get("/console/no-such-page").get_data(as_text=True)
    token = re.search(r'name="[^"]+" value="([^"]+)"', page.split('class="signout"')[1]).group(1)
    field = re.search(r'<input type="hidden" name="([^"]+)"', page.split('class="signout"')[1])

    response = worker_client.post("/console/logout", data={field.group(1): token})

    assert response.status_code in (302, 303)
    assert worker_client.get("/console/").status_code == 302  # signed out: back to sign-in
