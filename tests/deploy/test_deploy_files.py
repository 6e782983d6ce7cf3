"""The deploy files, checked statically (no Docker engine on these machines).

They must agree with the code: every setting the service reads is documented in the
example environment file, every `alliance` command they run exists, every file the
Dockerfile copies is in the repository.
"""

import configparser
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
SETTING = re.compile(r"\bALLIANCE_[A-Z0-9_]+\b")
SEPARATORS = {"&&", "||", ";", "|", "exec"}


def read(name: str) -> str:
    return (DEPLOY / name).read_text(encoding="utf-8")


def compose() -> dict:
    return yaml.safe_load(read("compose.yaml"))


def settings_read_by_the_service() -> set[str]:
    names = set(SETTING.findall((ROOT / "server" / "settings.py").read_text(encoding="utf-8")))
    assert len(names) >= 9, names  # the regex still finds them
    return names


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    text = read("Dockerfile")
    lines = [line for line in text.splitlines() if not line.lstrip().startswith("#")]
    joined = re.sub(r"\\\n", " ", "\n".join(lines))
    out = []
    for line in joined.splitlines():
        if line.strip():
            instruction, _, arguments = line.strip().partition(" ")
            out.append((instruction.upper(), arguments.strip()))
    return out


def words(arguments: str) -> list[str]:
    """A shell-form or exec-form (JSON array) command as a list of words."""
    arguments = arguments.strip()
    if arguments.startswith("["):
        return yaml.safe_load(arguments)  # a JSON array is YAML too
    return shlex.split(arguments)


def alliance_subcommands_in(command: list[str] | str) -> list[str]:
    """`alliance X` in a command (where `alliance` is the program run, not an argument): the X's."""
    tokens = command if isinstance(command, list) else shlex.split(command)
    return [tokens[i + 1] for i, token in enumerate(tokens[:-1])
            if Path(token).name == "alliance" and (i == 0 or tokens[i - 1] in SEPARATORS)
            and not tokens[i + 1].startswith("-")]


def referenced_subcommands() -> set[str]:
    found = set()
    for instruction, arguments in dockerfile_instructions():
        if instruction in ("RUN", "CMD", "ENTRYPOINT"):
            found.update(alliance_subcommands_in(words(arguments)))
    for service in compose()["services"].values():
        if "command" in service:
            found.update(alliance_subcommands_in(service["command"]))
    found.update(alliance_subcommands_in(systemd_unit()["Service"]["ExecStart"]))
    found.update(alliance_subcommands_in(systemd_unit("alliance-reminders.service")["Service"]["ExecStart"]))
    return found


