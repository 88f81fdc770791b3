"""HTML pages for advocates: ask a question and read the answer (who holds the duty, the law
with links to legislation.gov.uk, who oversees them, where to go next), and pages for
actors, duties and escalation routes. Plain HTML and one stylesheet: no scripts, no CDN."""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import pyoxigraph as ox
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from fastapi.templating import Jinja2Templates

from caregraph import (accountability, actor_profile, diagrams, duties, escalation, escalation_catalogue,
                       guided_path, places, responsibility)
from caregraph.actors import AmbiguousActor, UnknownActor, directory
from caregraph.dates import parse_day
from caregraph.namespaces import ACTOR, DUTY, ID, LEGISLATION_ID, ROUTE, short_id

router = APIRouter(include_in_schema=False)
templates = Jinja2Templates(directory=str(Path(__file__).parent / "templates"))


def local_link(uri: str) -> str:
    """Where a URI is read: caregraph's own on this server, the law on legislation.gov.uk."""
    if uri.startswith(ID):
        return "/id/" + uri[len(ID):]
    if uri.startswith(LEGISLATION_ID):
        return "https://www.legislation.gov.uk/" + uri[len(LEGISLATION_ID):]
    return uri


templates.env.filters["link"] = local_link
templates.env.filters["short"] = short_id


def _render(request: Request, name: str, status: int = 200, **context) -> HTMLResponse:
    return templates.TemplateResponse(request, name, context, status_code=status)


def not_found(request: Request, message: str) -> HTMLResponse:
    return _render(request, "message.html", 404, title="Not found", message=message)


def _day(text: str | None) -> tuple[dt.date, str | None]:
    try:
        return parse_day(text or None), None
    except ValueError as exc:
        return dt.date.today(), str(exc)


@router.get("/", response_class=HTMLResponse)
def home(request: Request) -> HTMLResponse:
    return _render(request, "home.html", title="Who is responsible?",
                   routes=escalation_catalogue.list_routes(request.app.state.store))


@router.get("/ask", response_class=HTMLResponse)
def ask_page(request: Request, q: str = Query(""), as_of: str | None = Query(None),
             place: str = Query("")) -> HTMLResponse:
    store = request.app.state.store
    if not q.strip():
        return _render(request, "home.html", title="Who is responsible?", place=place,
                       routes=escalation_catalogue.list_routes(store))
    day, problem = _day(as_of)
    if problem:
        return _render(request, "message.html", 400, title="Check the date", message=problem)
    found, place_problem, choices = _place(store, place, day)
    # The place's own name is not a word about duties: it is taken out before matching.
    question = places.matching_text(store, q[:500], found) if found else q[:500]
    response = _answer(store, store.generation, question, day)
    return _render(request, "answer.html", title=f"Who is responsible: {q[:80]}", response=response, q=q,
                   as_of=as_of or "", place=found, place_text=place, place_problem=place_problem,
                   place_choices=choices, local=_local_bodies(store, found, response),
                   held=_held_to_account(store, response))


@router.get("/pages/actors", response_class=HTMLResponse)
def actors_page(request: Request) -> HTMLResponse:
    page = actor_profile.list_actors(request.app.state.store, limit=200)
    groups: dict[str, list[dict]] = {}
    for item in page.items:
        groups.setdefault(item["kind"] or item["class"], []).append(item)
    return _render(request, "actors.html", title="Actors", groups=dict(sorted(groups.items())))


@router.get("/pages/duties", response_class=HTMLResponse)
def duties_page(request: Request, theme: str | None = Query(None), sector: str | None = Query(None),
                offset: int = Query(0, ge=0)) -> HTMLResponse:
    try:
        page = duties.list_duties(request.app.state.store, theme=theme or None, sector=sector or None,
                                  offset=offset, limit=50)
    except duties.UnknownFilter as exc:
        return _render(request, "message.html", 400, title="Nothing matches", message=str(exc))
    return _render(request, "duties.html", title="Duties", page=page, theme=theme or "", sector=sector or "")


@router.get("/pages/routes", response_class=HTMLResponse)
def routes_page(request: Request) -> HTMLResponse:
    return _render(request, "routes.html", title="Where to go when things go wrong",
                   routes=escalation_catalogue.list_routes(request.app.state.store))


@router.get("/docs", response_class=HTMLResponse)
def docs_page(request: Request) -> HTMLResponse:
    """The API reference, rendered here from the OpenAPI document (no scripts from a CDN)."""
    return _render(request, "docs.html", title="caregraph HTTP API", spec=request.app.openapi())


def sparql_page(request: Request) -> HTMLResponse:
    return _render(request, "sparql.html", title="SPARQL endpoint",
                   example="PREFIX cg: <https://w3id.org/caregraph/def#>\nPREFIX rdfs: "
                           "<http://www.w3.org/2000/01/rdf-schema#>\nSELECT ?duty ?label WHERE {\n"
                           "  ?duty a cg:Duty ; rdfs:label ?label .\n} LIMIT 10")


