"""Install and start a local Label Studio server for the live tests (standard library only).

Label Studio gets its own virtual environment (its dependencies never mix with
skactivelab's), and so does the client side: ``skactivelab[labelstudio]`` as a
user installs it (the SDK pins NumPy below the newest release, so it stays out
of the test environment). The server listens on 127.0.0.1 only, with SQLite in a
fresh data directory, and an admin user whose personal access token (the kind
of token Label Studio 1.23 enables by default) is created through the API as in
Label Studio's documentation.

Run in the background as early as possible (``.ci/run`` does, beside the main
install), then wait for it from the tests::

    python3 tests/labelstudio_server.py start --state .ci-labelstudio &
    ...
    python3 tests/labelstudio_server.py stop --state .ci-labelstudio

``STATE/status.json`` says where it is: ``phase`` is ``installing``, ``starting``,
``ready`` (with ``url``, ``token``, ``client_python``), ``install_failed`` (the
package could not be installed: the live tests are skipped with its reason) or
``failed`` (anything else: the live tests fail with it). Timings are recorded in
it and in ``STATE/timings.log``.

With ``SKACTIVELAB_LS_CACHE=DIR`` (a directory outside the checkout), the two
environments are kept in ``DIR/labelstudio-<version>-py<X.Y>/`` and reused by
later runs once verified (a marker written after a complete install and the
version reported by the installed package); a stale or broken cache is rebuilt.
"""

from __future__ import annotations

import argparse
import http.cookiejar
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

LS_VERSION = "1.23.2"
#: The server's packages: Label Studio 1.23.2 starts Sentry with options that sentry-sdk 3.0
#: no longer accepts ("Unknown option 'send_default_pii'"), so its 2.x line is kept.
LS_PACKAGES = [f"label-studio=={LS_VERSION}", "sentry-sdk<3"]
ADMIN_EMAIL = "admin@skactivelab.test"
ADMIN_PASSWORD = "admin-password-123"
ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------- state
def _write_status(state, **fields):
    path = Path(state) / "status.json"
    old = read_status(state) or {}
    old.update(fields)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(old, indent=1))
    os.replace(tmp, path)
    return old


def read_status(state):
    """The status dict, or None before the job wrote one."""
    try:
        return json.loads((Path(state) / "status.json").read_text())
    except (OSError, ValueError):
        return None


def _log_time(state, what, seconds):
    with open(Path(state) / "timings.log", "a") as fh:
        fh.write(f"{what}: {seconds:.1f} s\n")


def wait_ready(state, timeout):
    """Wait for the job: the ready status dict; raise RuntimeError on timeout or failure
    (``install_failed`` statuses are returned for the caller to skip on)."""
    t0 = time.monotonic()
    while True:
        st = read_status(state)
        if st and st.get("phase") in ("ready", "install_failed"):
            return st
        if st and st.get("phase") == "failed":
            raise RuntimeError(f"Label Studio did not start: {st.get('error')} (log: "
                               f"{st.get('log')})")
        if time.monotonic() - t0 > timeout:
            raise RuntimeError(f"Label Studio was not ready after {timeout:.0f} s (status: "
                               f"{st}); see {Path(state) / 'server.log'}")
        time.sleep(1.0)


# --------------------------------------------------------------------------- install
def _run(cmd, log, **kw):
    with open(log, "a") as fh:
        fh.write(f"$ {' '.join(map(str, cmd))}\n")
        fh.flush()
        return subprocess.run(cmd, stdout=fh, stderr=subprocess.STDOUT, **kw).returncode


def _venv(path, packages, log, marker_text):
    """A virtual environment at ``path`` with ``packages``; reused when its marker says it
    was completed with the same packages. Returns (python, seconds, reused)."""
    path = Path(path)
    py = path / "bin" / "python"
    marker = path / ".skactivelab-complete"
    if py.exists() and marker.exists() and marker.read_text() == marker_text:
        return py, 0.0, True
    t0 = time.monotonic()
    if path.exists():
        shutil.rmtree(path)
    if _run([sys.executable, "-m", "venv", str(path)], log):
        raise RuntimeError(f"python -m venv {path} failed")
    # no byte-compiling at install: Python compiles what it imports, far less CPU on a
    # machine that runs the test suite at the same time
    if _run([str(py), "-m", "pip", "install", "--quiet", "--no-compile", *packages], log):
        return None, time.monotonic() - t0, False
    marker.write_text(marker_text)
    return py, time.monotonic() - t0, False


