"""Rule evaluation beside a peer: Flagsmith's engine, our Python evaluator and our
SQL compiler on the same customers and the same tree.

The tree is bench/recompute.py's: five conditions in two nested groups,

    all: channel equals "facebook", spend gt 50,
         any: [country in [DE, FR], plan equals "pro", signup after 2025-01-01]

written for Flagsmith's engine (`flagsmith-flag-engine`, the evaluator behind
Flagsmith's segments) as one ALL rule holding the first two conditions and an
ANY sub-rule: EQUAL, GREATER_THAN, IN, EQUAL, GREATER_THAN. Timed, interleaved,
median of --repeat:

- Flagsmith: `flag_engine.get_evaluation_result` on each customer's
  EvaluationContext (identity + traits, the one segment), built in memory first;
- ours, in Python: `segments.rules.matches` on each customer's facts, built in
  memory first (the incremental path's evaluator);
- ours, in SQL: the `compile_q` of the same tree, counted on PostgreSQL
  (`SELECT count(*)` over the customers table: what a recompute or a preview runs).

All three must find the same customers. Where the semantics differ, the data is
made so that they agree, and said here:
- our `equals` and `in` ignore case, Flagsmith's EQUAL and IN do not: values are
  written in one case only (channel and plan lower case, country upper case);
- our `gt` matches numbers only (the text "60" never matches), Flagsmith's
  GREATER_THAN casts the condition to the trait's type (so "60" > "50" as text):
  spend is always a number, or missing (1%: neither matches);
- Flagsmith has no date operator: `after 2025-01-01` is GREATER_THAN on the ISO
  date string, the same order; no customer signed up on 2025-01-01 itself.

It runs only on a PostgreSQL database whose name ends in "_bench" (it truncates the
customers); the data is built once and reused while the count matches.

    createdb -h 127.0.0.1 -U postgres segments_peers_bench
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments_peers_bench \\
        .venv/bin/python manage.py migrate
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/segments_peers_bench \\
        .venv/bin/python bench/rules_peers.py [--customers 100000] [--quick]
"""

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "segments_site.settings")

import django

django.setup()

from django.db import connection  # noqa: E402
from flag_engine.engine import get_evaluation_result  # noqa: E402
from flag_engine.segments.evaluator import is_context_in_segment  # noqa: E402

from bench.recompute import RULES  # noqa: E402
from bench.report import (  # noqa: E402
    Result,
    add_bench_args,
    quick_defaults,
    write_results,
)
from segments.models import Customer  # noqa: E402
from segments.rules import Facts, compile_q, matches, parse_rule, plan  # noqa: E402
from segments.selectors import CUSTOMER_FIELDS, rule_sources  # noqa: E402

# Day 731 after 2023-01-01 is 2025-01-01: moved a day back (see the docstring).
CUSTOMERS_SQL = """
INSERT INTO segments_customer (external_id, email, phone, first_name, last_name,
    attributes, created_at, updated_at)
SELECT 'p' || g, '', '', 'First' || (g %% 1000), 'Last' || (g %% 997),
    jsonb_strip_nulls(jsonb_build_object(
        'channel', (ARRAY['facebook','google','email','organic'])[1 + floor(r1 * 4)::int],
        'spend', CASE WHEN r2 < 0.01 THEN NULL
            ELSE to_jsonb(round((r2 * 200)::numeric, 2)) END,
        'visits', floor(r3 * 50)::int,
        'country', (ARRAY['DE','FR','US','GB','ES','IT','NL','PL','SE','BR'])
            [1 + floor(r4 * 10)::int],
        'city', 'City ' || floor(r5 * 500)::int,
        'plan', (ARRAY['free','basic','pro'])[1 + floor(r6 * 3)::int],
        'vip', r7 < 0.1,
        'signup', to_char(DATE '2023-01-01' + CASE WHEN d = 731 THEN 730 ELSE d END,
            'YYYY-MM-DD'),
        'language', (ARRAY['en','de','fr','es'])[1 + floor(r3 * 4)::int]
    )), now(), now()
FROM (
    SELECT g, random() r1, random() r2, random() r3, random() r4, random() r5,
        random() r6, random() r7, floor(random() * 1100)::int d
    FROM generate_series(1, %(n)s) g
) s
"""  # noqa: E501

