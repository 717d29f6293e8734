"""PostGIS tables and queries as inputs, and PostGIS tables as outputs.

A source or target is a SQLAlchemy database URL with the table or query as a URL parameter::

    postgresql://user@host:5432/db?table=public.districts
    postgresql://user@host/db?table="My Schema"."Districts"      (quoted as in SQL)
    postgresql://user@host/db?query=SELECT id, geom FROM sites WHERE open
    postgresql://user@host/db?table=sites&geom=location            (pick a geometry column)

Other URL parameters go to libpq (``?host=/run/postgresql``, ``?sslmode=require``); the
password comes from ``PGPASSWORD`` or ``~/.pgpass`` (libpq reads both); one written into the
URL works but is never shown: every message and output names the source with it masked.

Table names are parsed by the server (``to_regclass``, ``parse_ident``) with SQL's own rules:
unquoted names fold to lower case, double quotes keep capitals, spaces and dots. Reading runs
in a read-only transaction; writing a table runs in one transaction (an existing table is
replaced only with ``overwrite``: dropped, created and filled in that transaction, so a
failure leaves the old table as it was). Needs the ``postgis`` extra (SQLAlchemy, psycopg,
GeoAlchemy2); nothing here is imported until a URL is given.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import geopandas as gpd
import pandas as pd

from reachplan.errors import InputError, OutputError, first_line

__all__ = ["display_name", "is_postgis", "read_frame", "check_target", "write_frame"]

_SCHEME = re.compile(r"^postgres(ql)?(\+\w+)?://", re.IGNORECASE)
_OWN_PARAMS = ("table", "query", "geom")
_EXTRA = "needs the postgis extra: pip install 'reachplan[postgis]'"
_QUOTING = ('names with capitals, spaces or dots need double quotes, as in SQL: '
            'table="My Schema"."Districts"')


def is_postgis(value: object) -> bool:
    """Whether ``value`` is a PostgreSQL URL (``postgresql://...``) rather than a path."""
    return isinstance(value, str) and _SCHEME.match(value) is not None


@dataclass(frozen=True)
class _Source:
    url: Any  # sqlalchemy.engine.URL, without table/query/geom
    table: str | None
    query: str | None
    geom: str | None
    label: str  # the URL as given, the password masked

    @property
    def database(self) -> str:
        return str(self.url.database or "")


def _sqlalchemy() -> Any:
    try:
        import geoalchemy2  # noqa: F401 - geopandas' to_postgis needs it
        import psycopg  # noqa: F401
        import sqlalchemy
    except ImportError:
        raise InputError(f"a postgresql:// URL {_EXTRA}") from None
    return sqlalchemy


_SECRETS: set[str] = set()  # passwords of the URLs parsed so far, as given and decoded


def _mask(text: str) -> str:
    """``text`` with any password of a URL replaced by ``***`` (for messages only): the
    passwords of parsed URLs wherever they appear, and whatever stands between ``user:`` and
    the last ``@`` of a URL's authority."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        text = text.replace(secret, "***")
    return re.sub(r"(://[^/:@?#]*:)[^/?#]*@", r"\1***@", text)


def display_name(value: str) -> str:
    """The URL as messages show it: the password masked."""
    return _mask(value)


def _parse(value: str) -> _Source:
    from urllib.parse import quote

    sqlalchemy = _sqlalchemy()
    try:
        url = sqlalchemy.engine.make_url(value)
    except Exception as exc:  # noqa: BLE001 - SQLAlchemy raises ArgumentError, ValueError
        raise InputError(f"{_mask(value)}: not a database URL ({_mask(first_line(exc))}); "
                         "use postgresql://user@host:port/db?table=NAME") from None
    if url.password and len(str(url.password)) >= 4:  # shorter: the URL pattern alone
        _SECRETS.update({str(url.password), quote(str(url.password), safe="")})
    label = _mask(value)
    if "+" not in url.drivername:  # psycopg 3, the driver the extra installs
        url = url.set(drivername="postgresql+psycopg")
    params = {k: url.query[k] for k in _OWN_PARAMS if k in url.query}
    for key, given in params.items():
        if not isinstance(given, str) or not given.strip():
            raise InputError(f"{label}: give {key}= once, with a value")
    url = url.difference_update_query(_OWN_PARAMS)
    return _Source(url, params.get("table"), params.get("query"), params.get("geom"), label)


def _engine(source: _Source) -> Any:
    sqlalchemy = _sqlalchemy()
    try:
        return sqlalchemy.create_engine(source.url, poolclass=sqlalchemy.pool.NullPool)
    except (ImportError, sqlalchemy.exc.NoSuchModuleError) as exc:  # postgresql+psycopg2://
        raise InputError(f"{source.label}: cannot use driver {source.url.drivername} "
                         f"({_mask(first_line(exc))}); write postgresql:// (psycopg 3)"
                         ) from None


def _db_error(source: _Source, exc: BaseException, doing: str) -> InputError:
    """One line for a database error: what was being done and the server's first line."""
    reason = _reason(exc)
    hint = ("; give the password in PGPASSWORD or ~/.pgpass"
            if "password" in reason.lower() else "")
    return InputError(f"{source.label}: {doing} failed ({reason}){hint}")


def _reason(exc: BaseException) -> str:
    """The database's own first line: pandas wraps SQLAlchemy's error (whose message holds
    the statement and its values), which wraps the driver's."""
    while isinstance(exc, pd.errors.DatabaseError) and exc.__cause__ is not None:
        exc = exc.__cause__
    return _mask(first_line(getattr(exc, "orig", None) or exc))


# --------------------------------------------------------------------------- reading
def read_frame(value: str, what: str) -> pd.DataFrame:
    """The rows of the table or query ``value`` names, as a GeoDataFrame with the CRS of the
    geometries' SRID (a plain DataFrame when there is no geometry column: points then need
    latitude/longitude columns). ``what`` names the input in messages."""
    source = _parse(value)
    if (source.table is None) == (source.query is None):
        raise InputError(f"{source.label}: name the {what} with table=NAME or query=SELECT ...")
    sqlalchemy = _sqlalchemy()
    try:
        with _engine(source).connect() as conn:
            # user SQL runs as given: a % in it is not a placeholder
            conn = conn.execution_options(no_parameters=True)
            conn.exec_driver_sql("SET TRANSACTION READ ONLY")
            sql = _select(conn, source)
            geom = source.geom or _geometry_column(conn, sql, source)
            if geom is None:
                return pd.read_sql_query(sql, conn)
            return gpd.read_postgis(sql, conn, geom_col=geom)
    except InputError:
        raise
    except (sqlalchemy.exc.SQLAlchemyError, pd.errors.DatabaseError, _QueryError) as exc:
        doing = "reading the query" if source.query else f"reading table {source.table}"
        raise _db_error(source, exc, doing) from None
    except Exception as exc:  # noqa: BLE001 - e.g. WKB geopandas cannot decode
        raise InputError(f"{source.label}: cannot read {what} ({_mask(first_line(exc))})"
                         ) from None


def _parse_name(conn: Any, source: _Source, function: str) -> Any:
    """``SELECT function`` of the source's table name: the server parses it as SQL does; a
    name it cannot parse (an unclosed quote) is one line."""
    sqlalchemy = _sqlalchemy()
    try:
        return conn.execute(sqlalchemy.text(f"SELECT {function}"),
                            {"name": source.table}).scalar()
    except sqlalchemy.exc.DBAPIError as exc:
        raise InputError(f"{source.label}: table={source.table!r} is not a table name "
                         f"({_reason(exc)}); {_QUOTING}") from None


def _select(conn: Any, source: _Source) -> str:
    """The SELECT to run: the query as given, or every column of the table (its name as the
    server quotes it)."""
    if source.query is not None:
        return source.query.strip().rstrip(";")
    name = _parse_name(conn, source, "to_regclass(:name)::text")
    if name is None:
        raise InputError(f"{source.label}: no table {source.table} in database "
                         f"{source.database}; check the name ({_QUOTING})")
    return f"SELECT * FROM {name}"


def _geometry_column(conn: Any, sql: str, source: _Source) -> str | None:
    """The one PostGIS geometry column the SELECT returns, or ``None`` when it has none. The
    server describes the statement without running it (libpq's prepare and describe), so a
    query runs once, and a broken one fails with the server's message about it as given."""
    from psycopg import pq

    sqlalchemy = _sqlalchemy()
    oid = conn.execute(sqlalchemy.text("SELECT to_regtype('geometry')::oid")).scalar()
    if oid is None:
        raise InputError(f"{source.label}: database {source.database} has no PostGIS (no "
                         "geometry type); run CREATE EXTENSION postgis there")
    raw = conn.connection.driver_connection
    name = b"reachplan_describe"
    done = raw.pgconn.prepare(name, sql.encode(raw.info.encoding), None)
    if done.status != pq.ExecStatus.COMMAND_OK:
        reason = done.error_field(pq.DiagnosticField.MESSAGE_PRIMARY) or b"failed"
        raise _QueryError(reason.decode(raw.info.encoding, "replace"))
    described = raw.pgconn.describe_prepared(name)
    raw.pgconn.exec_(b"DEALLOCATE " + name)
    found = [described.fname(i).decode(raw.info.encoding, "replace")
             for i in range(described.nfields) if described.ftype(i) == oid]
    if len(found) > 1:
        raise InputError(f"{source.label}: has {len(found)} geometry columns "
                         f"({', '.join(found)}); choose one with geom=NAME")
    return found[0] if found else None


class _QueryError(Exception):
    """The server refused the SELECT (its message)."""


# --------------------------------------------------------------------------- writing
def _target(value: str) -> _Source:
    target = _parse(value)
    if target.table is None or target.query is not None:
        raise InputError(f"{target.label}: name the table to write with table=NAME")
    return target


def _parts(conn: Any, target: _Source) -> tuple[str | None, str]:
    """(schema, table) of ``target``'s name, parsed by the server as SQL does."""
    parts = _parse_name(conn, target, "parse_ident(:name)")
    if len(parts) > 2:
        raise InputError(f"{target.label}: table={target.table!r} has {len(parts)} parts; "
                         f"give schema.table or table ({_QUOTING})")
    return (parts[0], parts[1]) if len(parts) == 2 else (None, parts[0])


def _exists(conn: Any, target: _Source, overwrite: bool) -> tuple[str | None, str, bool]:
    sqlalchemy = _sqlalchemy()
    schema, name = _parts(conn, target)
    inspector = sqlalchemy.inspect(conn)
    if schema is not None and schema not in inspector.get_schema_names():
        raise InputError(f"{target.label}: no schema {schema} in database {target.database}; "
                         f"create it first (CREATE SCHEMA) or check the name ({_QUOTING})")
    exists = bool(inspector.has_table(name, schema=schema))
    if exists and not overwrite:
        raise InputError(f"{target.label}: table {target.table} already exists; pass "
                         "overwrite=True to replace it", params=("overwrite",))
    return schema, name, exists


def check_target(value: str, *, overwrite: bool = False) -> str:
    """Refuse a target early (before the long work): no table named, no connection, an
    existing table without ``overwrite``. Returns the URL as messages show it."""
    target = _target(value)
    sqlalchemy = _sqlalchemy()
    engine = _engine(target)
    try:
        with engine.connect() as conn:
            _exists(conn, target, overwrite)
    except sqlalchemy.exc.SQLAlchemyError as exc:
        raise _db_error(target, exc, f"checking table {target.table}") from None
    return target.label


def write_frame(frame: pd.DataFrame, value: str, *, overwrite: bool = False) -> str:
    """Write ``frame`` as the table ``value`` names, in one transaction: all rows or none,
    and an existing table (only with ``overwrite``) replaced or left as it was. Geometry is
    written with the frame's SRID. Returns the URL as messages show it."""
    target = _target(value)
    engine = _engine(target)
    try:
        with engine.begin() as conn:  # commits at the end, rolls back on any error
            schema, name, exists = _exists(conn, target, overwrite)
            how = "replace" if exists else "fail"
            if isinstance(frame, gpd.GeoDataFrame):
                frame.to_postgis(name, conn, schema=schema, if_exists=how, index=False)
            else:
                frame.to_sql(name, conn, schema=schema, if_exists=how, index=False)
    except InputError:
        raise
    except Exception as exc:  # noqa: BLE001 - the server's, the driver's, GeoAlchemy2's errors
        raise OutputError(f"{target.label}: writing table {target.table} failed "
                          f"({_reason(exc)}); the database is as it was") from None
    return target.label