def _package_copy(dest):
    """The files pip needs to build skactivelab, copied (a build in the checkout itself
    could race with the main environment's install of the same checkout)."""
    dest = Path(dest)
    if dest.exists():
        shutil.rmtree(dest)
    dest.mkdir(parents=True)
    for name in ("setup.cfg", "pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(ROOT / name, dest / name)
    shutil.copytree(ROOT / "skactivelab", dest / "skactivelab",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    return dest


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- HTTP
class Session:
    """A logged-in browser-like session (cookies + CSRF), as a person uses the web app."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def _csrf(self):
        return next((c.value for c in self.jar if c.name == "csrftoken"), "")

    def form(self, path, fields):
        self.opener.open(self.url + path, timeout=60).read()  # sets the CSRF cookie
        body = urllib.parse.urlencode({"csrfmiddlewaretoken": self._csrf(), **fields}).encode()
        req = urllib.request.Request(self.url + path, data=body,
                                     headers={"Referer": self.url + path})
        with self.opener.open(req, timeout=60) as r:
            final = r.geturl()
        if final.rstrip("/").endswith(path.rstrip("/")):
            raise RuntimeError(f"{path} did not accept {fields.get('email')} (still on the form)")

    def api(self, method, path, payload=None):
        req = urllib.request.Request(
            self.url + path, method=method,
            data=None if payload is None else json.dumps(payload).encode(),
            headers={"X-CSRFToken": self._csrf(), "Content-Type": "application/json",
                     "Referer": self.url + "/"})
        with self.opener.open(req, timeout=60) as r:
            return json.loads(r.read() or b"null")


def personal_access_token(url, email, password, signup=False):
    """Sign up (or log in) in the web app and create the user's personal access token
    (Account & Settings > Personal Access Token does the same)."""
    s = Session(url)
    s.form("/user/signup/" if signup else "/user/login/", {"email": email, "password": password})
    return s.api("POST", "/api/token/", {})["token"]


def _get(url, timeout=5):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        return r.status


# --------------------------------------------------------------------------- start/stop
def start(state, port=None, timeout=600):
    state = Path(state).resolve()
    state.mkdir(parents=True, exist_ok=True)
    log = state / "install.log"
    _write_status(state, phase="installing", ls_version=LS_VERSION, log=str(log))
    pyver = f"{sys.version_info[0]}.{sys.version_info[1]}"
    cache = os.environ.get("SKACTIVELAB_LS_CACHE")
    home = Path(cache) / f"labelstudio-{LS_VERSION}-py{pyver}" if cache else state
    t_all = time.monotonic()
    try:
        ls_py, t, reused = _venv(home / "venv-server", LS_PACKAGES, log, "\n".join(LS_PACKAGES) + "\n")
        if ls_py is None:
            tail = log.read_text().strip().splitlines()[-3:]
            _write_status(state, phase="install_failed",
                          error=f"pip could not install label-studio=={LS_VERSION}: "
                                + " | ".join(tail))
            _log_time(state, "label-studio install (failed)", t)
            return 1
        _log_time(state, f"label-studio venv {'reused from cache' if reused else 'install'}", t)
        if not reused:  # the version it really is, before the cache is trusted next time
            out = subprocess.run([str(ls_py), "-c", "import label_studio; "
                                  "print(label_studio.__version__)"], capture_output=True,
                                 text=True)
            if out.stdout.strip() != LS_VERSION:
                raise RuntimeError(f"installed label-studio reports {out.stdout.strip()!r}")

        port = port or _free_port()
        url = f"http://127.0.0.1:{port}"
        data = state / "data"
        if data.exists():
            shutil.rmtree(data)
        data.mkdir()
        env = {**os.environ, "LABEL_STUDIO_BASE_DATA_DIR": str(data),
               "LATEST_VERSION_CHECK": "false", "PYTHONUNBUFFERED": "1"}
        server_log = state / "server.log"
        _write_status(state, phase="starting", url=url, log=str(server_log))
        t0 = time.monotonic()
        with open(server_log, "w") as fh:
            proc = subprocess.Popen(
                [str(ls_py.parent / "label-studio"), "start", "--no-browser",
                 "--internal-host", "127.0.0.1", "-p", str(port), "--data-dir", str(data),
                 "--username", ADMIN_EMAIL, "--password", ADMIN_PASSWORD],
                stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                cwd=state, start_new_session=True)
        _write_status(state, pid=proc.pid)

        # the client side, while the server migrates its fresh database
        client_log = state / "client-install.log"
        src = _package_copy(state / "skactivelab-src")
        client_py, t_c, reused_c = _venv(
            home / "venv-client", [f"{src}[labelstudio]"], client_log,
            (ROOT / "setup.cfg").read_text())
        if home != state and reused_c:  # a cached client: reinstall skactivelab itself only
            t1 = time.monotonic()
            if _run([str(client_py), "-m", "pip", "install", "--quiet", "--no-deps",
                     "--no-compile", "--force-reinstall", str(src)], client_log):
                client_py = None
            t_c = time.monotonic() - t1
        if client_py is None:
            raise RuntimeError(f"pip could not install skactivelab[labelstudio] (see "
                               f"{client_log})")
        _log_time(state, "client venv skactivelab[labelstudio] "
                  + ("(cached, skactivelab reinstalled)" if reused_c else "install"), t_c)

        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"label-studio exited with status {proc.returncode} "
                                   f"(see {server_log})")
            try:
                if _get(url + "/health") == 200:
                    break
            except (urllib.error.URLError, OSError):
                pass
            if time.monotonic() - t0 > timeout:
                raise RuntimeError(f"no answer on {url}/health after {timeout} s")
            time.sleep(1.0)
        t_start = time.monotonic() - t0
        _log_time(state, "label-studio first start (migrations) until /health", t_start)
        token = personal_access_token(url, ADMIN_EMAIL, ADMIN_PASSWORD)
        _write_status(state, phase="ready", url=url, token=token, admin_email=ADMIN_EMAIL,
                      client_python=str(client_py), start_seconds=round(t_start, 1),
                      total_seconds=round(time.monotonic() - t_all, 1))
        _log_time(state, "total until ready", time.monotonic() - t_all)
        return 0
    except Exception as exc:  # noqa: BLE001 - reported to the waiting tests
        _write_status(state, phase="failed", error=f"{type(exc).__name__}: {exc}")
        return 1


def start_in_background(state=None):
    """Start the job in a process of its own; returns (state directory, process)."""
    import tempfile

    state = state or tempfile.mkdtemp(prefix="skactivelab-ls-")
    proc = subprocess.Popen([sys.executable, str(Path(__file__).resolve()), "start",
                             "--state", str(state)], stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    return str(state), proc


def end_background(state, proc):
    """End a job of start_in_background, finished or not (its process group: pip too),
    stop its server, and remove its files."""
    if proc.poll() is None:
        try:
            os.killpg(proc.pid, signal.SIGTERM)
        except ProcessLookupError:
            pass
        proc.wait()
    stop(state)
    remove_in_background(state)


def remove_in_background(state):
    """Remove a state directory (its environments hold many small files: seconds to
    minutes) in a process of its own, so that the test session ends at once."""
    subprocess.Popen(["rm", "-rf", "--", str(state)], stdin=subprocess.DEVNULL,
                     stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                     start_new_session=True)


def stop(state):
    """Stop the server this job started (its process group), if any."""
    st = read_status(state) or {}
    pid = st.get("pid")
    if not pid:
        return 0
    try:
        os.killpg(pid, signal.SIGTERM)
    except (ProcessLookupError, PermissionError):
        return 0
    for _ in range(50):
        try:
            os.killpg(pid, 0)
        except ProcessLookupError:
            return 0
        time.sleep(0.2)
    try:
        os.killpg(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    return 0


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("action", choices=("start", "stop", "wait"))
    p.add_argument("--state", required=True, help="directory for the status, logs and data")
    p.add_argument("--port", type=int, help="port on 127.0.0.1 (default: a free one)")
    p.add_argument("--timeout", type=float, default=600)
    args = p.parse_args(argv)
    if args.action == "start":
        return start(args.state, args.port, args.timeout)
    if args.action == "stop":
        return stop(args.state)
    print(json.dumps(wait_ready(args.state, args.timeout)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