def resource_page(request: Request, uri: str, triples: list[ox.Triple]) -> HTMLResponse:
    """The page for a dereferenced caregraph URI: an advocate's page for actors, duties and
    routes, a table of statements for anything else."""
    store = request.app.state.store
    day, _ = _day(request.query_params.get("as_of"))
    if uri.startswith(ACTOR) and "/" not in uri[len(ACTOR):]:
        try:
            actor = directory(store).resolve(uri)
        except (UnknownActor, AmbiguousActor):
            actor = None
        if actor is not None:
            profile, chains, diagram = _actor(store, store.generation, actor.iri, day)
            return _render(request, "actor.html", title=actor.label, actor=profile, chains=chains, diagram=diagram)
    if uri.startswith(DUTY) and "/" not in uri[len(DUTY):]:
        try:
            return _render(request, "duty.html", title="Duty", duty=duties.get_duty(store, uri, day))
        except duties.UnknownDuty:
            pass
    if uri.startswith(ROUTE) and "/" not in uri[len(ROUTE):]:
        route = escalation.load_route(store, uri, day)
        return _render(request, "route.html", title=route.label, route=route, diagram=diagrams.route_svg(route))
    labels = {t.object.value: t.object.value for t in triples}
    for t in triples:
        if t.predicate.value in ("http://www.w3.org/2000/01/rdf-schema#label",
                                 "http://www.w3.org/2004/02/skos/core#prefLabel"):
            labels[t.subject.value] = t.object.value
    rows = [(t.subject.value, t.predicate.value, t.object) for t in triples
            if t.subject.value == uri or t.subject.value.startswith(uri + "/")]
    return _render(request, "resource.html", title=labels.get(uri, short_id(uri)), uri=uri, rows=rows,
                   labels=labels)


# -- the guided path: one plain question per page, each a form GET with its own URL -------------

def _place(store, text: str, day: dt.date) -> tuple[places.Place | None, str | None, list[dict]]:
    """A place named in words: the place, or a message saying why not and a short list to choose from."""
    if not text.strip():
        return None, None, []
    return _resolve_place(store, store.generation, text[:200], day)


@lru_cache(maxsize=1024)
def _resolve_place(store, generation: int, text: str, day: dt.date) -> tuple[places.Place | None, str | None,
                                                                               list[dict]]:
    """`_place`, kept for a version of the graph: a page names the same homes and councils
    again and again (each guided step carries the place), and finding one costs several queries."""
    try:
        return places.place_for(store, day, place=text[:200]), None, []
    except places.AmbiguousPlace as exc:
        more = f" and {exc.more} more" if exc.more else ""
        return None, f"“{text}” fits several places{more}. Choose one, or give more of the name.", exc.choices
    except places.PlaceError as exc:
        suggestions = getattr(exc, "suggestions", [])
        hint = f" Did you mean: {'; '.join(suggestions)}?" if suggestions else ""
        if isinstance(exc, places.UnknownPlace):
            return None, f"No care home, council or town we know is called “{text}”.{hint}", []
        return None, str(exc), []


def _guide_url(step: str, **state: str) -> str:
    from urllib.parse import urlencode

    query = urlencode({k: v for k, v in state.items() if v})
    return f"/guide/{step}" + (f"?{query}" if query else "")


@router.get("/guide", response_class=HTMLResponse)
def guide_start(request: Request) -> RedirectResponse:
    return RedirectResponse(_guide_url(guided_path.load(request.app.state.store).first.id), status_code=303)


@router.get("/guide/answer", response_class=HTMLResponse)
def guide_answer(request: Request, problem: str = Query(""), place: str = Query(""),
                 alert: str = Query("")) -> HTMLResponse:
    store = request.app.state.store
    day = dt.date.today()
    try:
        end = _outcome(store, store.generation, problem, day)
    except guided_path.UnknownStep as exc:
        return not_found(request, str(exc))
    found, _, _ = _place(store, place, day)
    held = _held_to_account(store, end.response)
    return _render(request, "answer.html", title=f"What to do: {end.problem.label}", response=end.response,
                   q="", as_of="", place=found, local=_local_bodies(store, found, end.response), held=held,
                   alert=guided_path.load(store).alert(alert))


@router.get("/guide/{step}", response_class=HTMLResponse)
def guide_step(request: Request, step: str, place: str = Query(""), alert: str = Query(""),
               choice: str = Query(""), go: str = Query("")) -> HTMLResponse:
    """A question of the guided path. Submitting it (`go`) moves on to the next question, or
    to the answer, carrying the place and any alert in the URL."""
    store = request.app.state.store
    path = guided_path.load(store)
    try:
        question = path.question(step)
    except guided_path.UnknownStep as exc:
        return not_found(request, str(exc))
    problem, choices = None, []
    if go and question.asks_place:
        found, problem, choices = _place(store, place, dt.date.today())
        if problem is None:
            place_id = found.id if found else ""
            return RedirectResponse(_guide_url(question.next, place=place_id, alert=alert), status_code=303)
    elif go:
        picked = question.choice(choice)
        if picked is None:
            problem = "Choose one of the answers."
        elif picked.problem:
            return RedirectResponse(_guide_url("answer", problem=short_id(picked.problem), place=place,
                                               alert=picked.alert and picked.id or alert), status_code=303)
        else:
            return RedirectResponse(_guide_url(picked.next, place=place, alert=picked.alert and picked.id or alert),
                                    status_code=303)
    return _render(request, "guide.html", 400 if problem else 200, title=question.label, question=question,
                   place=place, alert=alert, alert_text=path.alert(alert), problem=problem, choices=choices,
                   number=sorted(q.order for q in path.questions.values()).index(question.order) + 1)


