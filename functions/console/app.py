"""console: the ops console's pages and actions, server-rendered, behind the session authorizer."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.logging import correlation_paths
from aws_lambda_powertools.utilities.typing import LambdaContext

from handoff.aws.container import ports
from handoff.console import pages, scope, views
from handoff.console.render import html_page
from handoff.console.session import CONSOLE_HEADERS, Viewer, check_csrf, console_base, csrf_token, viewer
from handoff.console.signin import login_page, login_submit, logout
from handoff.deploy.functions import CONSOLE
from handoff.deploy.settings import require
from handoff.domain.clock import utcnow
from handoff.domain.rep import rep_changes
from handoff.errors import (
    BadRequest,
    Forbidden,
    NotFound,
)
from handoff.insights.kpis import CUTS
from handoff.insights.stats import duration, percent
from handoff.observability import logger, metrics, traced
from handoff.service import reassign, touch

require(CONSOLE)  # cold start: stop here, naming any setting this function lacks

app = APIGatewayRestResolver()
views.register_error_pages(app)
NOTE_LIMIT = 500


def _page(template: str, who: Viewer, nav: str, **context: Any) -> Response[str]:
    event = app.current_event
    return html_page(
        200,
        template,
        base=console_base(event),
        viewer=who,
        csrf=csrf_token(event),
        nav=nav,
        flash=views.flash(event),
        **context,
    )


def _post() -> tuple[Viewer, dict[str, str]]:
    """The signed-in viewer and the form, once its CSRF token checks out."""
    event = app.current_event
    fields = views.form(event)
    check_csrf(event, fields.get("csrf"))
    return viewer(event), fields


def _members(who: Viewer) -> frozenset[str] | None:
    return scope.team(who, ports().reps.list_all())


# Sign-in (handoff.console.signin): the only console routes without a session.
@app.get("/console/login")
def get_login() -> Response[str]:
    return login_page(app.current_event)


@app.post("/console/login")
def post_login() -> Response[str]:
    return login_submit(app.current_event)


@app.post("/console/logout")
def post_logout() -> Response[str]:
    return logout(app.current_event)


@app.get("/console")
def now_page() -> Response[str]:
    who = viewer(app.current_event)
    now = utcnow()
    return _page("console_now.html", who, "now", rows=pages.now_queue(ports(), now, _members(who)), now=now)


@app.get("/console/leads/<lead_id>")
def lead_page(lead_id: str) -> Response[str]:
    who = viewer(app.current_event)
    reps = ports().reps.list_all()
    members = scope.team(who, reps)
    record = pages.load_lead(ports(), lead_id, members)
    return _page(
        "console_lead.html", who, "now", lead=pages.lead_view(ports(), record, reps, members, utcnow())
    )


@app.post("/console/leads/<lead_id>/redrive")
def redrive_lead(lead_id: str) -> Response[str]:
    who, _ = _post()
    pages.redrive_lead(ports(), lead_id, _members(who), utcnow())
    return views.redirect(app.current_event, f"/console/leads/{lead_id}", "redriven")


def _note(fields: dict[str, str], name: str, *, required: bool) -> str | None:
    value = fields.get(name) or None
    if required and not value:
        raise BadRequest(f"{name}: say why (it goes on the lead's timeline)", [{"field": name}])
    if value and len(value) > NOTE_LIMIT:
        raise BadRequest(f"{name}: at most {NOTE_LIMIT} characters", [{"field": name}])
    return value


@app.post("/console/leads/<lead_id>/reassign")
def reassign_lead(lead_id: str) -> Response[str]:
    who, fields = _post()
    reps = ports().reps.list_all()
    members = scope.team(who, reps)
    pages.load_lead(ports(), lead_id, members)
    note = _note(fields, "reason", required=True)
    to_rep_id = reassign.named_rep(ports(), fields.get("to_rep_id"), "to_rep_id")
    if to_rep_id is not None and members is not None and to_rep_id not in members:
        raise Forbidden(f"rep {to_rep_id} is not on your team: move the lead to one of your own reps")
    reassign.request(
        ports(),
        lead_id,
        because=reassign.MANUAL,
        to_rep_id=to_rep_id,
        by=who.email,
        note=note,
        now=utcnow(),
    )
    return views.redirect(app.current_event, f"/console/leads/{lead_id}", "reassigned")


@app.post("/console/leads/<lead_id>/outcome")
def record_outcome(lead_id: str) -> Response[str]:
    who, fields = _post()
    record = pages.load_lead(ports(), lead_id, _members(who))
    owner = record.assignment.rep_id if record.assignment else None
    if owner in (None, pages.UNASSIGNED):
        raise BadRequest(f"lead {lead_id} has no rep to record an outcome for", [{"field": "outcome"}])
    outcome = fields.get("outcome") or ""
    if not outcome:
        raise BadRequest("outcome: choose one", [{"field": "outcome"}])
    touch.record_disposition(
        ports(),
        lead_id,
        outcome=outcome,
        reason=fields.get("reason") or None,
        note=_note(fields, "note", required=False),
        by=f"{who.email} for {owner}",
        now=utcnow(),
        rep_id=owner,
    )
    return views.redirect(app.current_event, f"/console/leads/{lead_id}", "outcome")


@app.get("/console/reps")
def reps_page() -> Response[str]:
    who = viewer(app.current_event)
    return _page(
        "console_reps.html", who, "reps", reps=pages.reps_rows(ports().reps.list_all(), who, utcnow())
    )


@app.post("/console/reps/<rep_id>")
def set_rep(rep_id: str) -> Response[str]:
    who, fields = _post()
    rep = ports().reps.get(rep_id)
    if rep is None:
        raise NotFound(f"rep {rep_id} not found")
    scope.require_rep(who, rep)
    status = fields.get("status") or None
    if status not in (None, "active", "ooo"):
        raise BadRequest("status: active or ooo (out of office)", [{"field": "status"}])
    changes = rep_changes(status=status, until=fields.get("until"), capacity=fields.get("capacity"))
    ports().reps.update(rep_id, **changes)
    return views.redirect(app.current_event, "/console/reps", "rep_saved")


@app.get("/console/route")
def route_page() -> Response[str]:
    return _page(
        "console_route.html", viewer(app.current_event), "route", lines=None, lead_id="", lead_json=""
    )


@app.post("/console/route")
def route_what_if() -> Response[str]:
    who, fields = _post()
    lead_id, lead_json = fields.get("lead_id", ""), fields.get("lead_json", "")
    lines = pages.what_if(
        ports(),
        utcnow(),
        lead_id=lead_id or None,
        lead_json=lead_json.encode() if lead_json else None,
        members=_members(who),
    )
    return _page("console_route.html", who, "route", lines=lines, lead_id=lead_id, lead_json=lead_json)


def _results(who: Viewer) -> pages.Results:
    event = app.current_event
    return pages.results(
        ports(),
        utcnow(),
        event.get_query_string_value("month", None),
        event.get_query_string_value("cut", None),
        _members(who),
    )


@app.get("/console/results")
def results_page() -> Response[str]:
    who = viewer(app.current_event)
    return _page(
        "console_results.html",
        who,
        "results",
        results=_results(who),
        cuts=list(CUTS),
        pct=percent,
        duration=duration,
    )


@app.get("/console/results/proposals.diff")
def proposals_diff() -> Response[str]:
    who = viewer(app.current_event)
    if not scope.sees_everything(who):
        raise Forbidden("tuning proposals are RevOps': they change the whole config")
    found = _results(who)
    name = f"handoff-proposals-{found.month or found.end.strftime('%Y-%m-%d')}.diff"
    return Response(
        status_code=200,
        content_type="text/plain; charset=utf-8",
        body=found.output.config_diff or "# no config changes proposed for this period\n",
        headers={**CONSOLE_HEADERS, "Content-Disposition": f'attachment; filename="{name}"'},
    )


@logger.inject_lambda_context(correlation_id_path=correlation_paths.API_GATEWAY_REST)
@traced
@metrics.log_metrics
def handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return app.resolve(event, context)
