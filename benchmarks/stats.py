"""Percentiles and the arithmetic on stamps and status records."""

import os


def percentile(values, q):
    """Linear interpolation between closest ranks (numpy's default)."""
    xs = sorted(v for v in values if v is not None)
    if not xs:
        return None
    if len(xs) == 1:
        return xs[0]
    pos = (len(xs) - 1) * q / 100.0
    lo = int(pos)
    hi = min(lo + 1, len(xs) - 1)
    return xs[lo] + (xs[hi] - xs[lo]) * (pos - lo)


def p50(values):
    return percentile(values, 50)


def p95(values):
    return percentile(values, 95)


def figure(values, unit, method, digits=3):
    """{median, p95, n, min, max, unit, method} of a list of samples."""
    vals = [v for v in values if v is not None]

    def r(x):
        return None if x is None else round(x, digits)
    return {'median': r(p50(vals)), 'p95': r(p95(vals)), 'n': len(vals),
            'min': r(min(vals)) if vals else None,
            'max': r(max(vals)) if vals else None,
            'unit': unit, 'method': method}


def read_stamp(stamps, name):
    """(start, end) epoch seconds a component's script recorded, or None.
    $EPOCHREALTIME follows LC_NUMERIC: a decimal comma is read too."""
    try:
        with open(os.path.join(stamps, name)) as f:
            start, end = f.read().split()[:2]
        return float(start.replace(',', '.')), float(end.replace(',', '.'))
    except (OSError, ValueError):
        return None


def chain_handoffs(rows):
    """rows: [(stamp, status)] in chain order. (script handoffs ms: next
    script's first line - this script's last line; agent handoffs ms:
    next status 'started' - this status 'finished')."""
    script, agent = [], []
    for (s0, st0), (s1, st1) in zip(rows, rows[1:]):
        if s0 and s1:
            script.append((s1[0] - s0[1]) * 1e3)
        if st0 and st1 and st0.get('finished') and st1.get('started'):
            agent.append((st1['started'] - st0['finished']) * 1e3)
    return script, agent


def phase(stamps_list):
    """First script start to last script exit, seconds."""
    stamps_list = [s for s in stamps_list if s]
    if not stamps_list:
        return None
    return max(s[1] for s in stamps_list) - min(s[0] for s in stamps_list)
