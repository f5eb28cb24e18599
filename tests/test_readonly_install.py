"""A read-only install (issue 21, item 9): the package folder read-only and no writable home or cache
folder, as in a container.  numba's ``cache=True`` then has nowhere to write; ``import regstats``
must still work, with one warning."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

PKG = Path(__file__).resolve().parents[1] / "regstats"

SCRIPT = """
import warnings
warnings.simplefilter("always")
{pre}
with warnings.catch_warnings(record=True) as got:
    import regstats as rs
    path = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"), n_lambda=5)
print(rs.__file__)
print(round(float(path.coef["lcavol"].iloc[-1]), 6))
print(sum("numba" in str(w.message) or "solver" in str(w.message) for w in got))
print([str(w.message) for w in got])
"""


def _unprivileged():
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("root without setpriv: cannot make folders read-only")
    caps = "-dac_override,-dac_read_search,-fowner,-linux_immutable"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--"]


@pytest.fixture(scope="module")
def readonly(tmp_path_factory):
    root = tmp_path_factory.mktemp("ro")
    shutil.copytree(PKG, root / "pkg" / "regstats", ignore=shutil.ignore_patterns("__pycache__"))
    (root / "home").mkdir()
    for dirpath, dirnames, filenames in os.walk(root):
        for name in filenames:
            os.chmod(os.path.join(dirpath, name), 0o444)
        os.chmod(dirpath, 0o555)
    yield root
    for dirpath, dirnames, filenames in os.walk(root):
        os.chmod(dirpath, 0o755)


def _run(root, pre=""):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("NUMBA_", "XDG_"))}
    env.update(HOME=str(root / "home"), PYTHONPATH=str(root / "pkg"), PYTHONDONTWRITEBYTECODE="1")
    return subprocess.run([*_unprivileged(), sys.executable, "-c", SCRIPT.format(pre=pre)], capture_output=True,
                          text=True, cwd=root / "home", env=env, timeout=600)


def test_import_falls_back_to_a_temporary_cache(readonly):
    probe = subprocess.run([*_unprivileged(), sys.executable, "-c",
                            f"open({str(readonly / 'home' / 'x')!r}, 'w')"], capture_output=True, text=True)
    assert probe.returncode != 0                      # the home folder really is read-only
    r = _run(readonly)
    assert r.returncode == 0, r.stderr
    where, coef, n_warn, msgs = r.stdout.splitlines()[:4]
    assert where == str(readonly / "pkg" / "regstats" / "__init__.py")
    assert n_warn == "1", msgs                        # one warning, naming the temporary cache
    assert "cached in" in msgs and "NUMBA_CACHE_DIR" in msgs
    import regstats as rs

    want = rs.lasso("lpsa ~ . - train", rs.load_dataset("prostate"), n_lambda=5).coef["lcavol"].iloc[-1]
    assert abs(float(coef) - want) < 1e-6


def test_no_writable_folder_at_all_turns_caching_off(readonly):
    pre = ("import tempfile\n"
           "def _fail(*a, **k):\n    raise OSError(30, 'Read-only file system')\n"
           "tempfile.mkdtemp = _fail\n"
           f"tempfile.gettempdir = lambda: {str(readonly / 'home')!r}\n")
    r = _run(readonly, pre)
    assert r.returncode == 0, r.stderr
    where, coef, n_warn, msgs = r.stdout.splitlines()[:4]
    assert n_warn == "1" and "compiled at every start" in msgs


def test_writable_install_gives_no_warning(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUMBA_")}
    r = subprocess.run([sys.executable, "-W", "error::UserWarning", "-c", "import regstats"], capture_output=True,
                       text=True, env=dict(env, PYTHONPATH=str(PKG.parent)), timeout=600)
    assert r.returncode == 0 and r.stderr == "", r.stderr
