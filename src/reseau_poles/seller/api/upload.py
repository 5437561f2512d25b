"""The CSV file of a product import, as the management API receives it: the raw body
(``Content-Type: text/csv``, ``curl --data-binary @produits.csv``) or a form upload
(``multipart/form-data``, ``curl -F file=@produits.csv``, what a browser's file field sends).

Either way at most :data:`~reseau_poles.seller.services.csv_io.MAX_CSV_BYTES` are read (a larger body
is refused while it streams in), into a spool file (kept in memory up to
:data:`SPOOL_MEMORY`, on disk beyond), never as one string: the import reads it a line at a
time. A form's field ``file`` (or its only file) is the CSV.
"""

from __future__ import annotations

import tempfile
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager
from typing import IO

from fastapi import Request
from starlette.datastructures import FormData, UploadFile
from starlette.formparsers import MultiPartException, MultiPartParser

from reseau_poles.participant import ApiError

from ..services.csv_io import MAX_CSV_BYTES

CSV_TYPES = frozenset({"text/csv", "application/csv", "text/plain", "application/octet-stream"})
FORM_TYPE = "multipart/form-data"
FILE_FIELD = "file"
_FORM_FIELDS = 20  # a browser form may add a few fields (dry_run, a token …); ignored
SPOOL_MEMORY = 1024 * 1024


def _too_large() -> ApiError:
    return ApiError(
        413,
        "trop_volumineux",
        f"Fichier trop volumineux (au plus {MAX_CSV_BYTES // 1_000_000} Mo).",
        "$",
    )


async def _capped(request: Request, limit: int) -> AsyncGenerator[bytes, None]:
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise _too_large()
        yield chunk


async def _form(request: Request) -> FormData:
    # The form's own part headers and boundaries come on top of the file.
    parser = MultiPartParser(
        request.headers,
        _capped(request, MAX_CSV_BYTES + 64 * 1024),
        max_files=1,
        max_fields=_FORM_FIELDS,
        max_part_size=MAX_CSV_BYTES,
    )
    try:
        return await parser.parse()
    except MultiPartException as exc:
        raise ApiError(
            400,
            "formulaire_invalide",
            f"Formulaire multipart/form-data illisible ({exc.message}) : envoyez un seul "
            f"fichier, dans le champ « {FILE_FIELD} » (curl -F {FILE_FIELD}=@produits.csv).",
            "$",
        ) from None


def _check_type(request: Request) -> str:
    content_type = request.headers.get("content-type", "text/csv").split(";")[0].strip().lower()
    if content_type not in CSV_TYPES and content_type != FORM_TYPE:
        raise ApiError(
            415,
            "type_non_pris_en_charge",
            "Corps CSV attendu (Content-Type: text/csv), ou formulaire multipart/form-data "
            f"avec le fichier dans le champ « {FILE_FIELD} » (curl -F {FILE_FIELD}=@produits.csv).",
            "headers.Content-Type",
        )
    return content_type


@asynccontextmanager
async def csv_upload(request: Request) -> AsyncIterator[IO[bytes]]:
    """The CSV of an import request as a binary file at its start (closed on leaving); a
    415, 413 or 400 that says what to send."""
    if _check_type(request) != FORM_TYPE:
        with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool:
            async for chunk in _capped(request, MAX_CSV_BYTES):
                spool.write(chunk)
            spool.seek(0)
            yield spool
        return
    form = await _form(request)
    try:
        value = form.get(FILE_FIELD)
        if value is None:  # a file sent under another name: the only file of the form
            files = [v for _, v in form.multi_items() if isinstance(v, UploadFile)]
            value = files[0] if len(files) == 1 else None
        if value is None:
            raise ApiError(
                400,
                "fichier_manquant",
                f"Aucun fichier dans le formulaire : mettez le CSV dans le champ « {FILE_FIELD} » "
                f"(curl -F {FILE_FIELD}=@produits.csv).",
                FILE_FIELD,
            )
        if isinstance(value, str):  # a text field (curl -F file=<produits.csv) is the CSV
            data = value.encode("utf-8")
            if len(data) > MAX_CSV_BYTES:
                raise _too_large()
            with tempfile.SpooledTemporaryFile(max_size=SPOOL_MEMORY) as spool:
                spool.write(data)
                del data
                spool.seek(0)
                yield spool
            return
        if value.size is not None and value.size > MAX_CSV_BYTES:
            raise _too_large()
        await value.seek(0)
        yield value.file
    finally:
        await form.close()
