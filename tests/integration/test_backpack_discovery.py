"""Discovery against the test backpack: which API is found, and malformed documents
refused with a clear message before anything is registered."""

from __future__ import annotations

import pytest

from lti_badges.backpack import service
from lti_badges.backpack.service import BackpackServiceError
from lti_badges.extensions import db
from lti_badges.models import BackpackConnection, Person
from tests.backpack_server import BackpackServer

pytest_plugins = ["tests.backpack_server.fixtures"]


def _start(app, person_id, address, **kw):
    with app.app_context():
        return service.start_connect(db.session.get(Person, person_id), address, **kw)


def test_ob3_is_preferred_and_ob21_found_alone(app, learner):
    with BackpackServer() as both, BackpackServer(apis=("ob21",)) as only21:
        _start(app, learner, both.base_url)
        _start(app, learner, only21.base_url)
        with app.app_context():
            kinds = [c.kind for c in db.session.scalars(
                db.select(BackpackConnection).order_by(BackpackConnection.id))]
        assert kinds == ["ob30", "ob21"]


@pytest.mark.parametrize("kind,how,words", [
    ("ob30", "not_json", "is not JSON"),
    ("ob30", "missing_token_url", "has no tokenUrl"),
    ("ob21", "bad_url", "is not an http(s) URL"),
    ("ob21", "empty", "lists no badgeConnectAPI"),
    ("ob30", "no_push_scope", "does not let other sites add badges"),
])
def test_malformed_discovery_is_a_clear_error(app, learner, kind, how, words):
    with BackpackServer(apis=(kind,)) as bp:
        bp.malformed = {kind: how}
        with pytest.raises(BackpackServiceError) as err:
            _start(app, learner, bp.base_url)
        assert words in err.value.message
        assert bp.store.registrations == 0


def test_nothing_there(app, learner):
    with BackpackServer(apis=()) as bp:
        with pytest.raises(BackpackServiceError, match="No Open Badges backpack was found"):
            _start(app, learner, bp.base_url)


def test_production_mode_refuses_loopback_backpacks(app, learner):
    with BackpackServer() as bp:
        app.config["ENV"] = "production"
        try:
            with pytest.raises(BackpackServiceError, match="must use HTTPS"):
                _start(app, learner, bp.base_url)
            with pytest.raises(BackpackServiceError, match="non-public address"):
                _start(app, learner, bp.base_url.replace("http://", "https://"))
        finally:
            app.config["ENV"] = "test"
        assert bp.store.registrations == 0
