"""The release: one version source, install instructions that name the right distribution, a
changelog entry, and (slow) the sdist and wheel built, checked and installed in a fresh virtual
environment outside the checkout, where a short render must work."""

from __future__ import annotations

import configparser
import email.parser
import importlib.metadata
import json
import os
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import time
import zipfile

import pytest
from PIL import Image
from program_testlib import REPO_ROOT

import lucid2

DISTRIBUTION = "lucid2-tf"
# The PyPI project of this name is someone else's; nothing here may install it.
FOREIGN_DISTRIBUTION = "lucid2"
VERSION_SOURCE = "lucid2/__init__.py"
CHANGELOG = "CHANGELOG.md"
# Folders never part of the project's files when git cannot list them.
NOT_PROJECT_DIRS = {".git", ".venv", "venv", "build", "dist", "out", "__pycache__",
                    ".pytest_cache", ".mypy_cache", ".ruff_cache", "site"}

BUILD_TIMEOUT_S = 600
# A fresh environment downloads TensorFlow (~600 MB) unless pip's cache has it.
INSTALL_TIMEOUT_S = 1800
RENDER_TIMEOUT_S = 600
RENDER_SIZE = 64
RENDER_STEPS = 8


# --- the project's files ---------------------------------------------------------------------

def project_files() -> list[str]:
    """Paths (relative, POSIX) of the checkout's files as git sees them: tracked, plus untracked
    files that are not ignored; without git, every file outside build and cache folders."""
    try:
        listed = subprocess.run(
            ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
            cwd=REPO_ROOT, capture_output=True, check=True).stdout.decode()
        return sorted(path for path in set(listed.split("\0"))
                      if path and (REPO_ROOT / path).is_file())
    except (OSError, subprocess.CalledProcessError):
        found = []
        for root, dirs, files in os.walk(REPO_ROOT):
            dirs[:] = [d for d in dirs if d not in NOT_PROJECT_DIRS and not d.endswith(".egg-info")]
            found += [(pathlib.Path(root) / f).relative_to(REPO_ROOT).as_posix() for f in files]
        return sorted(found)


def is_package_file(path: str) -> bool:
    """Whether ``path`` is a file of the lucid2 package (Python or not) that a wheel must hold."""
    return path.startswith("lucid2/") and not path.endswith((".pyc", ".pyo"))


def read_text(path: str) -> str | None:
    """The file's text, or None for a binary file."""
    try:
        return (REPO_ROOT / path).read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None


# --- one version source ----------------------------------------------------------------------

VERSION_ASSIGNMENT = re.compile(r"^\s*__version__\s*=", re.MULTILINE)
VERSION_METADATA = re.compile(r"^\s*version\s*[=:]\s*(?P<value>.+)$", re.MULTILINE)


def version_literal(version: str) -> re.Pattern:
    """The version as a whole token: 0.1.0, but not inside 10.1.0 or 0.1.0.1."""
    return re.compile(rf"(?<![\w.]){re.escape(version)}(?![\w]|\.\d)")


def test_version_is_stated_only_in_the_package():
    version = lucid2.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:(?:a|b|rc)\d+)?(?:\.post\d+)?(?:\.dev\d+)?", version), (
        f"lucid2.__version__ = {version!r} is not a PEP 440 release version")
    stated = []
    for path in project_files():
        text = read_text(path)
        if text is None or path in (VERSION_SOURCE, CHANGELOG) or path.startswith("tests/"):
            continue
        if version_literal(version).search(text):
            stated.append(f"{path}: the literal {version}")
        if path.endswith(".py") and VERSION_ASSIGNMENT.search(text):
            stated.append(f"{path}: assigns __version__")
    assert not stated, "the version's one source is lucid2/__init__.py; also stated in " + \
        "; ".join(stated)

    metadata = configparser.ConfigParser(interpolation=None)
    metadata.read(REPO_ROOT / "setup.cfg", encoding="utf-8")
    assert metadata["metadata"]["version"].strip() == "attr: lucid2.__version__"
    assert metadata["metadata"]["name"].strip() == DISTRIBUTION
    setup_py = (REPO_ROOT / "setup.py").read_text(encoding="utf-8")
    assert not re.search(r"\bversion\s*=", setup_py), "setup.py must not state a version"
    pyproject = REPO_ROOT / "pyproject.toml"
    if pyproject.exists():
        match = VERSION_METADATA.search(pyproject.read_text(encoding="utf-8"))
        assert match is None, f"pyproject.toml states a version: {match.group(0)!r}"


