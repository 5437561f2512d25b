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

The file's form is read here rather than by the frame's CSRF check: a multipart body is read
as it streams in, cut at the import's size limit (:data:`MAX_CSV_BYTES`), and only then is its
token compared to the session's (``X-CSRF-Token`` or the form's field).
"""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import HTMLResponse
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from reseau_poles.portal.accounts import User
from reseau_poles.portal.auth import (
    CSRF_FIELD,
    CSRF_HEADER,
    LoginRequired,
    PageError,
    audit,
    open_session,
    see_other,
)
from reseau_poles.portal.templating import render, text, wants_fragment

from ..api.deps import services
from ..services.csv_import import ImportBusy
from ..services.csv_io import COLUMNS, MAX_CSV_BYTES
from ..services.import_jobs import ImportJob
from .common import MANAGE, Manager, call, part
from .portal import PREFIX

router = APIRouter(prefix=PREFIX, include_in_schema=False)

HOME = f"{PREFIX}/produits/import"
FILE_FIELD = "fichier"
_FORM_FIELDS = 10


class TooLarge(Exception):
    pass


def job_url(job_id: str, what: str = "") -> str:
    return f"{HOME}/{job_id}" + (f"/{what}" if what else "")


async def _capped(request: Request) -> AsyncIterator[bytes]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > MAX_CSV_BYTES + 64 * 1024:  # the form's own boundaries and fields
            raise TooLarge()
        yield chunk


async def _upload(request: Request) -> tuple[User, FormData]:
    """The signed-in manager and the file's form, its CSRF token checked."""
    found = await open_session(request)
    if found is None:
        raise LoginRequired()
    if not found.user.has_role(MANAGE):
        raise PageError(403, "erreur.role_requis", roles=text(request, "role.gestion"))
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
    given = request.headers.get(CSRF_HEADER) or form.get(CSRF_FIELD)
    if not isinstance(given, str) or not secrets.compare_digest(
        given.encode(), found.csrf_token.encode()
    ):
        await form.close()
        raise PageError(403, "erreur.csrf")
    return found.user, form


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
async def preview(request: Request) -> Response:
    user, form = await _upload(request)
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
