"""Model URIs: ``models:/NAME@ALIAS`` and ``models:/NAME/VERSION`` (MLflow's forms)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from driftline.exceptions import ValidationError

__all__ = ["ModelRef", "check_alias", "check_name", "parse_model_ref"]

_NAME = r"[A-Za-z0-9][A-Za-z0-9._-]{0,127}"
_ALIAS = r"[A-Za-z][A-Za-z0-9_-]{0,63}"
_FORMS = [
    re.compile(rf"models:/(?P<name>{_NAME})/(?P<version>\d+)"),
    re.compile(rf"models:/(?P<name>{_NAME})@(?P<alias>{_ALIAS})"),
    re.compile(rf"(?P<name>{_NAME})/(?P<version>\d+)"),
    re.compile(rf"(?P<name>{_NAME})@(?P<alias>{_ALIAS})"),
    re.compile(rf"(?P<name>{_NAME})"),
]


@dataclass(frozen=True)
class ModelRef:
    """A parsed reference: a name with a version, an alias, or neither (the latest)."""

    name: str
    version: int | None = None
    alias: str | None = None

    @property
    def uri(self) -> str:
        """The canonical ``models:/`` form."""
        if self.alias:
            return f"models:/{self.name}@{self.alias}"
        if self.version is not None:
            return f"models:/{self.name}/{self.version}"
        return f"models:/{self.name}"


def parse_model_ref(text: str) -> ModelRef:
    """Parse ``models:/n/3``, ``models:/n@champion``, ``n/3``, ``n@champion`` or ``n``.

    >>> parse_model_ref("models:/fraud@champion")
    ModelRef(name='fraud', version=None, alias='champion')
    """
    for form in _FORMS:
        match = form.fullmatch(text.strip())
        if match:
            groups = match.groupdict()
            version = groups.get("version")
            if version is not None and int(version) < 1:
                break
            return ModelRef(groups["name"], int(version) if version else None, groups.get("alias"))
    raise ValidationError(
        f"{text!r} is not a model reference; use models:/NAME/VERSION, models:/NAME@ALIAS, "
        "NAME/VERSION, NAME@ALIAS or NAME"
    )


def check_name(name: str, what: str = "model name") -> str:
    """``name`` if it is a valid model name, else a ValidationError."""
    if not re.fullmatch(_NAME, name):
        raise ValidationError(
            f"{what} {name!r} is invalid: use letters, digits, '.', '_' or '-' (at most 128), "
            "starting with a letter or digit"
        )
    return name


def check_alias(alias: str) -> str:
    """``alias`` if it is a valid alias (a letter first; digits alone would read as versions)."""
    if not re.fullmatch(_ALIAS, alias):
        raise ValidationError(
            f"alias {alias!r} is invalid: start with a letter, then letters, digits, '_' or '-'"
        )
    return alias
