#!/usr/bin/env python3
"""Compare decoded PS-PDU values (JSON) with the expected ones and report every difference.

usage: compare.py [--label WORD] EXPECTED ACTUAL

ACTUAL is a JSON-lines file. Each line is either
  a bare JSON value, or
  a record {"file": F, "value": V} / {"file": F, "index": I, "value": V} (etsi_asn1.py decode
  prints these; I defaults to 0), or {"file": F, ["index": I,] "error": "..."} for a file or PDU
  that did not decode (always a failure).

EXPECTED is one of
  a JSON-lines file in the same forms: bare values are matched with ACTUAL line by line; records
  are matched by (basename of file, index);
  a directory of vectors: the expected value of a record whose file is .../NAME[.VARIANT].ber is
  DIR/NAME.json (PDU index 0), or line I+1 of DIR/NAME.jsonl when that exists (a stream of
  several PDUs). Every NAME.json / NAME.jsonl of the directory must be matched by at least one
  record, so a decoder that prints nothing, or skips a file, fails.

A value matches when it is equal as JSON (object key order is ignored; integers are compared
exactly, never as floats). On a mismatch the path of every differing field is printed with both
values, e.g.
  FAIL iri-end.indefinite.ber: payload[1][0].iRIContents[1].iPIRIContents.endReason:
       expected "connectionTimeout", got "regularLogoff"
The last line is the summary '<label>: N passed, M failed' (label defaults to conformance); the
exit status is 1 when anything failed or nothing was compared, else 0.
"""
import json
import os
import signal
import sys

MAX_DIFFS = 20  # per record


class _Absent:
    def __repr__(self):
        return "<absent>"


ABSENT = _Absent()


def _fmt_path(path):
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else p)
    return out or "(root)"


def _short(v, limit=160):
    s = repr(v) if v is ABSENT else json.dumps(v)
    return s if len(s) <= limit else s[:limit] + f"... ({len(s)} chars)"


def diff(expected, actual, path=()):
    """Yield (path, expected, actual) for every difference; a missing key is ABSENT."""
    if isinstance(expected, dict) and isinstance(actual, dict):
        for k in expected:
            if k not in actual:
                yield path + (k,), expected[k], ABSENT
            else:
                yield from diff(expected[k], actual[k], path + (k,))
        for k in actual:
            if k not in expected:
                yield path + (k,), ABSENT, actual[k]
        return
    if isinstance(expected, list) and isinstance(actual, list):
        if len(expected) != len(actual):
            yield path + ("length",), len(expected), len(actual)
        for i, (e, a) in enumerate(zip(expected, actual)):
            yield from diff(e, a, path + (i,))
        return
    # bool is an int subclass in Python: keep true distinct from 1 and 1 distinct from 1.0
    if type(expected) is not type(actual) or expected != actual:
        yield path, expected, actual


def read_jsonl(path):
    out = []
    with open(path) as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError as e:
                out.append({"file": f"{path}:{n}", "error": f"not JSON ({e}): {line[:120]}"})
    return out


def _is_record(x):
    return isinstance(x, dict) and "file" in x and ("value" in x or "error" in x)


def _key(rec):
    return os.path.basename(rec["file"]), rec.get("index", 0)


class Vectors:
    """Expected values from a directory of NAME.json / NAME.jsonl files."""

    def __init__(self, d):
        self.dir, self.cache, self.used = d, {}, set()
        self.names = sorted({f.rsplit(".", 1)[0] for f in os.listdir(d)
                             if f.endswith((".json", ".jsonl"))})

    def expected(self, rec):
        base, index = _key(rec)
        name = base.split(".", 1)[0]
        if name not in self.cache:
            jl, js = os.path.join(self.dir, name + ".jsonl"), os.path.join(self.dir, name + ".json")
            if os.path.exists(jl):
                self.cache[name] = [json.loads(x) for x in open(jl) if x.strip()]
            elif os.path.exists(js):
                self.cache[name] = [json.load(open(js))]
            else:
                self.cache[name] = None
        values = self.cache[name]
        self.used.add(name)
        if values is None:
            return None, f"no {name}.json or {name}.jsonl in {self.dir}"
        if index >= len(values):
            return None, f"PDU index {index} but {name} expects {len(values)} PDU(s)"
        return values[index], None


def main(argv):
    label = "conformance"
    if len(argv) >= 2 and argv[0] == "--label":
        label, argv = argv[1], argv[2:]
    if len(argv) != 2:
        print(__doc__, file=sys.stderr)
        return 2
    exp_path, act_path = argv
    actual = read_jsonl(act_path)
    passed = failed = 0

    def report(name, problems):
        nonlocal passed, failed
        if not problems:
            passed += 1
            return
        failed += 1
        if isinstance(problems, str):
            print(f"FAIL {name}: {problems}")
            return
        for p, e, a in problems[:MAX_DIFFS]:
            print(f"FAIL {name}: {_fmt_path(p)}:\n       expected {_short(e)}, got {_short(a)}")
        if len(problems) > MAX_DIFFS:
            print(f"FAIL {name}: ... and {len(problems) - MAX_DIFFS} more differences")

    def check(name, expected, rec_or_value):
        if _is_record(rec_or_value):
            if "error" in rec_or_value:
                report(name, f"decode error: {rec_or_value['error']}")
                return
            rec_or_value = rec_or_value["value"]
        report(name, list(diff(expected, rec_or_value)))

    vectors = Vectors(exp_path) if os.path.isdir(exp_path) else None
    if vectors is not None:
        for rec in actual:
            if not _is_record(rec):
                report(f"{act_path} line", "a bare value where a {\"file\": ...} record is needed")
                continue
            base, index = _key(rec)
            name = base if index == 0 else f"{base}#{index}"
            want, why = vectors.expected(rec)
            if "error" in rec:
                check(name, want, rec)
            elif why:
                report(name, why)
            else:
                check(name, want, rec)
        for n in vectors.names:
            if n not in vectors.used:
                report(n, "no decoded value for this vector (file missing from the output)")
    else:
        expected = read_jsonl(exp_path)
        if expected and all(_is_record(x) for x in expected) and all(_is_record(x) for x in actual):
            got = {}
            for rec in actual:
                if _key(rec) in got:
                    report("%s#%d" % _key(rec), "printed twice")
                got[_key(rec)] = rec
            for rec in expected:
                name = "%s#%d" % _key(rec)
                if "error" in rec:
                    report(name, f"the expected side has an error: {rec['error']}")
                elif _key(rec) not in got:
                    report(name, "missing from the actual output")
                else:
                    check(name, rec["value"], got.pop(_key(rec)))
            for k in got:
                report("%s#%d" % k, "not in the expected output")
        else:
            if len(expected) != len(actual):
                report("line count", f"{len(expected)} expected values, {len(actual)} actual")
            for i, (e, a) in enumerate(zip(expected, actual), 1):
                e = e["value"] if _is_record(e) and "value" in e else e
                check(f"line {i}", e, a)
    if passed + failed == 0:
        print(f"FAIL {act_path}: nothing to compare")
        failed = 1
    print(f"{label}: {passed} passed, {failed} failed")
    return 1 if failed else 0


if __name__ == "__main__":
    signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(main(sys.argv[1:]))
