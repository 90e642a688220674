"""The demo company's words: segments, plans, products, teams, agents, campaigns and names.

Brightline sells smart-home devices online, in its app and in its own stores, plus a monthly
subscription for the companion app. Every value here is plain ASCII without quotes or
backslashes, which is what lets ``columns.json_object`` build JSON without escaping.
"""

from __future__ import annotations

from cxlens.cases import CASE_EVENT_KINDS, CASE_STATUSES, PRIORITIES
from cxlens.ingest.base import CHANNELS, DIRECTIONS, STAGES

# The canonical value sets, re-exported so the demo reads its words from one module.
__all__ = ["CASE_EVENT_KINDS", "CASE_STATUSES", "CHANNELS", "DIRECTIONS", "PRIORITIES", "STAGES"]

SEGMENTS = ("consumer", "smb", "enterprise")
SEGMENT_SHARE = (0.80, 0.15, 0.05)

PLANS = ("free", "basic", "plus", "pro", "enterprise")
PLAN_SHARE_BY_SEGMENT = (
    (0.25, 0.35, 0.30, 0.10, 0.00),  # consumer
    (0.00, 0.10, 0.35, 0.55, 0.00),  # smb
    (0.00, 0.00, 0.00, 0.20, 0.80),  # enterprise
)
PLAN_MONTHLY_CENTS = (0, 499, 999, 1999, 9900)

COUNTRIES = ("US", "GB", "DE", "FR", "CA", "AU", "NL")
COUNTRY_SHARE = (0.45, 0.15, 0.12, 0.10, 0.08, 0.05, 0.05)
CURRENCIES = ("USD", "GBP", "EUR", "EUR", "CAD", "AUD", "EUR")
# E.164 prefix per country; the subscriber digits that follow encode the customer number, which
# keeps every phone number unique without a lookup.
PHONE_PREFIXES = ("+1", "+4474", "+49151", "+336", "+1", "+614", "+3161")
US_AREAS = ("212", "312", "415", "512", "617", "206", "303", "404")
CA_AREAS = ("416", "604", "514", "403")

FIRST_NAMES = (
    "Ava",
    "Liam",
    "Mia",
    "Noah",
    "Emma",
    "Oliver",
    "Sofia",
    "Lucas",
    "Isla",
    "Mateo",
    "Zoe",
    "Ethan",
    "Chloe",
    "Leo",
    "Amara",
    "Jonas",
    "Hannah",
    "Ravi",
    "Priya",
    "Omar",
    "Lea",
    "Felix",
    "Nora",
    "Hugo",
    "Ines",
    "Tomas",
    "Yuki",
    "Kenji",
    "Grace",
    "Samuel",
    "Aisha",
    "Daniel",
    "Elena",
    "Marco",
    "Freya",
    "Arjun",
    "Clara",
    "Diego",
    "Maya",
    "Theo",
)
LAST_NAMES = (
    "Smith",
    "Johnson",
    "Garcia",
    "Brown",
    "Martin",
    "Muller",
    "Dubois",
    "Rossi",
    "Jansen",
    "Nguyen",
    "Patel",
    "Kim",
    "Lopez",
    "Wilson",
    "Taylor",
    "Schmidt",
    "Bernard",
    "Moreau",
    "de Vries",
    "Chen",
    "Khan",
    "Singh",
    "Walker",
    "Young",
    "Wright",
    "Weber",
    "Fischer",
    "Laurent",
    "Visser",
    "Tanaka",
    "Sato",
    "Ali",
    "Hughes",
    "Evans",
    "Roberts",
    "Becker",
    "Petit",
    "Bakker",
    "Silva",
    "Costa",
)