def is_subcommand(name: str) -> bool:
    """Asks the real `alliance` argparse parser (server.cli.main): `alliance NAME --help`
    exits 0 for a subcommand and 2 (invalid choice) for anything else."""
    result = subprocess.run([sys.executable, "-m", "server.cli", name, "--help"], cwd=ROOT,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode in (0, 2), result.stderr
    return result.returncode == 0


def systemd_unit(name: str = "alliance.service") -> configparser.ConfigParser:
    unit = configparser.ConfigParser(strict=False, interpolation=None)
    unit.optionxform = str  # systemd keys are case-sensitive
    unit.read_string(read(name))
    return unit


# compose.yaml

def test_compose_has_postgres_migrate_two_apps_and_caddy():
    services = compose()["services"]
    assert {"postgres", "migrate", "app1", "app2", "caddy"} <= set(services)
    assert services["postgres"]["image"].startswith("postgres:15")
    assert "healthcheck" in services["postgres"]
    assert any(str(v).split(":")[0] in compose()["volumes"] for v in services["postgres"]["volumes"])
    assert alliance_subcommands_in(services["migrate"]["command"]) == ["migrate"]
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert services["caddy"]["image"].startswith("caddy")


@pytest.mark.parametrize("app", ["app1", "app2"])
def test_apps_wait_for_migrate_and_do_not_create_tables(app):
    service = compose()["services"][app]
    assert service["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert str(service["environment"]["ALLIANCE_CREATE_TABLES"]).lower() == "no"
    assert service["environment"]["ALLIANCE_DATABASE_URL"].startswith("postgresql://")
    assert alliance_subcommands_in(service["command"]) == ["serve"]
    assert service["env_file"] == "alliance.env"
    # every environment key the compose file sets for the service is a real setting (or uvicorn's)
    unknown = {k for k in service["environment"] if k.startswith("ALLIANCE_")} - settings_read_by_the_service()
    assert not unknown


def test_compose_builds_with_the_repository_as_context():
    build = compose()["services"]["app1"]["build"]
    assert (DEPLOY / build["context"]).resolve() == ROOT
    assert (ROOT / build["dockerfile"]) == DEPLOY / "Dockerfile"


# alliance.env.example

def test_env_example_documents_every_setting_and_nothing_else():
    lines = read("alliance.env.example").splitlines()
    assigned = {}
    for number, line in enumerate(lines):
        match = re.match(r"^\s*([A-Za-z_][A-Za-z0-9_]*)=", line)
        if match:
            assigned[match.group(1)] = number
    known = settings_read_by_the_service()
    assert set(assigned) - known == set(), "the example sets variables the service does not read"
    assert known - set(assigned) == set(), "settings the service reads are missing from the example"
    for name, number in assigned.items():
        assert number > 0 and lines[number - 1].lstrip().startswith("#"), f"{name} needs a comment line above it"


def test_env_example_says_how_to_make_a_cipher_key_and_holds_no_real_one():
    text = read("alliance.env.example")
    assert "os.urandom(32)" in text
    key = re.search(r"^ALLIANCE_CIPHER_KEY=(.*)$", text, re.M).group(1)
    assert "CHANGE-ME" in key


# Dockerfile

def test_dockerfile_copies_only_files_that_exist():
    copies = [words(arguments) for instruction, arguments in dockerfile_instructions()
              if instruction in ("COPY", "ADD")]
    assert copies
    for copy in copies:
        sources = [w for w in copy[:-1] if not w.startswith("--")]
        for source in sources:
            assert (ROOT / source).exists(), f"COPY {source}: not in the repository"


def test_dockerfile_basics():
    instructions = dockerfile_instructions()
    by_name = {}
    for instruction, arguments in instructions:
        by_name.setdefault(instruction, []).append(arguments)
    assert re.match(r"python:3\.11-slim", by_name["FROM"][0])
    assert any("-c constraints.txt" in run and "pip install" in run and "[test]" not in run for run in by_name["RUN"])
    assert by_name["USER"][-1] not in ("root", "0")
    assert "/data" in by_name["VOLUME"][0]
    assert "ALLIANCE_DATA_DIR=/data" in " ".join(by_name["ENV"])
    assert by_name["EXPOSE"] == ["8000"]
    assert "/healthz" in by_name["HEALTHCHECK"][0] and "urllib" in by_name["HEALTHCHECK"][0]
    assert words(by_name["CMD"][-1]) == ["alliance", "serve", "--host", "0.0.0.0", "--port", "8000"]


# The `alliance` commands the deploy files run

def test_deploy_files_run_serve_and_migrate():
    assert {"serve", "migrate"} <= referenced_subcommands()


@pytest.mark.parametrize("name", sorted(referenced_subcommands()))
def test_every_alliance_command_the_deploy_files_run_exists(name):
    assert is_subcommand(name), f"`alliance {name}` is not a subcommand of server/cli.py"


def test_the_subcommand_check_tells_a_missing_command():
    assert not is_subcommand("no-such-command")


# alliance.service (systemd)

def test_systemd_unit():
    unit = systemd_unit()
    service = unit["Service"]
    command = shlex.split(service["ExecStart"])
    assert command[0] == "/opt/alliance/.venv/bin/alliance"
    assert command[1:] == ["serve", "--host", "127.0.0.1", "--port", "8000"]
    assert service["User"] == "alliance"
    assert service["EnvironmentFile"] == "/etc/alliance/alliance.env"
    assert service["Restart"] == "on-failure"
    assert service["NoNewPrivileges"] == "yes"
    assert service["ProtectSystem"] == "strict"
    assert service["PrivateTmp"] == "yes"
    assert "/var/lib/alliance" in service["ReadWritePaths"].split()
    assert "WorkingDirectory" in service
    assert unit["Install"]["WantedBy"] == "multi-user.target"


# The reminders follower (issue 12): once per deployment

def test_compose_runs_the_reminders_follower_once_and_the_apps_do_not():
    services = compose()["services"]
    reminding = [name for name, service in services.items() if "command" in service
                 and alliance_subcommands_in(service["command"]) == ["remind"]]
    assert reminding == ["reminders"]
    follower = services["reminders"]
    assert follower["depends_on"]["migrate"]["condition"] == "service_completed_successfully"
    assert str(follower["environment"]["ALLIANCE_CREATE_TABLES"]).lower() == "no"
    assert follower["environment"]["ALLIANCE_DATABASE_URL"] == services["app1"]["environment"]["ALLIANCE_DATABASE_URL"]
    for app in ("app1", "app2"):
        assert str(services[app]["environment"]["ALLIANCE_REMINDERS"]).lower() == "no"
    assert not set(follower["environment"]) - settings_read_by_the_service()


def test_the_systemd_reminders_unit_runs_the_follower_like_the_service():
    unit, service = systemd_unit("alliance-reminders.service"), systemd_unit()["Service"]
    command = shlex.split(unit["Service"]["ExecStart"])
    assert command == ["/opt/alliance/.venv/bin/alliance", "remind"]
    for key in ("User", "EnvironmentFile", "WorkingDirectory", "NoNewPrivileges", "ProtectSystem", "ReadWritePaths"):
        assert unit["Service"][key] == service[key], key
    assert unit["Install"]["WantedBy"] == "multi-user.target"


def test_the_readme_says_how_to_set_up_web_push_and_email():
    text = read("README.md")
    assert "alliance vapid" in text and "ALLIANCE_VAPID_PRIVATE_KEY" in text and "ALLIANCE_VAPID_SUBJECT" in text
    assert all(name in text for name in ("ALLIANCE_SMTP_HOST", "ALLIANCE_SMTP_TLS", "ALLIANCE_MAIL_FROM"))
    assert "alliance-reminders.service" in text and "alliance remind" in text


# Caddyfile

def test_caddyfile_proxies_to_both_apps_with_health_checks_and_flushing():
    text = read("Caddyfile")
    services = compose()["services"]
    for app in ("app1", "app2"):
        assert f"{app}:8000" in text
        assert app in services
    assert re.search(r"health_uri\s+/healthz", text)
    assert re.search(r"flush_interval\s+-1", text)
    caddy = services["caddy"]
    assert any(str(v).startswith("./Caddyfile:") for v in caddy["volumes"])


def test_the_wheel_carries_the_pages_and_the_phone_app(tmp_path):
    """An installed service (not a checkout) must still find its templates and the PWA."""
    import subprocess
    import sys
    import zipfile

    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps",
                    "-w", str(tmp_path), str(ROOT)], check=True, capture_output=True)
    (wheel,) = tmp_path.glob("designed_alliance-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = {p.relative_to(ROOT).as_posix() for p in (ROOT / "pwa").rglob("*") if p.is_file()}
    shipped |= {p.relative_to(ROOT).as_posix() for p in (ROOT / "server" / "templates").glob("*.html")}
    assert shipped <= names, sorted(shipped - names)
