"""pyspf (Debian's python3-spf, a peer implementation) as an independent judge.

Run by Debian's ``/usr/bin/python3``: ``pyspf_judge.py PORT`` reads ``[[ip, domain], …]`` as
JSON on stdin and prints pyspf's result for each, asking the nameserver on 127.0.0.1:PORT.
"""

import json
import sys

import spf  # type: ignore[import-not-found]


def _point_at(port: int) -> None:
    try:
        import DNS  # type: ignore[import-not-found]  # pydns, when pyspf uses it

        DNS.defaults["server"] = ["127.0.0.1"]
        DNS.defaults["port"] = port
    except ImportError:
        pass
    try:
        import dns.resolver  # type: ignore[import-not-found]  # dnspython, when pyspf uses it

        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = ["127.0.0.1"]
        resolver.port = port
        dns.resolver.default_resolver = resolver
    except ImportError:
        pass


def main() -> None:
    _point_at(int(sys.argv[1]))
    results = []
    for ip, domain in json.load(sys.stdin):
        result, _code, _text = spf.query(ip, f"postmaster@{domain}", domain, timeout=10).check()
        results.append(result)
    json.dump(results, sys.stdout)


if __name__ == "__main__":
    main()
