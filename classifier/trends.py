"""Error trends over the store: counts, omgørelsesprocent and error shares per group.

    trends(store, by=["year", "outcome"], since=, until=, municipality=, department=,
           law_area=) -> [ {group fields..., measures...}, ... ]
    trends_csv(rows) / trends_json(rows) / trends_cli_table(rows)   output forms
    chart(store, out_png, by=[...], kind=None, **filters)           PNG (matplotlib, Agg)
    load_departments() -> {law_area: department}                    data/departments.toml

``trends`` is THE query: the command line's tables, CSV and JSON, the charts and every
number in the report chapters (``classifier.report``) come from it. It reads only current,
successfully classified decisions (``decisions.current = 1 AND status = 'ok'``).

Group fields (``by``):
    year, half ("2023-H1"), quarter ("2023-Q1"), month ("2023-03")   from decision_date
    municipality, law_area, outcome
    department        via data/departments.toml (law area -> department)
    error             one group per error type found in the decision (a decision with two
                      error types is counted in both groups; one without any has error None)
    kritik            True/False (the row then has no separate kritik measure)

Measures of each row (counts are numbers of decisions):
    count, stadfæstet, ændret, hjemvist, afvist, uden_udfald (outcome missing),
    omgjorte = hjemvist + ændret,
    realitetsbehandlede = hjemvist + ændret + stadfæstet,
    omgørelsesprocent = 100 * omgjorte / realitetsbehandlede (None when no treated case):
        Ankestyrelsen's definition, afviste count in neither part,
    kritik, stadfæstet_med_kritik, needs_review,
    fejl_<type>   decisions with that error type, for each of the 8 types,
    andel_<type>  100 * fejl_<type> / count (percent of the group's decisions).
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import tomllib
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from classifier.schema import ERROR_TYPES, OUTCOMES

DATA_DIR = Path(__file__).resolve().parent / "data"
DEPARTMENTS_FILE = DATA_DIR / "departments.toml"
LAW_AREAS_FILE = DATA_DIR / "law_areas.toml"

TIME_FIELDS: tuple[str, ...] = ("year", "half", "quarter", "month")
GROUP_FIELDS: tuple[str, ...] = (*TIME_FIELDS, "municipality", "department", "law_area",
                                 "outcome", "error", "kritik")
COUNT_MEASURES: tuple[str, ...] = (
    "count", *OUTCOMES, "uden_udfald", "omgjorte", "realitetsbehandlede", "kritik",
    "stadfæstet_med_kritik", "needs_review", *(f"fejl_{e}" for e in ERROR_TYPES))
PERCENT_MEASURES: tuple[str, ...] = ("omgørelsesprocent", *(f"andel_{e}" for e in ERROR_TYPES))
MEASURES: tuple[str, ...] = (*COUNT_MEASURES, *PERCENT_MEASURES)

#: Danish display names used in tables and charts.
FIELD_LABELS: dict[str, str] = {
    "year": "År", "half": "Halvår", "quarter": "Kvartal", "month": "Måned",
    "municipality": "Kommune", "department": "Forvaltning", "law_area": "Sagsområde",
    "outcome": "Udfald", "error": "Fejltype", "kritik": "Kritik",
}
ERROR_LABELS: dict[str, str] = {
    "officialprincip": "Officialprincippet",
    "begrundelse": "Begrundelse",
    "retsgrundlag": "Retsgrundlag",
    "partshøring": "Partshøring",
    "sagsbehandlingstid": "Sagsbehandlingstid",
    "notatpligt": "Notatpligt",
    "vejledning": "Vejledning",
    "konkret_vurdering": "Konkret vurdering",
}
OUTCOME_LABELS: dict[str, str] = {
    "stadfæstet": "Stadfæstet", "ændret": "Ændret", "hjemvist": "Hjemvist", "afvist": "Afvist",
}
UNKNOWN_DEPARTMENT = "Ukendt forvaltning"


# --------------------------------------------------------------------------- data files

@lru_cache(maxsize=8)
def _load_departments(path: str) -> tuple[tuple[str, str], ...]:
    data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    pairs: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for dept in data.get("department", []):
        name = str(dept["name"]).strip()
        for area in dept.get("law_areas", []):
            if area in seen:
                raise ValueError(f"{path}: law area {area!r} listed under both "
                                 f"{seen[area]!r} and {name!r}")
            seen[area] = name
            pairs.append((str(area), name))
    return tuple(pairs)


def load_departments(path: str | os.PathLike | None = None) -> dict[str, str]:
    """``{law_area id: department name}`` from ``data/departments.toml`` (or ``path``)."""
    return dict(_load_departments(str(path or DEPARTMENTS_FILE)))


def department_names(path: str | os.PathLike | None = None) -> list[str]:
    """Department names in file order."""
    return list(dict.fromkeys(name for _, name in _load_departments(str(path or DEPARTMENTS_FILE))))


@lru_cache(maxsize=1)
def law_area_names() -> dict[str, str]:
    """``{law_area id: Danish display name}`` from ``data/law_areas.toml``."""
    data = tomllib.loads(LAW_AREAS_FILE.read_text(encoding="utf-8"))
    return {a["id"]: a.get("name", a["id"]) for a in data["area"]}


# --------------------------------------------------------------------------- filters

_DATE_PREFIX = re.compile(r"^\d{4}(-\d{2}(-\d{2})?)?$")


def _date_bound(value: Any, name: str) -> str | None:
    """since/until as a 'YYYY', 'YYYY-MM' or 'YYYY-MM-DD' prefix (int years, date too)."""
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        value = value.date()
    if isinstance(value, date):
        return value.isoformat()
    text = str(value).strip()
    if not _DATE_PREFIX.match(text):
        raise ValueError(f"{name}: {value!r} is not a date like 2023, 2023-06 or 2023-06-30")
    return text


def _connect(store: Any) -> tuple[sqlite3.Connection, bool]:
    """A read connection: an open sqlite3 connection or Store is used as is; a path is
    opened read-only (the file must exist: a report never creates a store)."""
    if isinstance(store, sqlite3.Connection):
        return store, False
    conn = getattr(store, "conn", None)
    if isinstance(conn, sqlite3.Connection):
        return conn, False
    path = Path(store)
    if not path.exists():
        raise FileNotFoundError(f"no store at {path}")
    from classifier.store import connect
    return connect(path), True


def _resolve(value: str | None, choices: Iterable[str], what: str,
             extra: dict[str, str] | None = None) -> list[str] | None:
    """Match a user's filter value against the known names: exact, then case-insensitive,
    then with ' Kommune' added, then a unique case-insensitive prefix. No match means an
    empty result (the filter matches nothing), not an error."""
    if value is None or value == "":
        return None
    choices = [c for c in dict.fromkeys(choices) if c]
    want = value.strip().casefold()
    lookup = {c.casefold(): c for c in choices}
    for key, target in (extra or {}).items():
        lookup.setdefault(key.casefold(), target)
    for candidate in (want, f"{want} kommune"):
        if candidate in lookup:
            return [lookup[candidate]]
    prefixed = sorted({v for k, v in lookup.items() if k.startswith(want)})
    if len(prefixed) == 1:
        return prefixed
    if len(prefixed) > 1:
        raise ValueError(f"{what} {value!r} is ambiguous: {', '.join(prefixed)}")
    return [value]


# --------------------------------------------------------------------------- the query

def _decisions_cte(conn: sqlite3.Connection, *, since=None, until=None, municipality=None,
                   department=None, law_area=None, departments=None
                   ) -> tuple[str, list[Any]]:
    """``WITH dept(...), d AS (...)``: the current, ok decisions with their derived group
    fields, filtered. Shared by ``trends`` and the report's instruction list."""
    mapping = departments if isinstance(departments, dict) else load_departments(departments)
    params: list[Any] = []
    if mapping:
        values = ", ".join("(?, ?)" for _ in mapping)
        for area, dept in mapping.items():
            params += [area, dept]
        dept_cte = f"dept(law_area, department) AS (VALUES {values})"
    else:
        dept_cte = "dept(law_area, department) AS (SELECT NULL, NULL WHERE 0)"
    where = ["d.current = 1", "d.status = 'ok'"]
    lo, hi = _date_bound(since, "since"), _date_bound(until, "until")
    if lo:
        where.append("d.decision_date >= ?")
        params.append(lo)
    if hi:
        where.append("substr(d.decision_date, 1, ?) <= ?")
        params += [len(hi), hi]
    if municipality:
        known = [r[0] for r in conn.execute(
            "SELECT DISTINCT municipality FROM decisions WHERE current = 1 "
            "AND municipality IS NOT NULL")]
        names = _resolve(municipality, known, "municipality")
        where.append(f"d.municipality IN ({', '.join('?' * len(names))})")
        params += names
    if department:
        names = _resolve(department, [*mapping.values(), UNKNOWN_DEPARTMENT], "department")
        if names == [UNKNOWN_DEPARTMENT]:
            where.append("dept.department IS NULL")
        else:
            where.append(f"dept.department IN ({', '.join('?' * len(names))})")
            params += names
    if law_area:
        names_by_id = law_area_names()
        areas = _resolve(law_area, names_by_id, "law_area",
                         extra={name: area for area, name in names_by_id.items()})
        where.append(f"d.law_area IN ({', '.join('?' * len(areas))})")
        params += areas
    month = "CAST(substr(d.decision_date, 6, 2) AS INTEGER)"
    valid = "(d.decision_date GLOB '[12][0-9][0-9][0-9]-[01][0-9]*')"
    sql = f"""WITH {dept_cte},
d AS (
    SELECT d.id, d.outcome, d.kritik, d.needs_review, d.law_area, d.municipality,
           dept.department AS department,
           CASE WHEN {valid} THEN CAST(substr(d.decision_date, 1, 4) AS INTEGER) END AS year,
           CASE WHEN {valid} THEN substr(d.decision_date, 1, 4) || '-H' || (({month} + 5) / 6)
                END AS half,
           CASE WHEN {valid} THEN substr(d.decision_date, 1, 4) || '-Q' || (({month} + 2) / 3)
                END AS quarter,
           CASE WHEN {valid} THEN substr(d.decision_date, 1, 7) END AS month
    FROM decisions d LEFT JOIN dept ON dept.law_area = d.law_area
    WHERE {' AND '.join(where)}
)"""
    return sql, params


