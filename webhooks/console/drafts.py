"""Keep what a worker typed when a form is refused because its session or token is no longer good.

A worker who writes a long note and sends it after the session ended (idle or too old, signed
out in another tab, cookie gone), or from a page whose CSRF token is stale (signed in again in
another tab), used to get a bare refusal page, and the text was gone. For the forms registered
here with ``keeps``:

* no session: the sign-in page comes back (401), the form's fields riding along in hidden
  inputs; after a good sign-in the same form is shown again with the text in place, to check
  and send. Nothing is sent on the worker's behalf.
* a session, a stale token: the form comes back at once (403), the text in place.

Nothing is stored, on the server or in browser storage: the text travels only in POST bodies
and the pages sent back (never cached), never in a URL, a cookie or a log, so there is no
draft to clear once it is saved. It comes back only to the worker who wrote it: each kept form
carries a keyed tag of its author, and text whose tag does not match the worker signed in is
dropped (clinics share computers).
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app, make_response, render_template, request
from werkzeug.datastructures import MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.wrappers import Response as BaseResponse

from webhooks.app import settings_of

#: A view's page shown again: (view args, the kept fields, a notice, the status) -> response.
Render = Callable[[Mapping[str, Any], MultiDict[str, str], str, int], Any]
#: Where the form lives (its GET page), from the view args: the sign-in fallback.
Page = Callable[[Mapping[str, Any]], str]

AUTHOR_FIELD = "draft_author"
#: Kept fields ride in the sign-in form under this prefix (so "email" cannot clash).
PREFIX = "keep:"
PATH_FIELD = "keep_path"
MAX_PATH = 200

SIGNED_OUT = (
    "Your session ended before your {what} went through. Sign in again: it comes back in the "
    "form, for you to check and send."
)
BACK_AFTER_SIGN_IN = (
    "You are signed in again. Nothing was done yet: your {what} is back in the form below. "
    "Check it and send it."
)
STALE_PAGE = (
    "This page had expired (you may have signed in again in another tab), so nothing was "
    "saved. Your {what} is back in the form below: check it and send it again."
)
SIGN_IN_EXPIRED = "This sign-in form had expired. Sign in again."
NOT_YOURS = (
    "The text sent before was written under another account, so it was not kept. Nothing "
    "was saved."
)


@dataclass(frozen=True)
class Keeper:
    """A form whose text survives a refused send: its fields, its page, and how to show it."""

    endpoint: str
    fields: tuple[str, ...]
    what: str
    page: Page
    render: Render


_KEEPERS: dict[str, Keeper] = {}


def keeps(
    endpoint: str, fields: tuple[str, ...], what: str, page: Page
) -> Callable[[Render], Render]:
    """Register ``render`` to show the form of ``endpoint`` again with ``fields`` kept.

    ``render`` only shows a page: it must never do what the form asks.
    """

    def register(render: Render) -> Render:
        _KEEPERS[endpoint] = Keeper(endpoint, fields, what, page, render)
        return render

    return register


def keeper_for(endpoint: str | None) -> Keeper | None:
    """The keeper of a form's endpoint, if it has one."""
    return _KEEPERS.get(endpoint or "")


def author_tag(user_id: int) -> str:
    """A keyed tag of a worker, carried by kept forms: whose text it is, without saying so."""
    key = settings_of(current_app).hmac_key.encode()
    message = f"console-draft-author:{user_id}".encode()
    return hmac.new(key, message, hashlib.sha256).hexdigest()[:32]


def _is_author(given: str | None, user_id: int) -> bool:
    return bool(given) and hmac.compare_digest(str(given).encode(), author_tag(user_id).encode())


def _kept(keeper: Keeper, pairs: list[tuple[str, str]]) -> MultiDict[str, str]:
    return MultiDict([(name, value) for name, value in pairs if name in keeper.fields])


