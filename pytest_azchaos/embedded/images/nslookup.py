"""busybox ``nslookup`` (``networking/nslookup.c``, FEATURE_NSLOOKUP_BIG as Alpine builds it).

- ``nslookup [-type=T] [-port=N] [-retry=N] [-timeout=N|-t=N] [-debug] HOST [SERVER]``; servers from
  ``/etc/resolv.conf`` (every ``nameserver``; the last ``search``, else ``domain``) unless SERVER is given.
- An address asks PTR; a name asks A and AAAA (or the ``-type``), each for every search domain when the
  name has no dot and a search list exists (the bare name is then not asked), else for the name as given.
- All questions go out together from one UDP socket (the process's own address), resent every
  ``timeout / retry`` seconds until ``timeout`` (5 s, retry 2); a SERVFAIL is asked again at once.
- Each answer prints as it arrives: ``Server:``/``Address:`` before the first, ``** server can't find
  NAME: NXDOMAIN`` for an error rcode (exit 1), ``Non-authoritative answer:`` when ``aa`` is clear, then
  ``Name:\\tNAME\\nAddress: IP`` (A, AAAA), ``canonical name =``, ``name =``, ``service =`` lines, and an
  empty line. No answer from any server: ``;; connection timed out; no servers could be reached``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import time

import dns.flags
import dns.message
import dns.rcode
import dns.rdatatype
import dns.reversename

from pytest_azchaos.embedded.dns.resolver import is_embedded_address
from pytest_azchaos.embedded.dns.vpc import is_vpc_resolver, vpc_answer
from pytest_azchaos.embedded.images.applets import die, show_usage
from pytest_azchaos.embedded.images.fs import FsError
from pytest_azchaos.embedded.images.shell_process import Proc
from pytest_azchaos.embedded.network.dns_port import wire_port

USAGE = "[-type=QUERY_TYPE] [-debug] HOST [DNS_SERVER]"
QTYPES = ("SOA", "NS", "A", "AAAA", "CNAME", "MX", "TXT", "SRV", "PTR", "ANY")
OPTIONS = ("type", "querytype", "port", "retry", "debug", "t", "timeout")
RCODES = ("NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED", "YXDOMAIN", "YXRRSET", "NXRRSET",
          "NOTAUTH", "NOTZONE", "11", "12", "13", "14", "15")


def _atou(proc: Proc, argv: list[str], value: str, low: int, high: int) -> int:
    if not value.isdigit() or not low <= int(value) <= high:
        die(proc, argv, f"invalid number '{value}'")
    return int(value)


def _resolv_conf(proc: Proc) -> tuple[list[str], list[str]]:
    servers: list[str] = []
    search: list[str] = []
    have_search = False
    try:
        text = proc.fs.read("/etc/resolv.conf").decode("utf-8", "replace")
    except FsError:
        text = ""
    for line in text.splitlines():
        fields = line.split(None, 1)
        if len(fields) < 2:
            continue
        key, arg = fields[0], fields[1].strip()
        if (key == "domain" and not have_search) or key == "search":
            have_search = have_search or key == "search"
            search = arg.split()
        elif key == "nameserver":
            servers.append(arg)
    if not search and "." in proc.hostname:
        search = [proc.hostname.split(".", 1)[1]]
    if search == ["."]:
        search = []
    return servers, search


async def nslookup(proc: Proc, argv: list[str]) -> int:
    """The applet."""
    port, retry, timeout, debug = 53, 2, 5, False
    types: list[str] = []
    args = argv[1:]
    while True:
        if not args:
            show_usage(proc, "nslookup")
        if not args[0].startswith("-"):
            break
        opt, _, value = args.pop(0)[1:].partition("=")
        if opt not in OPTIONS:
            show_usage(proc, "nslookup")
        if opt in ("type", "querytype"):
            match = next((t for t in QTYPES if t.lower() == value.lower()), None)
            if match is None:
                die(proc, argv, f'invalid query type "{value}"')
            types.append(match)
        elif opt == "port":
            port = _atou(proc, argv, value, 1, 0xFFFF)
        elif opt == "retry":
            retry = _atou(proc, argv, value, 1, 2**31 - 1)
        elif opt == "debug":
            debug = True
        else:
            timeout = _atou(proc, argv, value, 1, (2**31 - 1) // 1000)
    host = args[0]
    if len(args) > 2:
        show_usage(proc, "nslookup")
    # A server given on the command line: resolv.conf is not read at all (no search list either).
    servers, search = ([args[1]], []) if len(args) == 2 else _resolv_conf(proc)
    servers = servers or ["127.0.0.1"]
    queries = _queries(host, [t for t in QTYPES if t in types], search)
    base_id = int(time.time() * 1e6) & 0xFFFF
    for i, (_name, q) in enumerate(queries):
        q.id = (base_id + i) & 0xFFFF
    exitcode = 0
    answered: set[int] = set()
    for server in servers:
        replies, failed = await _send_queries(proc, server, port, queries, answered, retry, timeout, debug)
        exitcode |= failed
        if replies > 0:
            break
    else:
        proc.print(";; connection timed out; no servers could be reached\n\n")
        return 1
    missing = [name for i, (name, _) in enumerate(queries) if i not in answered]
    for name in missing:
        proc.print(f"*** Can't find {name}: No answer\n")
    if missing:
        proc.print("\n")
    return exitcode


def _queries(host: str, types: list[str], search: list[str]) -> list[tuple[str, dns.message.Message]]:
    out: list[tuple[str, dns.message.Message]] = []
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        address = None
    if not types and address is not None:
        ptr = dns.reversename.from_address(str(address)).to_text(omit_final_dot=True)
        return [(ptr, dns.message.make_query(ptr, "PTR", use_edns=False))]
    for qtype in types or ["A", "AAAA"]:
        names = [host] if qtype == "PTR" or not search or "." in host else [f"{host}.{d}" for d in search]
        out += [(name, dns.message.make_query(name, qtype, use_edns=False)) for name in names]
    return out


async def _send_queries(proc: Proc, server: str, port: int, queries: list[tuple[str, dns.message.Message]],
                        answered: set[int], retry: int, timeout: int, debug: bool) -> tuple[int, int]:
    """``send_queries``: (replies received, 1 if one carried an error rcode)."""
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[bytes] = asyncio.Queue()

    class Client(asyncio.DatagramProtocol):
        def datagram_received(self, data: bytes, _addr: tuple[str, int]) -> None:
            inbox.put_nowait(data[:512])

        def error_received(self, exc: Exception) -> None:
            pass

    try:
        host = str(ipaddress.ip_address(server))
    except ValueError:
        die(proc, ["nslookup"], f"bad address '{server}'")
    reachable = is_embedded_address(host)
    vpc = is_vpc_resolver(host)  # answered in-process (pytest_azchaos.embedded.dns.vpc)
    transport = None
    if reachable:  # port 53 is really its unprivileged stand-in when 53 needs root (network/dns_port.py)
        transport, _ = await loop.create_datagram_endpoint(
            Client, local_addr=(proc.address, 0) if proc.address else None, remote_addr=(host, wire_port(port)))
    start = time.monotonic()
    interval = timeout / retry
    sent_at = -interval
    replies = failed = 0
    servfail_retry = 0
    try:
        while time.monotonic() - start < timeout:
            now = time.monotonic()
            if now - sent_at >= interval:
                for i, (_, q) in enumerate(queries):
                    if i not in answered and transport is not None:
                        transport.sendto(q.to_wire())
                    elif i not in answered and vpc:
                        inbox.put_nowait(vpc_answer(q).to_wire()[:512])
                sent_at = now
                servfail_retry = 2 * len(queries)
            wait = max(0.0, min(interval - (time.monotonic() - sent_at), timeout - (time.monotonic() - start)))
            try:
                data = await asyncio.wait_for(inbox.get(), wait)
            except TimeoutError:
                continue
            if replies == 0:
                shown = f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
                proc.print(f"Server:\t\t{server}\nAddress:\t{shown}\n\n")
            replies += 1
            if len(data) < 4:
                continue
            qn = next((i for i, (_, q) in enumerate(queries) if q.id == int.from_bytes(data[:2], "big")), None)
            if qn is None or qn in answered:
                continue
            rcode = data[3] & 0x0F
            if rcode == dns.rcode.SERVFAIL and servfail_retry and transport is not None:
                servfail_retry -= 1
                transport.sendto(queries[qn][1].to_wire())
                continue
            answered.add(qn)
            name = queries[qn][0]
            if debug:
                proc.print(f"Query #{qn} completed in {int((time.monotonic() - start) * 1000)}ms:\n")
            if rcode != 0:
                proc.print(f"** server can't find {name}: {RCODES[rcode]}\n")
                failed = 1
            elif not _print_reply(proc, data, debug):
                proc.print(f"*** Can't find {name}: Parse error\n")
                failed = 1
            proc.print("\n")
            if len(answered) >= len(queries):
                break
    finally:
        if transport is not None:
            transport.close()
    return replies, failed


def _print_reply(proc: Proc, data: bytes, debug: bool) -> bool:
    try:
        msg = dns.message.from_wire(data)
    except Exception:
        return False
    if not msg.flags & dns.flags.AA:
        proc.print("Non-authoritative answer:\n")
    elif debug:
        proc.print("authoritative answer:\n")
    for rrset in msg.answer:
        owner = rrset.name.to_text(omit_final_dot=True) or "."
        for rd in rrset:
            text = rd.to_text()
            if rrset.rdtype in (dns.rdatatype.A, dns.rdatatype.AAAA):
                proc.print(f"Name:\t{owner}\nAddress: {text}\n")
            elif rrset.rdtype in (dns.rdatatype.CNAME, dns.rdatatype.PTR, dns.rdatatype.NS):
                label = {dns.rdatatype.CNAME: "canonical name", dns.rdatatype.PTR: "name",
                         dns.rdatatype.NS: "nameserver"}[rrset.rdtype]
                proc.print(f"{owner}\t{label} = {text.rstrip('.')}\n")
            elif rrset.rdtype == dns.rdatatype.SRV:
                prio, weight, port, target = text.split()
                proc.print(f"{owner}\tservice = {prio} {weight} {port} {target.rstrip('.')}\n")
            elif rrset.rdtype == dns.rdatatype.MX:
                pref, exchange = text.split()
                proc.print(f"{owner}\tmail exchanger = {pref} {exchange.rstrip('.')}\n")
    return True
