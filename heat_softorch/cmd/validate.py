"""``softorch validate TEMPLATE``: the pre-processor's checks, offline.

``openstack orchestration template validate`` does not run resource
validation, so it misses cycles and wiring mistakes; this runs exactly
the checks heat-engine runs when the stack is created or updated, without
a Heat, a database or a cloud. Exit 0 with a summary, 1 with every
problem found.
"""

import sys


def add_parser(subparsers):
    p = subparsers.add_parser(
        'validate', help='check a template\'s software components offline')
    p.add_argument('template', help='HOT template file')
    add_template_args(p)
    p.set_defaults(func=main)


def add_template_args(parser):
    parser.add_argument('-e', '--environment', action='append', default=[],
                        metavar='ENV', help='environment file (repeatable)')
    parser.add_argument('-P', '--parameter', action='append', default=[],
                        metavar='KEY=VALUE', help='parameter (repeatable)')


def parameters(pairs):
    params = {}
    for pair in pairs:
        key, sep, value = pair.partition('=')
        if not sep or not key:
            raise ValueError('parameter %r is not KEY=VALUE' % pair)
        params[key] = value
    return params


def load(args):
    """(StackDefinition, Analysis), or a message for the user."""
    from heat_softorch.engine import offline
    try:
        return offline.load(args.template, args.environment,
                            parameters(args.parameter))
    except (offline.TemplateError, ValueError) as exc:
        return str(exc)


def main(args):
    loaded = load(args)
    if isinstance(loaded, str):
        return 'softorch validate: %s' % loaded
    _, result = loaded
    if not result.ok:
        from heat_softorch.engine import preprocessor
        print('%s: %s' % (args.template, preprocessor.problems_text(result)),
              file=sys.stderr)
        return 1
    print('%s: OK: %s' % (args.template, result.summary()))
    return 0
