"""Argument errors, missing operands, unknown options and exit codes of the busybox applets, read
through ``kubectl exec`` on an agnhost pod (Alpine: busybox 1.37 on musl) and compared with what
busybox prints (texts from busybox's sources: ``bb_show_usage``, libbb messages, musl ``getopt``)."""

from __future__ import annotations

import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from kubernetes import client

from ...clusters import without_kubectl_log
from ..waiting import wait_for

AGNHOST = "registry.k8s.io/e2e-test-images/agnhost:2.52"
BANNER = "BusyBox v1.37.0 (2025-01-17 18:12:01 UTC) multi-call binary.\n\n"


def usage(line: str) -> str:
    return f"{BANNER}Usage: {line}\n"


@pytest.fixture(scope="module")
def box(api_client: client.ApiClient) -> Iterator[tuple[str, str]]:
    """(namespace, pod): one agnhost netexec pod for the module, with /data holding a file and a directory."""
    core = client.CoreV1Api(api_client)
    ns = "t-applets-" + uuid.uuid4().hex[:8]
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    core.create_namespaced_pod(ns, client.V1Pod(
        metadata=client.V1ObjectMeta(name="box"),
        spec=client.V1PodSpec(termination_grace_period_seconds=0, containers=[
            client.V1Container(name="app", image=AGNHOST, args=["netexec"])])))
    wait_for(lambda: core.read_namespaced_pod("box", ns), lambda p: p.status.phase == "Running", what="pod box")
    yield ns, "box"
    core.delete_namespace(ns)


def run(kubectl_path: str, kubeconfig: Path, box: tuple[str, str], *argv: str) -> tuple[int, str, str]:
    ns, pod = box
    r = subprocess.run([kubectl_path, "--kubeconfig", str(kubeconfig), "-n", ns, "exec", pod, "--", *argv],
                       capture_output=True, text=True, timeout=30)
    return r.returncode, r.stdout, without_kubectl_log(r.stderr)