_OUTCOME_ORDER = {o: i for i, o in enumerate(OUTCOMES)}
_ERROR_ORDER = {e: i for i, e in enumerate(ERROR_TYPES)}


def _sort_key(field: str, value: Any, dept_order: dict[str, int]) -> tuple:
    if value is None:
        return (2, 0, "")
    if field == "outcome":
        return (0, _OUTCOME_ORDER.get(value, 99), str(value))
    if field == "error":
        return (0, _ERROR_ORDER.get(value, 99), str(value))
    if field == "department":
        return (0, dept_order.get(value, 99), str(value))
    if field == "kritik":
        return (0, 0 if value else 1, "")
    if isinstance(value, (int, float)):
        return (0, value, "")
    return (0, 0, str(value).casefold())


def trends(store_path: Any, by: Sequence[str] | str, *, since: Any = None, until: Any = None,
           municipality: str | None = None, department: str | None = None,
           law_area: str | None = None,
           departments: str | os.PathLike | dict[str, str] | None = None
           ) -> list[dict[str, Any]]:
    """One row per group of current, ok decisions (see the module docstring for the fields
    and measures). ``by``: list of group fields (or "year,outcome"); ``[]`` gives one total
    row. ``since``/``until``: inclusive bounds on decision_date ("2023", "2023-06",
    "2023-06-30"). ``municipality``/``department``/``law_area``: filters (case-insensitive;
    "Gladsaxe" finds "Gladsaxe Kommune"; a law area by id or display name).
    ``departments``: another departments.toml or a ``{law_area: department}`` dict.
    Rows are sorted by the group fields (outcomes and error types in their canonical order,
    missing values last)."""
    if isinstance(by, str):
        by = [b.strip() for b in by.split(",") if b.strip()]
    by = list(dict.fromkeys(by))
    unknown = [b for b in by if b not in GROUP_FIELDS]
    if unknown:
        raise ValueError(f"cannot group by {', '.join(unknown)}; "
                         f"choose from {', '.join(GROUP_FIELDS)}")
    mapping = departments if isinstance(departments, dict) else load_departments(departments)
    conn, opened = _connect(store_path)
    try:
        cte, params = _decisions_cte(conn, since=since, until=until, municipality=municipality,
                                     department=department, law_area=law_area,
                                     departments=mapping)
        columns = [("e.error" if b == "error" else f"d.{b}") for b in by]
        join = ("LEFT JOIN (SELECT DISTINCT decision_id, label AS error FROM labels "
                "WHERE kind = 'error') e ON e.decision_id = d.id") if "error" in by else ""
        has_error = ("EXISTS (SELECT 1 FROM labels l WHERE l.decision_id = d.id "
                     "AND l.kind = 'error' AND l.label = ?)")
        measures = [
            "COUNT(*)",
            *(f"SUM(d.outcome = '{o}')" for o in OUTCOMES),
            "SUM(d.outcome IS NULL)",
            "SUM(d.kritik = 1)",
            "SUM(d.kritik = 1 AND d.outcome = 'stadfæstet')",
            "SUM(d.needs_review = 1)",
            *(f"SUM({has_error})" for _ in ERROR_TYPES),
        ]
        select = [*(f"{c} AS g{i}" for i, c in enumerate(columns)), *measures]
        sql = (f"{cte}\nSELECT {', '.join(select)} FROM d {join}"
               + (f" GROUP BY {', '.join(f'g{i}' for i in range(len(by)))}" if by else ""))
        rows = conn.execute(sql, [*params, *ERROR_TYPES]).fetchall()
    finally:
        if opened:
            conn.close()
    out: list[dict[str, Any]] = []
    n = len(by)
    for row in rows:
        groups = dict(zip(by, row[:n]))
        if "kritik" in groups and groups["kritik"] is not None:
            groups["kritik"] = bool(groups["kritik"])
        vals = [int(v or 0) for v in row[n:]]
        count = vals[0]
        outcome_counts = dict(zip(OUTCOMES, vals[1:1 + len(OUTCOMES)]))
        k = 1 + len(OUTCOMES)
        no_outcome, kritik, upheld_kritik, review = vals[k:k + 4]
        error_counts = dict(zip(ERROR_TYPES, vals[k + 4:]))
        omgjorte = outcome_counts["ændret"] + outcome_counts["hjemvist"]
        treated = omgjorte + outcome_counts["stadfæstet"]
        record: dict[str, Any] = dict(groups)
        record["count"] = count
        record.update(outcome_counts)
        record["uden_udfald"] = no_outcome
        record["omgjorte"] = omgjorte
        record["realitetsbehandlede"] = treated
        record["omgørelsesprocent"] = 100.0 * omgjorte / treated if treated else None
        if "kritik" not in by:  # grouped by kritik, the group value says it all
            record["kritik"] = kritik
        record["stadfæstet_med_kritik"] = upheld_kritik
        record["needs_review"] = review
        for e in ERROR_TYPES:
            record[f"fejl_{e}"] = error_counts[e]
        for e in ERROR_TYPES:
            record[f"andel_{e}"] = 100.0 * error_counts[e] / count if count else None
        out.append(record)
    dept_order = {name: i for i, name in enumerate(dict.fromkeys(mapping.values()))}
    out.sort(key=lambda r: tuple(_sort_key(b, r[b], dept_order) for b in by))
    return out