# (name, category, price in cents)
PRODUCTS = (
    ("Halo Thermostat", "thermostat", 12900),
    ("Halo Thermostat Mini", "thermostat", 7900),
    ("Lumen Bulb", "lighting", 1900),
    ("Lumen Strip", "lighting", 3900),
    ("Sentry Cam", "camera", 9900),
    ("Sentry Cam Outdoor", "camera", 14900),
    ("Doorbell Pro", "camera", 17900),
    ("Aura Speaker", "audio", 8900),
    ("Aura Speaker Max", "audio", 19900),
    ("Guard Sensor", "security", 2900),
    ("Guard Hub", "security", 11900),
    ("Smart Plug", "power", 1500),
)
PRODUCT_SHARE = (0.09, 0.08, 0.16, 0.08, 0.1, 0.06, 0.06, 0.08, 0.04, 0.1, 0.05, 0.1)

FEATURES = (
    "camera view",
    "energy report",
    "schedules",
    "scenes",
    "voice control",
    "away mode",
    "family sharing",
    "alerts",
)
CAMPAIGNS = (
    "spring_sale",
    "summer_deals",
    "back_to_school",
    "black_friday",
    "holiday_gifts",
    "new_year",
    "brand_video",
    "referral_boost",
)
AWARENESS_PAGES = ("/", "/blog/smart-home-basics", "/blog/save-energy", "/stories")
CONSIDERATION_PAGES = ("/pricing", "/compare", "/products", "/reviews", "/faq")
ACCOUNT_PAGES = ("/account", "/orders", "/billing", "/devices", "/settings")
HELP_ARTICLES = (
    "reset-device",
    "billing-faq",
    "pairing-guide",
    "returns-policy",
    "wifi-troubleshooting",
    "update-app",
)
PRE_SALES_TOPICS = ("product_question", "pricing", "compatibility", "delivery_times")
CARRIERS = ("UPS", "DHL", "DPD", "FedEx", "Royal Mail")
NETWORKS = ("instagram", "facebook", "x", "tiktok")

TEAMS = ("Tier 1", "Billing", "Technical", "Logistics")
AGENTS_PER_TEAM = 5
AGENTS = (
    "Maya Lind",
    "Tom Okafor",
    "Sara Berg",
    "Jon Pike",
    "Ana Ruiz",  # Tier 1
    "Ben Carter",
    "Lena Vogel",
    "Raj Mehta",
    "Kate Moss",
    "Ivo Dimitrov",  # Billing
    "Nina Park",
    "Alex Novak",
    "Femi Adeyemi",
    "Julia Horn",
    "Sam Reyes",  # Technical
    "Olga Ivanova",
    "Pete Shaw",
    "Mina Sato",
    "Carlos Vega",
    "Eva Holm",  # Logistics
)

CASE_CATEGORIES = (
    "billing",
    "delivery",
    "app_crash",
    "account_access",
    "product_quality",
    "returns",
    "setup_help",
)
CATEGORY_SHARE = (0.20, 0.20, 0.06, 0.12, 0.14, 0.12, 0.16)
CATEGORY_TEAM = (1, 3, 2, 2, 2, 3, 0)  # the specialist team (index into TEAMS) per category
CASE_CHANNEL_MIX = {"email": 0.30, "phone": 0.28, "chat": 0.25, "social": 0.05, "app": 0.08, "web": 0.04}
PRIORITY_SHARE = (0.20, 0.55, 0.18, 0.07)

CHURN_REASONS = (
    "price",
    "switched_to_competitor",
    "no_longer_needed",
    "moved_away",
    "payment_failed",
    "unresolved_issue",
    "poor_support",
)
BASE_CHURN_REASON_SHARE = (0.35, 0.25, 0.25, 0.10, 0.05, 0.0, 0.0)
RISK_CHURN_REASON_SHARE = (0.0, 0.0, 0.0, 0.0, 0.0, 0.6, 0.4)


def channel_index(name: str) -> int:
    return CHANNELS.index(name)


def channel_weights(mix: dict[str, float]) -> tuple[float, ...]:
    """``{"web": 0.6, "app": 0.4}`` -> weights over every channel, in ``CHANNELS`` order."""
    return tuple(mix.get(channel, 0.0) for channel in CHANNELS)
