"""KNOWN_FAILURES: the one list of failures the CI fuzz test tolerates while fixes land.

Each entry names its issue. Remove an entry when its fix lands: the CI test then checks
that op again. An entry with skip=True is never executed (it crashes the process, which
would end the chunk and hide other failures). Matching is on the op name (fnmatch
patterns), the failure kind, the example's tags (all of `tags` present, or any of
`any_tags`) and a regular expression on the failure's description.
"""
import fnmatch
import re

ALL_KINDS = None


class Known:
    def __init__(self, issue, ops, kinds=ALL_KINDS, tags=(), any_tags=(), detail=None, skip=False):
        self.issue = issue
        self.ops = ops
        self.kinds = kinds
        self.tags = set(tags)
        self.any_tags = set(any_tags)
        self.detail = re.compile(detail) if detail else None
        self.skip = skip

    def matches_op(self, op, tags):
        if not any(fnmatch.fnmatchcase(op, p) for p in self.ops):
            return False
        if not self.tags <= set(tags):
            return False
        return not self.any_tags or bool(self.any_tags & set(tags))

    def matches(self, op, kind, tags, detail):
        if not self.matches_op(op, tags):
            return False
        if self.kinds is not None and kind not in self.kinds:
            return False
        return self.detail is None or bool(self.detail.search(detail or ""))


BUILD = "loom.tensor/views (building inputs)"

# Found by the fuzzer on 2026-12-04 (reliability issue, item 14). Each entry is one issue.
KNOWN_FAILURES = [
]


def skip_known(op, tags):
    return any(k.skip and k.matches_op(op, tags) for k in KNOWN_FAILURES)


def match_known(op, kind, tags, detail):
    for k in KNOWN_FAILURES:
        if k.matches(op, kind, tags, detail):
            return k.issue
    return None
