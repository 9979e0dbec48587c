"""`repro env import`: a compose file in, a valid environment file out (or nothing)."""

from __future__ import annotations

import yaml

from repro.config.project import load_environment
from repro.plan.services import start_order

# ---- `repro env import` ----------------------------------------------------------------------

SHOP_COMPOSE = """\
services:
  shop:
    build: ./shop
    environment: {SHOP_API: "http://catalog:8080"}
    ports: ["80:80"]
  catalog:
    image: busybox
    command: ["httpd", "-f", "-p", "8080", "-h", "/www"]
    volumes:
      - ./conf/products.json:/www/products.json:ro
      - cache:/var/cache/catalog
    healthcheck:
      test: ["CMD-SHELL", "wget -qO- http://127.0.0.1:8080/ >/dev/null"]
      interval: 1s
      retries: 10
    depends_on: [db]
  db:
    image: postgres:15
volumes:
  cache: {}
"""


def shop(project) -> None:
    project.write("environments/.keep", "")
    project.write("webshop/docker-compose.yml", SHOP_COMPOSE)
    project.write("webshop/conf/products.json", '[{"sku": "A-100"}]\n')
    project.write("webshop/shop/Dockerfile", "FROM busybox\n")


def test_env_import_writes_a_valid_environment_and_lists_what_it_left_out(project, cli):
    shop(project)
    result = cli("env", "import", "webshop/docker-compose.yml")
    assert result.exit_code == 0, result.stderr
    notes = ["catalog: volume 'cache:/var/cache/catalog' not converted (only single files "
             "become `files:`; load data with the scenario's `data:` or `load:`)",
             "shop: `ports` not converted (services reach each other by name on the run's "
             "network)"]
    assert result.stdout.splitlines() == [
        "wrote environments/webshop.yaml: the steps' container and 2 service(s)",
        *(f"  not converted: {note}" for note in notes)]
    text = (project.root / "environments/webshop.yaml").read_text()
    assert text.splitlines()[:3] == [
        "# Imported from webshop/docker-compose.yml by `repro env import`.",
        *(f"# not converted: {note}" for note in notes)]
    assert yaml.safe_load(text) == {
        "description": "imported from webshop/docker-compose.yml",
        "image": {"build": {"context": "../webshop/shop"}},
        "env": {"SHOP_API": "http://catalog:8080"},
        "services": {
            "catalog": {"image": "busybox", "command": ["httpd", "-f", "-p", "8080", "-h",
                                                        "/www"],
                        "files": [{"path": "/www/products.json",
                                   "template": "../webshop/conf/products.json"}],
                        "ready": {"command": "wget -qO- http://127.0.0.1:8080/ >/dev/null",
                                  "interval": 1.0, "timeout": 30},
                        "depends_on": ["db"]},
            "db": {"image": "postgres:15"}}}
    check = cli("validate", "environments/webshop.yaml")
    assert (check.exit_code, check.stderr) == (0, "1 of 1 files valid\n")
    env = load_environment(project.root / "environments/webshop.yaml").record
    assert start_order(env) == ["db", "catalog"]


def test_env_import_refuses_to_overwrite_without_force(project, cli):
    shop(project)
    assert cli("env", "import", "webshop/docker-compose.yml").exit_code == 0
    target = project.root / "environments/webshop.yaml"
    target.write_text("# mine\n")
    again = cli("env", "import", "webshop/docker-compose.yml")
    assert (again.exit_code, again.stdout) == (2, "")
    assert again.stderr == ("repro: error: environments/webshop.yaml: exists already; pass "
                            "--force to overwrite it or --name to choose another\n")
    assert target.read_text() == "# mine\n"
    other = cli("env", "import", "webshop/docker-compose.yml", "--name", "shop2",
                "--main", "catalog")
    assert other.exit_code == 0, other.stderr
    assert other.stdout.startswith("wrote environments/shop2.yaml: the steps' container and "
                                   "2 service(s)\n")
    assert yaml.safe_load((project.root / "environments/shop2.yaml").read_text())["image"] \
        == "busybox"
    forced = cli("env", "import", "webshop/docker-compose.yml", "--force")
    assert forced.exit_code == 0, forced.stderr
    assert target.read_text().startswith("# Imported from webshop/docker-compose.yml")


def test_env_import_of_an_unconvertible_file_writes_nothing(project, cli):
    # A service without image or build converts to an invalid environment: refused, and
    # not left behind (a second attempt must not need --force).
    project.write("environments/.keep", "")
    project.write("odd/docker-compose.yml", "services:\n  app: {build: .}\n"
                                            "  base: {extends: {file: x.yml, service: y}}\n")
    result = cli("env", "import", "odd/docker-compose.yml")
    assert result.exit_code == 2
    assert "services.base.image" in result.stderr
    assert not (project.root / "environments/odd.yaml").exists()


def test_env_import_of_a_missing_compose_file(project, cli):
    project.write("environments/.keep", "")
    result = cli("env", "import", "nope/docker-compose.yml")
    assert (result.exit_code, result.stderr) == (
        2, "repro: error: nope/docker-compose.yml: file not found\n")
