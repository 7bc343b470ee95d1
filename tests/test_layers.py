"""The layers the build checks (import-linter contracts in pyproject.toml): the project
keeps them, and they catch a lower app importing a higher one, a vendor importing
another, the framework importing a vendor, and a circle inside an app."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")
APPS = ["config", "clients", "packages", "accessctl", "integrations", "staff", "portal",
        "integrations/perfectgym", "integrations/gladstone", "integrations/glofox", "integrations/kisi",
        "integrations/momence", "integrations/example"]


def lint_imports(cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([LINT_IMPORTS, "--no-cache", "--no-logo"], cwd=cwd, capture_output=True,  # noqa: S603
                          text=True, env={"PYTHONPATH": str(cwd), "PATH": ""}, timeout=120)


def test_the_project_keeps_its_layers():
    result = lint_imports(ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("module", "source", "broken"), [
    ("clients/admin.py", "from packages import models\n", "clients is not allowed to import packages"),
    ("accessctl/services.py", "import integrations.kisi\n", "accessctl is not allowed to import integrations"),
    ("integrations/glofox/syncs.py", "from integrations.kisi import client\n",
     "integrations.glofox is not allowed to import integrations.kisi"),
    ("integrations/demo_vendors.py", "from integrations.glofox import models\n",
     "integrations.demo_vendors is not allowed to import integrations.glofox"),
    ("integrations/admin.py", "from integrations.example import connector\n",
     "integrations.admin is not allowed to import integrations.example"),
    ("integrations/example/syncs.py", "from integrations.momence import client\n",
     "integrations.example is not allowed to import integrations.momence"),
    ("accessctl/models/doors.py", "from accessctl.models import rules\n", "No cycles are allowed in accessctl"),
    ("staff/views.py", "from portal import views\n", "staff is not allowed to import portal"),
    ("integrations/views.py", "from portal import views\n", "integrations is not allowed to import portal"),
])
def test_the_contracts_catch_an_import_against_the_layers(tmp_path, module, source, broken):
    shutil.copy(ROOT / "pyproject.toml", tmp_path)
    for app in [*APPS, "accessctl/models"]:
        (tmp_path / app).mkdir(parents=True, exist_ok=True)
        (tmp_path / app / "__init__.py").touch()
    (tmp_path / "accessctl/models/rules.py").write_text("from accessctl.models import doors\n")
    assert lint_imports(tmp_path).returncode == 0
    (tmp_path / module).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / module).write_text(source)
    result = lint_imports(tmp_path)
    assert result.returncode == 1
    assert broken in result.stdout
