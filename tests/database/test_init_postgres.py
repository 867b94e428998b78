"""``database init`` on PostgreSQL creates the database it names, or says who must."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from database.engine import display_url
from database.schema_version import head_revision
from tests.database.test_cli import cli
from tests.database_fixtures import PostgresServer

pytestmark = pytest.mark.postgres


@pytest.fixture
def server(postgres_server: PostgresServer) -> PostgresServer:
    if postgres_server.unavailable_reason is not None:
        pytest.skip(postgres_server.unavailable_reason)
    return postgres_server


@pytest.fixture
def missing_name(server: PostgresServer) -> Iterator[str]:
    name = f"perpfleet_test_init_{uuid.uuid4().hex[:12]}"
    yield name
    server.drop(name)


def test_init_creates_a_missing_database(server: PostgresServer, missing_name: str) -> None:
    url = server.url_for(missing_name)
    result = cli(url, "init")
    assert result.code == 0, result.err
    assert result.out.splitlines() == [
        f"created database {display_url(url)}",
        f"database at {display_url(url)} is ready (schema revision {head_revision()})",
    ]
    again = cli(url, "init")  # idempotent: exists now, nothing created
    assert again.out.splitlines() == [
        f"database at {display_url(url)} is ready (schema revision {head_revision()})"
    ]


def test_a_role_that_may_not_create_databases_is_told_what_to_run(
    server: PostgresServer, missing_name: str
) -> None:
    role = f"perpfleet_weak_{uuid.uuid4().hex[:8]}"
    server._admin(f"CREATE ROLE {role} LOGIN")
    try:
        url = server.url_for(missing_name).replace("postgres@", f"{role}@", 1)
        result = cli(url, "init")
        assert result.code == 2
        assert result.err == (
            f"error: database {missing_name!r} does not exist on 127.0.0.1:5432 and {role!r} "
            "may not create it (permission denied to create database); ask an administrator "
            f"to run `createdb -h 127.0.0.1 -O {role} {missing_name}`, then run "
            "`python -m database init` again\n"
        )
    finally:
        server._admin(f"DROP ROLE {role}")
