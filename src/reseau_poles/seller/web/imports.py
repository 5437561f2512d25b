"""The CSV import of the pôle's products (``/gestion/produits/import``, role ``gestion``): a
preview first, with every refused row and why, while nothing is written; then, confirmed,
the import in the background with its progress bar; then what it did.

GET  /gestion/produits/import                    the file's form, the columns, the last imports
POST /gestion/produits/import                    the file checked (the import's dry run): the
                                                 preview, its errors row by row (422), or the
                                                 first rows and the button that confirms
GET  /gestion/produits/import/{id}               one import: waiting, running, or its report
POST /gestion/produits/import/{id}               confirm: the import starts (htmx: its progress
                                                 swapped in; without JavaScript: 303 to its page,
                                                 which a link refreshes)
GET  /gestion/produits/import/{id}/progression   the progress (htmx polls it every second until
                                                 the report)

The file's form is read by :func:`capped_form` before the frame's CSRF check reads it: a
multipart body is read as it streams in, cut at the import's size limit
(:data:`MAX_CSV_BYTES`), and only then is its token compared to the session's
(``X-CSRF-Token`` or the form's field) by :func:`~reseau_poles.portal.auth.current_user`.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import (
    LoginRequired,
    PageError,
    audit,
    open_session,
    see_other,
)
from reseau_poles.portal.templating import render, wants_fragment

from ..api.deps import services
from ..services.csv_import import ImportBusy
from ..services.csv_io import COLUMNS, MAX_CSV_BYTES
from ..services.import_jobs import ImportJob
from .common import Manager, call, part
from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

HOME = f"{PREFIX}/produits/import"
FILE_FIELD = "fichier"
_FORM_FIELDS = 10


class TooLarge(Exception):
    pass


def job_url(job_id: str, what: str = "") -> str:
    return f"{HOME}/{job_id}" + (f"/{what}" if what else "")


async def _capped(request: Request) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_CSV_BYTES + 64 * 1024:  # the form's own boundaries and fields
            raise TooLarge()
        yield chunk


async def capped_form(request: Request) -> FormData:
    """The file's form, read as it streams in and cut at the import's size limit, for a
    signed-in person only (else to the sign-in page before the body is read). It is left
    where Starlette keeps a request's parsed form, so the frame's CSRF check (the route's
    next dependency, :data:`.common.Manager`) reads its token from it instead of parsing an
    uncapped body again."""
    if await open_session(request) is None:
        raise LoginRequired()
    kind = request.headers.get("content-type", "")
    if not kind.startswith("multipart/form-data"):
        raise PageError(400, "gestion.import.formulaire_illisible")
    parser = MultiPartParser(
        request.headers,
        _capped(request),
        max_files=1,
        max_fields=_FORM_FIELDS,
        max_part_size=64 * 1024,
    )
    try:
        form = await parser.parse()
    except TooLarge:
        raise PageError(413, "gestion.import.trop_gros", mo=MAX_CSV_BYTES // 1_000_000) from None
    except MultiPartException:
        raise PageError(400, "gestion.import.formulaire_illisible") from None
    request._form = form  # Starlette's cache of the parsed form (request.form() returns it)
    return form


CappedForm = Annotated[FormData, Depends(capped_form)]


def _columns() -> list[str]:
    return [column.name for column in COLUMNS]


async def _home(
    request: Request, user: User, status: int = 200, error: str | None = None, **params: Any
) -> HTMLResponse:
    recent = await call(services(request).import_jobs.recent, user.organisation_id)
    return render(
        request,
        "gestion/import.html",
        {
            "recent": recent,
            "columns": _columns(),
            "error": error,
            "error_params": params,
            "max_mo": MAX_CSV_BYTES // 1_000_000,
            "job_url": job_url,
        },
        status,
    )


@router.get("/produits/import", name="gestion_import")
async def import_page(request: Request, user: Manager) -> HTMLResponse:
    return await _home(request, user)


@router.post("/produits/import", name="gestion_import_preview")
async def preview(request: Request, form: CappedForm, user: Manager) -> Response:
    # Declared first, ``form`` is read (capped) before ``user``'s CSRF check reads its token.
    try:
        upload = form.get(FILE_FIELD)
        if not isinstance(upload, UploadFile) or not upload.filename:
            return await _home(request, user, 422, "gestion.import.fichier_manquant")
        content = await upload.read(MAX_CSV_BYTES + 1)
        filename = upload.filename
    finally:
        await form.close()
    if len(content) > MAX_CSV_BYTES:
        raise PageError(413, "gestion.import.trop_gros", mo=MAX_CSV_BYTES // 1_000_000)
    jobs = services(request).import_jobs
    try:
        report, job = await call(jobs.preview, user.organisation_id, user.id, filename, content)
    except ImportBusy:
        return await _home(request, user, 409, "gestion.import.deja_en_cours")
    await audit(
        request,
        user,
        "produits.import_apercu",
        filename[:255],
        {"lignes": report.rows, "erreurs": report.error_count},
    )
    sample = await call(jobs.sample, user.organisation_id, content) if job is not None else []
    return render(
        request,
        "gestion/import_apercu.html",
        {
            "filename": filename,
            "report": report,
            "job": job,
            "sample": sample,
            "columns": _columns(),
            "job_url": job_url,
            "max_mo": MAX_CSV_BYTES // 1_000_000,
        },
        422 if report.error_count or job is None else 200,
    )


async def _job(request: Request, user: User, job_id: str) -> ImportJob:
    job = await call(services(request).import_jobs.job, user.organisation_id, job_id)
    if job is None:
        raise PageError(404, "gestion.import.introuvable")
    return job


def _progress(request: Request, job: ImportJob, status: int = 200) -> HTMLResponse:
    return part(
        request, "gestion/_import_progression.html", {"job": job, "job_url": job_url}, status
    )


@router.get("/produits/import/{job_id}", name="gestion_import_job")
async def job_page(request: Request, job_id: str, user: Manager) -> HTMLResponse:
    job = await _job(request, user, job_id)
    return render(request, "gestion/import_suivi.html", {"job": job, "job_url": job_url})


@router.get("/produits/import/{job_id}/progression", name="gestion_import_progress")
async def progress(request: Request, job_id: str, user: Manager) -> Response:
    job = await _job(request, user, job_id)
    if not wants_fragment(request):
        return see_other(request, job_url(job.id))
    return _progress(request, job)


@router.post("/produits/import/{job_id}", name="gestion_import_start")
async def start(request: Request, job_id: str, user: Manager) -> Response:
    jobs = services(request).import_jobs
    try:
        job = await call(jobs.start, user.organisation_id, job_id)
    except ImportBusy:
        if wants_fragment(request):
            job = await _job(request, user, job_id)
            return part(
                request,
                "gestion/_import_progression.html",
                {"job": job, "job_url": job_url, "busy": True},
                409,
            )
        return see_other(request, job_url(job_id), error="gestion.import.deja_en_cours")
    if job is None:
        raise PageError(404, "gestion.import.introuvable")
    await audit(
        request,
        user,
        "produits.import_confirme",
        job.id,
        {"fichier": job.filename, "lignes": job.total},
    )
    if wants_fragment(request):
        return _progress(request, job)
    return see_other(request, job_url(job.id))
