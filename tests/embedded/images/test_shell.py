"""The emulated busybox shell on a real temporary directory: language, applets, texts, exit codes, permissions."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from pytest_azchaos.embedded.images import alpine
from pytest_azchaos.embedded.images.fs import Identity, Meta, Mount, Sandbox, Tree
from pytest_azchaos.embedded.images.shell import Shell
from pytest_azchaos.embedded.images.shell_process import BytesInput
from pytest_azchaos.embedded.kubelet.mounts import set_volume_ownership

ROOT = alpine.identity(0, None)
USER = alpine.identity(1000, None)


@pytest.fixture
def sandbox(tmp_path: Path) -> Sandbox:
    (tmp_path / "vol").mkdir()
    volume = Tree(tmp_path / "vol")  # a fresh volume: root-owned 0755
    return Sandbox(rootfs=alpine.make_alpine_rootfs(tmp_path / "rootfs", "pod-0"), mounts=[Mount("/data", volume)],
                   hostname="pod-0")


def sh(sandbox: Sandbox, script: str, identity: Identity = ROOT, stdin: bytes = b"",
       argv0: str = "sh", dialect: str = "ash") -> tuple[int, str, str]:
    shell = Shell(sandbox.view(identity), {"PATH": alpine.DEFAULT_PATH, "HOME": "/root"}, argv0, dialect, "pod-0")
    out, err = bytearray(), bytearray()
    code = asyncio.run(shell.run_script(script, BytesInput(stdin), out, err))
    return code, out.decode(), err.decode()


def test_and_or_lists_and_exit_status(sandbox: Sandbox) -> None:
    assert sh(sandbox, "false && echo no || echo yes; echo $?") == (0, "yes\n0\n", "")
    assert sh(sandbox, "true; false")[0] == 1
    assert sh(sandbox, "exit 7; echo never") == (7, "", "")


def test_quoting_and_variables(sandbox: Sandbox) -> None:
    _code, out, _ = sh(sandbox, "A='x  y'; B=\"$A z\"; echo $A; echo \"$B\"; echo '$A' ${A}!")
    assert out == "x y\nx  y z\n$A x y!\n"


def test_command_substitution_and_pipe(sandbox: Sandbox) -> None:
    assert sh(sandbox, "echo $(echo a b | wc -w)")[1] == "2\n"


def test_redirections_write_append_read_and_merge(sandbox: Sandbox) -> None:
    _code, out, err = sh(sandbox, "echo one > /data/f; echo two >> /data/f; cat < /data/f; cat /nope 2>&1")
    assert out == "one\ntwo\ncat: can't open '/nope': No such file or directory\n" and err == ""
    assert sh(sandbox, "cat /nope 2>/dev/null; echo $?")[1:] == ("1\n", "")


def test_unknown_command_is_127_with_ash_text(sandbox: Sandbox) -> None:
    assert sh(sandbox, "nosuch") == (127, "", "sh: nosuch: not found\n")


def test_bash_words_errors_its_own_way(sandbox: Sandbox) -> None:
    assert sh(sandbox, "nosuch", argv0="bash", dialect="bash") == (127, "", "bash: line 1: nosuch: command not found\n")


def test_non_executable_file_is_126(sandbox: Sandbox) -> None:
    code, _, err = sh(sandbox, "echo x > /data/s; /data/s")
    assert (code, err) == (126, "sh: /data/s: Permission denied\n")


def test_syntax_error_is_2(sandbox: Sandbox) -> None:
    code, _, err = sh(sandbox, "if true; then echo")
    assert code == 2 and err.startswith("sh: syntax error: unexpected end of file")


def test_control_flow(sandbox: Sandbox) -> None:
    assert sh(sandbox, "for i in 1 2; do echo i$i; done; if [ -d /data ]; then echo dir; fi")[1] == "i1\ni2\ndir\n"


def test_id_for_root_lists_alpine_groups(sandbox: Sandbox) -> None:
    assert sh(sandbox, "id")[1] == ("uid=0(root) gid=0(root) groups=0(root),1(bin),2(daemon),3(sys),4(adm),6(disk),"
                                    "10(wheel),11(floppy),20(dialout),26(tape),27(video)\n")


def test_id_for_unknown_uid_with_fsgroup(sandbox: Sandbox) -> None:
    ident = alpine.identity(1000, 3000, [2000])
    expected = "uid=1000 gid=3000 groups=2000,3000\n1000\n3000\n2000 3000\n"
    assert sh(sandbox, "id; id -u; id -g; id -G", ident)[1] == expected
    assert sh(sandbox, "whoami", ident) == (1, "", "whoami: unknown uid 1000\n")


def test_non_root_cannot_create_in_root_owned_volume(sandbox: Sandbox) -> None:
    assert sh(sandbox, "echo hi > /data/x", USER) == (1, "", "sh: can't create /data/x: Permission denied\n")
    assert sh(sandbox, "touch /data/x", USER) == (1, "", "touch: /data/x: Permission denied\n")
    assert sh(sandbox, "mkdir /data/d", USER) == (1, "", "mkdir: can't create directory '/data/d': Permission denied\n")


def test_root_creates_files_0644_and_dirs_0755(sandbox: Sandbox) -> None:
    _code, out, _ = sh(sandbox, "echo hi > /data/f; mkdir /data/d; stat -c '%A %u %g %n' /data/f /data/d")
    assert out == "-rw-r--r-- 0 0 /data/f\ndrwxr-xr-x 0 0 /data/d\n"


def test_fsgroup_lets_the_group_write_and_new_files_inherit_the_group(sandbox: Sandbox) -> None:
    sh(sandbox, "mkdir /data/old && echo x > /data/old/f")
    set_volume_ownership(sandbox.mounts[0].tree, 1000)
    user = alpine.identity(1000, None, [1000])
    code, out, err = sh(sandbox, "echo hi > /data/x && mkdir /data/d && ls -ln /data", user)
    assert code == 0, err
    lines = out.splitlines()[1:]
    assert lines[0].startswith("drwxr-sr-x    2 1000     1000 ") and lines[0].endswith(" d")  # umask 022
    assert lines[1].startswith("drwxrwsr-x    2 0        1000 ") and lines[1].endswith(" old")
    assert lines[2].startswith("-rw-r--r--    1 1000     1000 ") and lines[2].endswith(" x")
    assert sh(sandbox, "stat -c %A /data /data/old/f")[1] == "drwxrwsr-x\n-rw-rw-r--\n"


def test_on_root_mismatch_skips_a_volume_already_owned(sandbox: Sandbox) -> None:
    tree = sandbox.mounts[0].tree
    set_volume_ownership(tree, 1000)
    sh(sandbox, "echo x > /data/late")  # root's file, group 1000 by setgid, mode 0644
    assert set_volume_ownership(tree, 1000, "OnRootMismatch") is False
    assert tree.meta("late") == Meta(0, 1000, 0o644)
    assert set_volume_ownership(tree, 1000, "Always") is True
    assert tree.meta("late") == Meta(0, 1000, 0o664)


def test_other_users_cannot_read_a_0600_file(sandbox: Sandbox) -> None:
    sh(sandbox, "echo secret > /data/s; chmod 600 /data/s")
    assert sh(sandbox, "cat /data/s", USER) == (1, "", "cat: can't open '/data/s': Permission denied\n")


def test_chown_is_for_root_only(sandbox: Sandbox) -> None:
    sh(sandbox, "chmod 777 /data")
    sh(sandbox, "touch /data/mine", USER)
    assert sh(sandbox, "chown 0 /data/mine", USER) == (1, "", "chown: /data/mine: Operation not permitted\n")
    assert sh(sandbox, "chown 1000:1000 /data/mine; stat -c '%u:%g' /data/mine")[1] == "1000:1000\n"


def test_ls_errors_and_rm(sandbox: Sandbox) -> None:
    assert sh(sandbox, "ls /data/none") == (1, "", "ls: /data/none: No such file or directory\n")
    assert sh(sandbox, "rm /data/none") == (1, "", "rm: can't remove '/data/none': No such file or directory\n")
    assert sh(sandbox, "touch /data/a && rm /data/a && test -e /data/a; echo $?")[1] == "1\n"


def test_tmp_is_sticky_and_writable_by_anyone(sandbox: Sandbox) -> None:
    assert sh(sandbox, "echo hi > /tmp/x && cat /tmp/x", USER)[1] == "hi\n"
    assert sh(sandbox, "ls -ld /tmp")[1].startswith("drwxrwxrwt")


def test_stdin_feeds_cat_and_sh_reads_a_script_from_stdin(sandbox: Sandbox) -> None:
    assert sh(sandbox, "cat > /data/in; cat /data/in", stdin=b"piped\n")[1] == "piped\n"


def test_metadata_is_not_visible_in_the_volume(sandbox: Sandbox) -> None:
    sh(sandbox, "touch /data/a")
    assert sh(sandbox, "ls -a /data")[1] == ".\n..\na\n"
