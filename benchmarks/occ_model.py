"""A computed (not measured) line: the same chain as a Heat-native
SoftwareDeployment chain whose servers learn of their deployments by
os-collect-config's polling.

The model, from os-collect-config's collect.py main loop: after running a
change it re-executes itself, collects once at once, then sleeps 1 s and
doubles the sleep after every poll that finds nothing, up to
``polling_interval`` (30 s): polls at +0, 1, 3, 7, 15, 31, 61, 91, ... s
after its last run. A server that has run nothing yet is in its 30 s
regime: on average it finds its first deployment half an interval late.

Deployment i (on server i mod 2, as the measured chains alternate two
agents) appears in its server's metadata ``heat_edge_s`` after deployment
i-1 finished, where ``heat_edge_s`` is what one Heat-level edge costs,
taken from the measured Heat-wired chain (so the model adds only the
polling to what was measured); it starts at its server's first poll at or
after that moment and runs for ``run_s``.
"""


def poll_offsets(interval=30.0, horizon=3600.0):
    """Poll times after a run: 0, 1, 3, 7, 15, then every ``interval``."""
    t, sleep, out = 0.0, 1.0, [0.0]
    while t < horizon:
        t += sleep
        out.append(t)
        sleep = min(sleep * 2, interval)
    return out


def chain_phase(n, heat_edge_s, run_s, interval=30.0, first_wait=None,
                servers=2):
    """Seconds from the first deployment's start to the last one's end."""
    if first_wait is None:
        first_wait = interval / 2.0
    offsets = poll_offsets(interval)
    last_end = {}      # server -> end of the last deployment it ran
    start0 = None
    end = 0.0
    for i in range(n):
        server = i % servers
        appears = 0.0 if i == 0 else end + heat_edge_s
        if server not in last_end:
            start = appears + first_wait
        else:
            base = last_end[server]
            start = next(base + o for o in offsets if base + o >= appears)
        if start0 is None:
            start0 = start
        end = start + run_s
        last_end[server] = end
    return end - start0


def describe():
    return ('computed, not measured: os-collect-config polling '
            '(re-exec after a run, then polls at +0, 1, 3, 7, 15 s and '
            'every 30 s after), each server idle in its 30 s regime before '
            'its first deployment, its first poll at an offset spread evenly '
            'over one interval (median, min and max over those offsets), '
            'plus the measured Heat-wired per-edge cost; deployments '
            'alternate two servers')
