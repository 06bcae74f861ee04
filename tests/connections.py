"""A second connection to the test database, beside Django's: to hold a lock or a transaction
open while the code under test runs on Django's."""

import psycopg
from django.db import connection


def second_connection() -> psycopg.Connection:
    params = connection.get_connection_params()
    params.pop("cursor_factory", None)
    params.pop("prepare_threshold", None)
    return psycopg.connect(**params)
