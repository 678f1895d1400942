"""Believable demo customers and their events, drawn from one random.Random.

Plain Python, no models: `seed_demo` turns these into rows. Every draw goes through
the given generator, so the same seed and count give the same people and events;
only the dates move with `now`.
"""

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

EXTERNAL_ID_PREFIX = "demo-"
SIGNUP_SPAN = timedelta(days=365)
EVENT_WINDOW = timedelta(days=90)

CHANNELS = {"Facebook": 30, "Google": 25, "Organic": 25, "Referral": 12, "TikTok": 8}
PLANS = {"free": 70, "pro": 22, "enterprise": 8}
PLATFORMS = {"web": 45, "ios": 30, "android": 25}
# country: (weight, currency, cities)
COUNTRIES = {
    "US": (34, "USD", ["New York", "San Francisco", "Austin", "Chicago"]),
    "GB": (15, "GBP", ["London", "Manchester", "Edinburgh"]),
    "DE": (12, "EUR", ["Berlin", "Munich", "Hamburg"]),
    "FR": (10, "EUR", ["Paris", "Lyon", "Toulouse"]),
    "ES": (7, "EUR", ["Madrid", "Barcelona", "Valencia"]),
    "CA": (8, "USD", ["Toronto", "Vancouver", "Montreal"]),
    "BR": (8, "USD", ["São Paulo", "Rio de Janeiro"]),
    "IN": (6, "USD", ["Bengaluru", "Mumbai", "Pune"]),
}
FIRST_NAMES = (
    "Ada Alex Amara Ana Ben Carla Chen Dario Elena Emma Farah Felix Grace Hana Ivan "
    "Jade Jonas Kai Lea Liam Lucia Malik Maya Noah Nora Omar Priya Rosa Sam Sofia "
    "Theo Yara Yusuf Zoe"
).split()
LAST_NAMES = (
    "Adams Almeida Baker Becker Costa Dubois Fischer Garcia Hansen Ito Jensen Khan "
    "Kowalski Lopez Martin Meyer Moreau Nguyen Novak Okafor Patel Rossi Santos "
    "Schmidt Silva Singh Smith Tanaka Weber Williams"
).split()
# sku: unit price
PRODUCTS = {
    "PRO-MONTHLY": 29.0,
    "PRO-YEARLY": 290.0,
    "ENT-SEAT": 99.0,
    "ADDON-STORAGE": 9.99,
    "ADDON-ANALYTICS": 19.0,
    "CREDITS-100": 49.0,
}
PURCHASE_ODDS = {"free": 0.12, "pro": 0.6, "enterprise": 0.8}
# Spending before the event window, per year of tenure.
YEARLY_SPEND = {"free": 40.0, "pro": 600.0, "enterprise": 4000.0}
REWARDS = ("welcome_bonus", "streak_7_days", "birthday_gift")


@dataclass(frozen=True)
class DemoEvent:
    name: str
    timestamp: datetime
    properties: dict[str, Any]


@dataclass
class DemoCustomer:
    external_id: str
    email: str
    first_name: str
    last_name: str
    phone: str
    attributes: dict[str, Any]
    created_at: datetime
    last_seen_at: datetime | None = None
    events: list[DemoEvent] = field(default_factory=list)

    def purchases(self) -> list[DemoEvent]:
        return [e for e in self.events if e.name == "Purchase Completed"]


def demo_customers(rng: random.Random, *, count: int, now: datetime):
    """`count` customers, each with their events of the last 90 days."""
    return [_customer(rng, index, now) for index in range(1, count + 1)]


def _pick(rng: random.Random, weights: dict[str, Any]) -> str:
    values = [w[0] if isinstance(w, tuple) else w for w in weights.values()]
    return rng.choices(list(weights), weights=values)[0]


def _customer(rng: random.Random, index: int, now: datetime) -> DemoCustomer:
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    # Skewed toward recent sign-ups: the product is growing.
    created_at = now - SIGNUP_SPAN * rng.random() ** 1.4
    customer = DemoCustomer(
        external_id=f"{EXTERNAL_ID_PREFIX}{index:05d}",
        email=f"{first}.{last}.{index}@example.com".lower(),
        first_name=first,
        last_name=last,
        phone=f"+1 555 {rng.randint(1000000, 9999999)}" if rng.random() < 0.4 else "",
        attributes=_attributes(rng),
        created_at=created_at,
    )
    customer.events = _events(rng, customer, now)
    customer.attributes["lifetime_value"] = _lifetime_value(rng, customer, now)
    customer.last_seen_at = _last_seen(rng, customer, now)
    return customer


def _attributes(rng: random.Random) -> dict[str, Any]:
    country = _pick(rng, COUNTRIES)
    return {
        "channel": _pick(rng, CHANNELS),
        "plan": _pick(rng, PLANS),
        "platform": _pick(rng, PLATFORMS),
        "country": country,
        "address": {"city": rng.choice(COUNTRIES[country][2]), "country": country},
        "newsletter": rng.random() < 0.45,
    }


def _events(rng: random.Random, customer: DemoCustomer, now: datetime):
    start = max(customer.created_at, now - EVENT_WINDOW)
    attrs = customer.attributes

    def at() -> datetime:
        return start + (now - start) * rng.random()

    events = []
    if customer.created_at >= now - EVENT_WINDOW:
        signup = {"channel": attrs["channel"], "platform": attrs["platform"]}
        events.append(DemoEvent("Sign Up", customer.created_at, signup))
    opens = rng.choice((0, 1, 2, 4, 6, 9, 14, 20, 28))
    platform = {"platform": attrs["platform"]}
    events += [DemoEvent("App Opened", at(), platform) for _ in range(opens)]
    if rng.random() < PURCHASE_ODDS[attrs["plan"]]:
        currency = COUNTRIES[attrs["country"]][1]
        events += [
            DemoEvent("Purchase Completed", at(), _purchase(rng, currency))
            for _ in range(rng.randint(1, 4))
        ]
    if rng.random() < 0.2:
        events.append(DemoEvent("Reward Granted", at(), _reward(rng, attrs)))
    return sorted(events, key=lambda e: e.timestamp)


def _purchase(rng: random.Random, currency: str) -> dict[str, Any]:
    sku = rng.choice(list(PRODUCTS))
    quantity = rng.choice((1, 1, 1, 2, 3))
    amount = round(PRODUCTS[sku] * quantity, 2)
    return {"amount": amount, "currency": currency, "sku": sku, "quantity": quantity}


def _reward(rng: random.Random, attrs: dict[str, Any]) -> dict[str, Any]:
    reward = "referral_bonus" if attrs["channel"] == "Referral" else rng.choice(REWARDS)
    return {"reward": reward, "points": rng.choice((50, 100, 250))}


def _lifetime_value(rng: random.Random, customer: DemoCustomer, now: datetime):
    recent = sum(e.properties["amount"] for e in customer.purchases())
    tenure_before_window = max(now - EVENT_WINDOW - customer.created_at, timedelta())
    years = tenure_before_window / SIGNUP_SPAN
    earlier = YEARLY_SPEND[customer.attributes["plan"]] * years * rng.uniform(0.3, 1.7)
    return round(recent + earlier, 2)


def _last_seen(rng: random.Random, customer: DemoCustomer, now: datetime):
    if customer.events:
        return customer.events[-1].timestamp
    # Quiet for 90 days: last seen somewhere between sign-up and the window.
    quiet_since = max(now - EVENT_WINDOW, customer.created_at)
    return customer.created_at + (quiet_since - customer.created_at) * rng.random()
