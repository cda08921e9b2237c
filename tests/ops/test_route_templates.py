"""Route templates of requests that never reached the router (refusals, 404s) are kept by
path; what is kept is what matching the routes again would answer, for every method."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from jiraguard.app import create_app
from jiraguard.observe import RouteTemplates, route_template
from jiraguard.settings import validate_settings

_APP = create_app(validate_settings({"storage": {"url": "sqlite:///:memory:"}}))
_ROUTES = _APP.router.routes
_segment = st.sampled_from(
    ["rest", "api", "2", "latest", "issue", "P-1", "comment", "10", "myself", "search",
     "project", "P", "versions", "version", "move", "field", "filter", "", "x" * 600]
)  # fmt: skip
_path = st.lists(_segment, min_size=1, max_size=7).map(lambda parts: "/" + "/".join(parts))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(_path, st.sampled_from(["GET", "POST", "DELETE", "BREW"]))))
def test_kept_templates_are_the_routes_answer(requests: list[tuple[str, str]]) -> None:
    templates = RouteTemplates(_ROUTES)
    for path, method in requests * 2:  # the second time from what was kept
        scope = {"type": "http", "path": path, "root_path": "", "method": "GET"}
        assert templates.of(None, method, path, "") == route_template(_ROUTES, scope)


def test_what_is_kept_is_bounded() -> None:
    templates = RouteTemplates(_ROUTES)
    for n in range(RouteTemplates._KEPT + 10):
        assert templates.of(None, "GET", f"/rest/api/2/issue/P-{n}", "") == (
            "/rest/api/2/issue/{issue}"
        )
    assert len(templates._by_path) <= RouteTemplates._KEPT
    templates.of(None, "GET", "/" + "y" * 5000, "")
    assert ("", "/" + "y" * 5000) not in templates._by_path
