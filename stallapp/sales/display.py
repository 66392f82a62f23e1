"""How sales read on the sale screen and in reports: the labels of their kinds and payments."""

from flask_babel import lazy_gettext as _l

from stallapp.sales.models import PaymentMethod, SaleKind

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