CASES = [
    # (id, argv, exit code, stdout or None for "not checked", stderr)
    ("date-invalid-date", ["date", "foo"], 1, "", "date: invalid date 'foo'\n"),
    ("date-extra-operand", ["date", "+%Y", "1", "2"], 1, "", usage("date [OPTIONS] [+FMT] [[-s] TIME]")),
    ("date-set-not-permitted", ["date", "-s", "2024-01-02 03:04:05", "+%F"], 0, "2024-01-02\n",
     "date: can't set date: Operation not permitted\n"),
    ("date-d-shows-that-date", ["date", "-u", "-d", "@0", "+%F %T"], 0, "1970-01-01 00:00:00\n", ""),
    ("date-unknown-option", ["date", "-z"], 1, "", "date: unrecognized option: z\n"
     + usage("date [OPTIONS] [+FMT] [[-s] TIME]")),
    ("cat-missing-file", ["cat", "/nope"], 1, "", "cat: can't open '/nope': No such file or directory\n"),
    ("cat-directory", ["cat", "/etc"], 1, "", "cat: read error: Is a directory\n"),
    ("cat-unknown-option", ["cat", "-z"], 1, "", "cat: unrecognized option: z\n" + usage("cat [-nbvteA] [FILE]...")),
    ("cat-help-exits-0", ["cat", "--help"], 0, "", usage("cat [-nbvteA] [FILE]...")),
    ("cat-n-numbers-lines", ["cat", "-n", "/etc/hostname"], 0, "     1\tbox\n", ""),
    ("ls-missing", ["ls", "/nope"], 1, "", "ls: /nope: No such file or directory\n"),
    ("ls-unknown-option", ["ls", "-z"], 1, "", "ls: unrecognized option: z\n"
     + usage("ls [-1AaCxdLHRFplinshrSXvctu] [-w WIDTH] [FILE]...")),
    ("ls-absolute-argv0-in-getopt-message", ["/bin/ls", "-z"], 1, "", "/bin/ls: unrecognized option: z\n"
     + usage("ls [-1AaCxdLHRFplinshrSXvctu] [-w WIDTH] [FILE]...")),
    ("mkdir-exists", ["mkdir", "/etc"], 1, "", "mkdir: can't create directory '/etc': File exists\n"),
    ("mkdir-no-operand", ["mkdir"], 1, "", usage("mkdir [-m MODE] [-p] DIRECTORY...")),
    ("mkdir-invalid-mode", ["mkdir", "-m", "xyz", "/tmp/d"], 1, "", "mkdir: invalid mode 'xyz'\n"),
    ("mkdir-missing-parent", ["mkdir", "/nope/d"], 1, "",
     "mkdir: can't create directory '/nope/d': No such file or directory\n"),
    ("sleep-invalid-number", ["sleep", "x"], 1, "", "sleep: invalid number 'x'\n"),
    ("sleep-no-operand", ["sleep"], 1, "", usage("sleep [N]...")),
    ("sleep-negative", ["sleep", "-1"], 1, "", "sleep: invalid number '-1'\n"),
    ("sleep-suffix-and-fraction", ["sleep", "0.01s", "0"], 0, "", ""),
    ("unknown-applet-in-sh", ["sh", "-c", "foo"], 127, "", "sh: foo: not found\n"),
    ("rm-missing", ["rm", "/nope"], 1, "", "rm: can't remove '/nope': No such file or directory\n"),
    ("rm-missing-forced", ["rm", "-f", "/nope"], 0, "", ""),
    ("rm-no-operand", ["rm"], 1, "", usage("rm [-irf] FILE...")),
    ("rm-no-operand-forced", ["rm", "-f"], 0, "", ""),
    ("rm-directory", ["rm", "/tmp"], 1, "", "rm: '/tmp' is a directory\n"),
    ("rm-dot", ["rm", "-rf", "."], 1, "", "rm: can't remove '.' or '..'\n"),
    ("rmdir-missing", ["rmdir", "/nope"], 1, "", "rmdir: '/nope': No such file or directory\n"),
    ("rmdir-no-operand", ["rmdir"], 1, "", usage("rmdir [-p] DIRECTORY...")),
    ("touch-no-operand", ["touch"], 1, "",
     usage("touch [-cham] [-d DATE] [-t DATE] [-r FILE] FILE...")),
    ("touch-missing-parent", ["touch", "/nope/x"], 1, "", "touch: /nope/x: No such file or directory\n"),
    ("touch-invalid-date", ["touch", "-d", "foo", "/tmp/t"], 1, "", "touch: invalid date 'foo'\n"),
    ("cp-no-operand", ["cp", "/etc/hostname"], 1, "", usage(
        "cp [-arPLHpfinlsTu] SOURCE DEST\nor: cp [-arPLHpfinlsu] SOURCE... { -t DIRECTORY | DIRECTORY }")),
    ("cp-missing-source", ["cp", "/nope", "/tmp/x"], 1, "", "cp: can't stat '/nope': No such file or directory\n"),
    ("cp-directory-without-r", ["cp", "/etc", "/tmp/e"], 1, "", "cp: omitting directory '/etc'\n"),
    ("mv-no-operand", ["mv"], 1, "", usage(
        "mv [-finT] SOURCE DEST\nor: mv [-fin] SOURCE... { -t DIRECTORY | DIRECTORY }")),
    ("mv-missing-source", ["mv", "/nope", "/tmp/x"], 1, "", "mv: can't rename '/nope': No such file or directory\n"),
    ("stat-no-operand", ["stat"], 1, "", usage("stat [-ltf] [-c FMT] FILE...")),
    ("stat-missing", ["stat", "/nope"], 1, "", "stat: can't stat '/nope': No such file or directory\n"),
    ("chmod-too-few", ["chmod", "644"], 1, "", usage("chmod [-Rcvf] MODE[,MODE]... FILE...")),
    ("chmod-invalid-mode", ["chmod", "abc", "/tmp"], 1, "", "chmod: invalid mode 'abc'\n"),
    ("chmod-option-like-mode", ["sh", "-c", "touch /tmp/m && chmod -w /tmp/m && stat -c %a /tmp/m"], 0, "444\n",
     ""),
    ("chmod-missing", ["chmod", "644", "/nope"], 1, "", "chmod: /nope: No such file or directory\n"),
    ("chown-too-few", ["chown", "root"], 1, "", usage("chown [-RhLHPcvf]... USER[:[GRP]] FILE...")),
    ("chown-unknown-user", ["chown", "nosuch", "/tmp"], 1, "", "chown: unknown user nosuch\n"),
    ("chown-unknown-group", ["chown", "root:nosuch", "/tmp"], 1, "", "chown: unknown group nosuch\n"),
    ("head-missing", ["head", "/nope"], 1, "", "head: can't open '/nope': No such file or directory\n"),
    ("head-invalid-count", ["head", "-n", "x", "/etc/hostname"], 1, "", "head: invalid number 'x'\n"),
    ("head-old-style-count", ["head", "-1", "/etc/passwd"], 0, "root:x:0:0:root:/root:/bin/sh\n", ""),
    ("tail-missing", ["tail", "/nope"], 1, "", "tail: can't open '/nope': No such file or directory\n"),
    ("tail-from-line", ["sh", "-c", "seq 3 | tail -n +2"], 0, "2\n3\n", ""),
    ("wc-missing", ["wc", "-l", "/nope"], 1, "", "wc: can't open '/nope': No such file or directory\n"),
    ("wc-unknown-option", ["wc", "-z"], 1, "", "wc: unrecognized option: z\n" + usage("wc [-cmlwL] [FILE]...")),
    ("grep-no-pattern", ["grep"], 2, "", usage(
        "grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...")),
    ("grep-unknown-option", ["grep", "-y", "x"], 2, "", "grep: unrecognized option: y\n" + usage(
        "grep [-HhnlLoqvsrRiwFE] [-m N] [-A|B|C N] { PATTERN | -e PATTERN... | -f FILE... } [FILE]...")),
    ("grep-missing-file", ["grep", "x", "/nope"], 2, "", "grep: /nope: No such file or directory\n"),
    ("grep-no-match", ["grep", "nomatch", "/etc/hostname"], 1, "", ""),
    ("grep-basic-regex-literal-plus", ["sh", "-c", "echo 'a+b' | grep 'a+b'"], 0, "a+b\n", ""),
    ("id-unknown-user", ["id", "nosuch"], 1, "", "id: unknown user nosuch\n"),
    ("id-too-many", ["id", "root", "bin"], 1, "", usage("id [-ugGnr] [USER]")),
    ("whoami-operand", ["whoami", "x"], 1, "", usage("whoami")),
    ("basename-no-operand", ["basename"], 1, "", usage("basename FILE [SUFFIX] | -a FILE... | -s SUFFIX FILE...")),
    ("basename-too-many", ["basename", "a", "b", "c"], 1, "",
     usage("basename FILE [SUFFIX] | -a FILE... | -s SUFFIX FILE...")),
    ("dirname-no-operand", ["dirname"], 1, "", usage("dirname FILENAME")),
    ("dirname-too-many", ["dirname", "a", "b"], 1, "", usage("dirname FILENAME")),
    ("seq-not-a-number", ["seq", "x"], 1, "", usage("seq [-w] [-s SEP] [FIRST [INC]] LAST")),
    ("seq-negative-step", ["seq", "3", "-1", "1"], 0, "3\n2\n1\n", ""),
    ("printf-no-format", ["printf"], 1, "", usage("printf FORMAT [ARG]...")),
    ("printf-invalid-number", ["printf", "%d\n", "x"], 1, "0\n", "printf: invalid number 'x'\n"),
    ("printf-builtin-invalid-number", ["sh", "-c", "printf '%d\\n' x"], 1, "0\n", "sh: invalid number 'x'\n"),
    ("printf-builtin-no-format", ["sh", "-c", "printf"], 2, "", "sh: usage: printf FORMAT [ARGUMENT...]\n"),
    ("test-bad-number", ["test", "1", "-eq", "a"], 2, "", "test: a: bad number\n"),
    ("test-builtin-bad-number", ["sh", "-c", "[ 1 -eq a ]"], 2, "", "sh: a: bad number\n"),
    ("bracket-missing-close", ["[", "1"], 2, "", "[: missing ]\n"),
    ("test-help-is-an-operand", ["test", "--help"], 0, "", ""),
    ("env-missing-program", ["env", "nosuch"], 127, "", "env: can't execute 'nosuch': No such file or directory\n"),
    ("env-runs-a-program", ["env", "-i", "A=1", "printenv", "A"], 0, "1\n", ""),
    ("printenv-unset", ["printenv", "NOPE_NOT_SET"], 1, "", ""),
    ("hostname-set-not-permitted", ["hostname", "other"], 1, "", "hostname: sethostname: Operation not permitted\n"),
    ("uname-operand", ["uname", "x"], 1, "", usage("uname [-amnrspvio]")),
    ("uname-unknown-option", ["uname", "-z"], 1, "", "uname: unrecognized option: z\n" + usage("uname [-amnrspvio]")),
    ("tee-unknown-option", ["tee", "-z"], 1, "", "tee: unrecognized option: z\n" + usage("tee [-ai] [FILE]...")),
    ("pwd-unknown-option", ["pwd", "-z"], 1, "", "pwd: unrecognized option: z\n" + usage("pwd")),
    ("df-unknown-option", ["df", "-z"], 1, "", "df: unrecognized option: z\n"
     + usage("df [-PkmhTai] [-B SIZE] [-t TYPE] [FILESYSTEM]...")),
    ("sync-unknown-option", ["sync", "-z"], 1, "", "sync: unrecognized option: z\n" + usage("sync [-df] [FILE]...")),
    ("true-ignores-everything", ["true", "--help", "-z"], 0, "", ""),
    ("false-is-1", ["false"], 1, "", ""),
    ("echo-help-is-text", ["echo", "--help"], 0, "--help\n", ""),
    ("missing-option-argument", ["mkdir", "-m"], 1, "", "mkdir: option requires an argument: m\n"
     + usage("mkdir [-m MODE] [-p] DIRECTORY...")),
    ("unknown-long-option", ["mkdir", "--nope", "/tmp/x"], 1, "", "mkdir: unrecognized option: nope\n"
     + usage("mkdir [-m MODE] [-p] DIRECTORY...")),
]


@pytest.mark.parametrize(("argv", "code", "stdout", "stderr"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_applet_behaviour(kubectl_path: str, kubeconfig: Path, box: tuple[str, str], argv: list[str], code: int,
                          stdout: str, stderr: str) -> None:
    got_code, got_out, got_err = run(kubectl_path, kubeconfig, box, *argv)
    # kubectl adds its own line for a non-zero exit; the command's stderr comes first.
    got_err = got_err.replace(f"command terminated with exit code {got_code}\n", "")
    assert (got_code, got_out, got_err) == (code, stdout, stderr)
