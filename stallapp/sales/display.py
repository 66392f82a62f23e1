"""How sales read on the sale screen and in reports: the labels of their kinds and payments, and
the picker's list of titles."""

from functools import lru_cache

from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from stallapp.sales.models import PaymentMethod, SaleKind
from stallapp.stock.sale_catalogue import SaleCatalogue

KIND_LABELS = {
    SaleKind.SALE: _l("Sales"),
    SaleKind.GIVEAWAY: _l("Give-aways"),
    SaleKind.DONATION: _l("Donations"),
    SaleKind.SUBSCRIPTION: _l("Subscriptions"),
}
PAYMENT_LABELS = {
    PaymentMethod.CASH: _l("Cash"),
    PaymentMethod.CARD: _l("Card"),
    PaymentMethod.OTHER: _l("Other"),
}


@lru_cache(maxsize=64)
def unpacked_title_options(
    catalogue: SaleCatalogue, packed_ids: frozenset[int], chosen_id: int | None
) -> Markup:
    """The picker's ``<option>`` of each active title not packed for the event, ``chosen_id``
    selected; made once per kept catalogue, packing and choice.

    The whole catalogue is in the picker, and for 200 titles making these options cost more
    than the rest of the sale screen's template.
    """
    option = Markup('<option value="{}"{}>{}</option>')
    selected = Markup(" selected")
    return Markup("").join(
        option.format(title_id, selected if title_id == chosen_id else "", title)
        for title_id, title in catalogue.others(packed_ids)
    )