def _held_to_account(store, response: responsibility.Response) -> tuple[dict | None, list, str | None]:
    """The body accountable for the first duty of an answer, its chains to Parliament and their diagram."""
    holder = next((h for a in response.answers for h in a.holders if h["role"] == "accountable"), None)
    if holder is None:
        return None, [], None
    try:
        actor = directory(store).resolve(holder["uri"])
    except (UnknownActor, AmbiguousActor):
        return None, [], None
    chains, diagram = _chains(store, store.generation, actor.iri, response.as_of, 4)
    return holder, chains, diagram


@lru_cache(maxsize=256)
def _chains(store, generation: int, actor_iri: str, day: dt.date, limit: int) -> tuple[list[accountability.Chain],
                                                                                      str | None]:
    """An actor's chains to Parliament and their diagram, kept for a version of the graph:
    finding them takes tens of milliseconds, laying them out as much again, and many answers
    share the same few accountable bodies."""
    chains = accountability.chains(store, directory(store).resolve(actor_iri), day, limit=limit)
    return chains, diagrams.accountability_svg(chains)


@lru_cache(maxsize=1024)
def _answer(store, generation: int, question: str, day: dt.date) -> responsibility.Response:
    """The answer to a question, kept for a version of the graph (as the JSON API keeps its
    answers): many people ask the same few questions, at many places."""
    return responsibility.ask(store, question, day)


@lru_cache(maxsize=256)
def _outcome(store, generation: int, problem: str, day: dt.date) -> guided_path.Outcome:
    """The answer at the end of the guided path for a problem, kept for a version of the graph."""
    return guided_path.outcome(store, problem, day)


@lru_cache(maxsize=256)
def _actor(store, generation: int, actor_iri: str, day: dt.date) -> tuple[dict, list[accountability.Chain],
                                                                          str | None]:
    """An actor's page: its profile (duties, oversight, successions: a dozen queries, 70 ms on
    an England-scale store), its chains to Parliament and their diagram, kept for a version of
    the graph."""
    chains, diagram = _chains(store, generation, actor_iri, day, 10)
    return actor_profile.profile(store, directory(store).resolve(actor_iri), day), chains, diagram


def _local_bodies(store, place: places.Place | None, response: responsibility.Response) -> dict[str, places.Body]:
    """The body that plays each role of the answer at the place, when a place is known."""
    if place is None:
        return {}
    roles = {h["uri"] for a in response.answers for h in a.holders + a.oversight}
    if response.escalation is not None:
        roles |= {s.actor["uri"] for s in response.escalation.steps}
    return {role: places.body_for(store, place, role) for role in roles}


# -- policy teams: alignment and a council's profile --------------------------------------------

@router.get("/pages/alignment", response_class=HTMLResponse)
def alignment_page(request: Request, as_of: str | None = Query(None), from_: str | None = Query(None, alias="from"),
                   to: str | None = Query(None)) -> HTMLResponse:
    from caregraph import alignment

    day, problem = _day(as_of)
    start = end = None
    try:
        start = parse_day(from_) if from_ else None
        end = parse_day(to) if to else None
        result = None if problem else alignment.alignment(request.app.state.store, day, start, end)
    except ValueError as exc:
        problem = str(exc)
    if problem:
        return _render(request, "message.html", 400, title="Check the dates", message=problem)
    counts = {(c["theme"], c["sector"]): c["count"] for c in result["matrix"]["cells"]}
    top = max(counts.values(), default=0) or 1
    return _render(request, "alignment.html", title="Alignment of housing, health and care duties", result=result,
                   counts=counts, top=top, as_of=as_of or "", from_=from_ or "", to=to or "")


@router.get("/pages/councils/{council}", response_class=HTMLResponse)
def council_page(request: Request, council: str, as_of: str | None = Query(None)) -> HTMLResponse:
    from caregraph import quality

    day, problem = _day(as_of)
    if problem:
        return _render(request, "message.html", 400, title="Check the date", message=problem)
    try:
        result = quality.council_profile(request.app.state.store, council, day)
    except quality.QualityError as exc:
        return not_found(request, str(exc))
    return _render(request, "council.html", title=f"Quality of care in {result['quality']['area']['label']}",
                   result=result, area=result["quality"], as_of=as_of or "")
