"""SQL pieces the reports share: expressions that differ between SQLite and PostgreSQL, and the
filters that count a sale once (undos subtracted, undone sales left out)."""

import sqlalchemy as sa
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import aliased

from stallapp.sales.models import Sale
from stallapp.stock.models import Publication


class minutes_between(sa.sql.expression.FunctionElement):
    """Whole minutes from the first timestamp to the second, computed by the database."""

    type = sa.Integer()
    inherit_cache = True
    name = "minutes_between"


@compiles(minutes_between)
def _minutes_between_postgresql(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"CAST(ROUND(EXTRACT(EPOCH FROM ({compiler.process(end, **kw)} - "
        f"{compiler.process(start, **kw)})) / 60) AS INTEGER)"
    )


@compiles(minutes_between, "sqlite")
def _minutes_between_sqlite(element, compiler, **kw):
    start, end = list(element.clauses)
    return (
        f"CAST(ROUND((julianday({compiler.process(end, **kw)}) - "
        f"julianday({compiler.process(start, **kw)})) * 1440) AS INTEGER)"
    )


class year_month(sa.sql.expression.FunctionElement):
    """The ``YYYY-MM`` of a timestamp (UTC), computed by the database."""

    type = sa.String()
    inherit_cache = True
    name = "year_month"


@compiles(year_month)
def _year_month_postgresql(element, compiler, **kw):
    (moment,) = list(element.clauses)
    return f"to_char({compiler.process(moment, **kw)}, 'YYYY-MM')"


@compiles(year_month, "sqlite")
def _year_month_sqlite(element, compiler, **kw):
    (moment,) = list(element.clauses)
    return f"strftime('%Y-%m', {compiler.process(moment, **kw)})"


#: The columns a query grouping by title groups by, so titles sort as people read them.
TITLE_GROUP = (Publication.title, Publication.issue_number)


def signed(column):
    """``column`` counted positively on a sale and negatively on the undo that reverses it."""
    return sa.case((Sale.reverses_id.is_(None), column), else_=-column)


def standing(query: sa.Select) -> sa.Select:
    """Keep only sale lines whose sale was not undone. (An undo is a sale row of its own with
    no lines, so a query joining lines never counts it; testing ``reverses_id IS NULL`` here
    would only tempt the planner into scanning that column's index.)"""
    undo = aliased(Sale)
    return query.where(~sa.exists().where(undo.reverses_id == Sale.id))