def test_installed_metadata_has_the_package_version():
    try:
        installed = importlib.metadata.version(DISTRIBUTION)
    except importlib.metadata.PackageNotFoundError:
        pytest.skip(f"{DISTRIBUTION} is not installed (run: pip install -e .)")
    assert installed == lucid2.__version__, (
        f"installed {DISTRIBUTION} {installed} but lucid2.__version__ is {lucid2.__version__}: "
        "reinstall (pip install -e .) after changing the version")


def test_changelog_has_an_entry_for_the_current_version():
    text = (REPO_ROOT / CHANGELOG).read_text(encoding="utf-8")
    heading = re.compile(rf"^## \[{re.escape(lucid2.__version__)}\] - (\d{{4}}-\d{{2}}-\d{{2}})$",
                         re.MULTILINE)
    match = heading.search(text)
    assert match, f"{CHANGELOG} has no '## [{lucid2.__version__}] - YYYY-MM-DD' heading"
    entry = text[match.end():].split("\n## ", 1)[0]
    assert re.search(r"^- \S", entry, re.MULTILINE), "the version's entry lists no change"
    assert re.search(r"^## \[Unreleased\]$", text, re.MULTILINE), "no '## [Unreleased]' section"
    assert text.index("## [Unreleased]") < match.start(), "[Unreleased] comes first"


# --- install commands -------------------------------------------------------------------------

PIP_INSTALL = re.compile(r"\bpip[3x]?\s+install\b")
# One shell word after "pip install": quoted, or a run of characters that cannot end a command.
INSTALL_ARGUMENT = re.compile(r"[ \t]+('[^'\n]*'|\"[^\"\n]*\"|[^\s'\"`;&|()<>]+)")
# Options whose value is the next word (not a package).
OPTIONS_WITH_VALUE = {"-r", "--requirement", "-c", "--constraint", "-i", "--index-url",
                      "--extra-index-url", "-f", "--find-links", "-t", "--target", "--prefix",
                      "--root", "--src", "--cache-dir", "--platform", "--python-version",
                      "--implementation", "--abi", "--config-settings", "-C", "--upgrade-strategy"}
SOURCE_ASSIGNMENT = re.compile(r"\bLUCID2_PIP_SOURCE\s*=\s*(?:'([^'\n]*)'|\"([^\"\n]*)\")")
REQUIREMENT_NAME = re.compile(r"^([A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)")


def normalized(name: str) -> str:
    """A distribution name as PyPI compares it (PEP 503)."""
    return re.sub(r"[-_.]+", "-", name).lower()


def requirement_name(word: str) -> str | None:
    """The distribution a ``pip install`` argument names, or None for a URL, a path, a
    wheel or sdist file, or a variable ({NAME}, $NAME)."""
    word = word.strip("'\"")
    if (not word or word[0] in "{$." or "://" in word or word.startswith(("git+", "/", "~"))
            or "/" in word or word.endswith((".whl", ".tar.gz", ".zip"))):
        return None
    match = REQUIREMENT_NAME.match(word)
    return normalized(match.group(1)) if match else None


def installed_names(text: str) -> list[str]:
    """The distribution names that each ``pip install`` in ``text`` installs by name."""
    names = []
    for command in PIP_INSTALL.finditer(text):
        position, skip_next = command.end(), False
        while argument := INSTALL_ARGUMENT.match(text, position):
            position = argument.end()
            word = argument.group(1).strip("'\"")
            if argument.group(1).startswith("#"):
                break  # a shell comment ends the command
            if skip_next:
                skip_next = False
            elif word.startswith("-"):
                skip_next = word in OPTIONS_WITH_VALUE
            elif (name := requirement_name(word)) is not None:
                names.append(name)
    for assignment in SOURCE_ASSIGNMENT.finditer(text):
        value = assignment.group(1) if assignment.group(1) is not None else assignment.group(2)
        if (name := requirement_name(value)) is not None:
            names.append(name)
    return names


