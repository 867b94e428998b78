"""``python -m funding_rate_service``: the collector and the API in one real process; open on
loopback, a token required anywhere else (refused in one line without one); every start-up
mistake one line and exit 2."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import httpx
import pytest

from funding_rate_service.__main__ import check_binding, is_loopback, main, read_token
from tests.bot_runtime.test_runbot_e2e import free_port
from tests.funding_rate_service.service_process import (
    migrated_sqlite,
    running_service,
    wait_for,
)
from tests.helpers import run_cli

PAPER = ["--venues", "paper_a,paper_b", "--interval-seconds", "5", "--backfill-days", "0"]


def test_the_service_collects_the_paper_venues_and_serves_them(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path)
    port = free_port()
    # a start-up backfill too (the paper venues publish no history: it says so in /jobs)
    args = [*PAPER[:-1], "1"]
    with running_service(tmp_path, port, args, {"DATABASE_URL": url}) as service:

        def collected() -> bool:
            health = httpx.get(f"{service.url}/api/v1/health", timeout=5).json()
            jobs = httpx.get(f"{service.url}/api/v1/jobs", timeout=5).json()["jobs"]
            backfilled = any(job["name"] == "backfill" for job in jobs)
            return backfilled and [v["status"] for v in health["venues"]] == ["ok", "ok"]

        wait_for(collected)
        rates = httpx.get(f"{service.url}/api/v1/rates", timeout=5).json()
        opportunities = httpx.get(f"{service.url}/api/v1/opportunities", timeout=5)
        jobs = httpx.get(f"{service.url}/api/v1/jobs", timeout=5).json()["jobs"]
        service.process.terminate()
        assert service.process.wait(timeout=60) == 0
    assert {r["venue"] for r in rates} == {"paper_a", "paper_b"}
    assert all(isinstance(r["hourly_rate"], str) for r in rates)
    assert opportunities.status_code == 200
    assert opportunities.json()["venues"] == ["paper_a", "paper_b"]
    assert jobs[0]["name"] == "collect"
    assert jobs[0]["runs"] >= 1
    backfill = next(job for job in jobs if job["name"] == "backfill")
    assert backfill["details"] == {"rows": 0, "symbols": 0, "venues": 2}
    assert "paper_a: publishes no funding history" in backfill["last_error"]


def test_bound_off_loopback_the_token_is_required(tmp_path: Path) -> None:
    url = migrated_sqlite(tmp_path)
    port = free_port()
    token = "a-token-for-the-wide-bind"
    env = {"DATABASE_URL": url, "PERPFLEET_FUNDING_TOKEN": token}
    with running_service(tmp_path, port, [*PAPER, "--host", "0.0.0.0"], env) as service:  # noqa: S104
        without = httpx.get(f"{service.url}/api/v1/venues", timeout=5)
        wrong = httpx.get(
            f"{service.url}/api/v1/venues", headers={"Authorization": "Bearer x"}, timeout=5
        )
        right = httpx.get(
            f"{service.url}/api/v1/venues",
            headers={"Authorization": f"Bearer {token}"},
            timeout=5,
        )
    assert without.status_code == wrong.status_code == 401
    assert right.status_code == 200
    assert token not in service.log.read_text()


def test_off_loopback_without_a_token_is_refused_in_one_line(tmp_path: Path) -> None:
    result = run_cli(["-m", "funding_rate_service", "--host", "0.0.0.0"], tmp_path / "var")  # noqa: S104
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "python -m funding_rate_service: --host 0.0.0.0 is not a loopback address: the API "
        "would be open to the network; set PERPFLEET_FUNDING_TOKEN_FILE (a chmod 600 file) or "
        "PERPFLEET_FUNDING_TOKEN, or listen on 127.0.0.1"
    ]
    assert result.stdout == ""


def test_start_up_mistakes_are_one_line_and_exit_2(tmp_path: Path) -> None:
    loose = tmp_path / "token"
    loose.write_text("secret-token-value\n")
    loose.chmod(0o644)
    token_file = run_cli(
        ["-m", "funding_rate_service"],
        tmp_path / "var",
        {"PERPFLEET_FUNDING_TOKEN_FILE": str(loose)},
    )
    uninitialised = run_cli(
        ["-m", "funding_rate_service", "--port", str(free_port())],
        tmp_path / "var",
        {"DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"},
    )
    bad_flag = run_cli(["-m", "funding_rate_service", "--port", "http"], tmp_path / "var")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        in_use = run_cli(
            ["-m", "funding_rate_service", *PAPER, "--port", str(taken.getsockname()[1])],
            tmp_path / "var",
            {"DATABASE_URL": migrated_sqlite(tmp_path)},
        )
    assert token_file.returncode == 2
    assert token_file.stderr.splitlines() == [
        f"python -m funding_rate_service: {loose}: the API token file is readable by others "
        f"(mode 0644): chmod 600 {loose}"
    ]
    assert uninitialised.returncode == 2
    assert uninitialised.stderr.splitlines()[-1].endswith(
        "is not initialised; run `python -m database init`"
    )
    assert "Traceback" not in uninitialised.stderr
    assert bad_flag.returncode == 2
    assert "argument --port: expected a port number, found 'http'" in bad_flag.stderr
    assert in_use.returncode == 2
    assert in_use.stderr.splitlines()[-1].startswith(
        "python -m funding_rate_service: cannot listen on 127.0.0.1:"
    )
    assert "Traceback" not in in_use.stderr


@pytest.mark.parametrize(
    ("host", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.0.0.2", True),
        ("::1", True),
        ("[::1]", True),
        ("localhost", True),
        ("0.0.0.0", False),  # noqa: S104
        ("10.1.2.3", False),
        ("::", False),
        ("funding.example", False),
    ],
)
def test_which_hosts_are_loopback(host: str, loopback: bool) -> None:
    assert is_loopback(host) is loopback
    if loopback:
        check_binding(host, None)
    check_binding(host, "a-token")  # with a token, any host


def test_the_token_comes_from_a_private_file_or_the_environment(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("from-the-file\n")
    path.chmod(0o600)
    env = {"PERPFLEET_FUNDING_TOKEN_FILE": str(path), "PERPFLEET_FUNDING_TOKEN": "direct"}
    assert read_token(env) == "from-the-file"  # the file wins
    assert env == {}  # both read and removed: children never inherit them
    assert read_token({"PERPFLEET_FUNDING_TOKEN": "direct"}) == "direct"
    assert read_token({}) is None
    path.write_text("")
    with pytest.raises(Exception, match="the API token file is empty"):
        read_token({"PERPFLEET_FUNDING_TOKEN_FILE": str(path)})


def test_main_refuses_before_touching_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--host", "10.0.0.1"], environ={}) == 2
    assert "is not a loopback address" in capsys.readouterr().err
    assert not (Path(os.environ["PERPFLEET_VAR_DIR"]) / "perpfleet.db").exists()
