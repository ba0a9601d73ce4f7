"""get-or-create that survives a concurrent twin (two syncs or launches creating one row)."""

from __future__ import annotations

from typing import Any, TypeVar

from sqlalchemy.exc import IntegrityError

from lti_badges.extensions import db

M = TypeVar("M")


def get_or_create(model: type[M], **keys: Any) -> M:
    row = db.session.scalar(db.select(model).filter_by(**keys))
    if row is not None:
        return row
    try:
        with db.session.begin_nested():  # a savepoint: losing the race rolls back only this
            row = model(**keys)
            db.session.add(row)
        return row
    except IntegrityError:
        row = db.session.scalar(db.select(model).filter_by(**keys))
        if row is None:
            raise
        return row
