"""Generate the integration project's seed CSVs (a small online shop).

The output is committed; this script documents how it was made and
regenerates it byte for byte (stdlib only, ``random.Random(42)``):

    python integration_tests/scripts/generate_seeds.py

raw_customers.csv  ~300 customers signing up from mid-2023 to autumn 2024.
raw_orders.csv     ~3000 orders over 2024, with an upward trend and a weekly
                   pattern (busier Friday-Sunday) so the forecast has
                   something to learn, and at least one order every day so
                   fct_daily_orders has one row per calendar day.
"""

from __future__ import annotations

import bisect
import csv
import math
import random
from datetime import date, timedelta
from pathlib import Path
from typing import Any

SEED = 42
SEEDS_DIR = Path(__file__).resolve().parent.parent / "seeds"

N_CUSTOMERS = 300
SIGNUP_START = date(2023, 6, 1)
SIGNUP_END = date(2024, 9, 30)
ORDERS_START = date(2024, 1, 1)
ORDERS_END = date(2024, 12, 31)

# Expected orders per day grow linearly over the year...
BASE_START, BASE_END = 5.2, 10.8
# ...times a day-of-week factor, Monday first.
WEEKDAY_FACTOR = (0.85, 0.80, 0.90, 1.00, 1.15, 1.30, 1.10)

# fmt: off
FIRST_NAMES = (
    "Ada", "Ben", "Chloe", "Dan", "Eva", "Finn", "Grace", "Hugo", "Ines", "Jack",
    "Kim", "Liam", "Maya", "Noah", "Olga", "Paul", "Quinn", "Rosa", "Sam", "Tara",
    "Umar", "Vera", "Will", "Xena", "Yuki", "Zoe",
)
LAST_NAMES = (
    "Adams", "Baker", "Clark", "Dubois", "Evans", "Fischer", "Garcia", "Hughes",
    "Ito", "Jansen", "King", "Lopez", "Martin", "Novak", "Olsen", "Patel",
    "Rossi", "Schmidt", "Taylor", "Walsh",
)
# fmt: on
# Country (ISO 3166-1 alpha-2) and its share of customers; stg_customers maps
# each to the currency its orders are paid in.
COUNTRIES = (("US", 40), ("GB", 15), ("DE", 12), ("FR", 10), ("NL", 5), ("CA", 10), ("AU", 8))
STATUSES = (("completed", 82), ("shipped", 6), ("returned", 5), ("cancelled", 5), ("pending", 2))


def _poisson(rng: random.Random, lam: float) -> int:
    """Knuth's Poisson sampler (stdlib random has none)."""
    limit, k, p = math.exp(-lam), 0, 1.0
    while True:
        p *= rng.random()
        if p <= limit:
            return k
        k += 1


def _weighted(rng: random.Random, choices: tuple[tuple[str, int], ...]) -> str:
    values, weights = zip(*choices, strict=True)
    return rng.choices(values, weights=weights)[0]


def generate() -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    rng = random.Random(SEED)

    signup_span = (SIGNUP_END - SIGNUP_START).days
    customers: list[dict[str, Any]] = [
        {
            "id": customer_id,
            "first_name": rng.choice(FIRST_NAMES),
            "last_name": rng.choice(LAST_NAMES),
            "country": _weighted(rng, COUNTRIES),
            "signup_date": SIGNUP_START + timedelta(days=rng.randint(0, signup_span)),
        }
        for customer_id in range(1, N_CUSTOMERS + 1)
    ]
    # Customers by signup date, so an order only goes to someone already signed up.
    by_signup = sorted(customers, key=lambda c: (c["signup_date"], c["id"]))
    signup_dates: list[date] = [c["signup_date"] for c in by_signup]

    orders: list[dict[str, Any]] = []
    n_days = (ORDERS_END - ORDERS_START).days + 1
    for offset in range(n_days):
        day = ORDERS_START + timedelta(days=offset)
        base = BASE_START + (BASE_END - BASE_START) * offset / (n_days - 1)
        n_orders = max(1, _poisson(rng, base * WEEKDAY_FACTOR[day.weekday()]))
        eligible = bisect.bisect_right(signup_dates, day)
        for _ in range(n_orders):
            customer = by_signup[rng.randrange(eligible)]
            orders.append(
                {
                    "id": len(orders) + 1,
                    "customer_id": customer["id"],
                    "order_date": day,
                    "status": _weighted(rng, STATUSES),
                    "amount": f"{rng.lognormvariate(3.9, 0.5):.2f}",
                }
            )
    return customers, orders


def _write(path: Path, rows: list[dict[str, Any]]) -> None:
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows({k: str(v) for k, v in row.items()} for row in rows)


def main() -> None:
    customers, orders = generate()
    SEEDS_DIR.mkdir(parents=True, exist_ok=True)
    _write(SEEDS_DIR / "raw_customers.csv", customers)
    _write(SEEDS_DIR / "raw_orders.csv", orders)
    print(f"wrote {len(customers)} customers and {len(orders)} orders to {SEEDS_DIR}")


if __name__ == "__main__":
    main()