def _kritik_count(row: dict[str, Any]) -> int:
    value = row.get("kritik")
    if isinstance(value, bool):  # a row grouped by kritik
        return int(row["count"]) if value else 0
    return int(value or 0)


def total(rows: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Add up the count measures of several rows (e.g. the ændret and hjemvist rows of a
    ``by=[..., "outcome"]`` query) and recompute the percentages. Only meaningful for rows
    whose decisions are disjoint (not for ``by=["error"]``)."""
    rows = list(rows)
    out: dict[str, Any] = {m: sum(int(r.get(m) or 0) for r in rows) for m in COUNT_MEASURES
                           if m != "kritik"}
    out["kritik"] = sum(_kritik_count(r) for r in rows)
    treated = out["realitetsbehandlede"]
    out["omgørelsesprocent"] = 100.0 * out["omgjorte"] / treated if treated else None
    for e in ERROR_TYPES:
        out[f"andel_{e}"] = 100.0 * out[f"fejl_{e}"] / out["count"] if out["count"] else None
    return out


# --------------------------------------------------------------------------- output forms

def _round(value: Any) -> Any:
    return round(value, 1) if isinstance(value, float) else value


def _group_columns(rows: list[dict[str, Any]]) -> list[str]:
    first = rows[0]
    return [k for k in first if k in GROUP_FIELDS
            and (k != "kritik" or isinstance(first[k], bool))]


def _output_columns(rows: list[dict[str, Any]]) -> list[str]:
    if not rows:
        return []
    groups = _group_columns(rows)
    rest = [k for k in rows[0] if k not in groups]
    return [*groups, *rest]


def trends_json(rows: list[dict[str, Any]], *, indent: int | None = 2) -> str:
    """A JSON list with one object per group: group fields by name, then the measures
    (percentages rounded to one decimal)."""
    return json.dumps([{k: _round(v) for k, v in r.items()} for r in rows],
                      ensure_ascii=False, indent=indent)


def trends_csv(rows: list[dict[str, Any]]) -> str:
    """CSV with a header line (comma separated, '.' decimals, empty cell for None)."""
    buf = io.StringIO()
    columns = _output_columns(rows)
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(columns)
    for r in rows:
        writer.writerow(["" if r[c] is None else _round(r[c]) for c in columns])
    return buf.getvalue()


def display_value(field: str, value: Any) -> str:
    """A group value as shown to a Danish reader."""
    if value is None:
        return {"department": UNKNOWN_DEPARTMENT.lower(), "error": "ingen fejltype",
                "law_area": "uden sagsområde"}.get(field, "ukendt")
    if field == "law_area":
        return law_area_names().get(value, str(value))
    if field == "error":
        return ERROR_LABELS.get(value, str(value))
    if field == "outcome":
        return OUTCOME_LABELS.get(value, str(value))
    if field == "kritik":
        return "med kritik" if value else "uden kritik"
    text = str(value)
    m = re.fullmatch(r"(\d{4})-Q([1-4])", text)
    if field == "quarter" and m:
        return f"{m.group(2)}. kvt. {m.group(1)}"
    m = re.fullmatch(r"(\d{4})-H([12])", text)
    if field == "half" and m:
        return f"{m.group(2)}. halvår {m.group(1)}"
    m = re.fullmatch(r"(\d{4})-(\d{2})", text)
    if field == "month" and m and 1 <= int(m.group(2)) <= 12:
        return f"{_MONTHS_SHORT[int(m.group(2)) - 1]} {m.group(1)}"
    return text


_MONTHS_SHORT = ("jan.", "feb.", "mar.", "apr.", "maj", "jun.", "jul.", "aug.", "sep.",
                 "okt.", "nov.", "dec.")


def _fmt_count(n: Any) -> str:
    return f"{int(n):,}".replace(",", ".")


def _fmt_pct(v: Any) -> str:
    return "–" if v is None else f"{v:.1f}".replace(".", ",")


def trends_cli_table(rows: list[dict[str, Any]], *, title: str | None = None,
                     compact: bool = False):
    """A ``rich.table.Table`` of trends rows: group fields, outcome counts, omgjorte,
    omgørelsesprocent, kritik and the share (%) of decisions with each error type that
    occurs in the rows. Danish number formatting. ``compact`` (narrow terminals): counts,
    omgjorte, omgørelses-%, kritik and the two most frequent error types in one column."""
    if compact:
        return _compact_table(rows, title)
    from rich.table import Table

    table = Table(title=title, show_lines=False, header_style="bold",
                  caption="Fejltyper: andel af afgørelserne i gruppen (%)" if rows else None)
    if not rows:
        table.add_column("Ingen afgørelser matcher")
        return table
    groups = _group_columns(rows)
    errors = [e for e in ERROR_TYPES if any(r[f"fejl_{e}"] for r in rows)]
    for g in groups:
        table.add_column(FIELD_LABELS.get(g, g))
    numeric = [("count", "Afgørelser"), ("stadfæstet", "Stadf."), ("ændret", "Ændret"),
               ("hjemvist", "Hjemvist"), ("afvist", "Afvist"), ("omgjorte", "Omgjorte"),
               ("omgørelsesprocent", "Omgørelses-%")]
    if "kritik" not in groups:
        numeric.append(("kritik", "Kritik"))
    for _, label in numeric:
        table.add_column(label, justify="right")
    for e in errors:
        table.add_column(f"{ERROR_LABELS[e]} %", justify="right")
    for r in rows:
        cells = [display_value(g, r[g]) for g in groups]
        for key, _ in numeric:
            cells.append(_fmt_pct(r[key]) if key == "omgørelsesprocent" else _fmt_count(r[key]))
        cells += [_fmt_pct(r[f"andel_{e}"]) for e in errors]
        table.add_row(*cells)
    return table


def _compact_table(rows: list[dict[str, Any]], title: str | None):
    from rich.table import Table

    table = Table(title=title, header_style="bold")
    if not rows:
        table.add_column("Ingen afgørelser matcher")
        return table
    groups = _group_columns(rows)
    for g in groups:
        table.add_column(FIELD_LABELS.get(g, g))
    for label in ("Afgørelser", "Omgjorte", "Omgørelses-%", "Kritik"):
        table.add_column(label, justify="right")
    table.add_column("Hyppigste fejl (andel)")
    for r in rows:
        top = sorted(((r[f"andel_{e}"] or 0, e) for e in ERROR_TYPES if r[f"fejl_{e}"]),
                     reverse=True)[:2]
        table.add_row(*[display_value(g, r[g]) for g in groups], _fmt_count(r["count"]),
                      _fmt_count(r["omgjorte"]), _fmt_pct(r["omgørelsesprocent"]),
                      _fmt_count(r["kritik"]),
                      ", ".join(f"{ERROR_LABELS[e]} {_fmt_pct(v)} %" for v, e in top) or "–")
    return table


# --------------------------------------------------------------------------- charts

OUTCOME_COLORS = {"stadfæstet": "#8da0b3", "ændret": "#d9822b", "hjemvist": "#c0392b",
                  "afvist": "#d5d8dc"}


def _pyplot():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    return plt


def _save(fig, plt, out: str | os.PathLike) -> Path:
    fig.tight_layout()
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png", bbox_inches="tight")
    plt.close(fig)
    return out


def chart_outcomes(rows: list[dict[str, Any]], field: str, out: str | os.PathLike, *,
                   title: str | None = None, label=None) -> Path:
    """Stacked bars of the outcomes per value of ``field`` (e.g. quarter) with the
    omgørelsesprocent as a line on a second axis. ``rows``: trends rows grouped by
    ``[field]``."""
    plt = _pyplot()
    label = label or (lambda value: display_value(field, value))
    two_lines = field in ("quarter", "half")
    labels = ["\n".join(label(r[field]).rsplit(" ", 1)) if two_lines else label(r[field])
              for r in rows]
    fig, ax = plt.subplots(figsize=(max(6.0, 0.7 * len(rows) + 3), 4.2), dpi=130)
    bottom = [0] * len(rows)
    xs = list(range(len(rows)))
    for o in OUTCOMES:
        values = [r[o] for r in rows]
        ax.bar(xs, values, bottom=bottom, color=OUTCOME_COLORS[o], label=OUTCOME_LABELS[o],
               width=0.65, edgecolor="white", linewidth=0.5)
        bottom = [b + v for b, v in zip(bottom, values)]
    ax.set_ylabel("Antal afgørelser")
    ax.set_xticks(xs, labels, rotation=0 if len(rows) <= 8 else 45,
                  ha="center" if len(rows) <= 8 else "right")
    ax.spines[["top"]].set_visible(False)
    ax.set_ylim(0, max(bottom or [1]) * 1.18 + 1)
    ax2 = ax.twinx()
    rates = [r["omgørelsesprocent"] for r in rows]
    pts = [(x, v) for x, v in zip(xs, rates) if v is not None]
    if pts:
        ax2.plot([p[0] for p in pts], [p[1] for p in pts], color="#1f3a5f", marker="o",
                 linewidth=2, label="Omgørelsesprocent")
        for x, v in pts:
            ax2.annotate(f"{v:.0f} %", (x, v), textcoords="offset points", xytext=(0, 8),
                         ha="center", fontsize=8, color="#1f3a5f",
                         bbox=dict(boxstyle="round,pad=0.15", fc="white", ec="none",
                                   alpha=0.85))
    ax2.set_ylim(0, 100)
    ax2.set_ylabel("Omgørelsesprocent (%)")
    ax2.spines[["top"]].set_visible(False)
    handles, names = ax.get_legend_handles_labels()
    h2, n2 = ax2.get_legend_handles_labels()
    below = -0.28 if (two_lines or len(rows) > 8) else -0.13
    ax.legend(handles + h2, names + n2, loc="upper left", fontsize=8, ncol=5, frameon=False,
              bbox_to_anchor=(0, below))
    ax.set_title(title or f"Udfald pr. {FIELD_LABELS.get(field, field).lower()}", fontsize=11)
    return _save(fig, plt, out)


def chart_errors(rows: list[dict[str, Any]], field: str, out: str | os.PathLike, *,
                 title: str | None = None, label=None) -> Path:
    """A heat map: one row per value of ``field`` (e.g. law_area), one column per error
    type, each cell the number of decisions with that error type (shaded by the share of
    the row's decisions). ``rows``: trends rows grouped by ``[field]``."""
    import textwrap

    plt = _pyplot()
    label = label or (lambda value: display_value(field, value))
    rows = [r for r in rows if r["count"]]
    errors = [e for e in ERROR_TYPES if any(r[f"fejl_{e}"] for r in rows)] or list(ERROR_TYPES)
    labels = [textwrap.fill(f"{label(r[field])} ({r['count']})", 26) for r in rows]
    shares = [[(r[f"andel_{e}"] or 0.0) for e in errors] for r in rows]
    height = max(2.8, 0.5 * len(rows) + 2.0)
    fig, ax = plt.subplots(figsize=(0.78 * len(errors) + 3.4, height), dpi=130)
    if rows:
        import numpy as np
        cmap = plt.get_cmap("Oranges").with_extremes(bad="white")
        grid = np.ma.masked_equal(np.array(shares, dtype=float), 0.0)
        im = ax.imshow(grid, cmap=cmap, vmin=0, vmax=100, aspect="auto")
        ax.set_xticks([x - 0.5 for x in range(1, len(errors))], minor=True)
        ax.set_yticks([y - 0.5 for y in range(1, len(rows))], minor=True)
        ax.grid(which="minor", color="#e3e7ec", linewidth=0.6)
        ax.tick_params(which="minor", length=0)
        for i, r in enumerate(rows):
            for j, e in enumerate(errors):
                n = r[f"fejl_{e}"]
                if n:
                    ax.text(j, i, str(n), ha="center", va="center", fontsize=9,
                            color="white" if shares[i][j] > 55 else "black")
        cbar = fig.colorbar(im, ax=ax, fraction=0.035, pad=0.02)
        cbar.set_label("Andel af afgørelserne (%)", fontsize=8)
        cbar.ax.tick_params(labelsize=7)
    else:
        ax.text(0.5, 0.5, "Ingen afgørelser", ha="center", va="center",
                transform=ax.transAxes)
    ax.set_xticks(range(len(errors)), [ERROR_LABELS[e] for e in errors], rotation=35,
                  ha="right", fontsize=9)
    ax.set_yticks(range(len(rows)), labels, fontsize=9)
    ax.set_title(title or f"Fejltyper pr. {FIELD_LABELS.get(field, field).lower()} "
                          "(antal afgørelser)", fontsize=11)
    return _save(fig, plt, out)


def chart(store_path: Any, out: str | os.PathLike, by: Sequence[str] | str | None = None, *,
          kind: str | None = None, since: Any = None, until: Any = None,
          municipality: str | None = None, department: str | None = None,
          law_area: str | None = None, title: str | None = None,
          departments: str | os.PathLike | dict[str, str] | None = None) -> Path:
    """Draw a PNG from the trends query. ``kind``:

    - ``"outcomes"``: outcomes over time (stacked bars + omgørelsesprocent), along the
      first field of ``by`` other than error/outcome (default ``year``);
    - ``"errors"``: error types per law area (heat map), along the first field of ``by``
      other than error/outcome (default ``law_area``).

    Without ``kind``: ``errors`` when ``by`` holds ``error`` or only ``law_area``,
    otherwise ``outcomes``. Returns the path written."""
    if isinstance(by, str):
        by = [b.strip() for b in by.split(",") if b.strip()]
    by = list(by or [])
    axis_fields = [b for b in by if b not in ("error", "outcome", "kritik")]
    if kind is None:
        kind = "errors" if ("error" in by or axis_fields == ["law_area"]) else "outcomes"
    if kind not in ("outcomes", "errors"):
        raise ValueError(f"chart kind {kind!r}: choose outcomes or errors")
    field = axis_fields[0] if axis_fields else ("year" if kind == "outcomes" else "law_area")
    rows = trends(store_path, [field], since=since, until=until, municipality=municipality,
                  department=department, law_area=law_area, departments=departments)
    if kind == "outcomes":
        return chart_outcomes(rows, field, out, title=title)
    return chart_errors(rows, field, out, title=title)
