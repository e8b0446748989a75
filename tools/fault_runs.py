"""Run the fault tests N times and summarise them, for doc/reliability.md.

usage: .venv/bin/python tools/fault_runs.py [N] [pytest args...]

Runs ``pytest tests/faults tests/functional/test_agent_faults.py`` (or the
paths given) N times (default 2), one session after another, each writing
.run/fault-runs/run-K.xml (JUnit), then prints per test: how many runs
passed and its duration without fixtures (min-max over the runs, in
seconds), then the first line of each failure and each session's wall
time. Run it with SOFTORCH_AGENT_VENV set as `make test` does.

Figures, not assertions: the tests assert what a user sees (COMPLETE, each
component run once, every output); this counts how often they did.
"""

import os
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
OUT = os.path.join(REPO, '.run', 'fault-runs')
DEFAULT = ['tests/faults', 'tests/functional/test_agent_faults.py']


def cases(path):
    for case in ET.parse(path).getroot().iter('testcase'):
        failure = case.find('failure')
        if failure is None:
            failure = case.find('error')
        skipped = case.find('skipped') is not None
        yield ('%s::%s' % (case.get('classname'), case.get('name')),
               float(case.get('time', 0)),
               None if failure is None else (
                   failure.get('message') or '').splitlines()[0][:200],
               skipped)


def main(argv):
    n = int(argv[0]) if argv and argv[0].isdigit() else 2
    args = argv[1:] if argv and argv[0].isdigit() else argv
    paths = [a for a in args if not a.startswith('-')] or DEFAULT
    opts = [a for a in args if a.startswith('-')]
    os.makedirs(OUT, exist_ok=True)
    results, walls = {}, []
    for k in range(1, n + 1):
        xml = os.path.join(OUT, 'run-%d.xml' % k)
        started = time.monotonic()
        subprocess.run([sys.executable, '-m', 'pytest', '-q', '-p',
                        'no:cacheprovider', '-o',
                        'junit_duration_report=call', '--junitxml', xml] +
                       opts + paths, cwd=REPO)
        walls.append(time.monotonic() - started)
        for name, secs, failure, skipped in cases(xml):
            if not skipped:
                results.setdefault(name, []).append((secs, failure))
    print('\n| test | passed | call s (min-max) |')
    print('|---|---|---|')
    for name, runs in results.items():
        ok = sum(1 for _, f in runs if f is None)
        secs = [s for s, _ in runs]
        print('| %s | %d of %d | %.0f-%.0f |' % (
            name.rsplit('.', 1)[-1], ok, len(runs), min(secs), max(secs)))
    for name, runs in results.items():
        for i, (_, failure) in enumerate(runs):
            if failure is not None:
                print('run %d %s: %s' % (i + 1, name, failure))
    print('sessions (wall, s): %s' % ', '.join('%.0f' % w for w in walls))


if __name__ == '__main__':
    main(sys.argv[1:])
