"""The catalogue as the sale screen shows it, kept in memory between requests.

Every load of the sale screen shows the group's titles with their prices, its subscription offers
and the currencies it sells in. They change a few times a month and the screen is loaded all day,
so each worker keeps a copy per group, as plain values, keyed by the group's ``catalogue_stamp``.
Every flush that changes a title, price or offer of the group gives it a new stamp in the same
transaction (``stock.models``), and the group row each group page loads anyway carries it: a
price changed in one worker is seen on the next screen in every worker, and checking costs no
statement.

The copy is read after the stamp (the permission check loads the group first), so it is never
older than the stamp it is kept under; at worst it is newer, and read again on the next load.
A copy read with this transaction's own changes is kept under the new stamp those changes gave
the group, which no other transaction sees unless they are committed.
"""

from collections.abc import Collection
from dataclasses import dataclass
from threading import Lock
from typing import NamedTuple

import sqlalchemy as sa
from sqlalchemy.orm import Session, selectinload

from stallapp.accounts.models import Group
from stallapp.stock import services as stock
from stallapp.stock.models import Publication

#: Groups whose catalogue a worker keeps at most; the least recently read is dropped first.
KEPT_GROUPS = 256


class Price(NamedTuple):
    currency: str
    #: Minor units.
    amount: int


@dataclass(frozen=True)
class CatalogueTitle:
    """What a tile and the picker show of a title."""

    id: int
    full_title: str
    is_free: bool
    active: bool
    prices: tuple[Price, ...]

    def price_in(self, currency: str) -> int | None:
        """Return the list price in ``currency`` (minor units), or None when it has none."""
        return next((price.amount for price in self.prices if price.currency == currency), None)


@dataclass(frozen=True)
class CatalogueOffer:
    """An active subscription offer and its prices, by currency."""

    id: int
    name: str
    prices: tuple[Price, ...]


@dataclass(frozen=True, eq=False)
class SaleCatalogue:
    """One reading of a group's catalogue; compared and hashed as that reading (by identity), so
    what is made from it can be kept with it."""

    #: Every title of the group, active or not (a title packed before it was retired still
    #: sells), alphabetically by title and issue.
    titles: tuple[CatalogueTitle, ...]
    #: The active offers, by name.
    offers: tuple[CatalogueOffer, ...]
    #: Every currency a title or an offer has a price in.
    currencies: frozenset[str]

    def packed(self, ids: Collection[int]) -> list[CatalogueTitle]:
        """Return the titles among ``ids`` (those packed for an event), alphabetically."""
        return [title for title in self.titles if title.id in ids]

    def others(self, ids: Collection[int]) -> list[tuple[int, str]]:
        """Return ``(id, title with its issue)`` of the active titles not among ``ids``."""
        return [
            (title.id, title.full_title)
            for title in self.titles
            if title.active and title.id not in ids
        ]


_kept: dict[int, tuple[str, SaleCatalogue]] = {}
_kept_lock = Lock()


def sale_catalogue(session: Session, group: Group) -> SaleCatalogue:
    """Return ``group``'s catalogue for the sale screen: the copy kept under its stamp, or read
    now (and kept) when the catalogue changed since or this worker has none."""
    # Changes of this transaction not yet sent would be read into the copy below: sending them
    # now gives the group a stamp of its own (stock.models), under which nothing is ever kept
    # for another transaction, committed or rolled back. Without such changes this does nothing.
    session.flush()
    stamp = group.catalogue_stamp
    with _kept_lock:
        kept = _kept.pop(group.id, None)
        if kept is not None and stamp and kept[0] == stamp:
            _kept[group.id] = kept  # now the most recently read
            return kept[1]
    catalogue = read_sale_catalogue(session, group)
    if stamp:
        with _kept_lock:
            _kept[group.id] = (stamp, catalogue)
            while len(_kept) > KEPT_GROUPS:
                del _kept[next(iter(_kept))]
    return catalogue


def forget_kept_catalogues() -> None:
    """Drop every kept copy, so the next screen reads its catalogue again (tests use it)."""
    with _kept_lock:
        _kept.clear()


def _prices(rows) -> tuple[Price, ...]:
    return tuple(Price(row.currency, row.amount) for row in rows)


def read_sale_catalogue(session: Session, group: Group) -> SaleCatalogue:
    """Read ``group``'s catalogue from the database: titles, their prices, offers and theirs."""
    publications = session.scalars(
        sa.select(Publication)
        .where(Publication.group_id == group.id)
        .options(selectinload(Publication.prices))
        .order_by(Publication.title, Publication.issue_number, Publication.id)
    )
    titles = tuple(
        CatalogueTitle(
            id=publication.id,
            full_title=publication.full_title,
            is_free=publication.is_free,
            active=publication.active,
            prices=_prices(publication.prices),
        )
        for publication in publications
    )
    # Retired offers too: their prices' currencies stay on the screen's menus.
    offers = stock.subscription_offers_of(session, group)
    currencies = {price.currency for title in titles for price in title.prices}
    currencies.update(price.currency for offer in offers for price in offer.prices)
    return SaleCatalogue(
        titles=titles,
        offers=tuple(
            CatalogueOffer(
                id=offer.id,
                name=offer.name,
                prices=_prices(offer.prices),
            )
            for offer in offers
            if offer.active
        ),
        currencies=frozenset(currencies),
    )
