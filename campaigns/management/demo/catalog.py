"""What the demo holds besides people: its segments, overrides, test users and
campaign names, in the shapes the services and the API take."""

from segments.models import Segment

BETA_SHARE = 0.08
BETA_LEAVE_SHARE = 0.1
PURCHASE = "Purchase Completed"
BIG_PURCHASE = 50
HIGH_VALUE_LTV = 500

BETA = "Beta testers"
FACEBOOK = "Facebook signups 2025+"
HIGH_VALUE = "High value customers"
PURCHASED = "Purchased recently"
LOYALTY = "Loyalty rewards"
SURVEY = "Beta feedback survey"

SEGMENTS = [
    {
        "name": BETA,
        "type": Segment.Type.STATIC,
        "description": "Customers who opted in to try new features early.",
    },
    {
        "name": FACEBOOK,
        "type": Segment.Type.RULE,
        "description": "Came from Facebook ads and signed up in 2025 or later.",
        "rules": {
            "match": "all",
            "conditions": [
                {
                    "field": "attributes.channel",
                    "operator": "equals",
                    "value": "Facebook",
                },
                {"field": "created_at", "operator": "after", "value": "2024-12-31"},
            ],
        },
    },
    {
        "name": HIGH_VALUE,
        "type": Segment.Type.RULE,
        "description": "Spent 500 or more, on a paid plan or a subscribed referral.",
        "rules": {
            "match": "all",
            "conditions": [
                {
                    "field": "attributes.lifetime_value",
                    "operator": "gte",
                    "value": HIGH_VALUE_LTV,
                },
            ],
            "rules": [
                {
                    "match": "any",
                    "conditions": [
                        {
                            "field": "attributes.plan",
                            "operator": "in",
                            "value": ["pro", "enterprise"],
                        },
                    ],
                    "rules": [
                        {
                            "match": "all",
                            "conditions": [
                                {
                                    "field": "attributes.channel",
                                    "operator": "equals",
                                    "value": "Referral",
                                },
                                {
                                    "field": "attributes.newsletter",
                                    "operator": "is_true",
                                },
                            ],
                        }
                    ],
                }
            ],
        },
    },
    {
        "name": PURCHASED,
        "type": Segment.Type.EVENT,
        "trigger_event": PURCHASE,
        "description": f"Completed a purchase of {BIG_PURCHASE} or more.",
        "rules": {
            "match": "all",
            "conditions": [
                {"field": "event.amount", "operator": "gte", "value": BIG_PURCHASE}
            ],
        },
    },
]

# (segment, user_status, how many, who qualifies, why)
OVERRIDES = [
    (
        HIGH_VALUE,
        "add",
        3,
        lambda a: a["plan"] == "enterprise" and a["lifetime_value"] < HIGH_VALUE_LTV,
        "Key account: in the VIP programme whatever it spends.",
    ),
    (
        HIGH_VALUE,
        "block",
        2,
        lambda a: a["lifetime_value"] >= HIGH_VALUE_LTV,
        "Reseller account, not an end customer.",
    ),
    (
        FACEBOOK,
        "block",
        1,
        lambda a: a["channel"] == "Facebook",
        "Our ad agency's test account.",
    ),
]

QA_ACCOUNTS = [
    ("qa-1", "Quinn", "Tester"),
    ("qa-2", "Robin", "Checker"),
]
