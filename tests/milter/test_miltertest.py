"""The milter alone, driven by ``miltertest`` (OpenDKIM's milter client) over a UNIX socket.

No MTA: the milter protocol as libmilter speaks it, with the macros Postfix would send
(``{auth_authen}``, ``i``), the replies at each stage and the header changes at end of
message, asserted in the Lua script (``mt.eom_check``), whose exit status the test checks.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

from tests.milter.harness import MilterProcess

ZONE = Path(__file__).resolve().parent / "milter.zone"

SCRIPT = r"""
local function open()
  local conn = mt.connect(os.getenv("MILTER"), 20, 0.2)
  if conn == nil then error("cannot connect") end
  mt.set_timeout(30)
  assert(mt.conninfo(conn, "client.milter.example", "127.0.0.2") == nil)
  assert(mt.getreply(conn) == SMFIR_CONTINUE)
  assert(mt.helo(conn, "client.milter.example") == nil)
  return conn
end

-- 1. pass, a forged A-R removed, ours inserted
local conn = open()
mt.macro(conn, SMFIC_MAIL, "i", "QID1")
assert(mt.mailfrom(conn, "<a@mfrom.example>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<r@example.org>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.header(conn, "Authentication-Results", "mx.spfkit.test; spf=pass smtp.mailfrom=x@evil") == nil)
assert(mt.header(conn, "From", "Ann <ann@prapass.example>") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.eom(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
                    "mx.spfkit.test; sender-id=pass header.from=ann@prapass.example"))
assert(mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results",
                    "mx.spfkit.test; spf=pass smtp.mailfrom=a@mfrom.example"))
assert(mt.eom_check(conn, MT_HDRCHANGE, "Authentication-Results"))
mt.disconnect(conn)

-- 2. MAIL FROM fail: refused at RCPT (the reply code is the milter's, 550 5.7.23)
conn = open()
assert(mt.mailfrom(conn, "<b@mfail.example>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<r@example.org>") == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE)
mt.disconnect(conn)

-- 3. PRA fail: refused at the end of the header
conn = open()
assert(mt.mailfrom(conn, "<c@mfrom.example>") == nil)
assert(mt.rcptto(conn, "<r@example.org>") == nil)
assert(mt.header(conn, "From", "c@prafail.example") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.getreply(conn) == SMFIR_REPLYCODE)
mt.disconnect(conn)

-- 4. an authenticated session: not checked, nothing added
conn = open()
mt.macro(conn, SMFIC_MAIL, "{auth_authen}", "alice")
assert(mt.mailfrom(conn, "<d@mfail.example>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.rcptto(conn, "<r@example.org>") == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.header(conn, "From", "d@prafail.example") == nil)
assert(mt.eoh(conn) == nil)
assert(mt.getreply(conn) == SMFIR_CONTINUE)
assert(mt.eom(conn) == nil)
assert(not mt.eom_check(conn, MT_HDRINSERT, "Authentication-Results"))
mt.disconnect(conn)
io.stderr:write("all cases ok\n")
"""


@pytest.fixture
def milter(tmp_path: Path):
    config = tmp_path / "milter.toml"
    config.write_text('skip_addresses = []\nHeader_Type = "AR"\nReceiver = "mx.spfkit.test"\n'
                      'Authserv_Id = "mx.spfkit.test"\n[milter]\npra_reject = "Fail"\n')
    proc = MilterProcess(f"unix:{tmp_path / 'milter.sock'}", ["--config", str(config), "--zone", str(ZONE)],
                         tmp_path / "milter.log").start()
    yield proc
    assert proc.stop() == 0


def test_miltertest_drives_every_stage(milter: MilterProcess, tmp_path: Path) -> None:
    script = tmp_path / "cases.lua"
    script.write_text(SCRIPT)
    done = subprocess.run(["miltertest", "-v", "-s", str(script)], capture_output=True, text=True,
                          timeout=120, env={**os.environ, "MILTER": milter.listen}, check=False)
    assert done.returncode == 0, f"{done.stdout}{done.stderr}\n--- milter log:\n{milter.text()}"
    assert "all cases ok" in done.stderr
    lines = milter.wait_lines("client=127.0.0.2", count=4)
    assert len(lines) == 4, lines
    assert "removed=1 forged" in lines[0] and "550 5.7.23" in lines[1] and "550 5.7.1" in lines[2]
    assert "skipped (client authenticated with SMTP AUTH as alice)" in lines[3]