@pytest.mark.parametrize("text, names", [
    ("pip install lucid2", ["lucid2"]),
    ("python -m pip install -q 'lucid2[beam]'.", ["lucid2"]),
    ('%pip install -q "lucid2==0.1.0" numpy', ["lucid2", "numpy"]),
    ("`pip install lucid2-tf` or `pip install \"lucid2-tf[beam]\"`", ["lucid2-tf", "lucid2-tf"]),
    ("pip install Lucid2_TF", ["lucid2-tf"]),
    ("pip install lucid2-tf   # import it as lucid2", ["lucid2-tf"]),
    ('pip install -e ".[test]" && python -m pytest', []),
    ("pip install -e . && python -m lucid2.render", []),
    ("pip install dist/lucid2_tf-0.1.0-py3-none-any.whl", []),
    ('pip install "git+https://github.com/OWNER/lucid2"', []),
    ("%pip install -q {LUCID2_PIP_SOURCE}", []),
    ("pip install -r requirements.txt --find-links wheels", []),
    ('pip install "\n    "tensorflow_hub', []),
    ('LUCID2_PIP_SOURCE = "lucid2"', ["lucid2"]),
    ('LUCID2_PIP_SOURCE = "lucid2-tf"', ["lucid2-tf"]),
    ('LUCID2_PIP_SOURCE = "git+https://github.com/OWNER/lucid2"', []),
])
def test_installed_names_reads_pip_commands(text, names):
    assert installed_names(text) == names


def notebook_text(path: str, cell_types: tuple[str, ...] = ("code", "markdown", "raw")) -> str:
    """The source of a notebook's cells of the given types, one cell after another."""
    notebook = json.loads((REPO_ROOT / path).read_text(encoding="utf-8"))
    return "\n".join("".join(cell.get("source", "")) for cell in notebook.get("cells", [])
                     if cell.get("cell_type") in cell_types)


def instruction_files() -> list[str]:
    """Where a user reads install commands: the notebooks, the README, BUILD.md, the changelog,
    the docs, and the package's own messages (an error that says what to install)."""
    return [path for path in project_files()
            if path.startswith("colab/") and path.endswith(".ipynb")
            or path in ("README.md", "BUILD.md", CHANGELOG, "mkdocs.yml")
            or path.startswith("docs/")
            or path.startswith("lucid2/") and path.endswith(".py")]


def test_nothing_installs_the_foreign_pypi_project():
    offenders = []
    for path in instruction_files():
        text = notebook_text(path) if path.endswith(".ipynb") else read_text(path)
        if text is not None and FOREIGN_DISTRIBUTION in installed_names(text):
            offenders.append(path)
    assert not offenders, (f"these install the unrelated PyPI project {FOREIGN_DISTRIBUTION!r} "
                           f"instead of {DISTRIBUTION!r}: {', '.join(offenders)}")


def test_readme_and_notebooks_install_the_distribution():
    assert DISTRIBUTION in installed_names((REPO_ROOT / "README.md").read_text(encoding="utf-8"))
    notebooks = [path for path in project_files()
                 if path.startswith("colab/") and path.endswith(".ipynb")]
    for path in notebooks:
        text = notebook_text(path, cell_types=("code",))
        if PIP_INSTALL.search(text):
            assert set(installed_names(text)) == {DISTRIBUTION}, (
                f"{path} should install {DISTRIBUTION} (through LUCID2_PIP_SOURCE) and "
                f"nothing else by name; it installs {installed_names(text)}")


# --- the artifacts (slow) ---------------------------------------------------------------------

def run(command: list[str], *, timeout: float, **kwargs) -> subprocess.CompletedProcess:
    """Run ``command``; on failure, fail the test with its output."""
    result = subprocess.run(command, check=False, capture_output=True, text=True, timeout=timeout,
                            **kwargs)
    if result.returncode != 0:
        pytest.fail(f"{' '.join(map(str, command))} exited with {result.returncode}:\n"
                    f"{result.stdout[-4000:]}\n{result.stderr[-4000:]}")
    return result


