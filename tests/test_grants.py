"""Grants: validation, file imports (all or nothing) and the ``jupyter compute-panel grants`` CLI."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path

import pytest

from jupyterlab_compute_panel.domain.catalog import DEMO_CATALOG, read_catalog_file
from jupyterlab_compute_panel.domain.grants import (
    GRANT_FIELDS,
    REQUIRED_FIELDS,
    GrantError,
    label,
    parse_grant,
    read_grants_file,
)
from jupyterlab_compute_panel.hosts.cli import main
from jupyterlab_compute_panel.ledger import Ledger

GOOD = {
    "id": "nsf-cns-2401234",
    "award_number": "NSF CNS-2401234",
    "title": "Robustness of vision models",
    "funder": "National Science Foundation",
    "pi": "alice",
    "budget": "5000.00",
    "currency": "USD",
    "start_date": "2025-09-01",
    "end_date": "2028-08-31",
}
CSV_HEADER = ",".join(REQUIRED_FIELDS)


def csv_row(**overrides) -> str:
    values = {**GOOD, **overrides}
    return ",".join(str(values[f]) for f in REQUIRED_FIELDS)


# -- parse_grant ----------------------------------------------------------------
def test_parse_grant_returns_ledger_columns():
    grant = parse_grant({**GOOD, "title": "  Padded title  ", "budget": "0.5"})
    assert grant == {
        "id": "nsf-cns-2401234",
        "award_number": "NSF CNS-2401234",
        "title": "Padded title",
        "funder": "National Science Foundation",
        "pi": "alice",
        "budget_micros": 500_000,
        "currency": "USD",
        "start_date": dt.date(2025, 9, 1),
        "end_date": dt.date(2028, 8, 31),
    }


def test_parse_grant_accepts_dates_and_numbers():
    grant = parse_grant({**GOOD, "budget": 1200, "start_date": dt.date(2025, 1, 1), "end_date": dt.date(2025, 1, 1)})
    assert grant["budget_micros"] == 1_200_000_000
    assert grant["start_date"] == grant["end_date"] == dt.date(2025, 1, 1)  # a one-day grant is valid


@pytest.mark.parametrize("field", ["id", "award_number", "title", "funder", "pi"])
@pytest.mark.parametrize("value", [None, "", "   ", 5])
def test_required_text_fields(field, value):
    data = {**GOOD, field: value}
    if value is None:
        del data[field]
    with pytest.raises(GrantError) as info:
        parse_grant(data)
    assert str(info.value) == f"{label(field)} is required"
    assert info.value.field == field


@pytest.mark.parametrize("grant_id", ["has space", "-leading-dash", "a/b", "x" * 65, "ümlaut"])
def test_bad_grant_id(grant_id):
    with pytest.raises(GrantError) as info:
        parse_grant({**GOOD, "id": grant_id})
    assert str(info.value) == "The grant id must be 1 to 64 letters, digits, '.', '_' or '-'"
    assert info.value.field == "id"


@pytest.mark.parametrize("grant_id", ["a", "NSF.2401234", "doe_sc-0001", "x" * 64])
def test_good_grant_ids(grant_id):
    assert parse_grant({**GOOD, "id": grant_id})["id"] == grant_id


@pytest.mark.parametrize(
    ("budget", "problem"),
    [
        (None, 'must be a decimal amount such as "0.50", got None'),
        ("lots", "must be a decimal amount such as \"0.50\", got 'lots'"),
        ("-1", "must not be negative, got '-1'"),
        ("0.0000001", "has more than 6 decimal places: '0.0000001'"),
        ("NaN", "must be a finite amount, got 'NaN'"),
        (True, 'must be a decimal amount such as "0.50", got True'),
    ],
)
def test_bad_budget(budget, problem):
    with pytest.raises(GrantError) as info:
        parse_grant({**GOOD, "budget": budget})
    assert str(info.value) == f"The budget {problem}"
    assert info.value.field == "budget"


@pytest.mark.parametrize("currency", ["usd", "DOLLARS", "", None])
def test_bad_currency(currency):
    with pytest.raises(GrantError) as info:
        parse_grant({**GOOD, "currency": currency})
    assert str(info.value).startswith("The currency must be a three-letter ISO 4217 code")
    assert info.value.field == "currency"


@pytest.mark.parametrize("field", ["start_date", "end_date"])
@pytest.mark.parametrize("value", ["2025-13-01", "01/09/2025", "", None, 20250901, "2025-09-01T10:00"])
def test_bad_dates(field, value):
    with pytest.raises(GrantError) as info:
        parse_grant({**GOOD, field: value})
    assert str(info.value) == f"{label(field)} must be a date such as 2026-01-31, got {value!r}"
    assert info.value.field == field


def test_datetime_is_not_a_date():
    with pytest.raises(GrantError) as info:
        parse_grant({**GOOD, "start_date": dt.datetime(2025, 9, 1, 12, 0)})
    assert info.value.field == "start_date"


def test_end_before_start():
    with pytest.raises(GrantError) as info:
        parse_grant({**GOOD, "start_date": "2025-09-02", "end_date": "2025-09-01"})
    assert str(info.value) == "The end date must not be before the start date"
    assert info.value.field == "end_date"


def test_unknown_field():
    with pytest.raises(GrantError) as info:
        parse_grant({**GOOD, "budget_usd": "1", "amount": "2"})
    assert str(info.value).startswith("'amount' is not a grant field (known: id, award_number, ")
    assert info.value.field == "amount"


@pytest.mark.parametrize("data", [["id"], "nsf", None, 3])
def test_not_an_object(data):
    with pytest.raises(GrantError) as info:
        parse_grant(data)
    assert str(info.value) == f"a grant must be an object of fields, got {type(data).__name__}"
    assert info.value.field is None


# -- read_grants_file -----------------------------------------------------------
def test_read_json_list_and_object(tmp_path):
    second = {**GOOD, "id": "erc-1", "currency": "EUR", "budget": 1500.25}
    listed = tmp_path / "grants.json"
    listed.write_text(json.dumps([GOOD, second]))
    grants = read_grants_file(listed)
    assert [g["id"] for g in grants] == ["nsf-cns-2401234", "erc-1"]
    assert grants[1]["budget_micros"] == 1_500_250_000  # a JSON number is read exactly

    wrapped = tmp_path / "wrapped.json"
    wrapped.write_text(json.dumps({"grants": [GOOD]}))
    assert [g["id"] for g in read_grants_file(wrapped)] == ["nsf-cns-2401234"]


def test_read_csv(tmp_path):
    path = tmp_path / "grants.csv"
    path.write_text(
        "\n".join([CSV_HEADER, csv_row(), csv_row(id="erc-1", currency="EUR", title='"Title, with comma"'), ""])
    )
    grants = read_grants_file(path)
    assert [g["id"] for g in grants] == ["nsf-cns-2401234", "erc-1"]
    assert grants[1]["title"] == "Title, with comma"
    assert grants[1]["budget_micros"] == 5_000_000_000


def test_read_csv_saved_by_a_spreadsheet(tmp_path):
    # Spreadsheets write UTF-8 CSV with a byte-order mark and CRLF line ends.
    path = tmp_path / "grants.csv"
    path.write_bytes(("\ufeff" + CSV_HEADER + "\r\n" + csv_row() + "\r\n").encode("utf-8"))
    assert [g["id"] for g in read_grants_file(path)] == ["nsf-cns-2401234"]


def test_one_bad_csv_row_rejects_the_file_naming_every_bad_line(tmp_path):
    path = tmp_path / "grants.csv"
    path.write_text(
        "\n".join(
            [
                CSV_HEADER,
                csv_row(id="ok-1"),  # line 2
                csv_row(id="bad-budget", budget="lots"),  # line 3
                csv_row(id="ok-2"),  # line 4
                csv_row(id="bad-currency", currency="usd"),  # line 5
                csv_row(id="bad-dates", start_date="2026-01-01", end_date="2025-01-01"),  # line 6
                csv_row(id="ok-1"),  # line 7: a duplicate
                csv_row(id="extra") + ",surplus",  # line 8
            ]
        )
        + "\n"
    )
    with pytest.raises(GrantError) as info:
        read_grants_file(path)
    lines = str(info.value).splitlines()
    assert lines[0] == f"{path}: nothing imported, 5 bad row(s):"
    assert lines[1] == "line 3 (budget): The budget must be a decimal amount such as \"0.50\", got 'lots'"
    assert lines[2].startswith("line 5 (currency): The currency must be a three-letter ISO 4217 code")
    assert lines[3] == "line 6 (end_date): The end date must not be before the start date"
    assert lines[4] == "line 7 (id): the grant id 'ok-1' appears twice in the file"
    assert lines[5] == "line 8: has 1 value(s) more than the header row (quote fields that hold commas)"
    assert len(lines) == 6


def test_csv_short_row_names_the_missing_fields(tmp_path):
    path = tmp_path / "grants.csv"
    path.write_text(CSV_HEADER + "\n" + "short,NSF 1,Title\n")
    with pytest.raises(GrantError) as info:
        read_grants_file(path)
    assert str(info.value).splitlines()[1] == "line 2 (funder): The funder is required"


def test_csv_header_missing_columns(tmp_path):
    path = tmp_path / "grants.csv"
    path.write_text("id,title\nx,y\n")
    with pytest.raises(GrantError) as info:
        read_grants_file(path)
    assert str(info.value) == (
        f"{path}: the header row lacks award_number, funder, pi, budget, currency, start_date, end_date"
    )


def test_csv_unknown_column(tmp_path):
    path = tmp_path / "grants.csv"
    path.write_text(CSV_HEADER + ",notes\n" + csv_row() + ",hello\n")
    with pytest.raises(GrantError) as info:
        read_grants_file(path)
    assert str(info.value).splitlines()[1].startswith("line 2 (notes): 'notes' is not a grant field")


def test_one_bad_json_grant_rejects_the_file(tmp_path):
    path = tmp_path / "grants.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "id": "b", "pi": ""}, "junk", {**GOOD, "id": "c", "x": 1}]))
    with pytest.raises(GrantError) as info:
        read_grants_file(path)
    assert str(info.value).splitlines() == [
        f"{path}: nothing imported, 3 bad row(s):",
        "grant #2 (pi): The PI is required",
        "grant #3: a grant must be an object of fields, got str",
        f"grant #4 (x): 'x' is not a grant field (known: {', '.join(GRANT_FIELDS)})",
    ]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("[", "is not valid JSON (Expecting value at line 1)"),
        ('{"grant": []}', "must hold a list of grants (or an object with a 'grants' list)"),
        ('"x"', "must hold a list of grants (or an object with a 'grants' list)"),
    ],
)
def test_bad_json_file(tmp_path, text, expected):
    path = tmp_path / "grants.json"
    path.write_text(text)
    with pytest.raises(GrantError) as info:
        read_grants_file(path)
    assert str(info.value) == f"{path}: {expected}"


def test_missing_file(tmp_path):
    path = tmp_path / "nope.csv"
    with pytest.raises(GrantError) as info:
        read_grants_file(path)
    assert str(info.value) == f"{path}: cannot be read (No such file or directory)"


# -- the CLI ----------------------------------------------------------------------
@pytest.fixture
def cli(jp_environ, tmp_path, capsys):
    """Run ``jupyter compute-panel`` on a ledger in tmp_path; returns (exit code, stdout, stderr)."""
    url = f"sqlite:///{tmp_path / 'l.sqlite'}"

    def run(*argv: str) -> tuple[int, str, str]:
        code = main(["--db-url", url, *argv])
        out, err = capsys.readouterr()
        return code, out, err

    run.url = url
    return run


@pytest.fixture
def cli_ledger(cli):
    ledger = Ledger(cli.url)
    ledger.migrate()
    yield ledger
    ledger.dispose()


def add_args(**overrides) -> list[str]:
    values = {**GOOD, **overrides}
    args = ["grants", "add"]
    for field in REQUIRED_FIELDS:
        args += [f"--{field.replace('_', '-')}", values[field]]
    return args


def test_cli_add_and_list(cli):
    code, out, err = cli(*add_args())
    assert (code, err) == (0, "")
    assert out == "Saved grant nsf-cns-2401234 (NSF CNS-2401234), budget 5000.00 USD.\n"

    code, out, _ = cli("grants", "list", "--json")
    assert code == 0
    assert json.loads(out) == [
        {
            "id": "nsf-cns-2401234",
            "award_number": "NSF CNS-2401234",
            "title": "Robustness of vision models",
            "funder": "National Science Foundation",
            "pi": "alice",
            "budget": "5000.00",
            "currency": "USD",
            "start_date": "2025-09-01",
            "end_date": "2028-08-31",
            "active": dt.date(2025, 9, 1) <= dt.date.today() <= dt.date(2028, 8, 31),
            "spent": "0.00",
            # The default policies, and the PI as the grant's first member.
            "allowed_tiers": None,
            "sensitive": False,
            "alert_thresholds": [50, 80, 100],
            "hard_stop": True,
            "min_runtime_minutes": 15.0,
            "members": [{"user": "alice", "role": "pi"}],
        }
    ]

    code, out, _ = cli("grants", "list")
    assert code == 0
    assert out.startswith("nsf-cns-2401234 ")
    assert "0.00 of 5000.00 USD" in out


def test_cli_add_updates_an_existing_grant(cli):
    assert cli(*add_args())[0] == 0
    code, out, _ = cli(*add_args(budget="7500.5", title="Renewed"))
    assert code == 0
    assert "budget 7500.50 USD" in out
    (grant,) = json.loads(cli("grants", "list", "--json")[1])
    assert (grant["budget"], grant["title"]) == ("7500.50", "Renewed")


def test_cli_list_when_empty(cli):
    code, out, _ = cli("grants", "list")
    assert code == 0
    assert out.startswith("No grants yet")
    assert json.loads(cli("grants", "list", "--json")[1]) == []


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"budget": "lots"}, "The budget must be a decimal amount such as \"0.50\", got 'lots'"),
        ({"currency": "usd"}, "The currency must be a three-letter ISO 4217 code such as \"USD\", got 'usd'"),
        ({"end_date": "2020-01-01"}, "The end date must not be before the start date"),
        ({"id": "bad id"}, "The grant id must be 1 to 64 letters, digits, '.', '_' or '-'"),
        ({"start_date": "soon"}, "The start date must be a date such as 2026-01-31, got 'soon'"),
    ],
)
def test_cli_add_bad_input_is_one_line_and_exit_2(cli, cli_ledger, overrides, message):
    code, out, err = cli(*add_args(**overrides))
    assert code == 2
    assert out == ""
    assert err == f"jupyter compute-panel: {message}\n"
    assert cli_ledger.list_grants() == []


def test_cli_add_missing_option_is_a_usage_error(cli):
    with pytest.raises(SystemExit) as info:
        main(["--db-url", cli.url, "grants", "add", "--id", "x"])
    assert info.value.code == 2


def test_cli_bad_db_url(jp_environ, capsys):
    code = main(["--db-url", "notaurl", "grants", "list"])
    _, err = capsys.readouterr()
    assert code == 2
    assert err.startswith("jupyter compute-panel: ComputePanel.db_url: 'notaurl' is not a database URL")
    assert err.count("\n") == 1


def test_cli_import_json(cli, tmp_path):
    path = tmp_path / "grants.json"
    path.write_text(json.dumps([GOOD, {**GOOD, "id": "erc-1", "currency": "EUR"}]))
    code, out, err = cli("grants", "import", str(path))
    assert (code, err) == (0, "")
    assert out == f"Imported 2 grant(s) from {path}.\n"
    listed = json.loads(cli("grants", "list", "--json")[1])
    assert [(g["id"], g["currency"]) for g in listed] == [("erc-1", "EUR"), ("nsf-cns-2401234", "USD")]


def test_cli_import_csv_is_all_or_nothing(cli, cli_ledger, tmp_path):
    assert cli(*add_args(id="existing", budget="10"))[0] == 0
    path = tmp_path / "grants.csv"
    path.write_text(
        "\n".join(
            [
                CSV_HEADER,
                csv_row(id="new-1"),
                csv_row(id="existing", budget="99"),
                csv_row(id="new-2", budget="-5"),
                csv_row(id="new-3", pi=""),
            ]
        )
        + "\n"
    )
    code, out, err = cli("grants", "import", str(path))
    assert code == 2
    assert out == ""
    assert err.splitlines() == [
        f"jupyter compute-panel: {path}: nothing imported, 2 bad row(s):",
        "line 4 (budget): The budget must not be negative, got '-5'",
        "line 5 (pi): The PI is required",
    ]
    # Nothing from the file reached the ledger, not even its good rows.
    grants = cli_ledger.list_grants()
    assert [g.id for g in grants] == ["existing"]
    assert grants[0].budget_micros == 10_000_000

    # Fixed, the same file imports every row.
    path.write_text("\n".join([CSV_HEADER, csv_row(id="new-1"), csv_row(id="existing", budget="99")]) + "\n")
    code, out, _ = cli("grants", "import", str(path))
    assert code == 0
    assert [(g.id, g.budget_micros) for g in cli_ledger.list_grants()] == [
        ("existing", 99_000_000),
        ("new-1", 5_000_000_000),
    ]


def test_cli_import_missing_file(cli, tmp_path):
    path = tmp_path / "nope.json"
    code, _, err = cli("grants", "import", str(path))
    assert code == 2
    assert err == f"jupyter compute-panel: {path}: cannot be read (No such file or directory)\n"


def test_cli_import_is_atomic_when_the_ledger_refuses_a_row(cli, cli_ledger, tmp_path):
    # A grant with runs charged to it cannot change currency; the ledger refuses that row.
    cli_ledger.sync_tiers(read_catalog_file(DEMO_CATALOG))
    cli_ledger.upsert_grant(parse_grant({**GOOD, "id": "charged"}))
    rtx = read_catalog_file(DEMO_CATALOG).get("rtx4090")
    cli_ledger.open_run(kernel_id="k1", kernelspec="x", tier=rtx, grant_id="charged", user="alice", notebook=None)

    path = tmp_path / "grants.json"
    path.write_text(json.dumps([{**GOOD, "id": "fresh"}, {**GOOD, "id": "charged", "currency": "EUR"}]))
    code, _, err = cli("grants", "import", str(path))
    assert code == 2
    assert "currency: cannot change from USD to EUR" in err
    assert [g.id for g in cli_ledger.list_grants()] == ["charged"]


def test_grants_file_path_in_message_is_the_one_given(tmp_path):
    path = Path(tmp_path / "sub" / "g.json")
    with pytest.raises(GrantError, match=r"sub/g\.json: cannot be read"):
        read_grants_file(path)
