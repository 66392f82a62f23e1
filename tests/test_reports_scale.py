"""Reports aggregate in SQL: a page runs the same number of statements for a handful of sale
lines as for a group with 500 events, 200 titles and 100,000 sale lines."""

from bench.dataset import load_history
from stallapp.reports import group_report as group_reports

BIG = {"events": 500, "titles": 200, "lines": 100_000}
#: On PostgreSQL the full set takes over a minute to insert on the 2-core test machine, so the
#: same check runs there on a tenth of it (still far bigger than SMALL); SQLite gets it all.
BIG_POSTGRESQL = {"events": 100, "titles": 100, "lines": 10_000}
SMALL = {"events": 6, "titles": 12, "lines": 60}


def pages(group_slug: str, event_id: int) -> list[str]:
    return [
        f"/groups/{group_slug}/reports/events/{event_id}",
        f"/groups/{group_slug}/events/{event_id}/close-out",
        f"/groups/{group_slug}/reports",
        f"/groups/{group_slug}/reports/events/{event_id}/titles.csv",
        f"/groups/{group_slug}/reports/titles.csv",
        f"/groups/{group_slug}/reports/stock.csv",
        f"/groups/{group_slug}/reports/unfilled.csv",
    ]


def statements_per_page(client, count_statements, slug: str, event_id: int) -> dict[str, int]:
    counts = {}
    for url in pages(slug, event_id):
        client.get(url)  # warm caches (the first request compiles templates)
        with count_statements() as counter:
            response = client.get(url)
        assert response.status_code == 200, url
        counts[url.replace(slug, "<group>").replace(f"/{event_id}", "/<event>")] = counter.count
    return counts


def build(db, make_group, make_user, slug: str, sizes: dict):
    group = make_group(slug=slug)
    organiser = make_user(groups={group: "organiser"})
    history = load_history(db.session, group, organiser, close_out=True, **sizes)
    db.session.commit()
    return group, organiser, history


def test_report_pages_run_a_fixed_number_of_statements(
    app, db, make_group, make_user, count_statements, backend
):
    _small_group, small_organiser, small = build(db, make_group, make_user, "small", SMALL)
    sizes = BIG if backend == "sqlite" else BIG_POSTGRESQL
    big_group, big_organiser, big = build(db, make_group, make_user, "big", sizes)
    assert big.lines == sizes["lines"] and len(big.event_ids) == sizes["events"]
    assert len(big.publication_ids) == sizes["titles"]

    small_client = app.test_client()
    small_client.post(
        "/login", data={"email": small_organiser.email, "password": "correct horse battery"}
    )
    big_client = app.test_client()
    big_client.post(
        "/login", data={"email": big_organiser.email, "password": "correct horse battery"}
    )

    small_counts = statements_per_page(small_client, count_statements, "small", small.event_ids[-1])
    big_counts = statements_per_page(big_client, count_statements, "big", big.event_ids[-1])
    assert big_counts == small_counts
    assert max(big_counts.values()) <= 25, big_counts

    # The big group's report really covers the year: every sale line is in the totals.
    period = group_reports.default_period(_today(big_group))
    titles = group_reports.sales_by_title(db.session, big_group, period)
    assert sum(t.sold + t.given_away for t in titles) > sizes["lines"]


def _today(group):
    from stallapp.database import utcnow
    from stallapp.times import utc_to_local

    return utc_to_local(utcnow(), group.timezone).date()