def clean_environment(**extra: str) -> dict[str, str]:
    """This process's environment without what would point Python at the checkout or at the
    test's own virtual environment."""
    env = {key: value for key, value in os.environ.items()
           if key not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV", "PYTHONSTARTUP")}
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env.update(extra)
    return env


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> dict:
    """The sdist and the wheel, built with ``python -m build`` from a copy of the checkout's
    files (so the build writes nothing into the checkout), and the package files copied."""
    root = tmp_path_factory.mktemp("release")
    source, dist = root / "source", root / "dist"
    files = project_files()
    for path in files:
        (source / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO_ROOT / path, source / path)
    started = time.monotonic()
    run([sys.executable, "-m", "build", "--outdir", str(dist), str(source)],
        timeout=BUILD_TIMEOUT_S, env=clean_environment())
    print(f"build: {time.monotonic() - started:.1f} s")
    wheels, sdists = sorted(dist.glob("*.whl")), sorted(dist.glob("*.tar.gz"))
    assert len(wheels) == 1 and len(sdists) == 1, f"build wrote {sorted(dist.iterdir())}"
    return {"wheel": wheels[0], "sdist": sdists[0],
            "package_files": {path for path in files if is_package_file(path)}}


@pytest.mark.slow
def test_release_artifacts_are_checked_and_hold_every_package_file(release):
    run([sys.executable, "-m", "twine", "check", "--strict", str(release["wheel"]),
         str(release["sdist"])], timeout=BUILD_TIMEOUT_S)

    version = lucid2.__version__
    stem = f"{normalized(DISTRIBUTION).replace('-', '_')}-{version}"
    assert release["wheel"].name == f"{stem}-py3-none-any.whl"
    assert release["sdist"].name == f"{stem}.tar.gz"

    with zipfile.ZipFile(release["wheel"]) as wheel:
        names = set(wheel.namelist())
        metadata = email.parser.Parser().parsestr(
            wheel.read(f"{stem}.dist-info/METADATA").decode("utf-8"))
    assert metadata["Name"] == DISTRIBUTION
    assert metadata["Version"] == version
    assert metadata["License-Expression"] == "Apache-2.0"
    assert metadata["Requires-Python"] == ">=3.10"

    missing = sorted(release["package_files"] - names)
    assert not missing, f"the wheel lacks these package files: {missing}"
    top_level = {name.split("/", 1)[0] for name in names}
    assert top_level == {"lucid2", f"{stem}.dist-info"}, f"unexpected in the wheel: {top_level}"
    assert not [name for name in names if name.endswith((".pyc", ".pyo"))]

    with tarfile.open(release["sdist"]) as sdist:
        in_sdist = {name.split("/", 1)[1] for name in sdist.getnames() if "/" in name}
    wanted = release["package_files"] | {"README.md", "BUILD.md", CHANGELOG, "setup.cfg",
                                         "setup.py"}
    assert not sorted(wanted - in_sdist), f"the sdist lacks {sorted(wanted - in_sdist)}"


@pytest.mark.slow
def test_wheel_installs_in_a_fresh_environment_and_renders(release, shared_data, tmp_path):
    assert not tmp_path.resolve().is_relative_to(REPO_ROOT), (
        f"the fresh environment must lie outside the checkout; pytest's tmp_path is {tmp_path}")
    venv = tmp_path / "venv"
    workdir = tmp_path / "work"
    workdir.mkdir()
    env = clean_environment(KERAS_HOME=str(tmp_path / "keras_home"), TF_CPP_MIN_LOG_LEVEL="2")
    python = venv / "bin" / "python"

    started = time.monotonic()
    run([sys.executable, "-m", "venv", str(venv)], timeout=BUILD_TIMEOUT_S, env=env)
    # --no-compile: byte-compiling TensorFlow takes longer than installing it.
    run([str(python), "-m", "pip", "install", "--quiet", "--no-compile", str(release["wheel"])],
        timeout=INSTALL_TIMEOUT_S, env=env, cwd=workdir)
    installed_s = time.monotonic() - started

    probe = run([str(python), "-c",
                 ("import importlib.metadata, lucid2; print(lucid2.__file__); "
                  f"print(importlib.metadata.version({DISTRIBUTION!r}))")],
                timeout=RENDER_TIMEOUT_S, env=env, cwd=workdir)
    location, installed_version = probe.stdout.split()
    location = pathlib.Path(location).resolve()
    assert location.is_relative_to(venv.resolve()), f"lucid2 imported from {location}"
    assert not location.is_relative_to(REPO_ROOT), "lucid2 imported from the checkout"
    assert installed_version == lucid2.__version__

    output = workdir / "mixed4a_476.png"
    started = time.monotonic()
    run([str(python), "-m", "lucid2.render", "--objective=mixed4a:476",
         f"--steps={RENDER_STEPS}", f"--size={RENDER_SIZE}", f"--output={output}",
         f"--weights={shared_data / 'inception5h'}"],
        timeout=RENDER_TIMEOUT_S, env=env, cwd=workdir)
    print(f"venv and install: {installed_s:.1f} s; render: {time.monotonic() - started:.1f} s")
    with Image.open(output) as image:
        assert image.format == "PNG"
        assert image.size == (RENDER_SIZE, RENDER_SIZE)
