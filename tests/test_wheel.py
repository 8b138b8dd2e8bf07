"""The bot installed the way operators install it: a wheel in a fresh virtual environment.

An editable install finds files beside the source tree that a wheel does not carry (the
catalogs once were such files, and an installed bot answered French reps in English). So
the wheel is built from a copy of the sources, installed into a new virtual environment
outside the tree, and ``crmbot`` started there from another directory must answer in French.

Quick and offline: the wheel is built without build isolation (setuptools comes with the
test extras) and installed with ``--no-deps --no-index``. The new environment sees the
dependencies already installed for the tests through one path line in a ``.pth`` file. A
path line only adds that directory: the editable install's own ``.pth`` hook in it is not
run, so ``bot``, ``handlers`` and ``integrations`` can only come from the wheel (asserted).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Not sources: environments, build outputs, caches, local data.
_NOT_SOURCES = shutil.ignore_patterns(".git", ".venv*", "venv", "build", "dist", "data",
                                      "*.egg-info", "__pycache__", ".*_cache", "results")


def _run(*cmd: str | Path, **kwargs: object) -> subprocess.CompletedProcess[str]:
    done = subprocess.run([str(c) for c in cmd], capture_output=True, text=True, timeout=180,
                          **kwargs)  # type: ignore[call-overload]
    assert done.returncode == 0, f"{cmd}: {done.stdout}\n{done.stderr}"
    return done


def _clean_env(**extra: str) -> dict[str, str]:
    drop = ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "TELEGRAM_BOT_TOKEN", "ARTIS_URL",
            "REDIS_URL", "BOT_DEFAULT_LOCALE")
    return {**{k: v for k, v in os.environ.items() if k not in drop},
            "PIP_DISABLE_PIP_VERSION_CHECK": "1", **extra}


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A virtual environment, outside the source tree, with only the wheel installed."""
    tmp = tmp_path_factory.mktemp("wheel")
    assert not tmp.is_relative_to(ROOT)
    src, dist, venv = tmp / "src", tmp / "dist", tmp / "venv"
    shutil.copytree(ROOT, src, ignore=_NOT_SOURCES)  # no stale build/ from the working tree
    env = _clean_env()
    _run(sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation",
         "--no-index", "-w", dist, src, env=env)
    (wheel,) = dist.glob("artis_crm_assistant-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    assert {"bot/locales/fr/LC_MESSAGES/messages.po", "bot/locales/en/LC_MESSAGES/messages.po",
            "integrations/artis/openapi.yaml"} <= names

    _run(sys.executable, "-m", "venv", "--without-pip", venv, env=env)
    python = venv / "bin" / "python"
    _run(sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps",
         "--no-index", wheel, env=env)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])",
                     env=env).stdout.strip())
    ours = dict.fromkeys([sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]])
    (site / "zz_test_dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    return venv


def test_the_installed_wheel_answers_a_french_rep_in_french(installed: Path,
                                                            tmp_path: Path) -> None:
    where = _run(installed / "bin" / "python", "-c",
                 "import bot, handlers, integrations, bot.i18n as i;"
                 "print(bot.__file__, handlers.__file__, integrations.__file__, i.LOCALES_DIR)",
                 cwd=tmp_path, env=_clean_env()).stdout.split()
    for path in map(Path, where):
        assert path.is_relative_to(installed) and not path.is_relative_to(ROOT), where

    done = subprocess.run([installed / "bin" / "crmbot", "run"], cwd=tmp_path, input="/aide\n",
                          env=_clean_env(DATA_DIR=str(tmp_path / "data")),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert "terminal demo" in done.stdout
    assert "Ce que je sais faire" in done.stdout, done.stdout


def test_a_missing_default_catalog_stops_start_up_with_one_line(installed: Path,
                                                                tmp_path: Path) -> None:
    site = next((installed / "lib").glob("python3*/site-packages"))
    po = site / "bot/locales/fr/LC_MESSAGES/messages.po"
    aside = tmp_path / "messages.po"
    shutil.move(po, aside)
    try:
        done = subprocess.run([installed / "bin" / "crmbot", "run"], cwd=tmp_path,
                              input="/aide\n", env=_clean_env(DATA_DIR=str(tmp_path / "data")),
                              capture_output=True, text=True, timeout=60)
    finally:
        shutil.move(aside, po)
    assert done.returncode == 1
    assert "Traceback" not in done.stderr and "Ce que je sais faire" not in done.stdout
    assert done.stderr.strip().splitlines() == [
        f"startup error: the translations for BOT_DEFAULT_LOCALE=fr are missing ({po} not "
        f"found); reinstall the package"]


def test_the_installed_wheel_renders_pages_from_its_templates(installed: Path,
                                                              tmp_path: Path) -> None:
    """The templates (HTML, CSS, script) are package data: the sheet renders from the wheel."""
    done = subprocess.run([installed / "bin" / "crmbot", "pair", "--all-reps", "--unit",
                           "CDV-LYON", "--out", "sheet.html"], cwd=tmp_path,
                          env=_clean_env(DATA_DIR=str(tmp_path / "data")),
                          capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    sheet = (tmp_path / "sheet.html").read_text(encoding="utf-8")
    assert sheet.count('<img class="qr"') == 3 and "size: A4" in sheet
    assert '<meta http-equiv="Content-Security-Policy"' in sheet
    site = next((installed / "lib").glob("python3*/site-packages"))
    assert {"admin.html", "admin.css", "admin.js", "sso.html", "onboarding.html"} <= {
        path.name for path in (site / "bot/templates").iterdir()}
