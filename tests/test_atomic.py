"""Atomic outputs (regstats/_atomic.py): a failed or killed write never leaves a half file and never
destroys the old one; every failure is one line naming the path and the reason (issue 21, item 1)."""
import os
import resource
import shutil
import signal
import subprocess
import sys
import time

import pytest

import regstats as rs
from regstats._atomic import OutputError, atomic_open, replace_dir, write_bytes, write_text
from regstats.report.document import Figure, Report, Section, Text

OLD = "<html>the old report</html>\n"


def unprivileged():
    """A command prefix under which the file permissions apply (root without DAC override)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a folder read-only")
    caps = "-dac_override,-dac_read_search,-fowner,-linux_immutable"
    return ["setpriv", f"--bounding-set={caps}", f"--inh-caps={caps}", "--"]


def cli(*args, cwd, env=None, preexec_fn=None, prefix=()):
    e = dict(os.environ, **(env or {}))
    return subprocess.run([*prefix, sys.executable, "-m", "regstats.cli", *map(str, args)], capture_output=True,
                          text=True, cwd=cwd, env=e, preexec_fn=preexec_fn, timeout=300)


def one_error_line(r, *words):
    assert r.returncode == 1, (r.stdout, r.stderr)
    assert "Traceback" not in r.stderr, r.stderr
    lines = [ln for ln in r.stderr.splitlines() if ln.startswith("regstats: error:")]
    assert len(lines) == 1, r.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


def leftovers(folder):
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


# -- the helpers ------------------------------------------------------------------------------------
def test_write_replaces_and_keeps_the_mode(tmp_path):
    target = tmp_path / "r.html"
    target.write_text(OLD)
    os.chmod(target, 0o640)
    write_text(target, "new")
    assert target.read_text() == "new" and (os.stat(target).st_mode & 0o777) == 0o640
    write_bytes(tmp_path / "b.bin", b"\x00\x01")
    assert (tmp_path / "b.bin").read_bytes() == b"\x00\x01"
    assert leftovers(tmp_path) == []


def test_failure_mid_write_leaves_the_old_file(tmp_path):
    target = tmp_path / "r.html"
    target.write_text(OLD)
    with pytest.raises(RuntimeError):
        with atomic_open(target) as fh:
            fh.write("half of the new report")
            raise RuntimeError("killed")
    assert target.read_text() == OLD and leftovers(tmp_path) == []


def test_full_disk_is_one_clear_error(tmp_path, monkeypatch):
    target = tmp_path / "r.html"
    target.write_text(OLD)

    def full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", full)
    with pytest.raises(OutputError, match=r"cannot write '.*r\.html': no space left on device"):
        write_text(target, "x" * 10000)
    assert target.read_text() == OLD and leftovers(tmp_path) == []


@pytest.mark.parametrize("case", ["directory", "parent_is_file"])
def test_bad_targets(tmp_path, case):
    if case == "directory":
        target, words = tmp_path, "is a directory"
    else:
        (tmp_path / "f").write_text("a file")
        target, words = tmp_path / "f" / "r.html", "'" + str(tmp_path / "f") + "' is a file, not a folder"
    with pytest.raises(OutputError) as exc:
        write_text(target, "x")
    assert words in str(exc.value) and isinstance(exc.value, rs.RegstatsError) and isinstance(exc.value, OSError)


def test_device_is_written_in_place(tmp_path):
    with pytest.raises(OutputError, match="cannot write '/dev/full': no space left on device"):
        write_text("/dev/full", "x" * 100000)
    write_text("/dev/null", "fine")                      # not replaced by a regular file
    assert os.path.exists("/dev/null") and not os.path.isfile("/dev/null")


def test_replace_dir_is_all_or_nothing(tmp_path):
    folder = tmp_path / "r_files"
    folder.mkdir()
    (folder / "old.png").write_bytes(b"old")
    with pytest.raises(RuntimeError):
        with replace_dir(folder) as tmp:
            (tmp / "new.png").write_bytes(b"new")
            raise RuntimeError("failed halfway")
    assert sorted(p.name for p in folder.iterdir()) == ["old.png"]
    with replace_dir(folder) as tmp:
        (tmp / "new.png").write_bytes(b"new")
    assert sorted(p.name for p in folder.iterdir()) == ["new.png"]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r_files"]


def _report(png=b"\x89PNG new"):
    return Report(title="t", sections=[Section("s", "S", [Text("hello"), Figure("cv", "the CV curve", png)])],
                  path=None)


def test_markdown_report_and_its_figures_are_replaced_together(tmp_path, monkeypatch):
    out = tmp_path / "r.md"
    _report(b"\x89PNG old").save(out)
    old_md, old_png = out.read_text(), (tmp_path / "r_files" / "cv.png").read_bytes()
    import regstats.report.markdown as md

    def broken(*a, **k):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(md, "_figure_md", broken)
    with pytest.raises(OutputError, match="no space left on device"):
        _report().save(out)
    assert out.read_text() == old_md and (tmp_path / "r_files" / "cv.png").read_bytes() == old_png
    assert leftovers(tmp_path) == [] and sorted(p.name for p in tmp_path.iterdir()) == ["r.md", "r_files"]
    monkeypatch.undo()
    _report().save(out)
    assert (tmp_path / "r_files" / "cv.png").read_bytes() == b"\x89PNG new"


# -- the command, in a subprocess ---------------------------------------------------------------------
QUICK = ["--no-figures", "--bootstrap", "0", "--no-stability", "--no-inference", "--no-bias-variance",
         "--folds", "3", "--n-lambda", "10", "-q"]


def test_cli_on_dev_full(tmp_path):
    r = cli("fit", "--dataset", "mtcars", "--out", "/dev/full", cwd=tmp_path)
    one_error_line(r, "'/dev/full'", "no space left on device")


def test_cli_full_disk_keeps_the_old_report(tmp_path):
    """A full disk, made real with a file-size limit: the write fails (EFBIG) after 8 kB."""
    out = tmp_path / "report.html"
    out.write_text(OLD)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (8_000, 8_000))

    r = cli("report", *QUICK, "--out", out, cwd=tmp_path, preexec_fn=limit)
    one_error_line(r, str(out), "file too large")
    assert out.read_text() == OLD and leftovers(tmp_path) == []


def test_cli_read_only_folder(tmp_path):
    ro = tmp_path / "ro"
    ro.mkdir()
    (ro / "report.html").write_text(OLD)
    os.chmod(ro, 0o555)
    try:
        r = cli("report", *QUICK, "--out", ro / "report.html", cwd=tmp_path, prefix=unprivileged())
        one_error_line(r, str(ro / "report.html"), "permission denied")
        r = cli("fit", "--dataset", "mtcars", "--out", ro / "path.csv", cwd=tmp_path, prefix=unprivileged())
        one_error_line(r, str(ro / "path.csv"), "permission denied")
    finally:
        os.chmod(ro, 0o755)
    assert (ro / "report.html").read_text() == OLD and sorted(p.name for p in ro.iterdir()) == ["report.html"]


@pytest.mark.parametrize("cmd", ["report", "fit"])
def test_cli_out_is_a_directory_or_under_a_file(tmp_path, cmd):
    (tmp_path / "d.html").mkdir()
    (tmp_path / "f").write_text("a file")
    extra = QUICK if cmd == "report" else ["--dataset", "mtcars"]
    r = cli(cmd, *extra, "--out", "d.html", cwd=tmp_path)
    one_error_line(r, "'d.html'", "is a directory")
    r = cli(cmd, *extra, "--out", "f/r.html", cwd=tmp_path)
    one_error_line(r, "'f/r.html'", "'f' is a file, not a folder")
    assert (tmp_path / "f").read_text() == "a file"


def test_cli_killed_during_the_write_keeps_the_old_report(tmp_path):
    """SIGKILL while the report is being written (slowed down by the test hook): the old report is
    intact; only a hidden temporary file is left."""
    out = tmp_path / "report.html"
    out.write_text(OLD)
    env = dict(os.environ, REGSTATS_TEST_SLOW_WRITE="0.05")
    proc = subprocess.Popen([sys.executable, "-m", "regstats.cli", "report", *QUICK, "--out", str(out)],
                            cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 240
        tmp = []
        while time.monotonic() < deadline and proc.poll() is None:
            tmp = [p for p in tmp_path.iterdir() if p.name.endswith(".tmp") and p.stat().st_size > 8192]
            if tmp:
                break
            time.sleep(0.02)
        assert tmp, "the report was never written"
        proc.send_signal(signal.SIGKILL)
        proc.wait(30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == -signal.SIGKILL
    assert out.read_text() == OLD
    assert [p.name for p in tmp_path.iterdir() if not p.name.endswith(".tmp")] == ["report.html"]
    # the same command without the kill replaces it with a complete report
    r = cli("report", *QUICK, "--out", out, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    assert out.read_text().rstrip().endswith("</html>")
