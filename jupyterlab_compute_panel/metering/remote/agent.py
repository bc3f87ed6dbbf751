# compute-panel-node-agent: runs one kernel on a node, for as long as its SSH channel lives.
"""The node side of an SSH tier: a small supervisor run as ``python -I -S -u -c <this file>``.

Standard library only (the node needs nothing but a Python with ipykernel), and
nothing is installed on the node: the Jupyter server sends this text as the
command of an SSH session. It runs isolated (``-I``: no PYTHON* variables, no user
site, nothing from the login's home on its path) and without ``site`` (``-S``), and
imports only what it needs before the kernel starts (no subprocess, tempfile or
shutil): its start-up is on the path of every kernel start. The kernel itself gets
the node's environment as usual. The protocol, one line at a time:

- stdin, first line: JSON ``{"argv", "env", "cwd", "ip", "transport", "key",
  "signature_scheme", "kernel_name", "orphan_timeout", "max_kernels"}``. ``argv`` holds
  ``{connection_file}``.
- stdout, one line: JSON ``{"ports": {...}, "pid": ..., "hostname": ..., "kernels": N}``
  once the kernel process is started, where N is how many other kernels the node ran
  then; ``{"busy": true, "kernels": N, ...}`` (and exit) when ``max_kernels`` is set and N
  reached it; or ``{"error": ...}``. Then nothing else.
- stdin, later lines: ``ping`` (the server is alive), ``signal N`` (send signal N to
  the kernel's process group).

The kernel runs in its own session (process group). It is stopped, group and all,
when stdin closes (the SSH channel or connection is gone: a lost network, a killed
server, a stopped sshd), when no line arrived for ``orphan_timeout`` seconds (a
network partition that leaves the TCP connection half open), or when this agent is
terminated; and on Linux the kernel is also told to die with its parent
(PR_SET_PDEATHSIG), for an agent killed with SIGKILL. The agent exits with the
kernel's status. The marker on the first line lets ``pgrep -f`` count the kernels
a node runs (the availability check), and lets the agent count them itself before it
starts one (``max_kernels``): it counts only the agents that started before it, so that
of two agents starting together on a node with one place left, the older starts its
kernel and the younger answers busy.
"""

import json
import os
import select
import signal
import socket
import sys
import time

PORT_NAMES = ("shell_port", "iopub_port", "stdin_port", "control_port", "hb_port")
MARKER = b"compute-panel-node-agent"  # on this file's first line, so in every agent's command line


def _agents(marker=MARKER):
    """{pid: (parent pid, start time)} of the node's processes whose command line has the
    marker (agents, and a shell that ran one without exec); None without /proc."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    found = {}
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open("/proc/" + name + "/cmdline", "rb") as handle:
                if marker not in handle.read():
                    continue
            with open("/proc/" + name + "/stat", "rb") as handle:
                fields = handle.read().rsplit(b")", 1)[1].split()
            found[int(name)] = (int(fields[1]), int(fields[19]))  # ppid, starttime (fields 4, 22)
        except (OSError, IndexError, ValueError):
            continue  # gone meanwhile, or not ours to read
    return found


def _kernels_before_me(marker=MARKER):
    """How many kernels (agents) of the node, started before this agent, still run."""
    me = os.getpid()
    found = _agents(marker)
    if found is None:  # no /proc: every other agent counts (pgrep, as the availability check)
        import subprocess

        try:
            out = subprocess.run(["pgrep", "-f", marker.decode()], capture_output=True, timeout=10).stdout
        except (OSError, subprocess.SubprocessError):
            return 0
        return len([p for p in out.split() if int(p) not in (me, os.getppid())])
    mine = (found.get(me, (0, float("inf")))[1], me)
    ancestors, pid = set(), os.getppid()
    while pid in found and pid not in ancestors:  # the shell that runs this agent
        ancestors.add(pid)
        pid = found[pid][0]
    return sum(
        1
        for pid, (ppid, start) in found.items()
        # one per agent: not this one, nor a shell wrapping an agent's (count the outermost)
        if pid != me and pid not in ancestors and ppid not in found and (start, pid) < mine
    )


def _free_ports(ip, count):
    socks, ports = [], []
    try:
        for _ in range(count):
            s = socket.socket(socket.AF_INET6 if ":" in ip else socket.AF_INET, socket.SOCK_STREAM)
            s.bind((ip, 0))
            socks.append(s)
            ports.append(s.getsockname()[1])
    finally:
        for s in socks:
            s.close()
    return ports


def _private_folder():
    """A new folder only this login can enter, for the connection file (as mkdtemp)."""
    base = os.environ.get("TMPDIR") or "/tmp"  # noqa: S108 - a fresh 0700 folder, created exclusively
    while True:
        path = os.path.join(base, "compute-panel-kernel-" + os.urandom(8).hex())
        try:
            os.mkdir(path, 0o700)
            return path
        except FileExistsError:
            continue


def _die_with_parent():
    # Linux: SIGKILL this kernel if the agent dies without cleaning up (SIGKILL of the agent).
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:  # noqa: BLE001, S110 - best effort outside Linux
        pass


class Kernel:
    """The kernel process: started in a session of its own, told to die with the agent,
    stdin from /dev/null, stdout and stderr to the agent's stderr. OSError (its text)
    when it cannot be started, as subprocess.Popen would, whose import costs more than
    this whole agent's other work."""

    def __init__(self, argv, env, cwd):
        self.returncode = None
        read, write = os.pipe()  # close-on-exec: EOF as soon as the kernel's exec succeeded
        self.pid = os.fork()
        if self.pid == 0:  # the child: never returns
            try:
                os.close(read)
                os.setsid()
                for name in ("SIGPIPE", "SIGXFZ", "SIGXFSZ"):  # ignored by Python: the kernel gets the defaults
                    if hasattr(signal, name):
                        signal.signal(getattr(signal, name), signal.SIG_DFL)
                _die_with_parent()
                null = os.open(os.devnull, os.O_RDONLY)
                os.dup2(null, 0)
                os.dup2(2, 1)
                os.chdir(cwd)
                os.execvpe(argv[0], argv, env)  # noqa: S606 - argv is the tier's kernel command
            except BaseException as e:  # noqa: BLE001 - reported to the agent, whatever it is
                try:
                    os.write(write, (getattr(e, "strerror", None) or str(e) or type(e).__name__).encode())
                finally:
                    os._exit(127)
        os.close(write)
        try:
            error = os.read(read, 4096)
        finally:
            os.close(read)
        if error:
            os.waitpid(self.pid, 0)
            raise OSError(error.decode("utf-8", "replace"))

    def poll(self):
        if self.returncode is None:
            try:
                pid, status = os.waitpid(self.pid, os.WNOHANG)
            except ChildProcessError:
                pid, status = self.pid, 0
            if pid:
                self.returncode = -os.WTERMSIG(status) if os.WIFSIGNALED(status) else os.WEXITSTATUS(status)
        return self.returncode


