"""`make bench-fabric`: ZooKeeper's round trip and the agent-to-agent
handoff alone (no Heat), printed, nothing written: the quick way to see
what a change to the fabric or the agent costs on the path from an
upstream's exit to its downstream's start.

BENCH_ZK_PLAINTEXT=1 runs the same over plain TCP (TLS is the default),
BENCH_FABRIC_CHAINS / BENCH_FABRIC_LENGTH size it (10 chains of 40).
"""

import os
import sys

from benchmarks import fabric_bench
from benchmarks import services as svc
from benchmarks import stats

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    run_dir = os.path.join(REPO, '.run', 'bench-fabric')
    agent_venv = os.environ.get('SOFTORCH_AGENT_VENV') or os.path.join(
        REPO, '.venv-agent')
    chains = int(os.environ.get('BENCH_FABRIC_CHAINS', '10'))
    length = int(os.environ.get('BENCH_FABRIC_LENGTH', '40'))
    services = svc.Services(run_dir, agent_venv)
    try:
        services.start(heat=False)
        trips, writes = fabric_bench.zk_roundtrip(services, 1000)
        script, agent, _, _ = fabric_bench.fabric_handoff(
            services, os.path.join(run_dir, 'fabric'), chains, length)
    finally:
        services.stop()
    mode = 'plain TCP' if services.tls is None else 'TLS'
    for name, values in (('zk_roundtrip_ms', trips), ('zk_write_ms', writes),
                         ('edge_handoff_ms', script),
                         ('edge_handoff_agent_ms', agent)):
        print('%-22s %s  p50 %7.2f  p95 %7.2f  n=%d' % (
            name, mode, stats.p50(values), stats.p95(values),
            len(values)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
