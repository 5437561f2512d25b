"""What ``reseau-poles`` changes in Typer so that a help page starts fast.

Two parts of Typer (0.29, the Typer ``pip install reseau-poles`` gets) took most of the start
of ``reseau-poles seller --help`` for code that a help page never runs:

* ``typer.rich_utils``, which formats help pages and errors, imports ``rich.markdown``
  (markdown-it-py, and Pygments through ``rich.syntax``) for the "markdown" markup mode, and
  ``rich.traceback`` for its exception pages: half of its import. This command line writes its
  help in the "rich" mode; the two classes are imported when first used instead.
* Every parameter that Typer processes builds its converter, a pydantic ``TypeAdapter``, even
  when the parameter is unset: each group's ``--help`` and ``--install-completion`` on the way
  to a sub-command, so that any help page below the first one loaded pydantic, and building
  the adapters of a group's defaults (``registry admin``: ``--registry``, ``--keys``) cost more
  than the rest of the help page. An unset value needs no converter, nor does a value already
  of its parameter's plain type (``str``, ``int`` or ``float`` without bounds, a ``Path``
  instance: Typer's converter gives it back as it is, after the same checks of the path), nor
  the text of a path written as ``Path`` writes it (made a ``Path`` as pydantic would, then
  checked by Typer's own function); other values get their parameter's converter, built at the
  first of them. tests/test_cli_typer.py compares them with Typer's own, value by value.

Nothing changes in what is printed. ``tests/test_cli_speed.py`` checks which modules a help page
loads; ``bench/cli_start.py`` measures the time.

The second part depends on the Typer installed. Typer 0.27 converts with Click's types, builds
no pydantic adapter and has no ``typer._coercion``: :func:`convert_on_first_value` changes
nothing there and says so (``False``). That is the Typer of the development environment
(``make install``: ``openapi-python-client``, a development dependency, requires
``typer<0.28``), so the tests of the deferral itself (tests/test_cli_typer.py and
``test_the_deferral_acts_where_typer_builds_converters``) are skipped there and run with a
newer Typer; measured with Typer 0.29.2, ``reseau-poles seller --help`` took about 0.3 s with
the deferral and 0.55 s without (pydantic loaded).
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import Any

# Classes that typer.rich_utils imports and a help page in "rich" mode does not use.
_LATER = {"rich.markdown": "Markdown", "rich.traceback": "Traceback"}


class _ImportedOnUse(type):
    """A stand-in for a class of ``rich``, imported when called, read or tested against."""

    _module: str

    def _real(cls) -> Any:
        return getattr(importlib.import_module(cls._module), cls.__name__)

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        return cls._real()(*args, **kwargs)

    def __getattr__(cls, name: str) -> Any:
        return getattr(cls._real(), name)

    def __instancecheck__(cls, instance: Any) -> bool:
        return isinstance(instance, cls._real())


def import_rich_utils() -> ModuleType:
    """``typer.rich_utils``, imported without ``rich.markdown`` and ``rich.traceback``: while it
    is imported, modules holding stand-ins take their place, and are withdrawn afterwards (a
    later ``import rich.markdown`` gets the real one). Should a Typer use them otherwise, it is
    imported outright."""
    if "typer.rich_utils" in sys.modules:
        return sys.modules["typer.rich_utils"]
    stand_ins = {}
    for module, name in _LATER.items():
        if module not in sys.modules:
            stand_in = ModuleType(module)
            setattr(stand_in, name, _ImportedOnUse(name, (), {"_module": module}))
            stand_ins[module] = stand_in
    sys.modules.update(stand_ins)
    try:
        return importlib.import_module("typer.rich_utils")
    except Exception:  # any trouble: the plain import below decides
        pass
    finally:
        for module, stand_in in stand_ins.items():
            if sys.modules.get(module) is stand_in:
                del sys.modules[module]
    return importlib.import_module("typer.rich_utils")


def convert_on_first_value() -> bool:
    """Typer's parameters build their converter at their first value, not when processed.

    ``True`` once done; ``False`` on a Typer that builds no converter per parameter (before
    0.29: nothing to defer)."""
    try:
        # Typer's private modules, absent from the versions that convert otherwise.
        from typer._coercion import (  # type: ignore[import-not-found]
            RuntimeParam,
            TypeDescriptor,
            build_runtime_param,
        )
        from typer._param_types import coerce_cli_path  # type: ignore[import-not-found]
        from typer.core import _TyperParameter  # type: ignore[attr-defined]
    except ImportError:  # a Typer converting otherwise: nothing to defer
        return False
    if not hasattr(_TyperParameter, "get_runtime_param"):
        return False

    @dataclass(frozen=True)
    class OnFirstValue(RuntimeParam):
        """A parameter's converter until it receives a value that needs one."""

        descriptor: TypeDescriptor

        def _coerce_value(self, value: Any, param: Any, ctx: Any) -> Any:
            info, kind = self.parameter_info, self.annotation
            if self.descriptor.file_annotation is None and info.parser is None:
                if kind is str and type(value) is str:
                    return value
                if kind in (int, float) and type(value) is kind and info.min is info.max is None:
                    return value
                if isinstance(kind, type) and issubclass(kind, Path):
                    path = self._path(value, info.path_type or kind)
                    if path is not None:
                        try:
                            return coerce_cli_path(
                                path, info, path_type=info.path_type or kind, param=param, ctx=ctx
                            )
                        except ValueError:  # a NUL in the path: Typer's converter words it
                            pass
            param._runtime_param = build_runtime_param(self.descriptor)
            return param._runtime_param.coerce(value, param=param, ctx=ctx)

        @staticmethod
        def _path(value: Any, path_type: type) -> Any:
            """``value`` as pydantic would make it a path, if it needs no pydantic to."""
            if isinstance(value, path_type):
                return value
            if type(value) is str and issubclass(path_type, Path):
                path = path_type(value)
                if str(path) == value:  # written the same in Typer's messages
                    return path
            return None

    def get_runtime_param(self: Any) -> RuntimeParam:
        if self._runtime_param is None:
            descriptor = self.type_descriptor
            self._runtime_param = OnFirstValue(
                descriptor.parameter_info, descriptor.annotation, descriptor
            )
        return self._runtime_param

    _TyperParameter.get_runtime_param = get_runtime_param  # type: ignore[method-assign, unused-ignore]  # needed with the Typer of a plain install
    return True
