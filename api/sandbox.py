"""No network for the processes that run SPARQL for clients.

The SPARQL workers and the update rehearsal are forked processes that need no socket of
their own (they talk to the server over pipes). Unless the operator enables federation,
each installs a seccomp filter that refuses to create an internet socket (IPv4 or IPv6),
so no SERVICE or LOAD can reach another server whatever the query says: the check on the
parsed query (sparql_guard.py) gives the client a clear message, this makes sure of it.
Linux only; elsewhere, or where the kernel refuses filters, only the check remains.
"""

from __future__ import annotations

import ctypes
import errno
import platform
import struct

_PR_SET_NO_NEW_PRIVS, _PR_SET_SECCOMP, _SECCOMP_MODE_FILTER = 38, 22, 2
_RET_ALLOW, _RET_ERRNO, _RET_KILL_PROCESS = 0x7FFF0000, 0x00050000, 0x80000000
_LD_ABS_W, _JEQ_K, _RET_K = 0x20, 0x15, 0x06
_AF_INET, _AF_INET6 = 2, 10
# Architecture tag (AUDIT_ARCH_*) and the socket() system call number, by machine.
_MACHINES = {"x86_64": (0xC000003E, 41), "aarch64": (0xC00000B7, 198)}


class _Filter(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _program(arch: int, socket_call: int, deny: int) -> bytes:
    def op(code: int, jt: int, jf: int, k: int) -> bytes:
        return struct.pack("HBBI", code, jt, jf, k)
    return b"".join([
        op(_LD_ABS_W, 0, 0, 4),                # the architecture
        op(_JEQ_K, 1, 0, arch),
        op(_RET_K, 0, 0, deny),                # a foreign system call table: refuse everything
        op(_LD_ABS_W, 0, 0, 0),                # the system call number
        op(_JEQ_K, 0, 3, socket_call),
        op(_LD_ABS_W, 0, 0, 16),               # socket()'s first argument, the address family
        op(_JEQ_K, 2, 0, _AF_INET),
        op(_JEQ_K, 1, 0, _AF_INET6),
        op(_RET_K, 0, 0, _RET_ALLOW),
        op(_RET_K, 0, 0, deny),
    ])


def no_network(kill: bool = False) -> bool:
    """Forbid this process (and its children) internet sockets from now on: socket() fails
    with EACCES, or the process is killed with SIGSYS if `kill`. False if not possible here."""
    machine = _MACHINES.get(platform.machine())
    if machine is None:
        return False
    deny = _RET_KILL_PROCESS if kill else _RET_ERRNO | errno.EACCES
    code = _program(*machine, deny)
    buffer = ctypes.create_string_buffer(code, len(code))
    prog = _Filter(len(code) // 8, ctypes.cast(buffer, ctypes.c_void_p))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(_PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return libc.prctl(_PR_SET_SECCOMP, _SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0
