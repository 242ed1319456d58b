#!/usr/bin/python3
"""Run spf-engine's pyspf-milter (Debian python3-spf-engine + python3-milter) against a DNS
server of our choosing instead of /etc/resolv.conf, for bench_milter.py.

  /usr/bin/python3 pyspf-milter-local-dns.py NAMESERVER PORT CONFIG [LOGFILE]

pyspf resolves through dnspython's module-wide default resolver (or pydns): both are pointed
at NAMESERVER:PORT before the milter starts. pyspf-milter logs through syslog(3), which goes
nowhere without /dev/log; LOGFILE receives those lines instead.
"""
import sys


def main():
    if len(sys.argv) < 4:
        sys.exit(__doc__)
    nameserver, port = sys.argv[1], int(sys.argv[2])
    import spf
    if spf.DNSLookup is spf.DNSLookup_dnspython:
        import dns.resolver
        resolver = dns.resolver.Resolver(configure=False)
        resolver.nameservers = [nameserver]
        resolver.port = port
        resolver.timeout = 2.0
        dns.resolver.default_resolver = resolver
    else:
        import DNS
        DNS.defaults["server"] = [nameserver]
        DNS.defaults["port"] = port
    import syslog
    log = open(sys.argv[4], "a", buffering=1) if len(sys.argv) > 4 else None

    def to_file(*args):
        if log is not None:
            log.write(f"pyspf-milter: {args[-1]}\n")
    syslog.syslog = to_file
    from spf_engine.milter_spf import main as milter_main
    sys.argv = ["pyspf-milter", sys.argv[3]]
    return milter_main()


if __name__ == "__main__":
    sys.exit(main())
