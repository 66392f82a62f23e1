"""Walk every route and check that nobody reaches what their role does not allow.

A route added later must either be listed in ``stallapp.permissions.PUBLIC_ENDPOINTS`` or be
wrapped by a guard; and a URL argument it takes must be known to ``url_arguments`` below.
"""

from stallapp.permissions import PERMISSION_ATTRIBUTE, PUBLIC_ENDPOINTS
from tests.route_world import client_as, url_of

ALLOWED_FOR_OUTSIDERS = {302, 403, 404, 405}


def _routes(app):
    for rule in app.url_map.iter_rules():
        methods = sorted(rule.methods - {"HEAD", "OPTIONS"})
        yield rule, methods


def test_every_view_is_public_or_guarded(app):
    unguarded = []
    for rule, _methods in _routes(app):
        view = app.view_functions[rule.endpoint]
        if rule.endpoint not in PUBLIC_ENDPOINTS and not hasattr(view, PERMISSION_ATTRIBUTE):
            unguarded.append(rule.endpoint)
    assert unguarded == []


def test_public_list_names_only_real_endpoints(app):
    assert set(app.view_functions) >= PUBLIC_ENDPOINTS


def _call(client, method, url):
    return client.open(url, method=method, data={})


def test_anonymous_is_sent_to_login(app, world):
    client = app.test_client()
    for rule, methods in _routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        with app.test_request_context():
            url = url_of(rule, world["arguments"])
        for method in methods:
            response = _call(client, method, url)
            assert response.status_code == 302, (method, url, response.status_code)
            assert "/login" in response.headers["Location"], (method, url)


def _required(app, rule) -> str:
    return getattr(app.view_functions[rule.endpoint], PERMISSION_ATTRIBUTE)


def test_outsiders_and_low_roles_are_refused(app, world):
    clients = {name: client_as(app, world[name]) for name in ("outsider", "member")}
    checked = 0
    for rule, methods in _routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS:
            continue
        required = _required(app, rule)
        with app.test_request_context():
            url = url_of(rule, world["arguments"])
        refused_to = []
        if required.startswith("group:"):
            refused_to.append("outsider")
        if required in ("group:organiser", "admin"):
            refused_to.append("member")
        for name in refused_to:
            for method in methods:
                response = _call(clients[name], method, url)
                assert response.status_code in ALLOWED_FOR_OUTSIDERS - {302}, (
                    name,
                    method,
                    url,
                    response.status_code,
                )
                checked += 1
        if required.startswith("group:"):
            for method in methods:
                response = _call(clients["outsider"], method, url)
                assert response.status_code == 404, ("outsider must not learn it exists", url)
    assert checked > 0


def test_the_right_role_gets_in(app, world):
    organiser = client_as(app, world["organiser"])
    member = client_as(app, world["member"])
    for rule, methods in _routes(app):
        if rule.endpoint in PUBLIC_ENDPOINTS or "GET" not in methods:
            continue
        required = _required(app, rule)
        with app.test_request_context():
            url = url_of(rule, world["arguments"])
        if required == "group:member":
            assert member.get(url).status_code == 200, url
        if required in ("group:member", "group:organiser", "login"):
            assert organiser.get(url).status_code == 200, url