def _stop(proc, grace):
    if proc.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except OSError:
            return
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                return
            time.sleep(0.05)


def _say(data):
    sys.stdout.write(json.dumps(data) + "\n")
    sys.stdout.flush()


def main():
    stdin = sys.stdin.buffer
    first = stdin.readline()
    if not first:
        return 2
    spec = json.loads(first.decode("utf-8"))
    orphan_timeout = float(spec.get("orphan_timeout") or 0)
    grace = float(spec.get("grace") or 5)
    folder = None
    proc = None
    stopping = []

    def on_signal(signum, frame):
        stopping.append(signum)

    for sig in (signal.SIGTERM, signal.SIGHUP, signal.SIGINT):
        signal.signal(sig, on_signal)
    try:
        kernels = _kernels_before_me()
        max_kernels = int(spec.get("max_kernels") or 0)
        if max_kernels and kernels >= max_kernels:
            _say({"busy": True, "kernels": kernels, "hostname": socket.gethostname()})
            return 75  # EX_TEMPFAIL
        folder = _private_folder()
        ip = spec.get("ip") or "127.0.0.1"
        free = _free_ports(ip, len(PORT_NAMES))
        ports = {name: free[i] for i, name in enumerate(PORT_NAMES)}
        connection_file = os.path.join(folder, "kernel.json")
        info = dict(ports, ip=ip, transport=spec.get("transport") or "tcp", key=spec.get("key") or "")
        info.update(
            signature_scheme=spec.get("signature_scheme") or "hmac-sha256", kernel_name=spec.get("kernel_name", "")
        )
        fd = os.open(connection_file, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w") as handle:
            json.dump(info, handle)
        argv = [a.replace("{connection_file}", connection_file) for a in spec["argv"]]
        env = dict(os.environ)
        env.update(spec.get("env") or {})
        cwd = os.path.expanduser(spec.get("cwd") or "~")
        sys.stderr.flush()
        try:
            proc = Kernel(argv, env, cwd)
        except OSError as e:
            _say({"error": f"cannot start {argv[0]!r} on {socket.gethostname()}: {e.strerror or e}"})
            return 127
        _say({"ports": ports, "pid": proc.pid, "hostname": socket.gethostname(), "kernels": kernels})
        last_heard = time.monotonic()
        buffered = b""
        while not stopping:
            if proc.poll() is not None:
                return proc.returncode
            ready, _, _ = select.select([stdin.fileno()], [], [], 0.2)
            if ready:
                chunk = os.read(stdin.fileno(), 4096)
                if not chunk:
                    break  # the channel is gone: so is the kernel
                last_heard = time.monotonic()
                buffered += chunk
                while b"\n" in buffered:
                    line, buffered = buffered.split(b"\n", 1)
                    words = line.decode("utf-8", "replace").split()
                    if len(words) == 2 and words[0] == "signal":
                        try:
                            os.killpg(proc.pid, int(words[1]))
                        except (OSError, ValueError):
                            pass
            elif orphan_timeout and time.monotonic() - last_heard > orphan_timeout:
                sys.stderr.write(f"compute-panel agent: no word from the server for {orphan_timeout:g} s; stopping\n")
                break
        _stop(proc, grace)
        return proc.returncode if proc.returncode is not None else 1
    finally:
        if proc is not None:
            _stop(proc, grace)
        if folder is not None:
            import shutil

            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