ENVIRONMENT = {"key": "bench", "name": "bench"}
SEGMENT_KEY = "1"


def flagsmith_segment() -> dict:
    """bench/recompute.py's tree as a Flagsmith SegmentContext."""
    top, (inner,) = RULES["conditions"], RULES["rules"]
    operators = {"equals": "EQUAL", "gt": "GREATER_THAN", "in": "IN",
                 "after": "GREATER_THAN"}  # fmt: skip

    def condition(c: dict) -> dict:
        value = c["value"]
        return {
            "property": c["field"].removeprefix("attributes."),
            "operator": operators[c["operator"]],
            "value": value if isinstance(value, list) else str(value),
        }

    return {
        "key": SEGMENT_KEY,
        "name": "bench: recompute",
        "rules": [
            {
                "type": "ALL",
                "conditions": [condition(c) for c in top],
                "rules": [
                    {
                        "type": inner["match"].upper(),
                        "conditions": [condition(c) for c in inner["conditions"]],
                    }
                ],
            }
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--customers", type=int, help="100,000; --quick 10,000")
    parser.add_argument("--repeat", type=int, help="5; --quick 3")
    parser.add_argument("--rebuild", action="store_true")
    add_bench_args(parser)
    args = parser.parse_args()
    quick_defaults(args, customers=(100_000, 10_000), repeat=(5, 3))
    name = str(connection.settings_dict["NAME"])
    if connection.vendor != "postgresql" or not name.endswith("_bench"):
        sys.exit("Run on a PostgreSQL database named *_bench: this truncates tables.")
    build(args)
    run(args)


def build(args) -> None:
    if not args.rebuild and Customer.objects.count() == args.customers:
        print(f"reusing {args.customers:,} customers (--rebuild to build again)")
        return
    started = time.perf_counter()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE segments_customer CASCADE")
        cursor.execute("SELECT setseed(0.42)")
        cursor.execute(CUSTOMERS_SQL, {"n": args.customers})
        cursor.execute("VACUUM ANALYZE segments_customer")
    took = time.perf_counter() - started
    print(f"built {args.customers:,} customers in {took:.1f} s")


def load() -> tuple[list[str], list[Facts], list[dict]]:
    """Every customer once: our facts and Flagsmith's contexts, in memory."""
    segment = flagsmith_segment()
    ids, facts, contexts = [], [], []
    for customer in Customer.objects.order_by("pk").iterator(chunk_size=5000):
        row = {field: getattr(customer, field) for field in CUSTOMER_FIELDS}
        traits = {
            key: value
            for key, value in customer.attributes.items()
            if isinstance(value, str | int | float | bool)
        }
        ids.append(customer.external_id)
        facts.append(Facts(customer=row))
        contexts.append(
            {
                "environment": ENVIRONMENT,
                "identity": {
                    "identifier": customer.external_id,
                    "key": f"bench_{customer.external_id}",
                    "traits": traits,
                },
                "segments": {SEGMENT_KEY: segment},
            }
        )
    return ids, facts, contexts


def by_flagsmith(ids, contexts) -> tuple[float, set[str]]:
    started = time.perf_counter()
    found = [bool(get_evaluation_result(c)["segments"]) for c in contexts]
    took = time.perf_counter() - started
    return took, {i for i, hit in zip(ids, found, strict=True) if hit}


def by_flagsmith_segment(ids, contexts) -> tuple[float, set[str]]:
    """The engine's segment test alone, without the evaluation around it."""
    segment = contexts[0]["segments"][SEGMENT_KEY] if contexts else {}
    started = time.perf_counter()
    found = [is_context_in_segment(c, segment) for c in contexts]
    took = time.perf_counter() - started
    return took, {i for i, hit in zip(ids, found, strict=True) if hit}


def by_python(ids, facts, node) -> tuple[float, set[str]]:
    started = time.perf_counter()
    found = [matches(node, f) for f in facts]
    took = time.perf_counter() - started
    return took, {i for i, hit in zip(ids, found, strict=True) if hit}


def by_sql(q) -> tuple[float, int]:
    query = Customer.objects.filter(q).order_by().values("pk").query
    sql, params = query.sql_with_params()
    with connection.cursor() as cursor:
        started = time.perf_counter()
        cursor.execute(f"SELECT count(*) FROM ({sql}) s", params)
        count = cursor.fetchone()[0]
        return time.perf_counter() - started, count


def run(args) -> None:
    started = time.perf_counter()
    ids, facts, contexts = load()
    n = len(ids)
    print(f"{n:,} customers loaded in memory in {time.perf_counter() - started:.1f} s")
    node = plan(parse_rule(RULES), datetime.now(UTC))
    q = compile_q(node, rule_sources())

    # The same customers, three ways.
    _, flagsmith_set = by_flagsmith(ids, contexts)
    _, python_set = by_python(ids, facts, node)
    assert by_flagsmith_segment(ids, contexts)[1] == flagsmith_set
    sql_set = set(Customer.objects.filter(q).values_list("external_id", flat=True))
    assert flagsmith_set == python_set == sql_set, (
        f"disagree: Flagsmith {len(flagsmith_set)}, Python {len(python_set)}, "
        f"SQL {len(sql_set)}; e.g. {sorted(flagsmith_set ^ python_set)[:5]} "
        f"{sorted(python_set ^ sql_set)[:5]}"
    )
    print(
        f"all three find the same {len(sql_set):,} customers ({len(sql_set) / n:.0%})"
    )

    flagsmith, alone, python, sql = [], [], [], []
    for _ in range(args.repeat):
        flagsmith.append(n / by_flagsmith(ids, contexts)[0])
        alone.append(n / by_flagsmith_segment(ids, contexts)[0])
        python.append(n / by_python(ids, facts, node)[0])
        sql.append(n / by_sql(q)[0])
    f, a, p, s = (statistics.median(x) for x in (flagsmith, alone, python, sql))
    print(f"median of {args.repeat} runs, interleaved (customers per second):")
    print(f"  Flagsmith engine, in memory     {f:12,.0f}")
    print(f"    its segment test alone        {a:12,.0f}")
    print(f"  our Python evaluator, in memory {p:12,.0f}  ({p / f:.2f}x Flagsmith)")
    print(f"  our SQL compiler, count on PG   {s:12,.0f}  ({s / f:.2f}x Flagsmith)")
    if args.json:
        write_results(
            args.json,
            benchmark="rules_peers",
            title=f"Rule evaluation, {n:,} customers, bench/recompute.py's tree",
            results=[
                Result(
                    path="Python evaluator, in memory",
                    metric="customers/s",
                    higher_is_better=True,
                    ours=p,
                    runs=python,
                    baselines={
                        "Flagsmith engine, in memory": f,
                        "Flagsmith's segment test alone": a,
                    },
                ),
                Result(
                    path="SQL compiler, count on PostgreSQL",
                    metric="customers/s",
                    higher_is_better=True,
                    ours=s,
                    runs=sql,
                    baselines={
                        "Flagsmith engine, in memory": f,
                        "our Python evaluator, in memory": p,
                    },
                    extra={"Flagsmith runs": ", ".join(f"{x:,.0f}" for x in flagsmith)},
                ),
            ],
            notes=[
                "Flagsmith engine: get_evaluation_result(context), its public "
                "API; its segment test alone: is_context_in_segment, the "
                "function inside it",
                f"all three find the same {len(sql_set):,} customers (checked); "
                "data chosen where the semantics differ (case, text numbers, "
                "dates): see bench/rules_peers.py",
            ],
        )


if __name__ == "__main__":
    main()
