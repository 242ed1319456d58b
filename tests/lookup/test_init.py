"""The public surface of spfkit.lookup: ``__all__`` lists exactly what the package exports."""

from __future__ import annotations

import types

import spfkit.lookup as lookup


def test_all_matches_public_names():
    public = {
        name
        for name, value in vars(lookup).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }
    assert sorted(lookup.__all__) == sorted(public)
    assert {
        "Resolver",
        "Lookup",
        "LookupStatus",
        "MXHost",
        "TXTRecord",
        "RRType",
        "DnsResolver",
        "CachingResolver",
        "ZoneResolver",
        "MemoryResolver",
        "ZoneFileError",
    } <= set(lookup.__all__)


def test_importing_does_not_load_dnspython():
    import subprocess
    import sys

    code = "import sys, spfkit.lookup; print(any(m.startswith('dns') for m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"
