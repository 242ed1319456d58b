"""The SPF record wizard: answers about a domain's mail hosts → records and zone lines.

RFC 7208 §5 (mechanisms), §8 (what ``-all``/``~all``/``?all`` tell receivers), §2.3 (HELO
records for mail hosts), §3.3 (long records as several strings); RFC 1035 §5.1 (master files)
and tinydns-data's format for the zone lines. ``draft`` and ``zones`` are pure; ``interactive``
asks the questions through a prompter that is passed in (the CLI's uses click); ``spfkit.cli.wizard`` adds DNS.
"""

from spfkit.wizard.draft import (
    ALL_EXPLANATIONS,
    HELO_RECORD,
    PTR_WARNING,
    QUESTIONS,
    RECOMMENDATION,
    RECOMMENDED_ALL,
    AllPolicy,
    MailHostRecord,
    WizardAnswers,
    build_record,
    mail_host_records,
    parse_all_policy,
    parse_domain,
    parse_domain_spec,
    parse_ip4,
    parse_ip6,
    split_mx_hosts,
)
from spfkit.wizard.interactive import Interview, Prompter, interview
from spfkit.wizard.zones import (
    answer_size,
    bind_lines,
    split_strings,
    tinydns_lines,
    tinydns_strings,
)

__all__ = [
    "ALL_EXPLANATIONS",
    "HELO_RECORD",
    "PTR_WARNING",
    "QUESTIONS",
    "RECOMMENDATION",
    "RECOMMENDED_ALL",
    "AllPolicy",
    "Interview",
    "MailHostRecord",
    "Prompter",
    "WizardAnswers",
    "answer_size",
    "bind_lines",
    "build_record",
    "interview",
    "mail_host_records",
    "parse_all_policy",
    "parse_domain",
    "parse_domain_spec",
    "parse_ip4",
    "parse_ip6",
    "split_mx_hosts",
    "split_strings",
    "tinydns_lines",
    "tinydns_strings",
]
