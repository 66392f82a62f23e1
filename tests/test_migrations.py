"""``flask db upgrade`` from empty builds exactly the schema the models describe."""

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade

from stallapp import create_app
from stallapp.extensions import db
from tests.conftest import (
    RUN_DATABASE,
    base_test_config,
    create_scratch_database,
    drop_scratch_database,
    require_postgres_or_skip,
)


@pytest.fixture(params=["sqlite", "postgresql"])
def empty_database_url(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'migrated.sqlite'}"
        return
    require_postgres_or_skip()
    scratch = RUN_DATABASE + "_migration_check"
    yield create_scratch_database(scratch)
    drop_scratch_database(scratch)


def test_upgrade_from_empty_matches_the_models(empty_database_url):
    app = create_app(base_test_config(empty_database_url))
    with app.app_context():
        upgrade()
        with db.engine.connect() as connection:
            context = MigrationContext.configure(
                connection, opts={"compare_type": True, "render_as_batch": True}
            )
            differences = compare_metadata(context, db.metadata)
        db.engine.dispose()
    assert differences == []