def sign_in_to_keep(keeper: Keeper, view_args: Mapping[str, Any]) -> tuple[str, int]:
    """The sign-in page instead of a refusal, carrying the form's fields (no session)."""
    carried = [
        (name, value)
        for name, value in request.form.items(multi=True)
        if name in keeper.fields or name == AUTHOR_FIELD
    ]
    page = render_template(
        "console/login.html",
        next=keeper.page(view_args),
        **_sign_in_context(keeper, request.path, carried),
    )
    return page, 401


def _sign_in_context(keeper: Keeper, path: str, carried: list[tuple[str, str]]) -> dict[str, Any]:
    """What the sign-in page needs to carry a kept form: hidden fields and a word on why."""
    return {
        "kept": [(PREFIX + name, value) for name, value in carried],
        "kept_path": path,
        "kept_notice": SIGNED_OUT.format(what=keeper.what),
    }


def still_carried() -> dict[str, Any]:
    """A refused sign-in shows its form again: with the kept fields it carried, if any."""
    found = carried_from_sign_in()
    if found is None:
        return {}
    keeper, _view_args, carried = found
    return _sign_in_context(keeper, request.form.get(PATH_FIELD, ""), carried)


def sign_in_again() -> tuple[str, int] | None:
    """A sign-in form refused for its token, carrying a kept form: the form again, fresh
    token and text kept; None when it carries nothing."""
    kept = still_carried()
    if not kept:
        return None
    page = render_template(
        "console/login.html", next=request.form.get("next", ""), error=SIGN_IN_EXPIRED, **kept
    )
    return page, 403


def _match(path: str) -> tuple[Keeper, Mapping[str, Any]] | None:
    """The keeper and view args of a kept form's path, or None for anything else."""
    if not path.startswith("/console/") or len(path) > MAX_PATH:
        return None
    adapter = current_app.url_map.bind_to_environ(request.environ)
    try:
        endpoint, view_args = adapter.match(path, method="POST")
    except HTTPException:
        return None
    keeper = keeper_for(str(endpoint))
    return None if keeper is None else (keeper, view_args)


def carried_from_sign_in() -> tuple[Keeper, Mapping[str, Any], list[tuple[str, str]]] | None:
    """What the sign-in form carries for a kept form (keeper, view args, fields), or None."""
    matched = _match(request.form.get(PATH_FIELD, ""))
    if matched is None:
        return None
    keeper, view_args = matched
    carried = [
        (name.removeprefix(PREFIX), value)
        for name, value in request.form.items(multi=True)
        if name.startswith(PREFIX)
    ]
    allowed = (*keeper.fields, AUTHOR_FIELD)
    return keeper, view_args, [(name, value) for name, value in carried if name in allowed]


def back_after_sign_in(user_id: int) -> BaseResponse | None:
    """After a good sign-in: the kept form again with its text (its author only), or None."""
    found = carried_from_sign_in()
    if found is None:
        return None
    keeper, view_args, carried = found
    author = dict(carried).get(AUTHOR_FIELD)
    if not author:
        return None  # not a form of ours: nothing to show back
    if _is_author(author, user_id):
        form, notice = _kept(keeper, carried), BACK_AFTER_SIGN_IN.format(what=keeper.what)
    else:
        form, notice = MultiDict(), NOT_YOURS
    try:
        return make_response(keeper.render(view_args, form, notice, 200))
    except HTTPException:
        return None  # the form is gone (a deleted request) or not this worker's: go on as usual


def keep_here(keeper: Keeper, view_args: Mapping[str, Any], user_id: int) -> Any | None:
    """A stale token with a live session: the form again with its text, nothing done; None
    when the post is not from one of our forms (no author tag), to refuse it as usual."""
    pairs = list(request.form.items(multi=True))
    author = request.form.get(AUTHOR_FIELD)
    if not author:
        return None
    if _is_author(author, user_id):
        return keeper.render(
            view_args, _kept(keeper, pairs), STALE_PAGE.format(what=keeper.what), 403
        )
    return keeper.render(view_args, MultiDict(), NOT_YOURS, 403)
